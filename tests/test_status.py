"""``tgwatch status``: last run, next run, recent failures and archive size, per site."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import insert

from monitor.cli import main
from monitor.schedule import crawl_job_id
from storage.archive import Archive
from storage.content import VN_TZ
from storage.models_notify import jobs_table


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tgwatch.toml"
    path.write_text(
        '[[sites]]\nname = "a"\nstart_urls = ["http://127.0.0.1:9/a/"]\narticle_url = "-\\\\d+$"\n'
        'schedule = "every 5 minutes"\n\n'
        '[[sites]]\nname = "b"\nstart_urls = ["http://127.0.0.1:9/b/"]\narticle_url = "-\\\\d+$"\n',
        encoding="utf-8",
    )
    return path


def _status(url: str, config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, "--config", str(config), "status", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_status_reports_runs_schedule_failures_and_size(archive: Archive, archive_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path)
    first = archive.start_run("a", pid=1)
    archive.finish_run(first, "ok", {"pages": 14, "new": 13})
    broken = archive.start_run("a", pid=2)
    archive.finish_run(broken, "failed", {"pages": 1}, "exit status 1: RuntimeError: boom")
    last = archive.start_run("a", pid=3)
    archive.finish_run(last, "ok", {"pages": 14, "unchanged": 13})
    archive.finish_run(archive.start_run("gone-site", pid=4), "timeout", {}, "no result after 60 s: terminated")
    next_run = datetime(2030, 1, 2, 3, 4, 5, tzinfo=VN_TZ)
    with archive.engine.begin() as connection:
        connection.execute(insert(jobs_table).values(id=crawl_job_id("a"), next_run_time=next_run.timestamp(),
                                                     job_state=b"x"))

    report = json.loads(_status(archive_url, config, "--json"))
    assert report["archive_bytes"] > 0
    assert report["notifications"] == {"pending": 0, "failed": 0, "sent": 0}
    sites = {s["site"]: s for s in report["sites"]}
    assert list(sites) == ["a", "b", "gone-site"]
    a = sites["a"]
    assert a["last_run"]["id"] == last and a["last_run"]["outcome"] == "ok"
    assert a["last_run"]["counts"]["unchanged"] == 13
    assert datetime.fromisoformat(a["next_run"]) == next_run
    assert [f["id"] for f in a["failures"]] == [broken] and "boom" in a["failures"][0]["error"]
    assert sites["b"]["last_run"] is None and sites["b"]["next_run"] is None
    assert sites["gone-site"]["configured"] is False

    same = json.loads(_status(archive_url, config, "--format", "json"))
    assert {**same, "archive_bytes": 0} == {**report, "archive_bytes": 0}  # PostgreSQL: others write meanwhile
    rows = {row["site"]: row for row in csv.DictReader(io.StringIO(_status(archive_url, config, "--format", "csv")))}
    assert list(rows) == ["a", "b", "gone-site"]
    assert rows["a"]["last_run"] == str(last) and rows["a"]["unchanged"] == "13" and rows["a"]["recent_failures"] == "1"
    assert datetime.fromisoformat(rows["a"]["next_run"]) == next_run
    assert rows["b"]["last_run"] == "" and rows["gone-site"]["outcome"] == "timeout"
    disagree = CliRunner().invoke(main, ["--db", archive_url, "--config", str(config), "status", "--json",
                                         "--format", "csv"])
    assert disagree.exit_code == 2 and "--json and --format csv disagree" in disagree.stderr

    text = _status(archive_url, config)
    assert "next run   2030-01-02T03:04:05+07:00" in text
    assert f"#{broken} " in text and "RuntimeError: boom" in text
    assert "gone-site (not in the config)" in text
    assert "never" in text and "not scheduled" in text
