"""``tgwatch feed``: a valid Atom document, one entry per change, stable ids, filters."""

from __future__ import annotations

from datetime import datetime

from click.testing import CliRunner
from lxml import etree

from monitor.cli import main
from storage.archive import Archive
from tests.plugins.archive import fetched, gone

ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(url: str, *args: str) -> etree._Element:
    result = CliRunner().invoke(main, ["--db", url, "feed", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return etree.fromstring(result.stdout_bytes)


def _fill(archive: Archive) -> None:
    for n, site in ((1, "tuyengiao"), (2, "tuyengiao"), (3, "longan")):
        archive.record(site, f"https://{site}.vn/bai-{n}", fetched(n, title=f"Bài {n}\x0b", url=f"https://{site}.vn/bai-{n}"))
    edited = fetched(10, title="Bài 1 mới", text="Đoạn mới.\nĐoạn hai.")
    archive.record("tuyengiao", "https://tuyengiao.vn/bai-1", edited)
    archive.record("tuyengiao", "https://tuyengiao.vn/bai-2", gone(11))
    archive.record("tuyengiao", "https://tuyengiao.vn/bai-2", gone(12))


def _text(element: etree._Element, tag: str) -> str:
    found = element.find(ATOM + tag)
    assert found is not None, f"missing atom:{tag}"
    return found.text or ""


def test_feed_is_valid_atom(archive: Archive, archive_url: str) -> None:
    _fill(archive)
    feed = _feed(archive_url)
    assert feed.tag == ATOM + "feed"
    assert _text(feed, "id") == "tag:tgwatch,2026:feed"
    assert _text(feed, "title")
    assert feed.find(ATOM + "author/" + ATOM + "name").text == "tgwatch"
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 5  # 3 new, 1 edited, 1 removed
    updated = [datetime.fromisoformat(_text(e, "updated")) for e in entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    assert datetime.fromisoformat(_text(feed, "updated")) == updated[0]
    for entry in entries:
        assert _text(entry, "id").startswith("tag:tgwatch,2026:change/")
        assert _text(entry, "title")
        link = entry.find(ATOM + "link")
        assert link is not None and link.get("href", "").startswith("https://")
        assert link.get("rel", "alternate") == "alternate"
        content = entry.find(ATOM + "content")
        assert content is not None and content.get("type") == "text" and link.get("href") in content.text
    edited = entries[1]
    assert _text(edited, "title") == "[tuyengiao] edited: Bài 1 mới"
    assert "changed: title,text" in edited.find(ATOM + "content").text.replace(", ", ",")
    assert "+Đoạn mới." in edited.find(ATOM + "content").text
    assert "edit: substantive\nchanged [title]: Bài 1 → Bài 1 mới\n" in edited.find(ATOM + "content").text
    assert [c.get("term") for c in edited.findall(ATOM + "category")] == ["edited", "edited:substantive"]
    assert _text(entries[0], "title").startswith("[tuyengiao] removed:")


def test_ids_are_stable_and_filters_apply(archive: Archive, archive_url: str) -> None:
    _fill(archive)
    ids = [_text(e, "id") for e in _feed(archive_url).findall(ATOM + "entry")]
    assert ids == [_text(e, "id") for e in _feed(archive_url).findall(ATOM + "entry")]
    longan = _feed(archive_url, "--site", "longan")
    assert _text(longan, "id") == "tag:tgwatch,2026:feed/site/longan"
    assert [_text(e, "title") for e in longan.findall(ATOM + "entry")] == ["[longan] new: Bài 3"]
    edits = _feed(archive_url, "--kind", "edited", "--site", "tuyengiao")
    assert len(edits.findall(ATOM + "entry")) == 1
    assert len(_feed(archive_url, "--limit", "2").findall(ATOM + "entry")) == 2


def test_empty_feed_is_still_valid(archive_url: str) -> None:
    feed = _feed(archive_url)
    assert _text(feed, "id") and _text(feed, "title") and _text(feed, "updated")
    assert feed.findall(ATOM + "entry") == []
