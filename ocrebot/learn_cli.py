"""`ocrebot learn "question"`: answers a question from the education library, with its sources.

Owns the command's arguments and its two outputs (text for people, JSON for tools). It uses only `care` and
the standard library: no settings, database or network. Exit codes: 0 an answer, 1 no confident answer (the
service would say it does not know), 2 bad arguments, as one line on stderr naming the argument. The lead
registers `add_parser` in `ocrebot.cli`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from care.library import Library, LibraryError, LibraryMatch, TextKind, load_library

EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
PROG = "ocrebot learn"
LANGUAGES = ("en", "es")
REGIONS = ("us", "eu", "uk")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Registers `learn` on an argparse subparsers object and returns its parser."""
    learn: argparse.ArgumentParser = subparsers.add_parser(
        "learn",
        help="answer a question from the education library",
        description="Answer a question from the education library, as the bot would, with its sources. "
        "Exit 0 with an answer, 1 when the library has no confident answer, 2 on bad arguments.",
    )
    _one_line_errors(learn)
    learn.add_argument("question", nargs="*", help='the question, e.g. "can I get the flu shot?"')
    learn.add_argument("--lang", default="en", metavar="LANG", help="en or es (default en)")
    learn.add_argument(
        "--channel",
        default="telegram",
        metavar="CHANNEL",
        help="telegram or sms: which text (default telegram)",
    )
    learn.add_argument(
        "--region", default="us", metavar="REGION", help="us, eu or uk: which label (default us)"
    )
    learn.add_argument("--library", metavar="PATH", help="a library.toml (default: the built-in library)")
    learn.add_argument("--json", action="store_true", help="print JSON instead of text")
    learn.set_defaults(func=run)
    return learn


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `ocrebot learn ...` without the rest of the CLI (for tests) and returns the exit code."""
    parser = argparse.ArgumentParser(prog="ocrebot")
    _one_line_errors(parser)
    add_parser(parser.add_subparsers(dest="command", metavar="COMMAND"))
    try:
        args = parser.parse_args(["learn", *(argv or [])])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return int(args.func(args))


def run(args: argparse.Namespace) -> int:
    """Prints the answer for parsed arguments and returns the exit code."""
    question = " ".join(args.question).strip()
    if not question:
        return _fail('argument question: give a question, e.g. ocrebot learn "can I get the flu shot?"')
    channels = tuple(kind.value for kind in TextKind)
    checks = (
        ("--lang", args.lang, LANGUAGES),
        ("--region", args.region, REGIONS),
        ("--channel", args.channel, channels),
    )
    for name, value, known in checks:
        if value not in known:
            return _fail(f"argument {name}: must be one of {', '.join(known)}, got {value!r}")
    try:
        library = load_library(args.library)
    except LibraryError as exc:
        return _fail(f"argument --library: {exc}")
    found = library.match(question, args.lang, args.region)
    kind = TextKind(args.channel)
    if args.json:
        report = _as_json(library, found, question, args.lang, args.region, kind)
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_as_text(library, found, args.lang, args.region, kind))
    return 0 if found is not None else EXIT_NO_ANSWER


def _as_text(library: Library, found: LibraryMatch | None, lang: str, region: str, kind: TextKind) -> str:
    if found is None:
        topics = ", ".join(topic.id for topic in library.topics)
        return (
            "No confident answer (the bot says it doesn't know, lists its topics and points to the care "
            f"team).\nTopics: {topics}\n"
        )
    answer = found.answer
    lines = [
        f"{found.topic.title[lang]} [{found.topic.id}] (region {region}, {kind.value}; "
        f"score {found.score:.2f}, coverage {found.coverage:.0%})",
        "",
        answer.text(lang, kind),
        "",
    ]
    if answer.sources:
        lines.append("Sources:")
        lines += [
            f"  {key}  {library.sources[key].title[lang]} - {library.sources[key].url}"
            for key in answer.sources
        ]
        lines.append(f"Facts: {', '.join(str(n) for n in answer.facts)} (shared/clinical-facts.md)")
    else:
        lines.append("Sources: none (a pointer to other help; it states no health fact)")
    lines.append(f"Reviewed on: {found.topic.reviewed_on.isoformat()}")
    if found.related:
        lines.append("Related: " + ", ".join(f"{t.title[lang]} [{t.id}]" for t in found.related))
    return "\n".join(lines) + "\n"


def _as_json(
    library: Library, found: LibraryMatch | None, question: str, lang: str, region: str, kind: TextKind
) -> dict[str, Any]:
    report: dict[str, Any] = {"question": question, "lang": lang, "region": region, "channel": kind.value}
    if found is None:
        report["answer"] = None
        return report
    answer = found.answer
    report["answer"] = {
        "topic": found.topic.id,
        "title": found.topic.title[lang],
        "text": answer.text(lang, kind),
        "score": round(found.score, 3),
        "coverage": round(found.coverage, 3),
        "facts": list(answer.facts),
        "sources": [
            {"key": key, "title": library.sources[key].title[lang], "url": library.sources[key].url}
            for key in answer.sources
        ],
        "reviewed_on": found.topic.reviewed_on.isoformat(),
        "related": [topic.id for topic in found.related],
    }
    return report


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Makes the parser's own errors one line on stderr, exit 2."""

    def error(message: str) -> NoReturn:
        parser.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")

    parser.error = error  # type: ignore[method-assign]


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_USAGE
