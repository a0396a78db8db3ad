"""A free loopback port, for the benchmark's servers and the tests' (test/support.py uses this one too)."""

import socket


def free_port() -> int:
    """A port nobody listens on now: the kernel picks it when binding port 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
