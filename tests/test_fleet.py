"""``tgwatch worker`` / ``tgwatch enqueue``: several workers on a shared Redis frontier, one
PostgreSQL archive (the real servers; a key prefix of each test's own).

Acceptance: three workers crawling the fixture sites v1 -> v2 -> v2 flag exactly the scenario,
as one local ``tgwatch crawl`` does (tests/test_crawl_scenario.py), with no duplicate version or
change; a worker SIGKILLed mid-crawl loses nothing; a fleet command given a SQLite archive or
an unreachable Redis says so in one line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.frontier import Frontier
from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from storage.archive import Archive
from tests.crawl_helpers import (
    ROOT,
    counts,
    crawl,
    expected_flags,
    flagged,
    live_paths,
    query,
    settings_args,
    tgwatch,
    write_config,
)
from tests.fleet_helpers import RedisServer, TcpProxy, Workers, enqueue, frontier_of, unique_prefix
from tests.plugins.archive import _pg_schema_url


@pytest.fixture
def pg_archive(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL archive in a schema of the test's own (the one every worker records into)."""
    for url in _pg_schema_url(pg_url):
        Archive.open(url).close()  # migrated before the workers race to it
        yield url


@pytest.fixture
def frontier(redis_url: str) -> Iterator[Frontier]:
    with frontier_of(redis_url) as frontier:
        yield frontier


SITES = sorted(load_scenario())
SUMMARY = re.compile(r"new (\d+), edited (\d+), unchanged \d+, removed (\d+), failed checks (\d+)")


def summary(line: str) -> tuple[int, ...]:
    """(pages, new, edited, removed, failed) of a summary line."""
    match = SUMMARY.search(line)
    assert match and line.startswith("pages fetched "), line
    return (int(line.split(",")[0].split()[-1]), *map(int, match.groups()))


def listings(db: str) -> list[tuple[object, ...]]:
    """Which listing page showed which article where (open stints), and each article's standing."""
    return sorted(query(db, """
        SELECT 'stint', p.url, p.kind, a.url, CAST(l.position AS TEXT) FROM listings l
        JOIN listing_pages p ON p.id = l.page_id JOIN articles a ON a.id = l.article_id
        WHERE l.seen_until IS NULL
        UNION ALL
        SELECT 'status', a.url, s.state, '', '' FROM listing_status s JOIN articles a ON a.id = s.article_id"""))


def duplicates(db: str) -> list[tuple[object, ...]]:
    """Versions or changes recorded twice for one article (same version number, or the same
    change kind to the same version)."""
    return query(db, """
        SELECT 'version', article_id, CAST(version AS TEXT) FROM versions
        GROUP BY article_id, version HAVING count(*) > 1
        UNION ALL
        SELECT 'change', article_id, kind || ':' || coalesce(to_version, 0) FROM changes
        GROUP BY article_id, kind, to_version HAVING count(*) > 1""")


def test_three_workers_flag_exactly_the_scenario(pg_archive: str, redis_url: str, frontier: Frontier,
                                                 fresh_fixture_server: FixtureServer,
                                                 tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server)
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path) as workers:
        workers.start(3)
        try:
            first = enqueue(pg_archive, config, redis_url, frontier.prefix)
            fresh_fixture_server.set_version("v2")
            second = enqueue(pg_archive, config, redis_url, frontier.prefix)
            third = enqueue(pg_archive, config, redis_url, frontier.prefix)
        except AssertionError:
            raise AssertionError(workers.logs()) from None
        before = counts(pg_archive)
        fourth = enqueue(pg_archive, config, redis_url, frontier.prefix)  # nothing changed since
        assert counts(pg_archive) == before
        status = json.loads(tgwatch(pg_archive, "status", "--json", "--redis", redis_url, "--redis-prefix",
                                    frontier.prefix, config=config).stdout)["frontier"]
        text = tgwatch(pg_archive, "status", "--redis", redis_url, "--redis-prefix", frontier.prefix,
                       config=config).stdout
    assert len(status["workers"]) == 3 and status["crawls"] == []
    sites = {s["site"]: s for s in status["sites"]}
    for site in SITES:  # nothing left over; every article URL has a due time
        assert (sites[site]["queued"], sites[site]["in_flight"]) == (0, 0)
        assert sites[site]["known"] >= sum(1 for s, _ in live_paths("v1") | live_paths("v2") if s == site)
    assert "workers        3 live" in text and "queued 0, in flight 0" in text, text
    assert f"new {len(live_paths('v1'))}, edited 0, unchanged 0, removed 0, failed checks 0" in first, first
    verdicts = Counter(e["verdict"] for entries in load_scenario().values() for e in entries.values())
    assert summary(second)[1:] == (verdicts["new"], verdicts["edited"], 0, 0), second
    assert summary(third)[1:] == (0, 0, verdicts["removed"], 0), third
    assert summary(fourth)[1:] == (0, 0, 0, 0), fourth
    assert flagged(pg_archive) == expected_flags()  # the listings' delisted verdicts included
    assert duplicates(pg_archive) == []
    rows = query(pg_archive, "SELECT site, url FROM articles WHERE removed_at IS NULL")
    assert {(site, u.split("/", 3)[-1]) for site, u in rows} == {(s, p.lstrip("/")) for s, p in live_paths("v2")}
    runs = query(pg_archive, "SELECT outcome, count(*) FROM crawl_runs GROUP BY outcome")
    assert runs == [("ok", 4 * len(SITES))]  # one run per site and crawl, each booked by whoever finished it
    for n in range(3):
        assert "Traceback" not in workers.log(n) and " ERROR: " not in workers.log(n), workers.log(n)[-3000:]
    # the same as one local `tgwatch crawl` on SQLite: the same changes and the same versions
    sqlite = f"sqlite:///{tmp_path / 'local.db'}"
    fresh_fixture_server.set_version("v1")
    crawl(sqlite, config)
    fresh_fixture_server.set_version("v2")
    crawl(sqlite, config)
    crawl(sqlite, config)
    assert flagged(sqlite) == flagged(pg_archive)
    versions = "SELECT a.url, v.version, v.content_hash FROM versions v JOIN articles a ON a.id = v.article_id"
    assert sorted(query(sqlite, versions)) == sorted(query(pg_archive, versions))
    assert listings(sqlite) == listings(pg_archive)
    # the frontier is empty again, every known article has a due time
    for site in SITES:
        status = frontier.site_status(site)
        assert (status.queued, status.in_flight) == (0, 0)
    # v1 again: the delisted reports are listed again (relisted), the removed ones back, the same
    fresh_fixture_server.set_version("v1")
    (tmp_path / "again").mkdir()
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path / "again") as workers:
        workers.start(3)
        enqueue(pg_archive, config, redis_url, frontier.prefix)
    crawl(sqlite, config)
    relisted = [key for key, found in flagged(pg_archive).items() if ("relisted", frozenset()) in found]
    delisted = [key for key, found in expected_flags().items() if ("delisted", frozenset()) in found]
    assert sorted(relisted) == sorted(delisted)
    assert flagged(sqlite) == flagged(pg_archive) and duplicates(pg_archive) == []
    assert listings(sqlite) == listings(pg_archive)


def test_a_worker_killed_mid_crawl_loses_nothing(pg_archive: str, redis_url: str, frontier: Frontier,
                                                 fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """SIGKILL while it holds requests: they come back after the visibility time-out and the
    others do them; the archive is what one worker makes of the scenario."""
    config = write_config(tmp_path, fresh_fixture_server)
    slow_pages(fresh_fixture_server, 0.5)  # the victim is sure to die holding some requests
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path) as workers:
        victim, *_ = workers.start(3)
        waiter = enqueue_in_background(pg_archive, config, redis_url, frontier.prefix)
        deadline = time.monotonic() + 60
        held = 0
        while time.monotonic() < deadline and not held:
            for _worker, _age, info in frontier.workers(alive_within=30):
                if info.get("pid") == str(victim.pid):
                    held = sum(int(v) for k, v in info.items() if k.startswith("held:"))
            time.sleep(0.05)
        assert held, workers.logs()
        workers.kill(victim)
        out, err = waiter.communicate(timeout=180)
        assert waiter.returncode == 0, err + workers.logs()
        fresh_fixture_server.clear_faults()
        fresh_fixture_server.set_version("v2")
        enqueue(pg_archive, config, redis_url, frontier.prefix)
        enqueue(pg_archive, config, redis_url, frontier.prefix)
    assert flagged(pg_archive) == expected_flags()
    assert duplicates(pg_archive) == []
    assert "back in the frontier" in workers.log(1) + workers.log(2)


def test_fleet_commands_refuse_sqlite_and_say_when_redis_is_away(redis_url: str, tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'archive.db'}"
    for args in (["worker", "--redis", redis_url], ["enqueue", "--redis", redis_url]):
        result = tgwatch(sqlite, *args, check=False, timeout=60)
        assert result.returncode == 6, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "PostgreSQL" in lines[0] and "SQLite" in lines[0], result.stderr
    assert not (tmp_path / "archive.db").exists()  # nothing created
    result = tgwatch("postgresql://postgres@127.0.0.1:5432/test", "enqueue", "--redis", "redis://127.0.0.1:1/0",
                     check=False, timeout=60)
    assert result.returncode == 6 and result.stderr.count("\n") == 1, result.stderr
    assert "redis://127.0.0.1:1/0: Redis unreachable" in result.stderr


def test_daemon_with_redis_queues_due_crawls_for_the_workers(pg_archive: str, redis_url: str, frontier: Frontier,
                                                            fresh_fixture_server: FixtureServer,
                                                            tmp_path: Path) -> None:
    """``tgwatch daemon --redis`` runs no crawl itself: it queues each due site's crawl, the
    workers do it, and the run is booked as for a local crawl."""
    from tests import daemon_helpers

    sites = ["longan", "quangtri"]
    config = daemon_helpers.write_config(tmp_path, fresh_fixture_server, sites, "every 2 seconds")
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path) as workers:
        workers.start(1)
        daemon = daemon_helpers.Daemon(tmp_path, pg_archive, config, "--redis", redis_url, "--redis-prefix",
                                       frontier.prefix)
        try:
            def booked() -> bool:
                done = [r for r in daemon_helpers.runs(pg_archive) if r.outcome == "ok"]
                return {r.site for r in done} == set(sites)
            daemon_helpers.wait_for("a crawl of each site done by the worker", booked, daemon)
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
    assert daemon.events("crawl.enqueued") and not daemon.events("crawl.started")
    assert {r.site for r in daemon_helpers.runs(pg_archive) if r.outcome == "ok" and r.new} == set(sites)
    assert flagged(pg_archive) == expected_flags(sites, through="v1")


def test_a_site_rate_holds_for_the_whole_fleet(pg_archive: str, redis_url: str, frontier: Frontier,
                                               fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """``rate = 2`` on a site: three workers together never send it more than 2 requests in any
    second (measured at the server), and robots.txt is fetched once for the fleet."""
    config = write_config(tmp_path, fresh_fixture_server, sites=["longan"])
    config.write_text(config.read_text().replace('name = "longan"', 'name = "longan"\nrate = 2'))
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path) as workers:
        workers.start(3)
        line = enqueue(pg_archive, config, redis_url, frontier.prefix)
    assert f"new {len(live_paths('v1', ['longan']))}," in line, line
    hits = fresh_fixture_server.hits()
    times = [t for t, path in hits if path.startswith("/longan/") or path == "/robots.txt"]
    assert len(times) >= 20
    busiest = max(sum(1 for t in times if start <= t < start + 0.95) for start in times)
    assert busiest <= 2, busiest
    assert times[-1] - times[0] >= (len(times) - 1) / 2 * 0.95
    assert [path for _, path in hits].count("/robots.txt") == 1


def slow_pages(server: FixtureServer, seconds: float = 0.2) -> None:
    """Every page of every fixture site answers after ``seconds``: a crawl long enough to break."""
    for site in SITES:
        server.fault(f"/{site}/", "delay", count=-1, seconds=seconds)


def enqueue_in_background(db: str, config: Path, redis: str, prefix: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "enqueue",
                             "--redis", redis, "--redis-prefix", prefix, "--recheck", "all", "--wait", "--timeout",
                             "150"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_redis_restart_mid_crawl_loses_and_doubles_nothing(pg_archive: str, fresh_fixture_server: FixtureServer,
                                                             tmp_path: Path) -> None:
    """Redis (of the test's own, AOF) stops mid-crawl and comes back: workers and ``enqueue
    --wait`` wait, the crawl completes, the archive is the scenario's."""
    server = RedisServer(tmp_path)
    server.start()
    prefix = unique_prefix()
    config = write_config(tmp_path, fresh_fixture_server)
    slow_pages(fresh_fixture_server)
    try:
        with Workers(pg_archive, config, server.url, prefix, tmp_path) as workers:
            workers.start(2)
            frontier = Frontier.connect(server.url, prefix)
            waiter = enqueue_in_background(pg_archive, config, server.url, prefix)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(query(pg_archive, "SELECT id FROM versions")) < 5:
                time.sleep(0.1)
            frontier.close()
            server.stop()
            time.sleep(3)
            server.start()
            out, err = waiter.communicate(timeout=180)
            assert waiter.returncode == 0, err + workers.logs()
            assert f"new {len(live_paths('v1'))}, edited 0" in out, out
            fresh_fixture_server.clear_faults()
            fresh_fixture_server.set_version("v2")
            enqueue(pg_archive, config, server.url, prefix)
            enqueue(pg_archive, config, server.url, prefix)
            logs = workers.log(0) + workers.log(1)
    finally:
        server.stop()
    assert flagged(pg_archive) == expected_flags()
    assert duplicates(pg_archive) == []
    assert "Redis unreachable" in logs and "Redis is back" in logs, logs[-4000:]


def test_a_short_postgresql_outage_makes_workers_wait(pg_archive: str, redis_url: str, frontier: Frontier,
                                                      fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """PostgreSQL unreachable for a few seconds mid-crawl (a proxy of the test's own is cut):
    workers retry the recording and finish; nothing is lost or recorded twice."""
    proxy = TcpProxy(("127.0.0.1", 5432))
    through_proxy = pg_archive.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert through_proxy != pg_archive
    config = write_config(tmp_path, fresh_fixture_server)
    slow_pages(fresh_fixture_server)
    try:
        with Workers(through_proxy, config, redis_url, frontier.prefix, tmp_path) as workers:
            workers.start(2)
            waiter = enqueue_in_background(pg_archive, config, redis_url, frontier.prefix)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(query(pg_archive, "SELECT id FROM versions")) < 5:
                time.sleep(0.1)
            proxy.cut()
            time.sleep(4)
            proxy.restore()
            out, err = waiter.communicate(timeout=180)
            assert waiter.returncode == 0, err + workers.logs()
            logs = workers.log(0) + workers.log(1)
    finally:
        proxy.close()
    assert f"new {len(live_paths('v1'))}, edited 0, unchanged 0, removed 0, failed checks 0" in out, out + logs[-4000:]
    assert flagged(pg_archive) == expected_flags(through="v1")
    assert duplicates(pg_archive) == []
    assert "archive unavailable, retrying" in logs, logs[-4000:]


def test_two_fleets_recording_the_same_articles_at_once_record_them_once(
        pg_archive: str, redis_url: str, fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """Two frontiers (the frontier keeps a URL to one worker at a time, so two fleets are what
    makes two workers observe the same article at the same moment) crawl the same sites into one
    archive side by side: every race is settled by the archive, no version or change twice."""
    config = write_config(tmp_path, fresh_fixture_server)
    with frontier_of(redis_url) as one, frontier_of(redis_url) as other:
        (tmp_path / "one").mkdir()
        (tmp_path / "other").mkdir()
        with Workers(pg_archive, config, redis_url, one.prefix, tmp_path / "one") as first, \
                Workers(pg_archive, config, redis_url, other.prefix, tmp_path / "other") as second:
            first.start(1)
            second.start(1)
            for version in ("v1", "v2", "v2"):
                fresh_fixture_server.set_version(version)
                waiters = [enqueue_in_background(pg_archive, config, redis_url, f.prefix) for f in (one, other)]
                for waiter in waiters:
                    out, err = waiter.communicate(timeout=180)
                    assert waiter.returncode == 0, err + first.logs() + second.logs()
    assert duplicates(pg_archive) == []
    assert flagged(pg_archive) == expected_flags()


def test_a_crawls_caps_hold_for_the_whole_fleet(pg_archive: str, redis_url: str, frontier: Frontier,
                                                fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """TGWATCH_ARTICLE_REQUESTS and TGWATCH_LISTING_PAGES given to ``enqueue`` cap the crawl, not
    each worker: three workers (their own caps far higher) together make as many article requests
    and read as many listing pages as one local crawl with those caps."""
    site = "tuyengiao"
    caps = {"TGWATCH_ARTICLE_REQUESTS": "4", "TGWATCH_LISTING_PAGES": "2"}
    config = write_config(tmp_path, fresh_fixture_server, sites=[site])
    with Workers(pg_archive, config, redis_url, frontier.prefix, tmp_path) as workers:
        workers.start(3)
        line = tgwatch(pg_archive, "enqueue", "--redis", redis_url, "--redis-prefix", frontier.prefix, "--wait",
                       "--timeout", "120", *settings_args(caps), config=config, timeout=150).stdout
    sqlite = f"sqlite:///{tmp_path / 'local.db'}"
    local = crawl(sqlite, config, settings=caps)
    assert summary(line)[1] == summary(local)[1] == 4, (line, local)
    articles = "SELECT count(*) FROM articles"
    pages = "SELECT count(*) FROM listing_pages"
    assert query(pg_archive, articles) == query(sqlite, articles) == [(4,)]
    assert query(pg_archive, pages) == query(sqlite, pages) == [(2,)]
    hits = [path for _, path in fresh_fixture_server.hits() if path.startswith(f"/{site}/")]
    assert len(hits) == 2 * (2 + 4), hits  # the fleet's crawl and the local one: 2 listings, 4 articles each
