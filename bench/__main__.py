"""`python -m bench [name ...]`: run benchmarks and print one JSON object per benchmark."""

from __future__ import annotations

import json
import sys

from bench import burst, outbox_scale, telegram_reply

BENCHMARKS = {"outbox": outbox_scale.main, "burst": burst.main, "telegram": telegram_reply.main}


def main(argv: list[str]) -> int:
    """Run the named benchmark with its arguments, or every benchmark with defaults."""
    if argv and argv[0] in BENCHMARKS:
        print(json.dumps(BENCHMARKS[argv[0]](argv[1:])))  # noqa: T201
        return 0
    if argv:
        print(f"unknown benchmark {argv[0]!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)  # noqa: T201
        return 2
    for run in BENCHMARKS.values():
        print(json.dumps(run([])), flush=True)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
