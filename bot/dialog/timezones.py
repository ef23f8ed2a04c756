"""Finds a patient's time zone from the city or country they type, in English or Spanish.

Owns the lookup: IANA names ("Europe/Madrid"), the cities that name zones and CLDR's city names in both
languages ("London", "Nueva York", "Buenos Aires"), a few big cities that name no zone ("Barcelona",
"Houston"), and country names ("Mexico", "España") with their zones, several when a country spans more
than one. Knows no clock. Imports nothing of ours but `bot.dialog.dates.normalize`.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global

from bot.dialog.dates import normalize

MAX_CANDIDATES = 6
SHORTLIST = {
    "en": ("Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Madrid"),
    "es": ("Europe/Madrid", "America/Mexico_City", "America/Bogota", "America/Argentina/Buenos_Aires"),
}
# Countries spanning several zones, most-populated first (the rest keep CLDR's order, deduplicated by offset).
PRIMARY_ZONES = {
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
           "America/Anchorage", "Pacific/Honolulu"),
    "MX": ("America/Mexico_City", "America/Cancun", "America/Chihuahua", "America/Hermosillo",
           "America/Tijuana"),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "CA": ("America/Toronto", "America/Vancouver", "America/Edmonton", "America/Winnipeg", "America/Halifax",
           "America/St_Johns"),
    "AU": ("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth",
           "Australia/Darwin"),
    "BR": ("America/Sao_Paulo", "America/Manaus", "America/Fortaleza", "America/Rio_Branco"),
    "AR": ("America/Argentina/Buenos_Aires",),
    "CL": ("America/Santiago", "Pacific/Easter"),
    "EC": ("America/Guayaquil", "Pacific/Galapagos"),
    "PT": ("Europe/Lisbon", "Atlantic/Azores"),
    "GB": ("Europe/London",),
    "RU": ("Europe/Moscow",),
}  # fmt: skip
CITY_ALIASES = {
    "barcelona": "Europe/Madrid", "valencia": "Europe/Madrid", "sevilla": "Europe/Madrid",
    "seville": "Europe/Madrid", "bilbao": "Europe/Madrid", "malaga": "Europe/Madrid",
    "zaragoza": "Europe/Madrid", "palma": "Europe/Madrid", "las palmas": "Atlantic/Canary",
    "tenerife": "Atlantic/Canary", "guadalajara": "America/Mexico_City", "puebla": "America/Mexico_City",
    "cdmx": "America/Mexico_City", "ciudad de mexico": "America/Mexico_City", "df": "America/Mexico_City",
    "medellin": "America/Bogota", "cali": "America/Bogota", "cordoba": "America/Argentina/Cordoba",
    "rosario": "America/Argentina/Buenos_Aires", "valparaiso": "America/Santiago",
    "quito": "America/Guayaquil", "cusco": "America/Lima", "san juan": "America/Puerto_Rico",
    "boston": "America/New_York", "miami": "America/New_York", "washington": "America/New_York",
    "atlanta": "America/New_York", "philadelphia": "America/New_York", "orlando": "America/New_York",
    "nyc": "America/New_York", "houston": "America/Chicago", "dallas": "America/Chicago",
    "san antonio": "America/Chicago", "austin": "America/Chicago", "seattle": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles", "portland": "America/Los_Angeles", "salt lake city": "America/Denver",
    "manchester": "Europe/London", "birmingham": "Europe/London", "glasgow": "Europe/London",
    "edinburgh": "Europe/London", "cardiff": "Europe/London", "liverpool": "Europe/London",
    "leeds": "Europe/London", "bristol": "Europe/London", "londres": "Europe/London",
    "montreal": "America/Toronto", "ottawa": "America/Toronto", "calgary": "America/Edmonton",
    "canberra": "Australia/Sydney", "auckland": "Pacific/Auckland", "wellington": "Pacific/Auckland",
}  # fmt: skip
COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "u s a": "US", "united states of america": "US", "america": "US",
    "eeuu": "US", "ee uu": "US", "estados unidos de america": "US", "uk": "GB", "u k": "GB",
    "england": "GB", "inglaterra": "GB", "scotland": "GB", "escocia": "GB", "wales": "GB", "gales": "GB",
    "great britain": "GB", "britain": "GB", "gran bretana": "GB", "northern ireland": "GB",
    "holland": "NL", "holanda": "NL",
}  # fmt: skip
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)  # fmt: skip  (not the legacy aliases: US/..., Canada/..., Etc/...)
_FILLER = re.compile(
    r"^(?:i\s+live\s+in|i\s+am\s+in|i\s*m\s+in|im\s+in|in|near|from|vivo\s+en|estoy\s+en|en|desde|cerca\s+de)\s+"
)


def find_zones(text: str) -> list[str]:
    """Returns the IANA zones `text` may mean, best first (at most MAX_CANDIDATES); [] when none."""
    plain = _clean(text)
    if not plain:
        return []
    for attempt in (plain, *[part.strip() for part in re.split(r"[,/(]", text) if part.strip()]):
        found = _lookup(_clean(attempt)) or _lookup_iana(attempt)
        if found:
            return found[:MAX_CANDIDATES]
    return _fuzzy(plain)[:MAX_CANDIDATES]


def zone_label(zone: str, language: str) -> str:
    """Returns the zone's city in the patient's language, like "Nueva York" or "New York"."""
    city = Locale.parse(language).time_zones.get(zone, {}).get("city")
    return str(city) if city else zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_country(zone: str) -> str | None:
    """Returns the ISO country code of a zone ("Europe/Madrid" -> "ES"), or None for zones of no country."""
    territory = get_global("zone_territories").get(zone)
    return territory if isinstance(territory, str) and territory.isalpha() and territory != "ZZ" else None


def local_now(zone: str, now: datetime) -> datetime:
    """Returns `now` on the zone's wall clock."""
    return now.astimezone(ZoneInfo(zone))


def _clean(text: str) -> str:
    plain = re.sub(r"[^\w\s]", " ", normalize(text)).replace("_", " ")
    plain = re.sub(r"\s+", " ", plain).strip()
    return _FILLER.sub("", plain)


def _lookup_iana(text: str) -> list[str]:
    wanted = text.strip().replace(" ", "_").casefold()
    return [zone for zone in _zones() if zone.casefold() == wanted]


def _lookup(plain: str) -> list[str]:
    cities, countries = _city_index(), _country_index()
    if plain in cities:
        return [cities[plain]]
    if plain in countries:
        return country_zones(countries[plain])
    return []


def _fuzzy(plain: str) -> list[str]:
    cities, countries = _city_index(), _country_index()
    names = list(cities) + list(countries)
    for name in difflib.get_close_matches(plain, names, n=1, cutoff=0.84):
        return [cities[name]] if name in cities else country_zones(countries[name])
    return []


def country_zones(code: str) -> list[str]:
    """Returns the zones of a country, the most-populated first, one per distinct UTC offset."""
    zones = list(PRIMARY_ZONES.get(code, ()))
    if zones:
        return zones
    seen: set[tuple[object, ...]] = set()
    for zone in get_global("territory_zones").get(code, ()):
        if zone not in _zones():
            continue
        signature = _offsets(zone)
        if signature not in seen:
            seen.add(signature)
            zones.append(zone)
    return zones


def _offsets(zone: str) -> tuple[object, ...]:
    tz = ZoneInfo(zone)
    return tuple(datetime(2026, month, 15, 12, tzinfo=UTC).astimezone(tz).utcoffset() for month in (1, 7))


@cache
def _zones() -> frozenset[str]:
    return frozenset(
        zone for zone in available_timezones() if zone.split("/", 1)[0] in _REGIONS and "/" in zone
    )


@cache
def _city_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for zone in sorted(_zones()):
        index.setdefault(_clean(zone.rsplit("/", 1)[-1]), zone)
    for language in ("en", "es"):
        for zone, names in Locale.parse(language).time_zones.items():
            city = names.get("city")
            if city and zone in _zones():
                index.setdefault(_clean(str(city)), zone)
    for alias, zone in CITY_ALIASES.items():
        index[alias] = zone
    index.pop("", None)
    return index


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for language in ("en", "es"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and get_global("territory_zones").get(code):
                index.setdefault(_clean(str(name)), code)
    index.update(COUNTRY_ALIASES)
    return index
