"""Output helpers of the listing commands, the word diff and the time filter, offline."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest

from monitor.changes import parse_when
from monitor.crawl import parse_overrides
from monitor.diff import field_changes, render, word_diff
from monitor.output import render as render_rows
from storage.content import VN_TZ, Content
from storage.errors import InputError

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=VN_TZ)


def test_formats() -> None:
    columns = ["id", "title", "at"]
    rows = [(1, "Tuyên giáo\ncác cấp", NOW), (2, None, None)]
    out = io.StringIO()
    render_rows(columns, rows, "json", out=out)
    assert json.loads(out.getvalue()) == [
        {"id": 1, "title": "Tuyên giáo\ncác cấp", "at": NOW.isoformat()}, {"id": 2, "title": None, "at": None}]
    out = io.StringIO()
    render_rows(columns, rows, "csv", out=out)
    assert out.getvalue().splitlines()[0] == "id,title,at"
    out = io.StringIO()
    render_rows(columns, rows, "table", out=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == columns and "Tuyên giáo các cấp" in lines[2] and len(lines) == 4


def test_when() -> None:
    assert parse_when("7d", now=NOW) == NOW - timedelta(days=7)
    assert parse_when("24h", now=NOW) == NOW - timedelta(hours=24)
    assert parse_when("30m", now=NOW) == NOW - timedelta(minutes=30)
    assert parse_when("2024-05-01") == datetime(2024, 5, 1, tzinfo=VN_TZ)
    assert parse_when("2024-05-01T08:00+00:00") == datetime(2024, 5, 1, 15, 0, tzinfo=VN_TZ)
    with pytest.raises(InputError):
        parse_when("yesterday")


def test_word_diff_marks_words_and_keeps_paragraphs() -> None:
    old = "Ban Tuyên giáo tổ chức hội nghị.\nĐoạn thứ hai giữ nguyên."
    new = "Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị sơ kết.\nĐoạn thứ hai giữ nguyên."
    text = render(word_diff(old, new), color=False)
    assert text == "Ban Tuyên giáo {+Tỉnh ủy+} tổ chức hội [-nghị.-] {+nghị sơ kết.+}\nĐoạn thứ hai giữ nguyên."
    coloured = render(word_diff(old, new), color=True)
    assert "\x1b[" in coloured and "{+" not in coloured
    long_old = " ".join(f"w{i}" for i in range(100))
    long_new = long_old.replace("w50", "changed")
    cut = render(word_diff(long_old, long_new), color=False)
    assert cut.startswith("… ") and cut.endswith(" …") and "[-w50-] {+changed+}" in cut


def test_field_changes_name_old_and_new_values() -> None:
    old = Content(title="Cũ", text="Giống nhau", author="A", published_at=NOW)
    new = Content(title="Mới", text="Giống nhau", author="A", published_at=NOW + timedelta(hours=1))
    assert field_changes(old, new) == [("title", "Cũ", "Mới"),
                                       ("published_at", NOW.isoformat(), (NOW + timedelta(hours=1)).isoformat())]


def test_setting_overrides() -> None:
    assert parse_overrides(("DOWNLOAD_DELAY=2", "TGWATCH_RECHECK_RATIO=0.5")) == {
        "DOWNLOAD_DELAY": "2", "TGWATCH_RECHECK_RATIO": "0.5"}
    with pytest.raises(InputError):
        parse_overrides(("DOWNLOAD_DELAY",))


def test_live_progress_shows_each_running_crawl(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.crawl import LiveProgress

    stats = {"tgwatch/pages": 12, "tgwatch/verdict/new": 3, "tgwatch/verdict/failed": 1}
    with LiveProgress() as progress:
        progress([("longan", stats), ("quangtri", {})])
        table = progress.table
    assert [c.header for c in table.columns] == ["site", "pages", "new", "edited", "unchanged", "removed", "failed"]
    assert list(table.columns[0].cells) == ["longan", "quangtri"]
    assert list(table.columns[1].cells) == ["12", "0"] and list(table.columns[6].cells) == ["1", "0"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_an_error_event_keeps_its_traceback_on_one_line(fmt: str) -> None:
    import logging

    from monitor.logs import JsonFormatter, TextFormatter, log_event

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger(f"tgwatch.test.{fmt}")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        {}["missing"]
    except KeyError:
        log_event(logger, "crawl.error", logging.ERROR, exc_info=True, site="s1")
    line = out.getvalue()
    assert line.count("\n") == 1 and "Traceback (most recent call last)" in line
    assert "test_an_error_event_keeps_its_traceback_on_one_line" in line and "KeyError" in line
    if fmt == "json":
        assert json.loads(line)["site"] == "s1"
