"""Archive.record: every verdict of the versioning rules, on every backend."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import text

from storage.archive import Archive
from storage.observation import Failed, Fetched, NotModified, Verdict
from tests.plugins.archive import at, content, fetched, gone

URL = "https://example.vn/tin-tuc/bai-viet-1"
EDITED_TEXT = (
    "Sáng 16/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.\nĐảng bộ tỉnh quán triệt nghị quyết mới."
)


def counts(archive: Archive) -> dict[str, int]:
    with archive.engine.connect() as c:
        return {
            t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("articles", "versions", "changes", "captures")
        }


def changes(archive: Archive) -> list[tuple[Any, ...]]:
    with archive.engine.connect() as c:
        rows = c.execute(
            text("SELECT kind, from_version, to_version, fields, note FROM changes ORDER BY id")
        )
        return [tuple(r) for r in rows]


def article(archive: Archive) -> dict[str, Any]:
    with archive.engine.connect() as c:
        return dict(c.execute(text("SELECT * FROM articles")).mappings().one())


def test_new_article(archive: Archive) -> None:
    assert archive.record("s", URL, fetched(0, etag='"v1"')) is Verdict.NEW
    assert counts(archive) == {"articles": 1, "versions": 1, "changes": 1, "captures": 1}
    assert changes(archive) == [("new", None, 1, None, None)]
    row = article(archive)
    assert row["title"] == content().title and row["current_version"] == 1
    assert row["removed_at"] is None and row["etag"] == '"v1"'
    [capture] = archive.iter_captures()
    assert capture.body == b"<html>v1</html>" and capture.headers == {"Content-Type": "text/html"}


def test_same_content_is_unchanged_and_only_touches(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    again = fetched(30, html=b"<html>other chrome</html>", etag="e2")
    assert archive.record("s", URL, again) is Verdict.UNCHANGED
    assert counts(archive) == {"articles": 1, "versions": 1, "changes": 1, "captures": 1}
    [known] = archive.known_articles("s")
    assert known.last_checked_at == at(30) and known.last_changed_at == at(0)
    assert known.etag == "e2"


def test_nfd_nbsp_and_whitespace_are_unchanged(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    base = content()
    nfd: dict[str, Any] = {
        f: unicodedata.normalize("NFD", getattr(base, f)) for f in ("title", "text", "author")
    }
    assert archive.record("s", URL, fetched(10, **nfd)) is Verdict.UNCHANGED
    spaced = base.text.replace(" ", "\u00a0", 3).replace("\n", "\n\n  ")
    padded = fetched(20, text=spaced, title=f"  {base.title}\u200b ")
    assert archive.record("s", URL, padded) is Verdict.UNCHANGED
    assert counts(archive)["versions"] == 1


def test_not_modified_is_unchanged(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    assert archive.record("s", URL, NotModified(at(5))) is Verdict.UNCHANGED
    assert archive.known_articles("s")[0].last_checked_at == at(5)
    assert counts(archive)["changes"] == 1


def test_edit_adds_a_version_naming_the_fields(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    verdict = archive.record("s", URL, fetched(60, title="Tiêu đề mới", text=EDITED_TEXT))
    assert verdict is Verdict.EDITED
    assert counts(archive) == {"articles": 1, "versions": 2, "changes": 2, "captures": 2}
    assert changes(archive)[-1] == ("edited", 1, 2, "title,text", None)
    row = article(archive)
    assert row["title"] == "Tiêu đề mới" and row["current_version"] == 2
    versions = archive.article_versions(URL)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].content.title == content().title  # history is kept


def test_flip_flop_notes_the_earlier_version(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, fetched(10, text=EDITED_TEXT))
    assert archive.record("s", URL, fetched(20)) is Verdict.EDITED
    assert changes(archive)[-1] == ("edited", 2, 3, "text", "returns to version 1")
    assert counts(archive)["versions"] == 3


def test_empty_content_is_a_failed_check(archive: Archive) -> None:
    assert archive.record("s", URL, fetched(0, text="  \n ")) is Verdict.FAILED
    assert counts(archive) == {"articles": 0, "versions": 0, "changes": 0, "captures": 0}
    archive.record("s", URL, fetched(1))
    assert archive.record("s", URL, fetched(2, title="")) is Verdict.FAILED
    assert counts(archive)["versions"] == 1
    assert archive.known_articles("s")[0].failed_checks == 1


def test_removal_needs_two_signals_from_two_checks(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    assert archive.record("s", URL, gone(10)) is Verdict.GONE_PENDING
    assert archive.record("s", URL, gone(10)) is Verdict.GONE_PENDING  # the same signal again
    assert changes(archive) == [("new", None, 1, None, None)]
    known = archive.known_articles("s")[0]
    assert known.gone_signals == 1 and known.removed_at is None
    assert archive.record("s", URL, gone(20, "410")) is Verdict.REMOVED
    assert changes(archive)[-1] == ("removed", 1, None, None, "410")
    assert archive.known_articles("s")[0].removed_at == at(20)
    # further signals on a removed article add nothing
    assert archive.record("s", URL, gone(30)) is Verdict.UNCHANGED
    assert len(changes(archive)) == 2


def test_a_good_check_resets_gone_signals(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, gone(10))
    assert archive.record("s", URL, fetched(20)) is Verdict.UNCHANGED
    assert archive.known_articles("s")[0].gone_signals == 0
    assert archive.record("s", URL, gone(30)) is Verdict.GONE_PENDING


def test_failed_checks_never_remove(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, gone(10))
    for minute in (20, 30, 40):
        assert archive.record("s", URL, Failed("HTTP 503", at(minute))) is Verdict.FAILED
    known = archive.known_articles("s")[0]
    assert known.removed_at is None and known.gone_signals == 1 and known.failed_checks == 3
    assert known.last_checked_at == at(10)  # a failed check is not a check
    assert [c[0] for c in changes(archive)] == ["new"]
    assert article(archive)["last_error"] == "HTTP 503"
    archive.record("s", URL, fetched(50))
    assert archive.known_articles("s")[0].failed_checks == 0


def _remove(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    archive.record("s", URL, gone(10))
    assert archive.record("s", URL, gone(20)) is Verdict.REMOVED


def test_restore_with_same_content(archive: Archive) -> None:
    _remove(archive)
    assert archive.record("s", URL, fetched(30)) is Verdict.RESTORED
    assert changes(archive)[-1] == ("restored", 1, 1, None, None)
    assert archive.known_articles("s")[0].removed_at is None
    assert counts(archive)["versions"] == 1


def test_restore_with_new_content_is_one_change(archive: Archive) -> None:
    _remove(archive)
    assert archive.record("s", URL, fetched(30, text=EDITED_TEXT)) is Verdict.RESTORED
    assert changes(archive)[-1] == ("restored", 1, 2, "text", None)
    assert [c[0] for c in changes(archive)] == ["new", "removed", "restored"]
    assert article(archive)["current_version"] == 2


def test_not_modified_restores(archive: Archive) -> None:
    _remove(archive)
    assert archive.record("s", URL, NotModified(at(30))) is Verdict.RESTORED


def test_unknown_urls(archive: Archive) -> None:
    assert archive.record("s", URL, gone(0)) is Verdict.IGNORED
    assert archive.record("s", URL, NotModified(at(0))) is Verdict.IGNORED
    assert archive.record("s", URL, Failed("timeout", at(0))) is Verdict.FAILED
    assert counts(archive) == {"articles": 0, "versions": 0, "changes": 0, "captures": 0}


def test_urls_are_canonical_and_sites_separate(archive: Archive) -> None:
    archive.record("s", URL, fetched(0))
    noisy = "HTTPS://Example.VN:443/tin-tuc/bai-viet-1?utm_source=zalo&fbclid=x#top"
    assert archive.record("s", noisy, fetched(1)) is Verdict.UNCHANGED
    assert archive.record("other", URL, fetched(1)) is Verdict.NEW
    assert archive.validators("s", noisy) is None


def test_capture_is_optional(archive: Archive) -> None:
    assert archive.record("s", URL, fetched(0, html=None)) is Verdict.NEW
    assert counts(archive)["captures"] == 0


def test_changes_carry_the_run(archive: Archive) -> None:
    run = archive.start_run("s", pid=4242)
    archive.record("s", URL, fetched(0), run_id=run)
    archive.record("s", URL, Fetched(content(title="Khác"), at(5)), run_id=run)
    archive.finish_run(run, "ok", {"pages": 3, "new": 1, "edited": 1}, None)
    with archive.engine.connect() as c:
        assert c.execute(text("SELECT DISTINCT run_id FROM changes")).scalars().all() == [run]
        row = c.execute(text("SELECT * FROM crawl_runs")).mappings().one()
    assert row["outcome"] == "ok" and row["pages"] == 3 and row["new"] == 1 and row["pid"] == 4242
    assert row["finished_at"] is not None and row["failed"] == 0
