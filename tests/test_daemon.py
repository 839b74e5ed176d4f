"""``tgwatch daemon`` end to end: a real daemon process, real crawl children, the fixture server, a
JSON webhook receiving Apprise notifications.

1. Two sites every 2 seconds for 20+ cycles, v1 then v2: the archive holds exactly the scenario's
   changes, and the receiver (down at first) got one message per change after one baseline summary
   per site, none twice.
2. Crawls that crash (exception, out of memory, SIGKILL) or meet a site answering garbage are
   recorded and the following cycles run normally.
3. SIGTERM during a crawl: exit 0 within 10 s, nothing left running or half-written; restarted after
   a (simulated) long downtime, one catch-up run, no burst.
"""

from __future__ import annotations

import pickle
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text, update

from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from monitor.schedule import crawl_job_id
from storage.archive import Archive
from storage.models import ArticleRow, ChangeRow, VersionRow
from storage.models_notify import DeliveryRow, jobs_table
from tests.crash_extension import FAULTS_ENV, crash_settings
from tests.daemon_helpers import Daemon, Receiver, runs, wait_for, write_config

SITES = ["tuyengiao", "longan"]


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def _ok_runs(db: str, site: str, since: datetime | None = None) -> int:
    return sum(1 for r in runs(db, site) if r.outcome == "ok" and (since is None or r.started_at >= since))


def _flagged(db: str, site: str) -> dict[str, list[tuple[str, frozenset[str]]]]:
    with Archive.open(db) as archive, archive.reading() as session:
        rows = session.execute(
            select(ArticleRow.url, ChangeRow.kind, ChangeRow.fields)
            .join(ArticleRow, ArticleRow.id == ChangeRow.article_id)
            .where(ArticleRow.site == site)
            .order_by(ChangeRow.id)
        )
        found: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for url, kind, fields in rows:
            found.setdefault(urlsplit(url).path, []).append((kind, frozenset(filter(None, (fields or "").split(",")))))
    return found


def _expected(site: str) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """What v1 then v2 must flag, from fixtures/scenario.json only."""
    expected = {}
    for path, entry in load_scenario()[site].items():
        kinds = [("new", frozenset())]
        if entry["verdict"] == "edited":
            kinds.append(("edited", frozenset(entry["fields"])))
        elif entry["verdict"] == "removed":
            kinds.append(("removed", frozenset()))
        if entry.get("listing") == "delisted":  # still served, taken off every listing
            kinds.append(("delisted", frozenset()))
        expected[path] = kinds
    return expected


def _announced(receiver: Receiver) -> tuple[Counter[str], Counter[tuple[str, str, str]]]:
    """(baseline summaries by site, individual messages by (site, kind, URL path))."""
    baselines: Counter[str] = Counter()
    changes: Counter[tuple[str, str, str]] = Counter()
    for message in list(receiver.messages):
        title = message["title"]
        if title.endswith("reports archived"):
            baselines[title.split(":")[0]] += 1
            continue
        site, rest = title[1:].split("] ", 1)
        kind = rest.split(":", 1)[0]
        changes[(site, kind, urlsplit(message["message"].splitlines()[0]).path)] += 1
    return baselines, changes


def test_daemon_archives_the_scenario_and_announces_each_change_once(
    tmp_path: Path, fresh_fixture_server: FixtureServer, daemons: list[Daemon]
) -> None:
    server = fresh_fixture_server
    receiver = Receiver()
    receiver.status = 500  # down for the whole first phase: the baseline summaries must wait
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    config = write_config(tmp_path, server, SITES, "every 2 seconds", notify=[receiver.url])
    try:
        daemon = Daemon(tmp_path, db, config)
        daemons.append(daemon)
        wait_for("3 crawls of each site on v1", lambda: all(_ok_runs(db, s) >= 3 for s in SITES), daemon)
        assert receiver.messages == [] and receiver.hits > 0
        receiver.status = 200
        switched = datetime.now().astimezone()
        server.set_version("v2")
        wait_for("20 cycles, 3 per site on v2",
                 lambda: len([r for r in runs(db) if r.outcome == "ok"]) >= 20
                 and all(_ok_runs(db, s, since=switched) >= 3 for s in SITES), daemon)
        expected_messages = len(SITES) + sum(1 for s in SITES for e in load_scenario()[s].values()
                                             if e["verdict"] in ("new", "edited", "removed")) + sum(
            1 for s in SITES for e in load_scenario()[s].values() if e.get("listing") == "delisted")
        wait_for("every notification", lambda: len(receiver.messages) >= expected_messages, daemon, timeout=60)
        time.sleep(1.5)  # a duplicate would arrive now
        code, took = daemon.stop()
    finally:
        receiver.stop()
    assert code == 0 and took < 10

    all_runs = runs(db)
    assert len(all_runs) >= 20
    assert {r.outcome for r in all_runs} <= {"ok", "interrupted"}
    for site in SITES:
        assert _flagged(db, site) == _expected(site)

    baselines, changes = _announced(receiver)
    assert baselines == Counter({site: 1 for site in SITES})
    wanted = Counter((site, e["verdict"], path) for site in SITES for path, e in load_scenario()[site].items()
                     if e["verdict"] in ("new", "edited", "removed"))
    wanted += Counter((site, "delisted", path) for site in SITES for path, e in load_scenario()[site].items()
                      if e.get("listing") == "delisted")
    assert changes == wanted  # one message per change after the baseline, none twice
    with Archive.open(db) as archive, archive.reading() as session:
        assert session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all() == [
            ("sent", expected_messages)]

    finished = daemon.events("crawl.finished")
    assert len(finished) >= 20 and all(e["site"] in SITES and e["run_id"] for e in finished)
    assert daemon.events("daemon.stopped")


def test_crashed_crawls_are_recorded_and_the_next_cycles_run(
    tmp_path: Path, fresh_fixture_server: FixtureServer, daemons: list[Daemon]
) -> None:
    server = fresh_fixture_server
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    config = write_config(tmp_path, server, SITES, "every 2 seconds")
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "tuyengiao").write_text("raise\nmemory\nkill\n", encoding="utf-8")
    daemon = Daemon(tmp_path, db, config, "--crawl-memory", "768", "--crawl-set", crash_settings(),
                    env={FAULTS_ENV: str(faults)})
    daemons.append(daemon)
    wait_for("a baseline of longan", lambda: _ok_runs(db, "longan") >= 1, daemon)
    garbage_from = len(runs(db, "longan"))
    for path in [p for p, e in load_scenario()["longan"].items() if e["verdict"] != "new"]:
        server.fault(path, "garbage", count=1)  # the next check of every known article reads junk
    wait_for("tuyengiao: 3 crashes then 2 good crawls; longan: 2 good crawls after the garbage",
             lambda: _ok_runs(db, "tuyengiao") >= 2 and _ok_runs(db, "longan") >= garbage_from + 2, daemon)
    code, took = daemon.stop()
    assert code == 0 and took < 10

    tuyengiao = runs(db, "tuyengiao")
    assert [r.outcome for r in tuyengiao[:5]] == ["failed", "failed", "failed", "ok", "ok"]
    raised, starved, killed = tuyengiao[:3]
    assert "forced crash" in raised.error
    assert "MemoryError" in starved.error
    assert "SIGKILL" in killed.error and killed.finished_at is not None  # completed by the daemon
    assert tuyengiao[3].new == 13  # the first good crawl is the baseline, after three crashes

    longan = [r for r in runs(db, "longan") if r.outcome != "interrupted"]  # the stop may catch one
    assert all(r.outcome == "ok" for r in longan)
    assert sum(r.failed for r in longan[garbage_from:]) >= 13  # every garbage answer: a failed check
    assert _flagged(db, "longan") == {path: [("new", frozenset())] for path, e in
                                      load_scenario()["longan"].items() if e["verdict"] != "new"}
    assert {e["site"] for e in daemon.events("crawl.finished") if e["outcome"] == "failed"} == {"tuyengiao"}


def _consistent(db: str) -> None:
    """Nothing half-written: no run left running, every article's versions and changes whole."""
    with Archive.open(db) as archive, archive.reading() as session:
        if archive.backend == "sqlite":
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert all(r.outcome != "running" and r.finished_at for r in runs(db))
        for article in session.scalars(select(ArticleRow)):
            versions = session.scalars(select(VersionRow.version).where(VersionRow.article_id == article.id)).all()
            assert sorted(versions) == list(range(1, article.current_version + 1))
        orphans = session.scalar(select(func.count()).select_from(ChangeRow).where(
            ChangeRow.to_version.is_not(None),
            ~select(VersionRow.id).where(VersionRow.article_id == ChangeRow.article_id,
                                         VersionRow.version == ChangeRow.to_version).exists()))
        assert orphans == 0


def _rewind(db: str, job_id: str, when: datetime) -> None:
    """Set a stored job's next run time, in the column and in the pickled job APScheduler reads."""
    with Archive.open(db) as archive, archive.engine.begin() as connection:
        state = pickle.loads(connection.execute(select(jobs_table.c.job_state).where(jobs_table.c.id == job_id))
                             .scalar_one())
        state["next_run_time"] = when
        connection.execute(update(jobs_table).where(jobs_table.c.id == job_id)
                           .values(next_run_time=when.timestamp(), job_state=pickle.dumps(state)))


def test_sigterm_mid_crawl_then_restart_without_a_burst(
    tmp_path: Path, fresh_fixture_server: FixtureServer, daemons: list[Daemon], archive_url: str
) -> None:
    """On both backends: the job table, the crawl's run and the daemon's settling all live there."""
    server = fresh_fixture_server
    site = "longan"
    db = archive_url
    config = write_config(tmp_path, server, [site], "every 30 seconds")
    slow = next(p for p, e in load_scenario()[site].items() if e["verdict"] != "new")
    server.fault(slow, "delay", count=1, seconds=3)  # the first crawl is surely under way at SIGTERM
    first = Daemon(tmp_path, db, config)
    daemons.append(first)
    wait_for("the first crawl to start", lambda: any(r.outcome == "running" for r in runs(db)), first)
    time.sleep(0.5)
    code, took = first.stop()
    assert code == 0 and took < 10
    assert [r.outcome for r in runs(db)] == ["interrupted"]
    _consistent(db)

    # As if the daemon had been down for 5 intervals: the stored next run is 151 s in the past.
    restarted_at = datetime.now().astimezone()
    _rewind(db, crawl_job_id(site), restarted_at - timedelta(seconds=151))
    second = Daemon(tmp_path, db, config)
    daemons.append(second)
    wait_for("the catch-up crawl", lambda: len(second.events("crawl.finished")) >= 1, second)
    # The scheduler decided on the missed runs when it took the job up, before the catch-up crawl
    # started: coalesced, one run was started and none was turned away, and the job's next run,
    # stored then, is one interval on. No later run can start before it: no burst, however slow.
    with Archive.open(db) as archive, archive.reading() as session:
        next_run = session.scalar(select(jobs_table.c.next_run_time).where(jobs_table.c.id == crawl_job_id(site)))
    started, skipped = second.events("crawl.started"), second.events("crawl.skipped")
    code, took = second.stop()
    assert code == 0 and took < 10
    assert len(started) == 1 and skipped == []  # 6 missed runs coalesced into one
    after = [r for r in runs(db) if r.started_at >= restarted_at]
    assert [r.outcome for r in after] == ["ok"]
    assert next_run > after[0].started_at.timestamp() + 15  # the next is due ~29 s after restarting
    assert sum(r.new for r in runs(db)) == 13  # what the interrupted crawl recorded stays recorded
    assert next_run > restarted_at.timestamp() + 20  # the schedule goes on, not from scratch
    _consistent(db)
