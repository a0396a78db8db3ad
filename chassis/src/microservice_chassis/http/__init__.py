"""The parts of GranianHttpEndpoint, one concern per module.

- options: the endpoint's configuration, read and checked once
- granian_server: the only code that knows granian (its embedded RSGI server on a thread of its own)
- rsgi_bridge: a granian request as the WSGI environ bottle expects, and bottle's answer back
- guards: limits, framing and the body deadline, checked before any handler runs
- errors: one path from any failure to a Pip.Services ErrorDescription
- decorations: what every answer carries (security headers, CORS) and the access log
- answers: sending answers within bounded memory and the send deadline (sockets: the kernel's view of them)
- allocator: granian's allocator configured to give memory back (here, before any module loads granian)
- pipeline: the order in which the above meet for each request
"""

from microservice_chassis.http import allocator

allocator.configure()
