"""The W3C Trace Context rules of tracing/trace_context.py (https://www.w3.org/TR/trace-context/)."""

import pytest
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.trace_context import TraceContext

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{PARENT_ID}-01"


def test_a_valid_traceparent_gives_its_trace_parent_and_sampled_flag() -> None:
    assert trace_context.parse(VALID, "congo=t61rcWkgMzE") == TraceContext(TRACE_ID, PARENT_ID, 1, "congo=t61rcWkgMzE")
    assert trace_context.parse(f"00-{TRACE_ID}-{PARENT_ID}-00") == TraceContext(TRACE_ID, PARENT_ID, 0, None)


@pytest.mark.parametrize(
    "traceparent",
    [
        "",
        "junk",
        VALID.upper(),  # lowercase hex only
        f"00-{'0' * 32}-{PARENT_ID}-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE_ID}-{PARENT_ID}-01",  # version ff is invalid
        VALID + "-extra",  # version 00 has exactly four fields
        VALID[:-1],
        f"00-{TRACE_ID}-{PARENT_ID}-0x",
        f"0-{TRACE_ID}-{PARENT_ID}-01",
        VALID + ", " + VALID,  # two traceparent headers, joined
        f"cc-{TRACE_ID}-{PARENT_ID}-01-x, " + VALID,  # a future version first: its "-x" must not swallow the next
        f"00_{TRACE_ID}_{PARENT_ID}_01",
        f"00-{TRACE_ID}-{PARENT_ID}-01\n",
    ],
)
def test_a_malformed_traceparent_is_ignored(traceparent: str) -> None:
    assert trace_context.parse(traceparent, "a=b") is None


def test_a_future_version_is_read_leniently() -> None:
    """W3C 4.5: a higher version's first four fields are read, and whatever follows a "-" is left alone."""
    assert trace_context.parse(f"cc-{TRACE_ID}-{PARENT_ID}-01-what-the-future-holds") == TraceContext(
        TRACE_ID, PARENT_ID, 1
    )
    assert trace_context.parse(f"cc-{TRACE_ID}-{PARENT_ID}-01") == TraceContext(TRACE_ID, PARENT_ID, 1)
    assert trace_context.parse(f"cc-{TRACE_ID}-{PARENT_ID}-01.") is None


def test_only_the_sampled_flag_is_kept() -> None:
    context = trace_context.parse(f"00-{TRACE_ID}-{PARENT_ID}-ff")
    assert context is not None and context.flags == 1


@pytest.mark.parametrize("tracestate", ["a=b\x1b[31m", "x" * 513, ",".join(f"k{i}=v" for i in range(33)), "é=1"])
def test_an_unusable_tracestate_is_dropped(tracestate: str) -> None:
    context = trace_context.parse(VALID, tracestate)
    assert context is not None and context.tracestate is None


def test_a_written_traceparent_reads_back() -> None:
    context = TraceContext(TRACE_ID, PARENT_ID, 1, "a=b")
    assert context.traceparent() == VALID
    assert trace_context.parse(context.traceparent(), "a=b") == context


def test_a_call_belongs_to_the_request_being_served_else_to_a_trace_id_correlation_id() -> None:
    served = TraceContext(TRACE_ID, PARENT_ID, 1)
    with trace_context.serving(served):
        assert trace_context.outgoing("some-id") == served
    assert trace_context.outgoing("some-id") is None
    assert trace_context.outgoing(None) is None
    derived = trace_context.outgoing(TRACE_ID)
    assert derived is not None and derived.trace_id == TRACE_ID and derived.parent_id != "0" * 16
    assert trace_context.outgoing("0" * 32) is None
