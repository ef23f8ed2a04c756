"""`python -m bench burst` in its smoke size: it runs end to end and reports every figure, not the targets."""

from __future__ import annotations

import json
import time

from bench import burst
from bench.__main__ import BENCHMARKS

KEYS = {
    "benchmark", "database", "messages", "delivered", "duplicates", "completed", "seed_s", "elapsed_s",
    "limit_per_s", "throughput_per_s", "throughput_ratio", "outbox_max_gap_ms", "outbox_gaps_over_100ms",
    "replies_per_s", "rate_limited_429", "rate_limited_by_kind", "loop_stall_max_ms", "loop_stall_p99_ms",
    "loop_ticks", "gc_max_pause_ms", "gc_max_pause_cpu_ms", "gc_collections", "gc_tracked_at_end",
    "reply_samples", "reply_timeouts", "reply_p50_ms", "reply_p99_ms",
    "reply_max_ms", "targets", "statuses",
}  # fmt: skip


def test_the_burst_smoke_run_sends_every_message_and_reports_every_figure() -> None:
    started = time.monotonic()
    result = burst.main(["--messages", "60", "--seconds-cap", "15", "--probe-interval-s", "0.3"])

    assert set(result) == KEYS
    json.dumps(result)  # one JSON object
    assert (result["benchmark"], result["database"], result["messages"]) == ("burst", "sqlite", 60)
    assert result["completed"] and result["delivered"] == 60 and result["duplicates"] == 0
    assert result["statuses"] == {"sent": 60}
    assert result["reply_samples"] >= 1 and result["loop_ticks"] > 0
    assert time.monotonic() - started < 20


def test_python_m_bench_knows_the_burst_and_still_the_outbox() -> None:
    assert {"burst", "outbox"} <= set(BENCHMARKS)
