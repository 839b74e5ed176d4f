"""The report's pages over a read-only archive (SQLite and PostgreSQL), through Starlette's client.

The browser tests (``test_report_browser``) check what a real Chromium does with them; these check
what the pages say: filters, counts, paging, bookmarkable URLs, timelines, diffs, captures, search.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from monitor.serve import open_report
from monitor.web.app import create_app
from monitor.web.views import Report
from storage.archive import Archive
from tests.report_helpers import URL, hostile_archive, ordinary

CANARY = "http://127.0.0.1:9"  # never contacted here: no browser runs these pages


@pytest.fixture
def report(archive_url: str) -> Iterator[Report]:
    with Archive.open(archive_url) as writer:
        ordinary(writer)
        hostile_archive(writer, CANARY)
    opened = open_report(archive_url, ["alpha", "beta", "hostile"])
    try:
        yield opened
    finally:
        opened.archive.close()


@pytest.fixture
def client(report: Report) -> TestClient:
    return TestClient(create_app(report))


def titles(html: str) -> list[str]:
    return re.findall(r'<a class="title" lang="vi" href="[^"]*">([^<]*)</a>', html)


def test_changes_filters_counts_and_bookmarkable_links(client: TestClient) -> None:
    page = client.get("/changes")
    assert page.status_code == 200
    assert "<strong>9</strong> changes" in page.text  # 5 new, 3 edited, 1 removed
    assert 'href="/changes?kind=edited"' in page.text and 'href="/changes?site=alpha"' in page.text
    assert re.search(r"kind-edited\">edited</span> 3</a>", page.text)

    edited = client.get("/changes?kind=edited&site=alpha")
    assert "<strong>2</strong> changes" in edited.text
    assert titles(edited.text) == ["Bài số 2 đã sửa tiêu đề", "Bài số 1 về tuyên giáo"]
    # counts by site keep the kind filter, counts by kind keep the site filter
    assert 'href="/changes?site=hostile&amp;kind=edited"' in edited.text
    assert 'href="/changes?site=alpha&amp;kind=removed"' in edited.text

    by_field = client.get("/changes?field=author")
    assert titles(by_field.text)[:2] == ["Tuyên giáo " + titles(by_field.text)[0][11:], "Bài số 2 đã sửa tiêu đề"]
    assert "<strong>2</strong> changes" in by_field.text
    window = client.get("/changes", params={"since": "2024-05-01T08:10", "until": "2024-05-01T08:12"})
    assert "<strong>2</strong> changes" in window.text  # the two edits at +10 and +11 minutes
    assert 'value="2024-05-01T08:10"' in window.text  # the filter as typed stays in the form


def test_changes_paging(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.web import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    first = client.get("/changes?site=alpha")
    assert "page 1 of 2" in first.text and 'href="/changes?site=alpha&amp;page=2"' in first.text
    second = client.get("/changes?site=alpha&page=2")
    assert len(titles(first.text)) == 4 and len(titles(second.text)) == 2
    assert 'rel="prev" href="/changes?site=alpha"' in second.text
    assert client.get("/changes?site=alpha&page=3").status_code == 404


@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("where", [{}, {"site": "alpha"}, {"kind": "edited"}, {"field": "author"}])
def test_every_page_of_changes_is_its_slice_of_the_whole_list(report: Report, size: int, where: dict[str, str]) -> None:
    """Deep pages are read from the list's oldest end: page by page they still give the whole list,
    in order, each change once."""
    from storage.report import ChangeFilter, change_lines, change_page

    chosen = ChangeFilter(**where)  # type: ignore[arg-type]
    with report.archive.reading() as session:
        whole = [change.id for change in change_lines(session, chosen, limit=0)]
        paged = [
            [change.id for change in change_page(session, chosen, offset=offset, limit=size).lines]
            for offset in range(0, len(whole) + size, size)
        ]
    assert whole and [ids for ids in paged if ids] == [whole[at : at + size] for at in range(0, len(whole), size)]


@pytest.mark.parametrize(
    ("query", "message"),
    [("kind=deleted", "kind &#39;deleted&#39;"), ("since=yesterday", "not a time"),
     ("page=0", "not a page number"), ("field=body", "field &#39;body&#39;")],
)  # fmt: skip
def test_changes_bad_filters_are_one_line_400s(client: TestClient, query: str, message: str) -> None:
    answer = client.get(f"/changes?{query}")
    assert answer.status_code == 400 and message in answer.text


def test_changes_page_lists_what_tgwatch_changes_lists(report: Report, client: TestClient, archive_url: str) -> None:
    """The same filters in the URL and on the command line give the same changes in the same order."""
    cli = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--db", archive_url, "changes", "--site", "alpha",
         "--kind", "edited", "--since", "2024-05-01T08:00", "--field", "title", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = json.loads(cli.stdout)
    page = client.get("/changes?site=alpha&kind=edited&since=2024-05-01T08:00&field=title")
    assert titles(page.text) == [row["title"] for row in rows] == ["Bài số 2 đã sửa tiêu đề"]


def test_article_timeline_and_diffs(client: TestClient) -> None:
    page = client.get("/article/2")
    assert page.status_code == 200
    assert "version 1" in page.text and "version 2" in page.text
    assert "Title changed" in page.text and "Byline changed" in page.text
    assert "<del>Bài số 2 về tuyên giáo</del>" in page.text
    assert "<ins>Minh Anh</ins>" in page.text
    assert 'href="/capture/' in page.text and 'href="https://a.vn/tin/bai-2"' in page.text

    edited = client.get("/article/1?from=1&to=2")
    assert '<b class="num">17/7,</b>' in edited.text  # the changed date stands out
    assert '<b class="name">Long</b>' in edited.text
    assert "Changed numbers and names" in edited.text and '<table class="side">' in edited.text
    inline = client.get("/article/1?from=1&to=2&view=inline")
    assert '<div class="inline" lang="vi">' in inline.text and "<table class=\"side\">" not in inline.text
    assert client.get("/article/1?from=1&to=7").status_code == 404
    assert client.get("/article/1?view=sideways").status_code == 400
    assert client.get("/article/999").status_code == 404
    assert client.get("/article/abc").status_code == 404


def test_removed_article_says_so(client: TestClient) -> None:
    page = client.get("/article/3")
    assert "removed" in page.text and "One version only" in page.text


def test_capture_page_is_framed_inert_with_headers(client: TestClient) -> None:
    page = client.get("/capture/1")
    assert page.status_code == 200
    assert '<iframe class="capture" src="/capture/1/raw" sandbox=""' in page.text
    assert "content-type" in page.text and "text/html; charset=utf-8" in page.text
    raw = client.get("/capture/1/raw")
    assert raw.content == "<html><body><h1>Bài 1</h1><p>Đảng bộ 1</p></body></html>".encode()
    policy = raw.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script" not in policy
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert client.get("/capture/999/raw").status_code == 404


def test_hostile_text_reaches_the_page_only_as_text(client: TestClient) -> None:
    for path in ("/changes", "/article/5", "/article/5?view=inline", "/capture/8", "/search?q=tuyen+giao"):
        html = client.get(path).text
        assert "<script" not in html.replace("&lt;script", ""), path
        assert not re.search(r"<[^>]+\son\w+=", html), path  # no event handler attribute
        assert "javascript:" not in re.sub(r"&[^;]+;|[^<]*", "", html), path
        assert 'href="javascript' not in html and "<iframe src=" not in html, path
    hostile_raw = client.get("/capture/8/raw")
    assert hostile_raw.headers["content-type"] == "text/html; charset=utf-8"  # not the stored header
    assert "refresh" not in hostile_raw.headers and "link" not in hostile_raw.headers


def test_search_highlights_diacritic_insensitive_hits(client: TestClient) -> None:
    page = client.get("/search?q=dang+bo")
    assert page.status_code == 200 and "<mark>Đảng</mark> <mark>bộ</mark>" in page.text
    assert client.get("/search").status_code == 200


def test_sites_page(client: TestClient) -> None:
    page = client.get("/sites")
    assert page.status_code == 200
    for site in ("alpha", "beta", "hostile"):
        assert f">{site}</a>" in page.text
    assert "never" in page.text and "not scheduled" in page.text


def test_vietnamese_is_served_nfc_utf8(client: TestClient) -> None:
    page = client.get("/changes?site=beta")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert unicodedata.normalize("NFC", "Tuyên giáo cơ sở: Đảng bộ xã") in page.text
    assert unicodedata.normalize("NFD", "Tuyên giáo cơ sở") not in page.text
    assert '<html lang="vi">' in page.text and 'name="viewport"' in page.text


def test_every_page_forbids_scripts(client: TestClient) -> None:
    for path in ("/changes", "/article/1", "/capture/1", "/search", "/sites", "/nowhere"):
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path


def test_web_layer_runs_no_sql() -> None:
    """Every query the pages run is in storage/ (the web layer imports no SQLAlchemy)."""
    for path in Path("monitor/web").rglob("*.py"):
        source = path.read_text()
        assert "sqlalchemy" not in source and "select(" not in source, path


def test_serve_command_prints_its_address_and_answers(archive_url: str, report: Report) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--db", archive_url, "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert base, line
        answer = httpx.get(base.group(0) + "changes", timeout=30)
        assert answer.status_code == 200 and "Bài số 1 về tuyên giáo" in answer.text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_refuses_a_missing_archive(tmp_path: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--db", f"sqlite:///{tmp_path}/none.db", "serve"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "no archive" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_hostile_url_is_known(client: TestClient) -> None:
    assert URL in client.get("/article/5").text
