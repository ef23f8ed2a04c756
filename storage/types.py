"""Column types shared by the models: UTC instants, string-backed enums, JSON.

Owns how values cross the database boundary the same way on SQLite and PostgreSQL. Must not import
anything of ours but `care`.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class JSONDocument(sa.TypeDecorator[Any]):
    """A JSON document: JSON on SQLite, JSONB on PostgreSQL."""

    impl = sa.JSON()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An instant: binds aware datetimes only (naive ones raise ValueError) and loads aware UTC datetimes.

    PostgreSQL stores `timestamptz`; SQLite stores naive UTC text, which sorts and compares correctly
    because every value goes through this type in one format.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected an aware datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} rejected: pass an aware UTC instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


def str_enum(enum_cls: type[enum.StrEnum], name: str, length: int = 24) -> sa.Enum:
    """Returns a VARCHAR column type holding `enum_cls` values, with a CHECK named after the column `name`.

    No native enum types, so adding a value is a CHECK change on both databases.
    """
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_values,
        validate_strings=True,
    )
