"""The probes of the whole process: readiness refused from the moment it starts closing, until the port closes."""

import signal
import threading
import time
from collections.abc import Callable

import requests
from microservice_chassis.http.guards import READINESS_PATH

from support import RunningProcess

Start = Callable[..., tuple[RunningProcess, str]]


def test_readiness_answers_503_from_sigterm_until_the_port_closes(start_process: Start) -> None:
    """A probe polling /status sees 200, then (once SIGTERM came) only 503, then a refused connection: a pod that
    is closing leaves the Service's endpoints even if the preStop hook did not give the controller the time."""
    process, url = start_process()
    answers: list[tuple[float, int | None]] = []  # (time, status; None: refused)
    first_200 = threading.Event()

    def poll() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                status = requests.get(f"{url}{READINESS_PATH}", timeout=5).status_code
            except requests.ConnectionError:
                answers.append((time.monotonic(), None))
                return
            answers.append((time.monotonic(), status))
            if status == 200:
                first_200.set()

    poller = threading.Thread(target=poll)
    poller.start()
    assert first_200.wait(10)
    signalled = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    poller.join(25)
    assert process.popen.wait(10) == 0
    statuses = [status for _, status in answers]
    assert statuses[-1] is None, statuses[-5:]  # the port closed
    first_503 = statuses.index(503)  # seen before it closed
    assert answers[first_503][0] > signalled
    assert set(statuses[first_503:-1]) == {503}, statuses[first_503:]  # never ready again


def test_maintenance_by_a_parameter_keeps_liveness_and_scrapes(start_process: Start) -> None:
    """MAINTENANCE=true: the pod leaves the Service (readiness 503) but is neither restarted (liveness 200) nor lost
    to monitoring (a scrape answered: `up` stays 1, and the metrics say what the pod did meanwhile)."""
    _, url = start_process(MAINTENANCE="true")
    for path in ("/status", "/hello_world/greeting", "/swagger"):
        refused = requests.get(f"{url}{path}", timeout=5)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "3600"
        assert refused.json()["message"] == "Service is in maintenance"
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
    scrape = requests.get(f"{url}/metrics", timeout=5)
    assert scrape.status_code == 200
    assert 'http_requests_total{method="GET",route="/hello_world/greeting",status="503"} 1.0' in scrape.text
