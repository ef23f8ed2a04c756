"""Patient CSV files: the column set, reading an upload into checked rows, and writing export cells.

Owns the file format only: no database, no HTTP. A file is UTF-8 (with or without a BOM), `,` or `;`
separated, with a header row naming columns of `COLUMNS` in any order (`REQUIRED` must be there). Each data
row becomes a `CheckedRow` with its field errors; a file that cannot be read at all raises `FileRejected`
and nothing of it is used. Export writes the same columns, so an export imports again (cells a spreadsheet
would run as a formula get a leading `'`, which the import strips again).
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers

from care.appointment_check import ScheduleError, check_appointment
from care.formulation import Formulation
from care.wall_clock import resolve_wall, wall_exists
from storage.models import Language

NO_SUCH_TIME = "this time does not exist that day (the clocks go forward)"  # the console and API say it too

COLUMNS = (
    "name",
    "phone",
    "language",
    "timezone",
    "country",
    "formulation",
    "stage",
    "next_dose_at",
    "location",
)
REQUIRED = ("name", "language", "timezone")
MAX_BYTES = 1_000_000
MAX_ROWS = 2000
MAX_NAME_CHARS = 100
MAX_LOCATION_CHARS = 200
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The number of the next dose of a course at each stage: the same as `bot.dialog.course.next_dose_number`
# (admin may not import bot; a test checks they agree). 6-monthly IV counts its last dose as dose 3.
NEXT_DOSE_NUMBER = {
    (Formulation.IV, "not_started"): 1,
    (Formulation.IV, "between_infusions"): 2,
    (Formulation.IV, "six_monthly"): 4,
    (Formulation.SC, "not_started"): 1,
    (Formulation.SC, "six_monthly"): 2,
}


class FileRejected(ValueError):
    """The upload cannot be read as a patient CSV (empty, binary, too big, wrong header...); one line."""


@dataclass(frozen=True)
class PatientFields:
    """One valid row, normalised: phone in E.164, the next dose as a UTC instant."""

    name: str
    phone: str | None
    language: Language
    timezone: str
    country: str | None
    formulation: Formulation | None
    stage: str | None
    next_dose_at: datetime | None
    location: str | None


@dataclass
class CheckedRow:
    """A data row as read (`line` counts the header as line 1), its errors by column, and its fields."""

    line: int
    cells: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    fields: PatientFields | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CheckedFile:
    """Every data row of a file, checked."""

    columns: tuple[str, ...]
    rows: list[CheckedRow]

    @property
    def bad(self) -> list[CheckedRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def good(self) -> list[CheckedRow]:
        return [row for row in self.rows if row.ok]


def read_file(data: bytes) -> tuple[tuple[str, ...], list[tuple[int, dict[str, str]]]]:
    """Returns the header's columns and the data rows (line, cells); raises FileRejected."""
    if len(data) > MAX_BYTES:
        raise FileRejected(f"the file is larger than {MAX_BYTES // 1000} kB")
    if b"\x00" in data:
        raise FileRejected("this is not a CSV file (it holds binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected("the file is not UTF-8 text: save it as 'CSV UTF-8'") from None
    if not text.strip():
        raise FileRejected("the file is empty")
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise FileRejected(f"this is not a readable CSV file (line {reader.line_num}: {exc})") from None
    if not lines:
        raise FileRejected("the file is empty")
    header = tuple(cell.strip().lower() for cell in lines[0][1])
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise FileRejected(
            "wrong header: the first row must name the columns "
            + ", ".join(COLUMNS)
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (" (a column is named twice)" if len(set(header)) != len(header) else "")
        )
    rows = lines[1:]
    if not rows:
        raise FileRejected("the file has a header but no patients")
    if len(rows) > MAX_ROWS:
        raise FileRejected(f"the file has {len(rows)} rows; at most {MAX_ROWS} at a time")
    out: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        cells = {
            name: _unguard(row[index].strip()) if index < len(row) else ""
            for index, name in enumerate(header)
        }
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            cells["_extra"] = "x"
        out.append((line, cells))
    return header, out


def check_file(data: bytes, *, stored_phones: Iterable[str] = (), now: datetime) -> CheckedFile:
    """Reads and checks a whole upload; `stored_phones` are the SMS numbers patients already have."""
    header, rows = read_file(data)
    return check_rows(header, rows, stored_phones=stored_phones, now=now)


def check_rows(
    header: tuple[str, ...],
    rows: list[tuple[int, dict[str, str]]],
    *,
    stored_phones: Iterable[str],
    now: datetime,
) -> CheckedFile:
    """Checks every row, and that no phone is used twice in the file or by a stored patient."""
    stored = set(stored_phones)
    seen: dict[str, int] = {}
    checked: list[CheckedRow] = []
    for line, cells in rows:
        row = check_row(line, cells, now)
        phone = row.fields.phone if row.fields else _phone_of(cells)
        if phone is not None and "phone" not in row.errors:
            if phone in stored:
                row.errors["phone"] = "a patient with this phone number exists already"
            elif phone in seen:
                row.errors["phone"] = f"the same phone number as line {seen[phone]}"
            else:
                seen[phone] = line
        if row.errors:
            row.fields = None
        checked.append(row)
    return CheckedFile(header, checked)


def phones_in(rows: list[tuple[int, dict[str, str]]]) -> list[str]:
    """Returns the E.164 numbers the rows name (those that read as numbers), to look up stored ones."""
    return [phone for _, cells in rows if (phone := _phone_of(cells)) is not None]


def check_row(line: int, cells: dict[str, str], now: datetime) -> CheckedRow:
    """Checks one row's cells; the row's `fields` are set when it has no error."""
    row = CheckedRow(line, {name: cells.get(name, "") for name in COLUMNS})
    errors = row.errors
    if "_extra" in cells:
        errors["_row"] = "more cells than the header has columns"
    for name in REQUIRED:
        if not cells.get(name):
            errors[name] = "required"
    name = " ".join(cells.get("name", "").split())
    if name and (len(name) > MAX_NAME_CHARS or not any(char.isalpha() for char in name)):
        errors["name"] = f"a name has letters and at most {MAX_NAME_CHARS} characters"
    language = cells.get("language", "").lower()
    if language and language not in Language._value2member_map_:
        errors["language"] = "unknown language: use en or es"
    zone_name = cells.get("timezone", "")
    if zone_name and zone_name not in _zones():
        errors["timezone"] = "unknown time zone: use a name like Europe/Madrid"
    country = cells.get("country", "").upper() or None
    if country is not None and country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "unknown country: use a two-letter code like ES"
    phone = None
    if cells.get("phone"):
        phone = _phone_of(cells)
        if phone is None:
            errors["phone"] = "not a phone number: write it with its country code, like +34 600 123 456"
    formulation = None
    if value := cells.get("formulation", "").lower():
        if value in Formulation._value2member_map_:
            formulation = Formulation(value)
        else:
            errors["formulation"] = "unknown formulation: use iv or sc"
    stage = cells.get("stage", "").lower() or None
    if stage is not None:
        if formulation is None and "formulation" not in errors:
            errors["stage"] = "a stage needs the formulation"
        elif formulation is not None and (formulation, stage) not in NEXT_DOSE_NUMBER:
            allowed = ", ".join(s for f, s in NEXT_DOSE_NUMBER if f is formulation)
            errors["stage"] = f"unknown stage for {formulation.value}: use {allowed}"
    next_dose_at = None
    if cells.get("next_dose_at"):
        if formulation is None or stage is None:
            errors.setdefault("next_dose_at", "a next dose needs the formulation and the stage")
        if "timezone" not in errors and zone_name:
            next_dose_at = _appointment(cells["next_dose_at"], ZoneInfo(zone_name), formulation, now, errors)
    location = cells.get("location") or None
    if location is not None and len(location) > MAX_LOCATION_CHARS:
        errors["location"] = f"at most {MAX_LOCATION_CHARS} characters"
    if not errors:
        row.fields = PatientFields(
            name=name,
            phone=phone,
            language=Language(language),
            timezone=zone_name,
            country=country or (_region_of(phone) if phone else None),
            formulation=formulation,
            stage=stage,
            next_dose_at=next_dose_at,
            location=location,
        )
    return row


def _appointment(
    value: str, tz: ZoneInfo, formulation: Formulation | None, now: datetime, errors: dict[str, str]
) -> datetime | None:
    """Reads a local 'YYYY-MM-DD HH:MM' and checks it by the label's hard rules (past, 12 months ahead)."""
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, pattern)  # noqa: DTZ007 - a wall time in the row's zone
            break
        except ValueError:
            continue
    else:
        errors["next_dose_at"] = "not a date and time: write it like 2027-03-01 09:30"
        return None
    day, at = parsed.date(), parsed.time()
    if not wall_exists(day, at, tz):
        errors["next_dose_at"] = NO_SUCH_TIME
        return None
    instant = resolve_wall(day, at, tz)
    try:
        check_appointment(formulation or Formulation.IV, [], instant, tz, now)
    except ScheduleError as exc:
        errors["next_dose_at"] = exc.message
        return None
    return instant


def _phone_of(cells: dict[str, str]) -> str | None:
    raw = cells.get("phone", "")
    if not raw:
        return None
    region = cells.get("country", "").upper() or None
    try:
        number = phonenumbers.parse(raw, region if region in phonenumbers.SUPPORTED_REGIONS else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _region_of(phone: str) -> str | None:
    """Returns the country a number belongs to (ES for +34...), when it names one."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES  # noqa: PLW0603 - read once: available_timezones() walks the tz database
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def _unguard(cell: str) -> str:
    """Strips the `'` an export puts before a formula-like cell."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def guard(cell: str) -> str:
    """Returns the cell safe for a spreadsheet: one starting with = + - @ (or a tab, CR) gets a `'`."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def local_wall(instant: datetime | None, zone_name: str) -> str:
    """Returns the instant as the file writes it: 'YYYY-MM-DD HH:MM' in the patient's zone, or ''."""
    return "" if instant is None else instant.astimezone(ZoneInfo(zone_name)).strftime(DATE_FORMATS[0])


def csv_line(cells: Iterable[str]) -> str:
    """Returns one CSV line (comma separated, CRLF), every cell guarded against formulas."""
    out = io.StringIO()
    csv.writer(out).writerow([guard(cell) for cell in cells])
    return out.getvalue()


def header_line() -> str:
    """Returns the export's header line."""
    return csv_line(COLUMNS)
