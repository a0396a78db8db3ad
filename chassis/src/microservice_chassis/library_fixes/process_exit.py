"""How the process ends (granian 2.8.7's threads and interpreter finalization) and what its start skips
(cheroot 8.6.0's version lookup)."""

import contextlib
import os
import sys
from typing import NoReturn


def exit_at_once(code: int) -> NoReturn:
    """Ends the process with `code` once everything is closed, without Python's interpreter finalization.

    granian 2.8.7's Rust threads can outlive its embedded server's stop by a few milliseconds; when the
    interpreter finalizes meanwhile, such a thread panics ("panic in a function that cannot unwind") and the
    process aborts with status 134 instead of exiting 0 (about 1 stop in 7 on a busy machine). The container is
    closed and every component has released what it held before this is called; the standard streams are flushed
    here, as finalization would have done.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream has nothing left to flush
            stream.flush()
    os._exit(code)


def skip_cheroot_version_lookup() -> None:
    """Keeps cheroot from importing pkg_resources; call it before anything imports pip_services3_rpc.services.

    cheroot 8.6.0 (pip_services3_rpc 3.3.4 requires cheroot<9 for its stock endpoint, which this service does not
    use) imports pkg_resources only to read its own version string: about 75 ms of startup and 10 MB of memory.
    A None entry in sys.modules makes that import fail, as Python documents; cheroot catches it and reports its
    version as "unknown". Nothing else here uses pkg_resources.
    """
    sys.modules.setdefault("pkg_resources", None)  # type: ignore[arg-type]  # as Python documents it
