"""Acceptance: a failing server is never a removal, and a crawl killed midway leaves a sound archive.

Faults come from the fixture server (``FixtureServer.fault``): 503, time-outs, resets, truncated
bodies, garbage and empty pages during the v2 crawl. Each is a failed check; the clean crawls after
it flag exactly what the scenario file says. A crawl killed with SIGKILL, then run again, leaves
every article with its versions, captures and current fields consistent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from storage.archive import Archive
from tests.crawl_helpers import (
    FAST,
    ROOT,
    crawl,
    expected_flags,
    flagged,
    key_of,
    live_paths,
    path_of,
    query,
    settings_args,
    write_config,
)

FAULT_KINDS = ("503", "timeout", "reset", "truncated", "garbage", "empty")


def pick_victims() -> dict[str, str]:
    """One article per fault kind, removed ones first (a fault must not pass for their removal)."""
    entries = [(path, e) for site in load_scenario().values() for path, e in site.items() if e["verdict"] != "new"]
    entries.sort(key=lambda item: (item[1]["verdict"] != "removed", item[1]["verdict"] != "edited", item[0]))
    return {path: kind for (path, _), kind in zip(entries, FAULT_KINDS)}


def test_faults_are_failed_checks_never_removals(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    server = fresh_fixture_server
    config = write_config(tmp_path, server)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    crawl(db, config)
    server.set_version("v2")
    victims = pick_victims()
    for path, kind in victims.items():
        server.fault(path, kind, count=-1, seconds=3)
    faulted = crawl(db, config, settings={"DOWNLOAD_TIMEOUT": "1"})
    assert f"failed checks {len(victims)}" in faulted
    after_faults = flagged(db)
    for (_, path), flags in after_faults.items():
        kinds = [kind for kind, _ in flags]
        assert "removed" not in kinds, (path, flags)  # one crawl gives at most one removal signal
        if path in {key_of(v) for v in victims}:
            assert kinds == ["new"], (path, flags)  # a failed check is neither an edit nor a signal
    failed = query(db, "SELECT url, failed_checks, last_error FROM articles WHERE failed_checks > 0")
    assert {key_of(url) for url, _, _ in failed} == {key_of(v) for v in victims}
    server.clear_faults()
    crawl(db, config)
    crawl(db, config)
    assert flagged(db) == expected_flags()


def recorded(db: str) -> int:
    return query(db, "SELECT count(*) FROM versions")[0][0]


SLOW_SITE = "longan"


def slow_crawl(db: str, config: Path, server: FixtureServer) -> subprocess.Popen[str]:
    """A crawl of one site that takes a while: every article answers 1 s late, one at a time."""
    for _, path in live_paths("v1", [SLOW_SITE]):
        server.fault(path, "delay", count=-1, seconds=1.0)
    slow = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "CONCURRENT_REQUESTS": "1"}
    command = [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "crawl",
               "--recheck", "all", *settings_args(slow)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_versions(db: str, proc: subprocess.Popen[str], count: int) -> None:
    deadline = time.monotonic() + 120
    while recorded(db) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, "the crawl ended before it could be stopped"


def test_sigterm_stops_the_crawl_and_books_it_interrupted(fresh_fixture_server: FixtureServer,
                                                          tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server, sites=[SLOW_SITE])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(db).close()
    proc = slow_crawl(db, config, fresh_fixture_server)
    try:
        wait_for_versions(db, proc, 3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-3000:]
    assert out.strip().endswith("(interrupted)")
    assert "Traceback" not in err
    runs = query(db, "SELECT outcome, finished_at IS NOT NULL FROM crawl_runs")
    assert runs and all(run == ("interrupted", 1) for run in runs)
    assert recorded(db) < len(live_paths("v1", [SLOW_SITE]))  # stopped, not finished


def test_killed_crawl_leaves_a_consistent_archive(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    server = fresh_fixture_server
    config = write_config(tmp_path, server, sites=[SLOW_SITE])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(db).close()
    v1 = live_paths("v1", [SLOW_SITE])
    proc = slow_crawl(db, config, server)
    try:
        wait_for_versions(db, proc, 5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # extraction workers, if any outlived their parent
        except ProcessLookupError:
            pass
        proc.communicate()
    assert 5 <= recorded(db) < len(v1)
    server.clear_faults()
    crawl(db, config)
    articles = query(db, "SELECT site, url FROM articles")
    assert {(site, path_of(url)) for site, url in articles} == v1
    assert query(db, "SELECT article_id, count(*) FROM versions GROUP BY article_id HAVING count(*) <> 1") == []
    assert query(db, "SELECT v.id FROM versions v LEFT JOIN captures c ON c.version_id = v.id "
                     "WHERE c.id IS NULL") == []
    assert query(db, "SELECT article_id, count(*) FROM changes WHERE kind = 'new' GROUP BY article_id "
                     "HAVING count(*) <> 1") == []
    assert query(db, "SELECT count(*) FROM changes")[0][0] == len(v1)
    mismatched = query(db, """
        SELECT a.id FROM articles a JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
        WHERE a.current_version <> (SELECT max(version) FROM versions WHERE article_id = a.id)
           OR a.title <> v.title OR a.content_hash <> v.content_hash
           OR coalesce(a.author, '') <> coalesce(v.author, '')
           OR coalesce(a.category, '') <> coalesce(v.category, '')
           OR coalesce(a.published_at, '') <> coalesce(v.published_at, '')
    """)
    assert mismatched == []
    assert query(db, "SELECT count(*) FROM crawl_runs WHERE outcome = 'ok'") == [(1,)]


def test_a_site_answering_garbage_is_a_failed_crawl(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """Every listing page junk: nothing could be read, so the run is booked failed, not a quiet ok."""
    import tomllib

    server = fresh_fixture_server
    config = write_config(tmp_path, server, sites=["longan"])
    starts = tomllib.loads(config.read_text(encoding="utf-8"))["sites"][0]["start_urls"]
    for url in starts:
        server.fault(path_of(url) + (f"?{url.split('?', 1)[1]}" if "?" in url else ""), "garbage", count=-1)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "crawl", "longan",
         *settings_args(FAST)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]  # the crawl itself ran
    rows = query(db, "SELECT outcome, error, new FROM crawl_runs WHERE site = 'longan'")
    assert len(rows) == 1
    outcome, error, new = rows[0]
    assert (outcome, new) == ("failed", 0)
    assert "no article link" in error
