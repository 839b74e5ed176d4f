"""Schedules and the persistent job table: parsing, and reconciling stored jobs with the config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.profiles import Config, load_config
from crawler.schedules import make_trigger
from monitor.schedule import CRAWL_FUNC, JobOptions, crawl_job_id, reconcile
from storage.archive import Archive
from storage.engine import create_archive_engine
from storage.errors import ConfigError

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_every_n_units() -> None:
    trigger = make_trigger("every 2 seconds", 10, TZ)
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(seconds=2)
    assert trigger.jitter == pytest.approx(0.2)  # capped at a tenth of the interval
    assert make_trigger("Every 30  minutes", 10, TZ).interval == timedelta(minutes=30)
    assert make_trigger("every 1 hour", 0, TZ).jitter is None
    assert make_trigger("every 2 days", 5, TZ).interval == timedelta(days=2)


def test_crontab_line() -> None:
    trigger = make_trigger("*/5 6-22 * * *", 3, TZ)
    assert isinstance(trigger, CronTrigger)
    assert trigger.jitter == 3
    assert "minute='*/5'" in str(trigger) and "hour='6-22'" in str(trigger)


@pytest.mark.parametrize("bad", ["every 0 seconds", "sometimes", "99 * * * *", "every minute"])
def test_bad_schedules_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        make_trigger(bad, 0, TZ)


def _config(tmp_path: Path, schedules: dict[str, str | None]) -> Config:
    blocks = []
    for name, schedule in schedules.items():
        block = f'[[sites]]\nname = "{name}"\nstart_urls = ["http://127.0.0.1:9/{name}/"]\narticle_url = "-\\\\d+$"\n'
        if schedule:
            block += f'schedule = "{schedule}"\n'
        blocks.append(block)
    path = tmp_path / "tgwatch.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def db_url(archive_url: str) -> Iterator[str]:
    """An archive on each backend: the job table lives in it (migration 0002)."""
    Archive.open(archive_url).close()
    yield archive_url


def _scheduler(url: str) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=create_archive_engine(url))},
                                    timezone=TZ)
    scheduler.start(paused=True)
    return scheduler


def test_reconcile_adds_keeps_replaces_and_removes(db_url: str, tmp_path: Path) -> None:
    options = JobOptions(jitter=1)
    first = _scheduler(db_url)
    done = reconcile(first, _config(tmp_path, {"a": "every 10 minutes", "b": None, "c": "0 6 * * *"}),
                     "every 30 minutes", options)
    assert sorted(done.added) == ["a", "b", "c"]
    job = first.get_job(crawl_job_id("b"))
    assert job.func_ref == CRAWL_FUNC and job.args == ("b",)
    assert job.trigger.interval == timedelta(minutes=30) and job.max_instances == 1 and job.coalesce
    # a restart must not reset the next run of an unchanged job: push it somewhere recognisable
    kept_time = job.next_run_time + timedelta(minutes=7)
    first.modify_job(crawl_job_id("a"), next_run_time=kept_time)
    first.shutdown()

    second = _scheduler(db_url)
    done = reconcile(second, _config(tmp_path, {"a": "every 10 minutes", "b": "every 5 minutes"}),
                     "every 30 minutes", options)
    assert done.kept == ["a"] and done.replaced == ["b"] and done.removed == ["c"] and done.added == []
    assert second.get_job(crawl_job_id("a")).next_run_time == kept_time
    assert second.get_job(crawl_job_id("b")).trigger.interval == timedelta(minutes=5)
    assert second.get_job(crawl_job_id("c")) is None
    second.shutdown()

    third = _scheduler(db_url)  # changed job options replace every job
    done = reconcile(third, _config(tmp_path, {"a": "every 10 minutes", "b": "every 5 minutes"}),
                     "every 30 minutes", JobOptions(jitter=1, misfire_grace_time=60))
    assert sorted(done.replaced) == ["a", "b"]
    third.shutdown()


def test_reconcile_names_the_site_of_a_bad_schedule(db_url: str, tmp_path: Path) -> None:
    scheduler = _scheduler(db_url)
    try:
        with pytest.raises(ConfigError, match="site a"):
            reconcile(scheduler, _config(tmp_path, {"a": "61 * * * *"}), "every 30 minutes", JobOptions())
    finally:
        scheduler.shutdown()
