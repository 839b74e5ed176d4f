"""Column types that make both backends read and write the same Python values.

Times are timezone-aware everywhere. PostgreSQL stores them as ``timestamptz``; SQLite has no time
type, so they are stored as ISO 8601 text, always converted to Vietnamese time (+07:00) first. With
one fixed offset the text sorts as time does (``+`` sorts before ``.`` and the digits, so a value
without microseconds still sorts before the same second with them), which keeps ``ORDER BY`` and
``WHERE detected_at >= '2024-05-01'`` right in plain SQL. Reading back gives aware datetimes in
``VN_TZ`` on both backends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage.content import VN_TZ


def now() -> datetime:
    """The current time, aware, in Vietnamese time."""
    return datetime.now(VN_TZ)


def in_vn(value: datetime) -> datetime:
    """``value`` converted to +07:00; a naive datetime is a bug, never guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: tgwatch stores timezone-aware times only")
    return value.astimezone(VN_TZ)


class AwareDateTime(TypeDecorator[datetime]):
    """Aware datetime: ``timestamptz`` in PostgreSQL, ISO 8601 text at +07:00 in SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str):  # already ISO text, e.g. a literal in a filter
            value = datetime.fromisoformat(value)
        value = in_vn(value)
        return value.isoformat() if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return in_vn(value)


COMPRESSION = "zstd"
"""How ``captures.body`` is compressed by default (each row names its codec: ``storage.captures``)."""
