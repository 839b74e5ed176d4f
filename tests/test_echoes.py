"""Echoes: near-duplicate reports across sites, found as versions are recorded, on both backends.

The fixture set (``fixtures/echoes/set.json``, made by ``python -m fixtures.echoes``) holds exact
copies, copies with a new title and lead, excerpts of a third, edited copies, and the distractors
(other reports of the same event, reports sharing only boilerplate paragraphs and standard
phrases), with gold pairs. Recorded in a shuffled order (copies often before their originals),
the archive must find the gold pairs with precision and recall of at least 0.95, each with the
right original.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from fixtures.echoes import build, load_set
from monitor.cli import main
from storage.archive import Archive
from storage.content import VN_TZ, Content
from storage.observation import Fetched
from storage.readonly import run_query

T0 = datetime(2024, 6, 1, 8, 0, tzinfo=VN_TZ)


def url(report: dict[str, Any]) -> str:
    return f"https://{report['site']}.example.vn/bai/{report['key']}"


def key(address: str) -> str:
    return address.rsplit("/", 1)[1]


def observed(report: dict[str, Any], minutes: float, **changes: Any) -> Fetched:
    values = {"title": report["title"], "lead": report["lead"] or None, "text": report["text"], "author": None,
              "category": "Tin tức", "published_at": datetime.fromisoformat(report["published"]), **changes}
    return Fetched(Content(**values), T0 + timedelta(minutes=minutes))


def record_all(archive: Archive, reports: list[dict[str, Any]], seed: int = 3) -> None:
    order = list(reports)
    random.Random(seed).shuffle(order)
    for n, report in enumerate(order):
        archive.record(report["site"], url(report), observed(report, n))


def found_pairs(archive: Archive) -> set[tuple[str, str]]:
    return {(key(e.original_url), key(e.copy_url)) for e in archive.echoes()}


def test_the_generator_reproduces_the_checked_in_set() -> None:
    assert build() == load_set()


def test_the_set_has_every_kind_of_copy_and_distractor() -> None:
    data = load_set()
    roles = {r["role"] for r in data["reports"]}
    assert {"original", "copy", "retitled", "excerpt", "edited", "same-event", "boilerplate"} <= roles
    assert len(data["gold"]) >= 25
    keys = {k for pair in data["gold"] for k in pair}
    assert not any(k.endswith(("same-event", "boilerplate")) for k in keys)


def test_precision_and_recall_on_the_fixture_set(archive: Archive) -> None:
    data = load_set()
    gold = {tuple(pair) for pair in data["gold"]}
    record_all(archive, data["reports"])
    found = found_pairs(archive)
    right = len(found & gold)
    precision, recall = right / len(found), right / len(gold)
    assert precision >= 0.95 and recall >= 0.95, (sorted(found - gold), sorted(gold - found))
    assert found == gold  # what the README reports: every pair, the original on the right side


def test_kinds_lag_and_how_the_copy_differs(archive: Archive) -> None:
    data = load_set()
    record_all(archive, data["reports"], seed=5)
    echoes = {(key(e.original_url), key(e.copy_url)): e for e in archive.echoes(with_findings=True)}
    by_key = {r["key"]: r for r in data["reports"]}
    for (original, copy), echo in echoes.items():
        role = by_key[copy]["role"] if by_key[original]["role"] == "original" else None
        published = [datetime.fromisoformat(by_key[k]["published"]) for k in (original, copy)]
        assert echo.lag_seconds == int((published[1] - published[0]).total_seconds()) >= 0
        if role == "copy":
            assert (echo.kind, echo.differs, echo.similarity, echo.findings) == ("copy", None, 1.0, ())
        elif role == "retitled":
            assert echo.kind == "edited copy"
            assert {(f.kind, f.field) for f in echo.findings} >= {("field", "title"), ("field", "lead")}
        elif role == "excerpt":
            assert echo.kind == "excerpt" and echo.containment == 1.0 and echo.similarity < 0.5
            assert "sentence_removed" in (echo.differs or "")
        elif role == "edited":
            assert echo.kind == "edited copy" and {"sentence_added", "sentence_removed"} <= set(echo.differs.split(","))


def test_the_index_survives_a_restart_and_a_new_version_rejudges(archive_url: str) -> None:
    data = load_set()
    by_key = {r["key"]: r for r in data["reports"]}
    original, copy = by_key["f00-original"], next(r for r in data["reports"] if r["key"].startswith("f00-copy"))
    with Archive.open(archive_url) as archive:
        archive.record(original["site"], url(original), observed(original, 0))
    with Archive.open(archive_url) as archive:  # a new process: the index is in the database
        archive.record(copy["site"], url(copy), observed(copy, 60))
        assert found_pairs(archive) == {(original["key"], copy["key"])}
        other = by_key["b00-boilerplate"]
        archive.record(copy["site"], url(copy), observed(copy, 120, text=other["text"]))  # rewritten wholesale
        assert found_pairs(archive) == set()
        archive.record(copy["site"], url(copy), observed(copy, 180))  # back to the copy
        assert found_pairs(archive) == {(original["key"], copy["key"])}
        assert archive.index_echoes() == 0  # nothing left unindexed
        assert archive.index_echoes(again=True) == 2
        assert found_pairs(archive) == {(original["key"], copy["key"])}


def test_same_site_duplicates_and_short_texts_are_no_echoes(archive: Archive) -> None:
    report = load_set()["reports"][0]
    archive.record("a", "https://a.example.vn/1", observed(report, 0))
    archive.record("a", "https://a.example.vn/2", observed(report, 1))
    archive.record("b", "https://b.example.vn/1", observed(report, 2, text="Ngắn gọn một dòng tin."))
    archive.record("c", "https://c.example.vn/1", observed(report, 3, text="Ngắn gọn một dòng tin."))
    assert found_pairs(archive) == set()


@pytest.fixture
def echo_archive(tmp_path: Any) -> str:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with Archive.open(db) as archive:
        record_all(archive, load_set()["reports"])
    return db


def test_tgwatch_echoes_and_sql(echo_archive: str) -> None:
    gold = {tuple(pair) for pair in load_set()["gold"]}
    result = CliRunner().invoke(main, ["--db", echo_archive, "echoes", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {(key(r["original_url"]), key(r["copy_url"])) for r in rows} == gold
    assert [r["detected_at"] for r in rows] == sorted((r["detected_at"] for r in rows), reverse=True)
    result = CliRunner().invoke(main, ["--db", echo_archive, "echoes", "--site", "longan", "--format", "csv"])
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("detected_at,kind,similarity") and len(lines) > 1
    assert all("longan" in line for line in lines[1:])
    result = CliRunner().invoke(main, ["--db", echo_archive, "echoes", "--since", "tomorrow"])
    assert result.exit_code != 0 and "tomorrow" in result.output
    sql = ("SELECT o.url, c.url FROM echoes e JOIN articles o ON o.id = e.original_article_id "
           "JOIN articles c ON c.id = e.copy_article_id WHERE e.kind = 'excerpt'")
    excerpts = {(key(o), key(c)) for o, c in run_query(echo_archive, sql).rows}
    assert excerpts and excerpts <= gold and all("excerpt" in c for _, c in excerpts)


def test_the_article_page_shows_its_echoes(echo_archive: str) -> None:
    from starlette.testclient import TestClient

    from monitor.web.app import create_app
    from monitor.web.views import Report
    from storage.readonly import readonly_engine

    with Archive.open(echo_archive) as archive:
        excerpt = next(e for e in archive.echoes() if e.kind == "excerpt")
    client = TestClient(create_app(Report(Archive(readonly_engine(echo_archive)))))
    page = client.get(f"/article/{excerpt.copy_id}").text
    assert "On other sites" in page and f"an excerpt of <a href=\"/article/{excerpt.original_id}\"" in page
    page = client.get(f"/article/{excerpt.original_id}").text
    assert f"republished as excerpt by {excerpt.copy_site}" in page
