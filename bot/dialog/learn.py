"""The education library in the dialog: /learn's pages of topics, a tapped topic, and questions in words.

Owns `run` (the /learn command: no argument lists the topics, "page:N" another page, a topic id sends that
topic, other words are a question), `answer_question` (a question typed while nothing else is asked: the best
topic with related topics, or "I don't know that one" with the topic list and the care team) and the region
a patient's answers follow (from their time zone). Telegram, the web and the terminal get a topic's longer
text with its sources and related topics to tap; SMS gets its short text alone (two segments). Option keys
are commands ("cmd:learn:vaccines"), so a button works whatever the conversation is doing. Reads nothing
from the database. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import math

from bot.dialog.answers import Command, clean, match_option
from bot.dialog.turn import Turn
from bot.options import Option
from care.library import Library, LibraryMatch, TextKind, Topic, default_library, region_for_timezone
from storage.models import Channel

PER_PAGE = 8
SMS_PER_PAGE = 3
OPTION = "cmd:learn"
PAGE = "page"
OFFERED = "learn_offered"  # by SMS while idle: the topic options last listed, so "2" picks the second


async def run(turn: Turn, command: Command) -> None:
    """Runs /learn: a page of topics, one topic, or a question; then asks the open question again."""
    library = default_library()
    args = command.args
    if not args:
        show_topics(turn, library)
    elif args[0] == PAGE:
        show_topics(turn, library, _page_number(args[1:]))
    elif len(args) == 1 and args[0] in {topic.id for topic in library.topics}:
        send_topic(turn, library, library.topic(args[0]))
    elif not answer_question(turn, " ".join(args)):
        show_topics(turn, library)
    if turn.flow:
        await turn.ask()


def answer_question(turn: Turn, text: str) -> bool:
    """Answers a question from the library; False when the text is small talk ("hi", "ok thanks")."""
    library = default_library()
    found = library.match(text, turn.lang, region_of(turn, library))
    if found is not None:
        send_topic(turn, library, found.topic, found)
        return True
    if library.is_small_talk(text):
        return False
    turn.note("learn_unknown")
    show_topics(turn, library)
    return True


def region_of(turn: Turn, library: Library) -> str:
    """Returns the label region of the patient's answers, from their time zone."""
    return region_for_timezone(turn.patient.timezone, library.default_region)


def show_topics(turn: Turn, library: Library, page: int = 1) -> None:
    """Sends a page of topic buttons, with buttons to the pages before and after."""
    per_page = SMS_PER_PAGE if turn.event.channel is Channel.SMS else PER_PAGE  # two segments by SMS
    pages = max(1, math.ceil(len(library.topics) / per_page))
    page = min(max(page, 1), pages)
    shown = library.topics[(page - 1) * per_page : page * per_page]
    options = [_topic_option(turn, topic) for topic in shown]
    if page > 1:
        options.append(turn.option(f"{OPTION}:{PAGE}:{page - 1}", "learn_previous_topics"))
    if page < pages:
        options.append(turn.option(f"{OPTION}:{PAGE}:{page + 1}", "learn_more_topics"))
    turn.say("learn", options=tuple(options), page=page, pages=pages)
    if turn.event.channel is Channel.SMS and not turn.flow:  # no step holds these options: remember them
        turn.remember(**{OFFERED: [option.key for option in options]})


async def pick_by_number(turn: Turn) -> bool:
    """By SMS, while idle: a bare number right after a list of topics picks that topic (or page); any other
    message forgets the list. False when the message is not such a pick."""
    offered = turn.data.get(OFFERED)
    if not offered:
        return False
    turn.remember(**{OFFERED: None})
    if turn.event.channel is not Channel.SMS or turn.event.text is None:
        return False
    key = match_option(clean(turn.event.text), tuple(Option(key, "") for key in offered), numbered=True)
    if key is None or not key.startswith(OPTION):
        return False
    await run(turn, Command("learn", tuple(key.removeprefix(OPTION).split(":")[1:])))
    return True


def send_topic(turn: Turn, library: Library, topic: Topic, found: LibraryMatch | None = None) -> None:
    """Sends a topic's answer for the patient's region and channel, with related topics to tap."""
    answer = found.answer if found is not None else topic.answer(region_of(turn, library))
    if turn.event.channel is Channel.SMS:  # two segments: no room for a list of related topics
        turn.send(answer.text(turn.lang, TextKind.SMS))
        return
    parts = [topic.title[turn.lang], answer.text(turn.lang, TextKind.TELEGRAM)]
    if answer.sources:
        titles = "; ".join(library.sources[key].title[turn.lang] for key in answer.sources)
        parts.append(turn.t("learn_sources", sources=titles))
    related = found.related if found is not None else tuple(library.topic(i) for i in topic.related)
    options = [_topic_option(turn, other) for other in related[:3]]
    options.append(turn.option(OPTION, "learn_all_topics"))
    turn.send("\n\n".join(parts), tuple(options))


def _topic_option(turn: Turn, topic: Topic) -> Option:
    return Option(f"{OPTION}:{topic.id}", topic.title[turn.lang])


def _page_number(args: tuple[str, ...]) -> int:
    return int(args[0]) if args and args[0].isdigit() and len(args[0]) <= 3 else 1
