"""The OTLP exporter's CA certificate, which REQUESTS_CA_BUNDLE overrode (opentelemetry-exporter-http-transport 0.66b2
with requests 2.32).

Its RequestsHTTPTransport makes OTEL_EXPORTER_OTLP[_TRACES]_CERTIFICATE its Session's `verify` and calls
Session.request without one; requests then takes REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE over the session's `verify`
(psf/requests#3829), so wherever either is set (many images set them to the system bundle) a collector signed by a CA
of its own fails every export with CERTIFICATE_VERIFY_FAILED.
Canary: test_library_defects, test_the_otlp_exporter_still_lets_requests_ca_bundle_override_its_certificate.
"""

from typing import Any

import requests


class CertificateKeepingSession(requests.Session):
    """A Session whose own `verify` goes with each request that names none: the environment's bundle then applies
    only while `verify` is True, as for any request made with verify=True."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        return super().request(*args, **kwargs)
