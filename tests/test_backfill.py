"""``tgwatch crawl SITE --backfill``: the whole site once, resumable.

A generated site of 300 articles on 30 listing pages (``fixtures.bigsite``) with the routine caps
set low: a routine crawl cannot reach its back catalogue, a backfill archives all of it. A backfill
SIGKILLed after 120 recorded articles and run again finishes without fetching again what it had
recorded or read (hits counted at the fixture server), and leaves the same archive as an
uninterrupted one. While a backfill runs, routine crawls of the site run beside it and a second
backfill of it is refused in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from crawler.extensions import release_archive
from fixtures.bigsite import BROKEN, NAME, BigSite, write_site
from fixtures.testing import FixtureServer
from monitor.crawl import BackfillProgress
from storage import backfill
from storage.archive import Archive
from storage.backfill import BackfillBusy, Page
from storage.observation import Verdict
from tests.crash_extension import FAULTS_ENV, crash_settings
from tests.crawl_helpers import FAST, IN_THREAD, ROOT, query, settings_args, tgwatch
from tests.plugins.archive import fetched

CAPS = {**FAST, **IN_THREAD, "TGWATCH_LISTING_PAGES": "5", "DEPTH_LIMIT": "4", "TGWATCH_ARTICLE_REQUESTS": "100"}
"""Routine caps far below the site (31 listing pages, 300 articles); a backfill lifts them."""


@dataclass
class Site:
    site: BigSite
    server: FixtureServer
    config: Path

    def paths(self) -> list[str]:
        return [path for _, path in self.server.hits()]

    def crawl(self, db: str, *args: str, settings: dict[str, str] | None = None,
              check: bool = True) -> tuple[subprocess.CompletedProcess[str], list[str]]:
        """One ``tgwatch crawl`` and the paths it fetched."""
        before = len(self.paths())
        result = tgwatch(db, "crawl", *args, *settings_args({**CAPS, **(settings or {})}), config=self.config,
                         check=check)
        return result, self.paths()[before:]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("bigsite")
    site = write_site(root / "site", articles=300, per_page=10)
    with FixtureServer(root=root / "site") as server:
        config = root / "tgwatch.toml"
        config.write_text(site.config(server.url), encoding="utf-8")
        yield Site(site, server, config)


def archived(db: str) -> set[tuple[str, int, str]]:
    """(article path, version, content hash) of every version in the archive."""
    rows = query(db, "SELECT a.url, v.version, v.content_hash FROM articles a JOIN versions v ON v.article_id = a.id")
    return {("/" + url.split("/", 3)[3], version, digest) for url, version, digest in rows}


def recorded_versions(db: str) -> int:
    """Versions in the archive; 0 while the archive or its tables are still being created."""
    if not os.path.exists(db.removeprefix("sqlite:///")):
        return 0  # not created yet (and not to be created here: the backfill creates it)
    try:
        return int(query(db, "SELECT count(*) FROM versions")[0][0])
    except Exception:  # not migrated yet
        return 0


def frontier(db: str, state: str) -> set[str]:
    return {"/" + url.split("/", 3)[3] if url.count("/") >= 3 else url
            for (url,) in query(db, f"SELECT url FROM backfill_pages WHERE state = '{state}'")}


@pytest.fixture(scope="module")
def uninterrupted(big: Site, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str], list[str]]:
    """A routine crawl, then an uninterrupted backfill: the archive and what each fetched."""
    db = f"sqlite:///{tmp_path_factory.mktemp('db') / 'whole.db'}"
    _, routine = big.crawl(db)
    result, walk = big.crawl(db, "--backfill")
    assert f"backfill {NAME}: complete" in result.stdout, result.stdout
    return db, routine, walk


def test_a_backfill_archives_what_routine_crawls_cannot_reach(big: Site,
                                                              uninterrupted: tuple[str, list[str], list[str]]) -> None:
    db, routine, walk = uninterrupted
    routine_articles = {p for p in routine if p.startswith("/bai-viet/")}
    assert 0 < len(routine_articles) < 100  # the caps held the routine crawl back
    assert {path for path, _, _ in archived(db)} == set(big.site.articles)  # all 300, one version each
    assert len(archived(db)) == 300
    walked_articles = [p for p in walk if p.startswith("/bai-viet/")]
    assert sorted(walked_articles) == sorted(set(big.site.articles) - routine_articles)  # each once, none known
    assert sorted(p for p in walk if p.startswith("/tin-tuc")) == sorted([*big.site.listings, BROKEN])  # once each
    assert not [p for p in routine + walk if p.startswith("/admin")]  # robots.txt obeyed
    assert not frontier(db, "pending") and not frontier(db, "failed")


def test_a_killed_backfill_goes_on_where_it_stopped(big: Site, uninterrupted: tuple[str, list[str], list[str]],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'killed.db'}"
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / NAME).write_text("kill-after-120\n", encoding="utf-8")
    monkeypatch.setenv(FAULTS_ENV, str(faults))
    # so that the kill finds the walk under way, with listing pages already marked read (written
    # every 0.1 s, not every second: a loaded machine records 120 articles before the first write)
    slower = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "TGWATCH_BACKFILL_FLUSH": "0.1"}
    killed, _ = big.crawl(db, "--backfill", "-s", crash_settings(), settings=slower, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    recorded = {path for path, _, _ in archived(db)}
    read = frontier(db, "done") & set(big.site.listings)
    assert 120 <= len(recorded) < 300 and read

    result, second = big.crawl(db, "--backfill")
    assert f"backfill {NAME}: complete" in result.stdout, result.stdout
    articles = [p for p in second if p.startswith("/bai-viet/")]
    assert sorted(articles) == sorted(set(big.site.articles) - recorded)  # the rest, once; nothing recorded
    listings = [p for p in second if p in big.site.listings]
    assert sorted(listings) == sorted(set(big.site.listings) - read)  # no page marked read is read again
    assert archived(db) == archived(uninterrupted[0])  # the same articles and versions


def test_a_listing_page_that_fails_is_tried_again_by_the_next_run(big: Site, tmp_path: Path) -> None:
    """A 503 that outlasts the retries leaves the backfill open; the next run reads that page and
    what lies beyond it, and nothing it had read before (a 404 past the end is given up at once)."""
    db = f"sqlite:///{tmp_path / 'failing.db'}"
    failing = big.site.listings[6]
    big.server.fault(failing, "503", count=-1)
    try:
        first, walked = big.crawl(db, "--backfill")
    finally:
        big.server.clear_faults()
    assert "remaining; `tgwatch crawl bigsite --backfill` goes on from there" in first.stdout, first.stdout
    read = set(big.site.listings[:6])
    assert read <= set(walked) and not set(big.site.listings[7:]) & set(walked)  # the chain broke at page 7
    result, second = big.crawl(db, "--backfill")
    assert f"backfill {NAME}: complete" in result.stdout, result.stdout
    assert sorted(p for p in second if p.startswith("/tin-tuc")) == sorted([*big.site.listings[6:], BROKEN])
    assert {path for path, _, _ in archived(db)} == set(big.site.articles)


def test_routine_crawls_run_beside_a_backfill_and_a_second_backfill_is_refused(big: Site, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'beside.db'}"
    slow = {**CAPS, "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    command = [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(big.config), "crawl", "--backfill",
               *settings_args(slow)]
    walk = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not recorded_versions(db):
            assert time.monotonic() < deadline and walk.poll() is None, "the backfill never recorded anything"
            time.sleep(0.2)
        refused = tgwatch(db, "crawl", "--backfill", config=big.config, check=False)
        assert refused.returncode == 6, refused.stderr
        assert refused.stderr.count("\n") == 1 and "a backfill of this site is under way" in refused.stderr
        routine, _ = big.crawl(db)
        assert routine.stdout.startswith("pages fetched"), routine.stdout
        walk.send_signal(signal.SIGTERM)
        out, err = walk.communicate(timeout=60)
    finally:
        walk.kill()
    assert walk.returncode == 0 and "(interrupted)" in out and "remaining" in out, out + err[-2000:]
    result, _ = big.crawl(db, "--backfill")
    assert f"backfill {NAME}: complete" in result.stdout, result.stdout
    assert {path for path, _, _ in archived(db)} == set(big.site.articles)


# --- the frontier in the archive, on each backend -------------------------------------------------
def test_the_frontier_resumes_holds_and_closes(archive: Archive) -> None:
    """A listing read and the pages it links to are one step; a resumed backfill counts an article
    the archive holds as done; a live holder refuses a second crawl, a dead one does not; the
    backfill closes once nothing is pending or failed; a new one then starts afresh."""
    home, page2 = "https://s.example/", "https://s.example/tin?page=2"
    a1, a2 = "https://s.example/bai-1", "https://s.example/bai-2"
    run = archive.start_run("s", os.getpid())
    opened = backfill.open_backfill(archive, "s", run, [home, home])
    assert not opened.resumed and [(p.kind, p.url, p.state) for p in opened.pages] == [("listing", home, "pending")]
    backfill.write_marks(archive, opened.id, [Page("listing", page2, page2), Page("article", a1, a1),
                                              Page("article", a2, a2), Page("article", a1, a1)], {home: "done"})
    backfill.write_marks(archive, opened.id, [Page("listing", home, home)], {page2: "failed"})  # known: kept
    with pytest.raises(BackfillBusy) as busy:
        backfill.check_free(archive, "s")
    assert "\n" not in str(busy.value) and busy.value.exit_code == 6
    backfill.check_free(archive, "s", run)  # its own holder
    assert archive.record("s", a1, fetched(0)) == Verdict.NEW
    archive.finish_run(run, "interrupted", {})
    again = backfill.open_backfill(archive, "s", archive.start_run("s", os.getpid()), [home])
    assert again.id == opened.id and again.resumed
    assert {p.url: p.state for p in again.pages} == {home: "done", page2: "failed", a1: "done", a2: "pending"}
    assert not backfill.finish(archive, again.id)
    backfill.write_marks(archive, again.id, [], {page2: "done", a2: "done"})
    assert backfill.finish(archive, again.id)
    fresh = backfill.open_backfill(archive, "s", None, [home])
    assert fresh.id != opened.id and not fresh.resumed


def test_a_resumed_backfill_fetches_again_an_article_done_but_not_recorded(archive: Archive) -> None:
    """Done means recorded: an article a run marked done without the archive holding it (read as
    no article once under load, or lost in a crash) is pending again for the next run."""
    home, a1, a2 = "https://s.example/", "https://s.example/bai-1", "https://s.example/bai-2"
    run = archive.start_run("s", os.getpid())
    opened = backfill.open_backfill(archive, "s", run, [home])
    backfill.write_marks(archive, opened.id, [Page("article", a1, a1), Page("article", a2, a2)],
                         {home: "done", a1: "done", a2: "done"})
    assert archive.record("s", a1, fetched(0)) == Verdict.NEW
    archive.finish_run(run, "interrupted", {})
    again = backfill.open_backfill(archive, "s", archive.start_run("s", os.getpid()), [home])
    assert {p.url: p.state for p in again.pages} == {home: "done", a1: "done", a2: "pending"}
    assert not backfill.finish(archive, again.id)


def test_an_article_read_as_no_article_is_fetched_once_more_before_it_is_done(tmp_path: Path) -> None:
    """A page read as "no article" is asked for again at once; only a second such reading marks
    it done (the first could be a page misread under load: done, it would never be fetched again)."""
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.backfill import BackfillRun
    from crawler.items import ArticleCheck
    from storage.content import VN_TZ

    crawler = get_crawler(settings_dict={"TGWATCH_DB": f"sqlite:///{tmp_path / 'a.db'}", "TGWATCH_BACKFILL": True})
    asked: list[str] = []

    class Spider:
        def article_request(self, url: str) -> str:
            return url

    class Engine:
        def crawl(self, request: str) -> None:
            asked.append(request)

    crawler.engine = Engine()  # type: ignore[assignment]
    run = BackfillRun(crawler, crawler.settings["TGWATCH_DB"], 60.0)
    url = "https://s.example/bai-1"
    try:
        run.add("article", url, url)
        check = ArticleCheck("s", url, False, datetime.now(VN_TZ))
        run.item_dropped(check, DropItem("no article"), Spider())  # type: ignore[arg-type]
        assert asked == [url] and run.state[url] == "pending" and not run.marks
        run.item_dropped(check, DropItem("no article"), Spider())  # type: ignore[arg-type]
        assert asked == [url] and run.state[url] == "done" and run.marks == {url: "done"}
    finally:
        run.writer.shutdown()
        release_archive(run.url)


def test_progress_tells_rate_and_eta() -> None:
    progress = BackfillProgress(terminal=False)
    stats = {"tgwatch/backfill/done": 10, "tgwatch/backfill/remaining": 90}
    assert progress.rows([("s", stats)]) == [("s", 10, 90, "0.0/s", "?")]
    site, since = "s", progress.first["s"][0]
    progress.first[site] = (since - 10.0, 10)  # as if first seen ten seconds ago
    stats = {"tgwatch/backfill/done": 30, "tgwatch/backfill/remaining": 70}
    (_, done, left, rate, eta), = progress.rows([(site, stats)])
    assert (done, left, rate) == (30, 70, "2.0/s") and eta == "35 s"
