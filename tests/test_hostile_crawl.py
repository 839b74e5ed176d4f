"""Bounded crawls (issue 9, item 5): caps on links, listing pages and article requests, URL patterns
that cannot hang, and SIGINT/SIGTERM that stop a crawl within ten seconds whatever it is doing.

The audit: a listing page of 300,000 links took the crawl from 350 MB to 1.19 GB and SIGINT needed
80 s; nothing capped article requests; ``article_url = '(a+)+$'`` was accepted and one 30-character
link hung the crawl beyond SIGINT. Crawls run as child processes against the fixture server, whose
``links`` fault serves the 300,000-link listing and ``trickle`` a page that never ends.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.patterns import MATCH_TIMEOUT, PatternError, UrlPattern, compile_pattern
from fixtures.testing import FixtureServer
from monitor.cli import main
from tests.crawl_helpers import query
from tests.peak import finish, start

LISTING = "tuyengiao/tuyen-giao-cac-cap"
MEMORY_LIMIT_MB = 300


def flood_config(tmp_path: Path, server: FixtureServer, *, trickle: bool = False) -> Path:
    starts = [server.url + LISTING] + ([server.url + "_fault/trickle?n=120"] if trickle else [])
    body = (f'[[sites]]\nname = "flood"\nstart_urls = {json.dumps(starts)}\n'
            "article_url = '/tuyengiao/tin-\\d+$'\nfollow_url = '\\?page=\\d+$'\n")
    path = tmp_path / "tgwatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


def start_crawl(db: str, config: Path, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [a for name, value in settings.items() for a in ("-s", f"{name}={value}")]
    return start("--db", db, "--config", str(config), "crawl", "--log-level", "WARNING", *args)


FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "RETRY_TIMES": "0", "TGWATCH_EXTRACT_WORKERS": "0", "ROBOTSTXT_OBEY": "False"}


def test_a_listing_of_300000_links_is_read_up_to_its_cap(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    server = fresh_fixture_server
    server.fault("/" + LISTING, "links")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    code, out, err, peak = finish(start_crawl(db, flood_config(tmp_path, server),
                                              {**FAST, "TGWATCH_LISTING_LINKS": "400"}))
    assert code == 0, err[-3000:]
    assert "has more than 400 links; the rest is not read (TGWATCH_LISTING_LINKS)" in err
    assert "Traceback" not in err
    assert peak is not None and peak < MEMORY_LIMIT_MB, f"the crawl peaked at {peak} MB"
    pages = query(db, "SELECT pages FROM crawl_runs")[0][0]
    assert 1 < pages <= 401  # the listing and at most one check per link read


def test_article_requests_and_listing_pages_are_capped_with_a_log_line(fresh_fixture_server: FixtureServer,
                                                                      tmp_path: Path) -> None:
    server = fresh_fixture_server
    server.fault("/" + LISTING, "links")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    config = flood_config(tmp_path, server)
    code, _, err, _ = finish(start_crawl(db, config, {**FAST, "TGWATCH_ARTICLE_REQUESTS": "7"}))
    assert code == 0, err[-3000:]
    assert "flood: article requests capped at 7 (TGWATCH_ARTICLE_REQUESTS)" in err
    assert query(db, "SELECT pages FROM crawl_runs")[0][0] == 1 + 7
    server.clear_faults()
    config.write_text(config.read_text().replace('name = "flood"', 'name = "pager"').replace(
        "tin-\\d+$", "[a-z0-9-]+-\\d+$"), encoding="utf-8")
    code, _, err, _ = finish(start_crawl(db, config, {**FAST, "TGWATCH_LISTING_PAGES": "1"}))
    assert code == 0, err[-3000:]
    assert "pager: listing pages capped at 1 (TGWATCH_LISTING_PAGES)" in err


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)*$", r"^(\d+)*$", r"(\w+\s?)+$"])
def test_catastrophic_patterns_are_refused_at_load(pattern: str, tmp_path: Path) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text(f"[[sites]]\nname = \"x\"\nstart_urls = [\"https://example.vn/\"]\narticle_url = '{pattern}'\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sites"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "catastrophic backtracking" in result.stderr
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_ordinary_patterns_are_accepted() -> None:
    for pattern in [r"-\d+\.html", r"(/[a-z0-9-]+)+\.html", r"[?&](page|p|trang)=\d+$|/(page|trang)[-/]\d+/?$",
                    r"/x/[\w-]+-\d+\.html"]:
        assert compile_pattern(pattern).search("https://example.vn/x/tin-12.html?page=2") is not None
    assert compile_pattern(r"(a|ab)*c").search("https://example.vn/") is None


def test_a_pattern_that_slips_through_gives_up_on_a_link(caplog: pytest.LogCaptureFixture) -> None:
    pattern = UrlPattern("(a|a)*$")  # built directly: the loader refuses it
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="crawler.patterns"):
        assert pattern.search("https://example.vn/" + "a" * 40 + "!") is None
    assert time.monotonic() - started < MATCH_TIMEOUT * 20
    assert pattern.timeouts == 1 and "gave up on a link" in caplog.text


def test_a_link_is_matched_again_when_the_time_limit_passed_while_the_thread_stalled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is wall time: on a loaded machine an ordinary link once ran out of it with the
    thread descheduled, and its article was never crawled. A stall (little CPU time spent) is no
    verdict on the pattern: the link is matched again."""
    pattern = compile_pattern(r"/bai-viet-\d+\.html$")
    real, stalls = pattern.compiled, [1]

    class Stalling:
        def search(self, text: str, timeout: float, **options: object) -> object:
            if stalls:
                stalls.pop()
                raise TimeoutError("regex timed out")  # as when the thread did not run for MATCH_TIMEOUT
            return real.search(text, timeout=timeout, **options)

    monkeypatch.setattr(pattern, "compiled", Stalling())
    assert pattern.search("http://127.0.0.1:8000/quoc-phong/bai-viet-20626.html") is not None
    assert pattern.timeouts == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_busy_crawl_within_ten_seconds(signum: int, fresh_fixture_server: FixtureServer,
                                                        tmp_path: Path) -> None:
    """The 300,000-link listing, checks of its links, and a page trickling a byte a second (which
    Scrapy's graceful shutdown would wait for until DOWNLOAD_TIMEOUT): over within 10 s, the run
    booked ``interrupted``, never left ``running``."""
    server = fresh_fixture_server
    server.fault("/" + LISTING, "links")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    settings = {**FAST, "DOWNLOAD_TIMEOUT": "60", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
    process = start_crawl(db, flood_config(tmp_path, server, trickle=True), settings)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the crawl has started (its run is booked)
        time.sleep(0.5)
        try:
            if query(db, "SELECT count(*) FROM crawl_runs")[0][0]:
                break
        except Exception:  # the archive is not created yet
            continue
    time.sleep(3)  # now busy: link checks, and the trickling page in flight
    sent = time.monotonic()
    process.send_signal(signum)
    code, out, err, peak = finish(process)
    took = time.monotonic() - sent
    assert took < 10, f"the crawl took {took:.1f} s to stop"
    assert "Traceback" not in err, err[-3000:]
    assert query(db, "SELECT outcome FROM crawl_runs") == [("interrupted",)]
    assert peak is None or peak < MEMORY_LIMIT_MB  # None: the watchdog ended it (no report)
