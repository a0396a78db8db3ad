"""The event loop's lag, the saturation signal Node's prom-client exports by default (`nodejs_eventloop_lag_*`, from
perf_hooks' monitorEventLoopDelay: how late a periodic timer runs). A request's own time (the request histogram)
cannot show a saturated loop, where each request waits for the callbacks queued before it before its handler starts;
a late timer waits the same, whatever the requests are.
"""

import asyncio
import time
from collections.abc import Callable

# How often the loop is sampled: a timer every 0.1 s costs the loop nothing measurable, and a scrape every 15 s
# still gets 150 samples. uvloop runs timers to the millisecond, so lags below ~1 ms are its resolution, not load.
SAMPLE_SECONDS = 0.1


class LoopLag:
    """Samples the lag of `loop` every SAMPLE_SECONDS, reporting each to `observe`, until the loop closes."""

    def __init__(self, loop: asyncio.AbstractEventLoop, observe: Callable[[float], None]) -> None:
        self._loop, self._observe = loop, observe

    def start(self) -> None:
        """Called on the loop's thread (timers are not thread-safe to schedule from others)."""
        self._loop.call_later(SAMPLE_SECONDS, self._sample, time.perf_counter() + SAMPLE_SECONDS)

    def _sample(self, due: float) -> None:
        now = time.perf_counter()
        self._observe(max(0.0, now - due))
        self._loop.call_later(SAMPLE_SECONDS, self._sample, now + SAMPLE_SECONDS)
