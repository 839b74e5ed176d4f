"""One crawl in a child process: a crawl that hangs, never starts, or whose process vanished is
recorded in ``crawl_runs`` (crashes, out-of-memory and SIGKILL: ``tests/test_daemon.py``).

These run the real ``tgwatch crawl`` against the shared fixture server (v1, no faults); failures
are forced through ``TGWATCH_TEST_FAULTS``, acted out by the test extension ``tests.crash_extension``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fixtures.config import LOOPBACK_SETTINGS, setting_args, site_config
from fixtures.testing import FixtureServer
from monitor.runner import CrawlRunner, RunnerSettings
from monitor.settle import sweep_abandoned
from storage.archive import Archive
from storage.models import CrawlRunRow
from tests.crash_extension import FAULTS_ENV, crash_settings

ROOT = Path(__file__).resolve().parent.parent
SITE = "longan"
FAST = tuple(setting_args({**LOOPBACK_SETTINGS, "TGWATCH_EXTRACT_WORKERS": "0", "RETRY_TIMES": "0",
                            "DOWNLOAD_TIMEOUT": "5"})[1::2]) + (crash_settings(),)


@pytest.fixture
def setup(
    tmp_path: Path, fixture_server: FixtureServer, archive_url: str
) -> Iterator[tuple[Archive, dict[str, str], Path]]:
    config = tmp_path / "tgwatch.toml"
    config.write_text(site_config(fixture_server.url, sites=[SITE]), encoding="utf-8")
    url = archive_url
    faults = tmp_path / "faults"
    faults.mkdir()
    env = {**os.environ, "TGWATCH_DB": url, FAULTS_ENV: str(faults),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    archive = Archive.open(url)
    yield archive, env, config
    archive.close()


def _runner(setup: tuple[Archive, dict[str, str], Path], **settings: object) -> CrawlRunner:
    archive, env, config = setup
    options = RunnerSettings(**{"timeout": 120.0, "crawl_settings": FAST, **settings})  # type: ignore[arg-type]
    return CrawlRunner(archive, env, str(config), options)


def _arm(setup: tuple[Archive, dict[str, str], Path], kind: str) -> None:
    Path(setup[1][FAULTS_ENV], SITE).write_text(kind, encoding="utf-8")


def _rows(archive: Archive) -> list[CrawlRunRow]:
    with archive.reading() as session:
        return list(session.scalars(select(CrawlRunRow).order_by(CrawlRunRow.id)))


def test_a_hanging_crawl_is_stopped_and_recorded_as_timeout(setup: tuple[Archive, dict[str, str], Path]) -> None:
    """The "hang" fault blocks the crawl's reactor, so SIGTERM cannot stop it: SIGKILL must."""
    runner = _runner(setup, timeout=4.0, term_grace=1.0)
    _arm(setup, "hang")
    started = time.monotonic()
    report = runner.run(SITE)
    assert time.monotonic() - started < 4.0 + 1.0 + 5.0
    assert report.outcome == "timeout" and (report.error or "").startswith("no result after 4 s")
    assert [r.outcome for r in _rows(setup[0])] == ["timeout"]


def test_a_crawl_that_never_starts_gets_a_row(setup: tuple[Archive, dict[str, str], Path]) -> None:
    archive, env, _ = setup
    runner = CrawlRunner(archive, env, str(setup[2]), RunnerSettings(crawl_settings=("NOT_A_PAIR",)))
    report = runner.run(SITE)
    assert report.outcome == "failed" and report.returncode == 2
    assert "NAME=VALUE" in (report.error or "")
    assert [r.outcome for r in _rows(archive)] == ["failed"]


def test_sweep_closes_runs_of_dead_processes(setup: tuple[Archive, dict[str, str], Path]) -> None:
    archive = setup[0]
    dead = archive.start_run(SITE, pid=2**22 + 12345)  # beyond pid_max on most systems: not alive
    assert sweep_abandoned(archive, timedelta(hours=1)) == [dead]
    dead_again = archive.start_run(SITE, pid=2**22 + 12346)
    alive = archive.start_run(SITE, pid=os.getpid())  # a crawl starting settles the dead one itself
    assert sweep_abandoned(archive, timedelta(hours=1)) == []
    outcomes = {r.id: r.outcome for r in _rows(archive)}
    assert outcomes == {dead: "failed", dead_again: "failed", alive: "running"}
    time.sleep(0.01)
    assert sweep_abandoned(archive, timedelta(0)) == []  # old, but its heartbeat is fresh: a long crawl (backfill)
    with archive.writing() as session:
        session.get(CrawlRunRow, alive).heartbeat_at -= timedelta(minutes=10)
    assert sweep_abandoned(archive, timedelta(0)) == [alive]  # too old, and silent: pid reused


def test_a_killed_crawl_is_booked_by_its_runner_not_swept(setup: tuple[Archive, dict[str, str], Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep of abandoned runs at the worst moment (the child dead, its run not yet settled by
    the runner) leaves the run alone: its runner books how the crawl ended."""
    import monitor.runner

    archive = setup[0]
    swept: list[list[int]] = []
    settle_run = monitor.runner.settle_run

    def settle_after_a_sweep(*args: Any, **kwargs: Any) -> Any:
        swept.append(archive.settle_abandoned() + sweep_abandoned(archive, timedelta(hours=1)))
        return settle_run(*args, **kwargs)

    monkeypatch.setattr(monitor.runner, "settle_run", settle_after_a_sweep)
    _arm(setup, "kill")
    report = _runner(setup).run(SITE)
    assert swept == [[]]
    assert report.outcome == "failed" and "killed by SIGKILL" in (report.error or ""), report
    assert [(r.outcome, r.error) for r in _rows(archive)] == [("failed", report.error)]
