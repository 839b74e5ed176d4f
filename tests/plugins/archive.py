"""Fixtures giving fresh archives on every backend (owned by the storage work).

One storage suite runs on SQLite and PostgreSQL, the way apscheduler's conftest parametrises one
datastore fixture over every backend. On PostgreSQL each test gets a schema of its own (named at
random, put first on the ``search_path`` through the URL's ``options``), so xdist workers never
collide; the schema is dropped afterwards.

The helpers below build observations for tests: times are minutes after a fixed instant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.archive import Archive
from storage.content import VN_TZ, Content
from storage.observation import Capture, Fetched, Gone

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=VN_TZ)
BACKENDS = ["sqlite", "postgresql"]


def at(minutes: float) -> datetime:
    """``minutes`` after T0 (aware, +07:00)."""
    return T0 + timedelta(minutes=minutes)


def content(**fields: Any) -> Content:
    values: dict[str, Any] = {
        "title": "Ban Tuyên giáo Trung ương triển khai nhiệm vụ",
        "lead": "Sáng 16/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.",
        "text": (
            "Sáng 16/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.\n"
            "Đảng bộ tỉnh quán triệt nghị quyết."
        ),
        "author": "Trường Giang",
        "category": "Tuyên giáo các cấp",
        "published_at": datetime(2024, 4, 30, 8, 21, tzinfo=VN_TZ),
    }
    values.update(fields)
    return Content(**values)


def fetched(
    minutes: float = 0,
    *,
    html: bytes | None = b"<html>v1</html>",
    url: str = "https://example.vn/a-1",
    etag: str | None = None,
    **fields: Any,
) -> Fetched:
    """An article page seen ``minutes`` after T0, with a capture of ``html`` (None: none)."""
    capture = Capture(url, 200, {"Content-Type": "text/html"}, html) if html else None
    return Fetched(content(**fields), at(minutes), capture=capture, etag=etag)


def gone(minutes: float, reason: str = "404") -> Gone:
    return Gone(reason=reason, fetched_at=at(minutes))


def _pg_schema_url(pg_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def archive_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """URL of an empty archive location: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield from _pg_schema_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    """An open, migrated archive on each backend."""
    opened = Archive.open(archive_url)
    try:
        yield opened
    finally:
        opened.close()
