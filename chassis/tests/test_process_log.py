"""The log's parts on their own: QueuedStream and LogWriter on real pipes, LogRateLimit's windows."""

import time

from microservice_chassis.log.rate_limit import LogRateLimit
from microservice_chassis.log.writer import MAX_QUEUED_LINES, LogWriter
from microservice_chassis.process.streams import QueuedStream
from microservice_chassis.testing import read_until


def test_a_partial_line_waits_for_its_end_and_what_the_encoding_cannot_take_is_escaped(
    unread_pipe: tuple[int, int],
) -> None:
    read_end, write_end = unread_pipe
    with open(write_end, "w", encoding="ascii", closefd=False) as wrapped:
        stream = QueuedStream(wrapped)
        stream.write("a")
        stream.write("b\nc")
        stream.write("\u00e9\n")
        assert read_until(read_end, b"c\\xe9\n") == b"ab\nc\\xe9\n"
        stream.write("unended")
        assert stream.drain(5)
        assert read_until(read_end, b"unended") == b"unended"


def test_a_writer_on_a_pipe_nobody_reads_never_waits_and_its_drain_gives_up(unread_pipe: tuple[int, int]) -> None:
    read_end, write_end = unread_pipe
    writer = LogWriter(write_end)
    line = b"x" * 99 + b"\n"
    started = time.monotonic()
    queued = [writer.put(b"%05d" % number + line, 1) for number in range(3000)]  # 300 KB: pipe and queue full
    assert time.monotonic() - started < 2  # nothing waited on the pipe (it takes 64 KiB)
    assert not all(queued)
    assert not writer.drain(0.2)
    output = read_until(read_end, b"log lines dropped")
    assert writer.put(b"last\n", 1)
    output += read_until(read_end, b"last\n")
    assert writer.drain(5)
    numbers = [int(text[:5]) for text in output.split(b"\n") if text[:5].isdigit()]
    assert numbers == sorted(numbers)
    assert 3000 - len(numbers) == queued.count(False) and len(numbers) >= MAX_QUEUED_LINES


def test_a_rate_limit_admits_a_few_of_a_kind_per_window_and_sums_up_the_rest() -> None:
    limit = LogRateLimit(per_window=2, window=0.3)
    summaries: list[tuple[str, int]] = []
    admitted = [limit.admit("a", lambda count: summaries.append(("a", count))) for _ in range(5)]
    assert admitted == [True, True, False, False, False]
    assert limit.admit("b", lambda count: summaries.append(("b", count)))  # another kind: its own window
    deadline = time.monotonic() + 5
    while not summaries:  # the summary comes once the window is over, without another line
        assert time.monotonic() < deadline
        time.sleep(0.01)  # poll interval
    assert summaries == [("a", 3)]
    assert limit.admit("a", lambda count: None)  # a new window
