"""``tgwatch scrape`` end to end: files, URLs, and every kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.gold import load_gold
from monitor.cli import main
from storage.content import normalise_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tgwatch: error: ")
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in err


# -- file mode ---------------------------------------------------------------------------------


def _gold_page(version: str = "v1", site: str = "tuyengiao") -> tuple[dict, Path]:
    gold = next(g for g in load_gold(version, site) if g.get("author"))
    return gold, FIXTURES / "sites" / version / site / gold["file"]


def test_file_mode_json_matches_gold(fixture_server) -> None:
    gold, path = _gold_page()
    code, out, err = run(
        "--config", str(fixture_server.config_file), "scrape", str(path),
        "--url", fixture_server.url + gold["url"].lstrip("/"), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["title"] == gold["title"]
    assert data["published"] == gold["published"]
    assert data["author"] == gold["author"]
    text = normalise_text(data["text"]).splitlines()
    for line in gold["text_lines"]:
        assert line in text
    code, out, err = run(
        "--config", str(fixture_server.config_file), "scrape", str(path),
        "--url", fixture_server.url + gold["url"].lstrip("/"), "--format", "csv"
    )
    assert code == 0, err
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["title"] == gold["title"] and row["published"] == gold["published"]
    assert row["paragraphs"].split("\n") == data["paragraphs"]


def test_file_mode_plain_text(fixture_server) -> None:
    gold, path = _gold_page("v1", "quangtri")
    code, out, err = run(
        "--config", str(fixture_server.config_file), "scrape", str(path),
        "--url", fixture_server.url + gold["url"].lstrip("/")
    )
    assert code == 0, err
    assert gold["title"] in out
    assert gold["text_lines"][-1] in normalise_text(out)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"   \n\t ", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary content"),
        (b"<html><body><ul><li><a href='/a-1'>Tin 1</a></li></ul></body></html>", "no article"),
    ],
)
def test_file_mode_bad_input(tmp_path: Path, content: bytes | None, needle: str) -> None:
    path = tmp_path / "page.html"
    if content is not None:
        path.write_bytes(content)
    code, _out, err = run("scrape", str(path))
    assert_one_line_error(code, err, str(path), needle)


def test_file_over_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.scrape

    monkeypatch.setattr(monitor.scrape, "MAX_FILE_BYTES", 1024 * 1024)
    path = tmp_path / "big.html"
    path.write_bytes(b"<p>" + b"a" * (2 * 1024 * 1024) + b"</p>")
    code, _out, err = run("scrape", str(path))
    assert_one_line_error(code, err, str(path), "over the 1 MB limit")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    code, _out, err = run("scrape", str(tmp_path))
    assert_one_line_error(code, err, "is a directory")


# -- URL mode ----------------------------------------------------------------------------------


def test_url_mode_against_fixture_server(fixture_server) -> None:
    gold = load_gold("v1", "quangtri")[0]
    url = fixture_server.url + gold["url"].lstrip("/")
    code, out, err = run("--config", str(fixture_server.config_file), "scrape", url, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["url"] == url
    assert data["title"] == gold["title"]
    assert data["published"] == gold["published"]
    assert data["category"] == gold["category"]


def test_url_mode_wrong_declared_charset(fixture_server) -> None:
    code, out, err = run("scrape", fixture_server.url + "_fault/badcharset", "--json")
    # the fault page may or may not hold an article; whatever it says must be correct Vietnamese
    if code == 0:
        assert "Ã" not in out and "á»" not in out
    else:
        assert_one_line_error(code, err, "no article")


@pytest.mark.parametrize(
    ("path", "needle"),
    [("_fault/status?n=503", "HTTP 503"), ("no-such-page-here", "HTTP 404"), ("_fault/garbage", "")],
)
def test_url_mode_http_errors(fixture_server, path: str, needle: str) -> None:
    code, _out, err = run("scrape", fixture_server.url + path)
    assert_one_line_error(code, err, needle)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://", "invalid URL"),
        ("http://exa mple.org/a", "invalid URL"),
        ("ftp://example.org/a.html", "unsupported URL scheme"),
    ],
)
def test_invalid_urls(url: str, needle: str) -> None:
    code, _out, err = run("scrape", url)
    assert_one_line_error(code, err, needle)


def test_unreachable_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _out, err = run("scrape", f"http://127.0.0.1:{port}/bai-viet-1")
    assert_one_line_error(code, err, f"127.0.0.1:{port}", "cannot connect")


@pytest.fixture
def slow_server() -> Iterator[str]:
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            threading.Event().wait(3)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_timeout(slow_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    import crawler.fetch

    monkeypatch.setattr(crawler.fetch, "TIMEOUT", httpx.Timeout(0.5))
    code, _out, err = run("scrape", slow_server + "bai-1")
    assert_one_line_error(code, err, "timed out")


def test_save_records_the_page_once(fixture_server, tmp_path: Path) -> None:
    from storage.archive import Archive

    gold = load_gold("v1", "longan")[0]
    url = fixture_server.url + gold["url"].lstrip("/")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    for _ in range(2):
        code, _out, err = run("--db", db, "--config", str(fixture_server.config_file), "scrape", url, "--save")
        assert code == 0, err
    with Archive.open(db) as archive:
        versions = archive.article_versions(url)
    assert [v.version for v in versions] == [1]
    assert versions[0].content.title == gold["title"]


@pytest.fixture
def switchable_server() -> Iterator[tuple[str, dict[str, tuple[str, bytes]]]]:
    """A server answering one article URL with whatever the test puts in ``answer``."""
    _gold, path = _gold_page("v1", "quangtri")
    answer = {"page": ("text/html; charset=utf-8", path.read_bytes())}

    class Switch(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            ctype, body = answer["page"]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bai-viet-139001", answer
    server.shutdown()


def test_pdf_for_an_article_url_is_a_failed_check_as_in_a_crawl(switchable_server, tmp_path: Path) -> None:
    """The same read path as the crawl: a PDF answered for a known article is a failed check, not a removal."""
    from storage.archive import Archive

    url, answer = switchable_server
    db = f"sqlite:///{tmp_path / 'a.db'}"
    code, _out, err = run("--db", db, "scrape", url, "--save")
    assert code == 0, err
    assert "saved: new" in err
    answer["page"] = ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20)
    code, _out, err = run("--db", db, "scrape", url, "--save")
    lines = err.strip().splitlines()
    assert code == 3 and lines[0] == "saved: failed", err
    assert_one_line_error(code, lines[1], url, "not an HTML page (application/pdf)")
    with Archive.open(db) as archive:
        versions = archive.article_versions(url)
        known = archive.known_articles("127.0.0.1")
    assert len(versions) == 1
    assert [(a.removed_at, a.gone_signals) for a in known] == [(None, 0)]
