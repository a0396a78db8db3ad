"""The chassis' fixes for defects of the pinned libraries, one concern per module.

Importing the package applies the fixes that must be in place before a library is first imported (today one:
token_type). So every chassis module that imports a pip_services3 package imports this one first; ruff's
isort section "library-fixes" (pyproject.toml) keeps that import at the top, and
tests/test_library_fixes.py checks that no module forgets it.

- token_type: pip_services3_expressions' TokenType, which Python 3.13+ cannot create and 3.11.2 gets wrong
  (installed on import)
- instrumentation: the timing, counts, trace and log lines of each service and client call
- counters: counters of each component's own, updated cheaply
- loggers: UTC console lines, a composite logger formatting only what is written
- error_bodies: error answers without internals, texts bounded
- clients: the HTTP clients' timeouts and instrumentation
- rest_service: the REST services' error bodies, correlation id, tracer and results
- process_exit: the exit without interpreter finalization, and cheroot's skipped version lookup
- otlp_transport: the OTLP exporter's CA certificate, which REQUESTS_CA_BUNDLE overrode

tests/test_library_defects.py holds the canary of each: the day upstream fixes a defect, its test fails.
"""

from microservice_chassis.library_fixes import token_type

token_type.install()
