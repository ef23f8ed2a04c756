"""Asking for the patient's time zone, for sign-up and for /timezone: a place typed or picked, then confirmed.

Owns the two steps: "where are you?" (a city or country typed, or one of a short list) and "is it 10:32
there now?" (one place) or "which of these?" (a country with several zones). The flow supplies what happens
once the zone is confirmed. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from bot.dialog.events import Reply
from bot.dialog.schedule_view import format_clock, format_day
from bot.dialog.timezones import SHORTLIST, find_zones, zone_country, zone_label
from bot.dialog.turn import Answer, Step, Turn
from bot.options import Option

ASK, CONFIRM = "timezone", "timezone_confirm"
ZONE_PREFIX = "tz:"
YES, NO = "yes", "no"


def zone_steps(on_confirmed: Callable[[Turn], Awaitable[None]]) -> dict[str, Step]:
    """Returns the time-zone steps; `on_confirmed` runs after the patient's zone is stored."""

    async def ask(turn: Turn) -> Reply:
        options = tuple(
            Option(f"{ZONE_PREFIX}{zone}", zone_label(zone, turn.lang)) for zone in SHORTLIST[turn.lang]
        )
        return Reply(turn.t("ask_timezone"), options)

    async def handle(turn: Turn, answer: Answer) -> None:
        if answer.option and answer.option.startswith(ZONE_PREFIX):
            candidates = [answer.option.removeprefix(ZONE_PREFIX)]
        else:
            candidates = find_zones(answer.text or "")
        if not candidates:
            turn.note("tz_not_found")
            await turn.ask()
            return
        turn.remember(tz_candidates=candidates)
        turn.go(turn.flow, CONFIRM)
        await turn.ask()

    async def ask_confirm(turn: Turn) -> Reply:
        candidates: list[str] = turn.data.get("tz_candidates", [])
        if len(candidates) == 1:
            zone = candidates[0]
            local = turn.now.astimezone(ZoneInfo(zone))
            text = turn.t(
                "tz_confirm_one",
                city=zone_label(zone, turn.lang),
                time=format_clock(turn, turn.now, zone),
                day=format_day(turn, local.date()),
            )
            return Reply(text, (turn.option(YES, "yes"), turn.option(NO, "no")))
        options = tuple(
            Option(
                f"{ZONE_PREFIX}{zone}",
                turn.t(
                    "tz_option", city=zone_label(zone, turn.lang), time=format_clock(turn, turn.now, zone)
                ),
            )
            for zone in candidates
        )
        return Reply(turn.t("tz_pick"), (*options, turn.option(NO, "tz_other")))

    async def handle_confirm(turn: Turn, answer: Answer) -> None:
        candidates: list[str] = turn.data.get("tz_candidates", [])
        picked = (answer.option or "").removeprefix(ZONE_PREFIX)
        if answer.option == YES and len(candidates) == 1:
            zone = candidates[0]
        elif answer.option != NO and picked in candidates:
            zone = picked
        else:
            turn.remember(tz_candidates=None)
            turn.go(turn.flow, ASK)
            if (
                answer.option is None and answer.text
            ):  # a new place typed instead of a choice: look it up at once
                await handle(turn, answer)
            else:
                await turn.ask()
            return
        turn.patient.timezone = zone
        turn.patient.country = zone_country(zone) or turn.patient.country
        turn.patient_changed()
        turn.remember(tz_candidates=None, tz_set=True)
        turn.note("tz_saved", city=zone_label(zone, turn.lang))
        await on_confirmed(turn)

    return {ASK: Step(ask, handle), CONFIRM: Step(ask_confirm, handle_confirm)}
