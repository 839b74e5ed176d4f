"""Issue 9, the low items: each a clear one-line error (or a settled run) instead of a trap.

- a killed crawl's run no longer stays ``running`` until a daemon sweeps it, nor holds back its
  notifications: the next command touching runs settles it (pid gone on this host, or no
  heartbeat from another host);
- schedules that never or absurdly fire are refused at load;
- deeply nested TOML, ``start_urls = []``, ``--db sqlite://`` are refused in one line;
- another program's SQLite file is refused before anything is written to it (not even WAL mode).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from storage.archive import Archive
from storage.errors import ArchiveError, ConfigError
from storage.models import CrawlRunRow
from storage.outbox import unseen_changes
from storage.runs import STALE_AFTER
from storage.types import now
from tests.plugins.archive import fetched


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _run(archive: Archive, run_id: int) -> CrawlRunRow:
    with archive.reading() as session:
        row = session.get(CrawlRunRow, run_id)
        assert row is not None
        return row


def test_a_killed_crawl_is_settled_by_the_next_command(archive: Archive, archive_url: str, tmp_path: Path) -> None:
    killed = archive.start_run("s", _dead_pid())
    archive.record("s", "https://x.vn/a-1", fetched(0), run_id=killed)
    with archive.reading() as session:
        assert unseen_changes(session, "s") == []  # a running crawl's changes wait for its end
    config = tmp_path / "tgwatch.toml"
    config.write_text('[[sites]]\nname = "s"\nstart_urls = ["https://x.vn/"]\narticle_url = "a-"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", archive_url, "--config", str(config), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    row = _run(archive, killed)
    assert row.outcome == "failed" and "abandoned" in (row.error or "") and row.new == 1
    with archive.reading() as session:
        assert [c.kind for c in unseen_changes(session, "s")] == ["new"]  # no longer held back


def test_runs_settled_when_a_crawl_starts(archive: Archive) -> None:
    alive = archive.start_run("a", os.getpid())
    dead = archive.start_run("b", _dead_pid())
    elsewhere_silent = archive.start_run("c", os.getpid())
    elsewhere_beating = archive.start_run("d", os.getpid())
    with archive.writing() as session:
        for run_id, age in ((elsewhere_silent, STALE_AFTER + 60), (elsewhere_beating, 1)):
            row = session.get(CrawlRunRow, run_id)
            assert row is not None  # a pid of another machine: meaningless here, only the heartbeat tells
            row.host, row.pid, row.heartbeat_at = "another-host", 4242, now() - timedelta(seconds=age)
    archive.start_run("e", os.getpid())
    outcomes = {run_id: _run(archive, run_id).outcome for run_id in (alive, dead, elsewhere_silent, elsewhere_beating)}
    assert outcomes == {alive: "running", dead: "failed", elsewhere_silent: "failed", elsewhere_beating: "running"}
    assert "another-host" in (_run(archive, elsewhere_silent).error or "")


def test_heartbeat_renews_a_run(archive: Archive) -> None:
    run_id = archive.start_run("s", os.getpid())
    with archive.writing() as session:
        row = session.get(CrawlRunRow, run_id)
        assert row is not None
        row.heartbeat_at = now() - timedelta(hours=1)
    archive.beat_run(run_id)
    assert now() - _run(archive, run_id).heartbeat_at < timedelta(minutes=1)  # type: ignore[operator]


SITE = '[[sites]]\nname = "s"\nstart_urls = ["https://x.vn/"]\narticle_url = "-\\\\d+$"\n'


@pytest.mark.parametrize(
    ("schedule", "said"),
    [
        ("every 0 seconds", "at least 1 second"),
        ("every 0 minutes", "at least 1 second"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 30 2 *", "never fires"),
        ("every 1000000000 days", "at most 366 days"),
        ("every 99999999999999999999999 seconds", "at most 366 days"),
        ("every 400 days", "at most 366 days"),
    ],
)
def test_schedules_that_never_or_absurdly_fire_are_refused_at_load(tmp_path: Path, schedule: str, said: str) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text(SITE + f'schedule = "{schedule}"\n', encoding="utf-8")
    for command in (["sites"], ["crawl", "s"]):  # the daemon reads the config with the same loader
        result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'a.db'}", "--config", str(config),
                                           *command])
        assert result.exit_code == 2, (command, result.output)
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output


def test_a_leap_day_schedule_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text(SITE + 'schedule = "0 6 29 2 *"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sites"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("nesting", ["notify = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000])
def test_deeply_nested_toml_is_one_line(tmp_path: Path, nesting: str) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text(nesting + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sites"])
    assert result.exit_code == 2
    assert "nested too deeply" in result.stderr or "invalid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_empty_start_urls_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text('[[sites]]\nname = "s"\nstart_urls = []\narticle_url = "-\\\\d+$"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sites"])
    assert result.exit_code == 2
    assert "start_urls of site s is empty" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    config.write_text('[[sites]]\nname = "s"\nprofile = "nukeviet"\n', encoding="utf-8")  # inherits none
    result = CliRunner().invoke(main, ["--config", str(config), "sites"])
    assert result.exit_code == 2 and "is empty" in result.stderr


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_in_memory_archive_is_refused(url: str) -> None:
    with pytest.raises(ArchiveError, match="in-memory"):
        Archive.open(url)
    result = CliRunner().invoke(main, ["--db", url, "status"])
    assert result.exit_code == 5 and "in-memory archive would be lost" in result.stderr


def test_another_programs_sqlite_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (x TEXT)")
        connection.execute("INSERT INTO notes VALUES ('mine')")
    before = path.read_bytes()
    for command in (["status"], ["changes"], ["search", "x"]):
        result = CliRunner().invoke(main, ["--db", f"sqlite:///{path}", *command])
        assert result.exit_code == 5, (command, result.output)
        assert "not a tgwatch archive" in result.stderr and "notes" in result.stderr
    assert path.read_bytes() == before
    assert not path.with_name("notes.db-wal").exists()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert [r[0] for r in connection.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_a_new_file_still_becomes_an_archive_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    Archive.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_schedule_errors_come_from_the_one_parser() -> None:
    from crawler.schedules import make_trigger

    with pytest.raises(ConfigError, match="never fires"):
        make_trigger("0 0 31 2 *", 0, __import__("datetime").UTC)
