"""The bare bottle route as a plain WSGI app, for granian's own WSGI server: the floor of bench/ (no endpoint, no
RSGI bridge, no Pip.Services). bench/bare_bottle.py serves the same handler through the endpoint.

    python -m granian --interface wsgi --blocking-threads 1 --working-dir bench bare_wsgi:app
"""

import bottle

PATH = "/hello_world/greeting"


def greeting() -> str:
    """GET /hello_world/greeting?name=John: "Hello, John!" as a JSON string, as the service answers it."""
    bottle.response.content_type = "application/json"
    name: str = bottle.request.query.get("name", "World")
    return '"Hello, ' + name + '!"'


app = bottle.Bottle()
app.route(PATH, "GET", greeting)
