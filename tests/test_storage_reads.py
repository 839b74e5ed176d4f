"""Read helpers for the crawler and the CLI, crawl runs, and re-extraction (rederive)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from storage import reads
from storage.archive import Archive
from storage.content import CONTENT_FIELDS, Content
from storage.observation import Failed
from tests.plugins.archive import at, content, fetched, gone

URL = "https://x.vn/tin-tuc/bai-1"


def _changes(archive: Archive) -> list[dict[str, Any]]:
    with archive.engine.connect() as c:
        return [dict(r) for r in c.execute(text("SELECT * FROM changes ORDER BY id")).mappings()]


def test_known_articles(archive: Archive) -> None:
    archive.record("s", URL, fetched(0, etag='W/"1"'))
    archive.record("s", "https://x.vn/tin-tuc/bai-2", fetched(1))
    archive.record("s", "https://x.vn/tin-tuc/bai-2", gone(5))
    archive.record("s", URL, Failed("timeout", at(6)))
    archive.record("other", URL, fetched(2))
    first, second = archive.known_articles("s")
    assert first.url == URL and first.etag == 'W/"1"' and first.failed_checks == 1
    assert first.first_seen_at == at(0) and first.published_at == content().published_at
    assert second.gone_signals == 1 and second.last_checked_at == at(5)
    assert second.removed_at is None and second.last_changed_at == at(1)
    assert archive.known_articles("nobody") == []


def test_validators(archive: Archive) -> None:
    assert archive.validators("s", URL) is None
    archive.record("s", URL, fetched(0))
    assert archive.validators("s", URL) is None
    archive.record("s", URL, fetched(1, etag='"abc"'))
    found = archive.validators("s", URL + "?utm_source=x")
    assert found == reads.Validators('"abc"', None)


def test_article_versions_by_id_or_url(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, fetched(5, title="Tiêu đề mới"))
    by_url = archive.article_versions(URL + "#comments")
    assert [v.version for v in by_url] == [1, 2]
    assert by_url[1].content.title == "Tiêu đề mới" and by_url[1].fetched_at == at(5)
    assert archive.article_versions(by_url[0].article_id) == by_url
    assert archive.article_versions(str(by_url[0].article_id)) == by_url
    assert archive.article_versions("https://x.vn/unknown") == []
    assert archive.article_versions(999) == []


def test_iter_captures_in_batches(archive: Archive) -> None:
    for n in range(5):
        archive.record("s", f"https://x.vn/a-{n}", fetched(n, html=f"<p>{n}</p>".encode()))
    archive.record("t", "https://x.vn/t-1", fetched(9, html=b"<p>t</p>"))
    archive.record("s", "https://x.vn/a-0", fetched(10, html=b"<p>0 v2</p>", title="Mới"))
    every = list(reads.iter_captures(archive.reading, None, batch=2))
    assert len(every) == 7 and [c.version_id for c in every] == sorted(c.version_id for c in every)
    site_s = list(archive.iter_captures("s"))
    assert {c.site for c in site_s} == {"s"} and len(site_s) == 6
    last = site_s[-1]
    assert last.body == b"<p>0 v2</p>" and last.version == 2
    assert last.article_url == "https://x.vn/a-0"


def test_runs(archive: Archive) -> None:
    run = archive.start_run("s")
    with archive.engine.connect() as c:
        assert c.execute(text("SELECT outcome FROM crawl_runs")).scalar_one() == "running"
    with pytest.raises(ValueError):
        archive.finish_run(run, "exploded", {})
    with pytest.raises(ValueError):
        archive.finish_run(run, "ok", {"bogus": 1})
    with pytest.raises(LookupError):
        archive.finish_run(run + 100, "ok", {})
    archive.finish_run(run, "timeout", {"pages": 7, "failed": 2}, error="crawl took too long")
    with archive.engine.connect() as c:
        row = c.execute(text("SELECT * FROM crawl_runs")).mappings().one()
    assert row["outcome"] == "timeout" and row["failed"] == 2
    assert row["error"] == "crawl took too long" and row["finished_at"] is not None


def _reextracted(old: Content, **fields: Any) -> Content:
    values = {f: getattr(old, f) for f in CONTENT_FIELDS}
    values.update(fields)
    return Content(**values)


def test_rederive_latest_version(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    [v1] = archive.article_versions(URL)
    fixed = _reextracted(v1.content, author="Minh Anh", title="Ban Tuyên giáo: tiêu đề đúng")
    assert archive.rederive(v1.id, fixed) == ["title", "author"]
    [after] = archive.article_versions(URL)
    assert after.content.author == "Minh Anh" and after.content_hash == fixed.fingerprint()
    with archive.engine.connect() as c:
        row = c.execute(text("SELECT title, author, content_hash FROM articles")).one()
    assert tuple(row) == ("Ban Tuyên giáo: tiêu đề đúng", "Minh Anh", fixed.fingerprint())
    change = _changes(archive)[-1]
    assert change["kind"] == "reextracted" and change["fields"] == "title,author"
    assert change["from_version"] == change["to_version"] == 1
    assert json.loads(change["note"]) == {"title": v1.content.title, "author": "Trường Giang"}
    assert [h.url for h in archive.search("tieu de dung")] == [URL]
    # the same extraction again changes nothing and records nothing
    assert archive.rederive(v1.id, fixed) == []
    assert len(_changes(archive)) == 2


def test_rederive_older_version_leaves_the_article(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, fetched(5, title="Phiên bản hai"))
    v1, v2 = archive.article_versions(URL)
    assert archive.rederive(v1.id, _reextracted(v1.content, category="Thời sự")) == ["category"]
    with archive.engine.connect() as c:
        assert c.execute(text("SELECT title, category FROM articles")).one()[0] == "Phiên bản hai"
    assert archive.article_versions(URL)[0].content.category == "Thời sự"
    assert archive.article_versions(URL)[1] == v2


def test_rederive_never_erases(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    [v1] = archive.article_versions(URL)
    assert archive.rederive(v1.id, Content(title="", text="")) == []
    assert archive.article_versions(URL) == [v1]
    with pytest.raises(LookupError):
        archive.rederive(v1.id + 1000, v1.content)
