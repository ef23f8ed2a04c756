"""Reading patient CSV files: every error kind, one row per case; unreadable files are refused whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from admin.csv_io import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    NEXT_DOSE_NUMBER,
    FileRejected,
    check_file,
    csv_line,
    guard,
)
from bot.dialog.course import Stage, next_dose_number
from care.formulation import Formulation
from storage.models import Language

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HEADER = ",".join(COLUMNS)
GOOD = "Ana Lopez,+34 600 111 222,es,Europe/Madrid,ES,iv,six_monthly,2027-01-15 09:30,Hospital Norte"


def _row(**cells: str) -> str:
    values = dict(zip(COLUMNS, GOOD.split(","), strict=True)) | cells
    return ",".join(values[name] for name in COLUMNS)


def test_a_good_row_is_normalised_phone_e164_and_the_dose_in_utc() -> None:
    checked = check_file(f"{HEADER}\n{GOOD}\n".encode(), now=NOW)
    (row,) = checked.rows
    assert row.ok and row.line == 2 and row.fields is not None
    assert row.fields.phone == "+34600111222"
    assert row.fields.language is Language.ES and row.fields.formulation is Formulation.IV
    assert row.fields.next_dose_at == datetime(2027, 1, 15, 8, 30, tzinfo=UTC)  # 09:30 CET
    assert row.fields.location == "Hospital Norte"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"phone": "600 111"}, "phone", "not a phone number"),
        ({"phone": "+1 555 0100"}, "phone", "not a phone number"),
        ({"next_dose_at": "15/01/2027"}, "next_dose_at", "not a date and time"),
        ({"next_dose_at": "2027-02-30 09:00"}, "next_dose_at", "not a date and time"),
        ({"next_dose_at": "2026-12-01 09:00"}, "next_dose_at", "in the past"),
        ({"next_dose_at": "2028-06-01 09:00"}, "next_dose_at", "months"),
        ({"next_dose_at": "2027-03-28 02:30"}, "next_dose_at", "does not exist"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "unknown time zone"),
        ({"language": "fr"}, "language", "unknown language"),
        ({"name": ""}, "name", "required"),
        ({"language": ""}, "language", "required"),
        ({"timezone": ""}, "timezone", "required"),
        ({"name": "12345"}, "name", "letters"),
        ({"country": "XX"}, "country", "unknown country"),
        ({"formulation": "pill"}, "formulation", "unknown formulation"),
        ({"stage": "between_infusions", "formulation": "sc"}, "stage", "unknown stage for sc"),
        ({"formulation": ""}, "stage", "needs the formulation"),
        ({"stage": ""}, "next_dose_at", "needs the formulation and the stage"),
        ({"location": "x" * 201}, "location", "at most 200"),
    ],
    ids=[
        "phone_too_short",
        "phone_not_assigned",
        "date_wrong_format",
        "date_not_a_day",
        "date_in_the_past",
        "date_beyond_12_months",
        "date_in_dst_gap",
        "unknown_time_zone",
        "unknown_language",
        "missing_name",
        "missing_language",
        "missing_timezone",
        "name_without_letters",
        "unknown_country",
        "unknown_formulation",
        "stage_not_of_formulation",
        "stage_without_formulation",
        "dose_without_stage",
        "location_too_long",
    ],
)
def test_a_bad_cell_is_named_with_its_column(cells: dict[str, str], column: str, message: str) -> None:
    checked = check_file(f"{HEADER}\n{_row(**cells)}\n".encode(), now=NOW)
    (row,) = checked.rows
    assert not row.ok and row.fields is None
    assert message in row.errors[column], row.errors


def test_a_phone_twice_in_the_file_or_already_stored_is_an_error_on_the_later_row() -> None:
    rows = [GOOD, _row(name="Bea", phone="0034600111222"), _row(name="Cy", phone="+34600999888")]
    data = "\n".join([HEADER, *rows]) + "\n"
    checked = check_file(data.encode(), now=NOW, stored_phones={"+34600999888"})
    assert [row.ok for row in checked.rows] == [True, False, False]
    assert checked.rows[1].errors == {"phone": "the same phone number as line 2"}
    assert checked.rows[2].errors == {"phone": "a patient with this phone number exists already"}


def test_the_country_defaults_to_the_phone_numbers() -> None:
    checked = check_file(f"{HEADER}\n{_row(phone='+1 212 555 0123', country='')}\n".encode(), now=NOW)
    assert checked.rows[0].fields is not None and checked.rows[0].fields.country == "US"


def test_a_local_number_reads_with_the_country_column() -> None:
    checked = check_file(f"{HEADER}\n{_row(phone='600 111 222', country='es')}\n".encode(), now=NOW)
    assert checked.rows[0].fields is not None and checked.rows[0].fields.phone == "+34600111222"
    assert checked.rows[0].fields.country == "ES"


def test_semicolons_a_bom_any_column_order_and_only_the_required_columns_are_read() -> None:
    data = (
        '\ufefftimezone;Name;language\r\nEurope/Madrid;Ana;en\r\n;;\r\nAmerica/New_York;"Smith; John";es\r\n'
    )
    checked = check_file(data.encode(), now=NOW)
    assert [row.ok for row in checked.rows] == [True, True]
    assert [row.fields.name for row in checked.rows if row.fields] == ["Ana", "Smith; John"]
    assert [row.line for row in checked.rows] == [2, 4]


def test_a_row_longer_than_the_header_is_an_error() -> None:
    checked = check_file(f"{HEADER}\n{GOOD},surplus\n".encode(), now=NOW)
    assert "_row" in checked.rows[0].errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("name,language,timezone\nJosé,es,Europe/Madrid\n".encode("latin-1"), "not UTF-8"),
        (b"name,phone\nAna,+34600111222\n", "missing: language, timezone"),
        (b"nombre,idioma,zona\nAna,es,Europe/Madrid\n", "wrong header"),
        (b"name,language,timezone,name\nAna,es,Europe/Madrid,Ana\n", "named twice"),
        (b"name,language,timezone\n", "no patients"),
        (b'name,language,timezone\n"Ana,es,Europe/Madrid\n', "not a readable CSV"),
        (b"x" * (MAX_BYTES + 1), "larger than"),
        (("name,language,timezone\n" + "Ana,es,Europe/Madrid\n" * (MAX_ROWS + 1)).encode(), "at most 2000"),
    ],
    ids=[
        "empty",
        "blank",
        "binary",
        "latin1",
        "missing_columns",
        "wrong_header",
        "duplicate_column",
        "header_only",
        "unclosed_quote",
        "too_big",
        "too_many_rows",
    ],
)
def test_an_unreadable_file_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(FileRejected, match=message):
        check_file(data, now=NOW)


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+34600111222", "'+34600111222"), ("-2", "'-2"),
     ("@SUM(A1)", "'@SUM(A1)"), ("Ana", "Ana"), ("", "")],
    ids=["equals", "plus", "minus", "at", "plain", "empty"],
)  # fmt: skip
def test_export_cells_that_start_a_formula_get_a_quote(cell: str, written: str) -> None:
    assert guard(cell) == written


def test_an_exported_line_imports_again_with_the_quote_stripped() -> None:
    line = csv_line(["=cmd", "+34600111222", "es", "Europe/Madrid", "", "", "", "", ""])
    checked = check_file(f"{HEADER}\r\n{line}".encode(), now=NOW)
    assert checked.rows[0].fields is not None
    assert (checked.rows[0].fields.name, checked.rows[0].fields.phone) == ("=cmd", "+34600111222")


def test_the_next_dose_numbers_agree_with_the_sign_up_dialog() -> None:
    for (formulation, stage), number in NEXT_DOSE_NUMBER.items():
        assert next_dose_number(formulation, Stage(stage)) == number
