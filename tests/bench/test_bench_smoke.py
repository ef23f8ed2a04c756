"""Every `python -m bench` benchmark in its smoke size: each runs end to end and reports every figure, not the
targets."""

from __future__ import annotations

import json
import time

from bench import burst, outbox_scale, telegram_reply
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


async def test_the_outbox_scale_smoke_run_claims_replans_finds_the_next_wake_and_reports_every_figure(
    database_url: str,
) -> None:
    result = await outbox_scale.run(database_url, patients=50, rows=2_000, claims=2, replans=5)

    json.dumps(result)  # one JSON object
    assert (result["benchmark"], result["patients"], result["pending_rows"]) == ("outbox_scale", 50, 2_000)
    assert set(result) == {
        "benchmark", "database", "patients", "pending_rows", "fill_s", "claim_100_p50_ms", "claim_100_p95_ms",
        "replan_one_patient_p50_ms", "replan_one_patient_p95_ms", "next_due_p50_ms", "next_due_p95_ms",
        "next_due_retrying_p50_ms", "next_due_retrying_p95_ms", "peak_rss_mb", "targets",
    }  # fmt: skip
    assert result["claim_100_p50_ms"] > 0 and result["replan_one_patient_p50_ms"] > 0
    assert result["next_due_p50_ms"] > 0 and result["next_due_retrying_p50_ms"] > 0


def test_the_telegram_reply_smoke_run_answers_every_message() -> None:
    result = telegram_reply.main(["--messages", "5"])

    json.dumps(result)
    assert result["benchmark"] == "telegram_reply" and result["messages"] >= 5
    assert (result["errors"], result["rate_limited_429"]) == (0, 0)
