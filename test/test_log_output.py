"""The log never holds up serving: the whole process with its stdout a pipe nobody reads, or a full filesystem."""

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from microservice_chassis.testing import metric

from support import SERVICE_NAME, heartbeats, output_when_the_reader_comes_back, service_writing_to

BAD_NAME = "/hello_world/greeting?name=%00"
DROPPED = re.compile(
    rf"^\[{re.escape(SERVICE_NAME)}:WARN:[^\]]+\] (\d+) log lines dropped while the output could not be written$"
)


def test_a_stdout_nobody_reads_holds_up_no_route_and_sigterm_still_exits_0(
    tmp_path: Path, port: int, unread_pipe: tuple[int, int]
) -> None:
    """Bad names (each a rejection line) and heartbeats (each an access line) fill the pipe and the queue: every
    route keeps answering, the losses are counted in /metrics, and SIGTERM ends the process with the pipe full."""
    _, write_end = unread_pipe
    with service_writing_to(write_end, tmp_path, port, ACCESS_LOG_LEVEL="info") as (popen, url):
        os.close(write_end)
        with requests.Session() as session:
            for _ in range(2100):
                assert session.get(f"{url}{BAD_NAME}", timeout=5).status_code == 400
            heartbeats(session, url, range(1000))
            started = time.monotonic()
            assert session.get(f"{url}/heartbeat", timeout=1).ok
            assert time.monotonic() - started < 1
            assert metric(url, "log_dropped_lines_total") > 0
            assert metric(url, "log_suppressed_lines_total") > 0
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(timeout=15) == 0


def test_the_lines_dropped_are_told_in_one_line_where_they_are_missing_and_order_is_kept(
    tmp_path: Path, port: int, unread_pipe: tuple[int, int]
) -> None:
    output = output_when_the_reader_comes_back(unread_pipe, tmp_path, port, b"[n3009:")
    lines = output.decode().splitlines()
    told = [(index, int(match[1])) for index, line in enumerate(lines) if (match := DROPPED.match(line))]
    assert len(told) == 1, told
    gap_at, dropped = told[0]
    ids = [int(match[1]) for line in lines if (match := re.match(r"^\[n(\d+):INFO:", line))]
    before = [int(m[1]) for line in lines[:gap_at] if (m := re.match(r"^\[n(\d+):", line))]
    assert ids == sorted(ids)  # order kept
    assert before == list(range(len(before)))  # nothing lost before the gap...
    assert ids[len(before) :] == list(range(ids[len(before)], 3010))  # ...nor after it
    gap = ids[len(before)] - len(before)
    # The count is the gap's, and the log counters' line about the first drop (dumped at once: the library's first
    # dump is due at once), dropped with the others.
    assert 0 < gap <= dropped <= gap + 1


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs (room for the queue once freed) (needs root), unmounted afterwards."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(filesystem: Path) -> Path:
    """Writes a file until the filesystem has no space left; returns it."""
    filler = filesystem / "filler"
    with open(filler, "wb", buffering=0) as file, contextlib.suppress(OSError):
        while True:
            file.write(b"x" * 4096)
    return filler


def test_the_log_comes_back_once_a_full_filesystem_has_space_again(
    tmp_path: Path, port: int, tiny_filesystem: Path
) -> None:
    log = tiny_filesystem / "stdout.txt"
    with (
        open(log, "wb") as stdout,
        service_writing_to(stdout.fileno(), tmp_path, port, ACCESS_LOG_LEVEL="info") as (
            popen,
            url,
        ),
    ):
        filler = fill(tiny_filesystem)
        with requests.Session() as session:
            heartbeats(session, url, range(2000))  # ENOSPC: some queued for later, the rest dropped
            filler.unlink()
            deadline = time.monotonic() + 10
            while b"[n9999:" not in log.read_bytes():  # polls: the writer retries on its own
                assert time.monotonic() < deadline, "the log did not come back"
                heartbeats(session, url, range(9999, 10000))
                time.sleep(0.1)  # poll interval
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(timeout=15) == 0
    lines = log.read_text().splitlines()
    assert sum(bool(DROPPED.match(line)) for line in lines) == 1
    assert f"Container {SERVICE_NAME} stopped" in lines[-1]


def test_repeated_rejections_are_rate_limited_and_summed_up(tmp_path: Path, port: int) -> None:
    """300 bad names at once: a few rejection lines a second, the rest counted in one summary line."""
    stdout = tmp_path / "stdout.txt"
    with open(stdout, "wb") as out, service_writing_to(out.fileno(), tmp_path, port) as (popen, url):
        with requests.Session() as session:
            for _ in range(300):
                assert session.get(f"{url}{BAD_NAME}", timeout=5).status_code == 400
        deadline = time.monotonic() + 10
        while "similar lines suppressed" not in stdout.read_text():  # the summary comes after its second
            assert time.monotonic() < deadline, "no summary of the suppressed lines"
            time.sleep(0.05)  # poll interval
        suppressed = metric(url, "log_suppressed_lines_total")
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(timeout=15) == 0
    text = stdout.read_text()
    written = len(re.findall(r"^\[[^\]]*:INFO:[^\]]*\] Rejected hello_world\.greeting: NAME_", text, re.M))
    summed = sum(int(n) for n in re.findall(r"(\d+) similar lines suppressed", text))
    assert 0 < written < 100
    assert written + summed == 300
    assert suppressed == summed
