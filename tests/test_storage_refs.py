"""Captures compressed against the reports their page links to (``storage.refs``, ``zstd+refs``)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from storage import captures, refs, urls
from storage.archive import Archive
from storage.models import CaptureRow
from storage.observation import Fetched
from storage.urls import page_links
from tests.plugins.archive import content, fetched

WORDS = "Đảng bộ tỉnh tổ chức hội nghị quán triệt nghị quyết Ban Tuyên giáo báo cáo viên cơ sở".split()


def words(seed: int, count: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 9999)) for _ in range(count))


def title(n: int) -> str:
    return f"Tin {n}: {words(n, 12)}"


def lead(n: int) -> str:
    return words(1000 + n, 40)


def body(n: int) -> str:
    return words(2000 + n, 200)


def url(n: int) -> str:
    return f"https://x.vn/tin/bai-{n}.html"


def page(n: int, links: list[int]) -> bytes:
    """Report ``n``'s page: its text, then a list of other reports (title and lead each), linked."""
    related = "".join(f'<li><a href="/tin/bai-{m}.html?utm_source=rel">{title(m)}</a><p>{lead(m)}</p></li>'
                      for m in links)
    return (f"<html><body><h1>{title(n)}</h1><p>{lead(n)}</p><p>{body(n)}</p>"
            f"<ul>{related}</ul><a href='https://other.vn/tin/bai-{n}.html'>x</a></body></html>").encode()


def record(archive: Archive, n: int, links: list[int], **fields: Any) -> None:
    archive.record("s", url(n), fetched(n, html=page(n, links), url=url(n), title=title(n), lead=lead(n),
                                        text=body(n), **fields))


def stored(archive: Archive) -> dict[str, tuple[str, int]]:
    with archive.engine.connect() as c:
        rows = c.execute(text("SELECT url, compression, LENGTH(body) FROM captures"))
        return {u: (codec, size) for u, codec, size in rows}


def bodies(archive: Archive) -> dict[str, bytes]:
    return {c.url: c.body for c in archive.iter_captures()}


def test_a_capture_is_compressed_against_the_reports_it_links_to(archive: Archive) -> None:
    for n in range(4):
        record(archive, n, [])
    record(archive, 9, [0, 1, 2, 3, 7])  # 7: not in the archive
    assert bodies(archive)[url(9)] == page(9, [0, 1, 2, 3, 7])
    codec, size = stored(archive)[url(9)]
    assert codec == captures.REFS_CODEC
    with archive.writing() as session:
        row = session.scalars(select(CaptureRow).where(CaptureRow.url == url(9))).one()
        assert len(captures.refs_of(row)) == 4
        alone = captures.encode(session, page(9, [0, 1, 2, 3, 7]), None, body(9))
    assert alone.compression == captures.TEXT_CODEC and size < 0.6 * len(alone.body)


def test_no_report_known_is_the_text_codec(archive: Archive) -> None:
    record(archive, 1, [2, 3])
    assert stored(archive)[url(1)][0] == captures.TEXT_CODEC
    assert bodies(archive) == {url(1): page(1, [2, 3])}


def test_a_missing_version_is_a_clear_error(archive: Archive) -> None:
    record(archive, 1, [])
    record(archive, 2, [1])
    with archive.writing() as session:
        row = session.scalars(select(CaptureRow).where(CaptureRow.url == url(2))).one()
        _, start = refs.unpack(row.body)
        row.body = refs.pack([987654]) + row.body[start:]
        capture_id = row.id
    with pytest.raises(captures.CaptureError, match=f"capture {capture_id}: the version 987654 .* is missing"):
        bodies(archive)


@pytest.mark.parametrize(("header", "problem"), [
    (bytes([65]) + bytes([1]) * 65, "names 65 versions"),
    (bytes([3, 1, 1]), "truncated"),
    (bytes([1]) + b"\xff" * 12, "varint too long"),
    (bytes([2, 5, 0]), "repeats an id"),
    (b"", "truncated"),
])
def test_a_hostile_header_is_refused_within_bounds(archive: Archive, header: bytes, problem: str) -> None:
    record(archive, 1, [])
    record(archive, 2, [1])
    with archive.writing() as session:
        row = session.scalars(select(CaptureRow).where(CaptureRow.url == url(2))).one()
        row.body = header
    with pytest.raises(captures.CaptureError, match=problem) as failed:
        bodies(archive)
    assert "\n" not in str(failed.value)


def test_pack_round_trip_and_bounds() -> None:
    ids = [1, 2, 130, 1 << 40, (1 << 63) - 1]
    assert refs.unpack(refs.pack(ids) + b"frame") == (tuple(ids), len(refs.pack(ids)))
    assert len(refs.pack(list(range(1, refs.MAX_REFS + 1)))) == 1 + refs.MAX_REFS
    with pytest.raises(ValueError):
        refs.pack(list(range(1, refs.MAX_REFS + 2)))
    with pytest.raises(ValueError):
        refs.pack([3, 2])


def test_reextracting_a_named_report_keeps_the_captures_naming_it_readable(archive: Archive) -> None:
    for n in range(3):
        record(archive, n, [])
    record(archive, 5, [0, 1, 2])
    record(archive, 6, [1])
    versions = {c.url: c.version_id for c in archive.iter_captures()}
    before = bodies(archive)
    assert archive.rederive(versions[url(1)], content(title="Tựa mới", lead="Sa-pô mới", text=body(1))) == [
        "title", "lead"]
    assert archive.rederive(versions[url(5)], content(title=title(5), lead=lead(5), text="Bài viết khác")) != []
    assert bodies(archive) == before
    assert {stored(archive)[url(n)][0] for n in (5, 6)} == {captures.REFS_CODEC}


def test_compact_refreshes_refs_known_later(archive: Archive) -> None:
    record(archive, 1, [2, 3, 4])  # before the reports it links to
    for n in (2, 3, 4):
        record(archive, n, [])
    codec, size = stored(archive)[url(1)]
    before = bodies(archive)
    assert codec == captures.TEXT_CODEC
    assert list(archive.compact()) == []  # stored against its text already: nothing to do
    done = [d for _, d in archive.compact(refresh=True)]
    assert sum(d.rewritten for d in done) == 1
    codec, smaller = stored(archive)[url(1)]
    assert codec == captures.REFS_CODEC and smaller < 0.7 * size
    assert bodies(archive) == before


def test_a_batch_of_captures_loads_their_refs_in_one_query(archive: Archive) -> None:
    for n in range(3):
        record(archive, n, [])
    for n in range(10, 20):
        record(archive, n, [0, 1, 2])
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT versions.id, versions.title, versions.lead"):
            seen.append(statement)

    event.listen(archive.engine, "before_cursor_execute", count)
    try:
        assert len(bodies(archive)) == 13
    finally:
        event.remove(archive.engine, "before_cursor_execute", count)
    assert len(seen) == 1


def test_page_links_are_canonical_same_host_and_bounded() -> None:
    html = (b'<a href="/tin/bai-1.html?utm_source=x#top">a</a><A HREF=\'bai-2.html\'>b</A>'
            b'<a class="x" href=https://X.vn:443/tin/bai-3.html>c</a><a href="https://other.vn/bai-4.html">d</a>'
            b'<a href="javascript:void(0)">e</a><a href="/tin/bai-1.html">again</a><a href="/q?a=1&amp;b=2">f</a>'
            b'<a href="http://[bad/x">g</a>')
    assert page_links(html, "https://x.vn/tin/bai-9.html") == (
        "https://x.vn/tin/bai-1.html", "https://x.vn/tin/bai-2.html", "https://x.vn/tin/bai-3.html",
        "https://x.vn/q?a=1&b=2")
    assert len(page_links(html, "https://x.vn/tin/bai-9.html", limit=2)) == 2


def test_the_extraction_workers_find_the_links_recording_would() -> None:
    from crawler.items import Page
    from crawler.worker import read_page

    html = page(5, [1, 2])
    found = read_page(Page(url=url(5), status=200, headers={"content-type": "text/html"}, body=html), None,
                      fetched_at=fetched(0).fetched_at, known=False, ahead=True).observation
    assert isinstance(found, Fetched) and found.capture is not None
    assert found.capture.links == page_links(html, url(5)) == (url(1), url(2))


def test_compact_refs_command(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    db = f"sqlite:///{tmp_path / 'a.db'}"
    with Archive.open(db) as archive:
        record(archive, 1, [2])
        record(archive, 2, [])
    result = CliRunner().invoke(main, ["--db", db, "compact", "--refs"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("re-compressed 1 captures of 1 sites:")
    with Archive.open(db) as archive:
        assert stored(archive)[url(1)][0] == captures.REFS_CODEC
        assert bodies(archive)[url(1)] == page(1, [2])


def test_export_reads_captures_compressed_against_refs(archive: Archive) -> None:
    from storage.export import iter_export

    for n in range(3):
        record(archive, n, [])
    record(archive, 4, [0, 1, 2])
    exported = {e.capture.url: e.capture.body for e in iter_export(archive.reading, batch=2)}
    assert stored(archive)[url(4)][0] == captures.REFS_CODEC
    assert exported == {url(n): page(n, [0, 1, 2] if n == 4 else []) for n in (0, 1, 2, 4)}


@settings(max_examples=300, deadline=None)
@given(st.from_regex(urls._PLAIN, fullmatch=True))
def test_a_link_taken_as_canonical_is_what_canonical_url_makes_of_it(link: str) -> None:
    """``page_links`` skips ``canonical_url`` for plain links: only where it changes nothing."""
    port = urls._PLAIN.fullmatch(link)["port"]  # type: ignore[index]
    if port is None or urls.DEFAULT_PORTS[link.split(":")[0]] != int(port):
        assert urls.canonical_url(link) == link
