"""granian's memory allocator, configured before granian loads: memory a burst of clients took is given back.

granian 2.8.7 links its own jemalloc (tikv-jemallocator, which reads `_RJEM_MALLOC_CONF`, not `MALLOC_CONF`).
By default jemalloc returns freed pages only while the process keeps allocating, and an idle service does not:
after 3,000 clients that read nothing had gone, RSS stayed 60-80 MB above its pre-load figure for as long as it
was watched (30 s). A background thread that purges pages unused for a second brings it back within 20 MB
(docs/http-endpoint.md). glibc's arenas were measured too: MALLOC_ARENA_MAX=2 and malloc_trim changed nothing,
since the buffers are granian's. A value the environment already sets is kept.
"""

import os

JEMALLOC_CONF_VARIABLE = "_RJEM_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


def configure() -> None:
    """Must run before granian's library is loaded: jemalloc reads its configuration once, when it starts."""
    os.environ.setdefault(JEMALLOC_CONF_VARIABLE, JEMALLOC_CONF)
