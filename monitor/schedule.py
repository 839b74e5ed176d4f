"""When each site is crawled: schedule strings, triggers, and the persistent job table kept in step.

Jobs live in the archive database (APScheduler's ``SQLAlchemyJobStore``), so a restarted daemon
keeps its place in every site's schedule. On start the stored jobs are reconciled with the config:
a new site gets a job that runs at once (its baseline crawl), a changed schedule replaces the job,
a site gone from the config loses its job, and an unchanged job is left alone so that a restart
never resets (or bursts) its next run time. "Unchanged" is judged by a spec string kept in the
job's name, which says everything that shapes the job: trigger, jitter, time zone and options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from crawler.profiles import Config
from crawler.schedules import make_trigger
from storage.errors import ConfigError

DEFAULT_SCHEDULE = "every 30 minutes"
"""Schedule of a site whose config has no ``schedule`` (``tgwatch daemon --default-schedule``)."""

CRAWL_FUNC = "monitor.daemon:crawl_job"
"""The job function, by textual reference: stored jobs must not pickle code or live objects."""

JOB_PREFIX = "crawl:"


@dataclass(frozen=True)
class JobOptions:
    """How every crawl job runs; part of the spec, so changing one replaces the stored jobs."""

    jitter: float = 10.0
    misfire_grace_time: int = 300
    max_instances: int = 1
    coalesce: bool = True


def crawl_job_id(site: str) -> str:
    return f"{JOB_PREFIX}{site}"


def site_of_job(job_id: str) -> str | None:
    return job_id[len(JOB_PREFIX):] if job_id.startswith(JOB_PREFIX) else None


def job_spec(schedule: str, options: JobOptions, timezone: tzinfo) -> str:
    """Everything that makes a job what it is, as text: equal specs mean "leave the job alone"."""
    trigger = make_trigger(schedule, options.jitter, timezone)
    return (
        f"{trigger} jitter={trigger.jitter} tz={timezone} misfire={options.misfire_grace_time} "
        f"max={options.max_instances} coalesce={options.coalesce}"
    )


def job_name(site: str, spec: str) -> str:
    return f"crawl {site} [{spec}]"


@dataclass
class Reconciled:
    """What reconciling did, by site (logged once at start)."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def site_schedule(config: Config, site: str, default: str) -> str:
    return config.sites[site].schedule or default


def reconcile(
    scheduler: BaseScheduler,
    config: Config,
    default_schedule: str,
    options: JobOptions,
    *,
    jobstore: str = "default",
    now: datetime | None = None,
) -> Reconciled:
    """Make the stored crawl jobs match ``config``; the scheduler must be started (paused is fine)."""
    timezone = scheduler.timezone
    now = now or datetime.now(timezone)
    stored = {job.id: job for job in scheduler.get_jobs(jobstore=jobstore) if site_of_job(job.id)}
    done = Reconciled()
    for site in config.sites:
        schedule = site_schedule(config, site, default_schedule)
        try:
            spec = job_spec(schedule, options, timezone)
        except ConfigError as err:
            raise ConfigError(config.source, f"site {site}: {err}") from None
        job_id = crawl_job_id(site)
        current = stored.pop(job_id, None)
        if current is not None and _same(current, site, spec):
            done.kept.append(site)
            continue
        extra: dict[str, Any] = {}
        if current is None:
            extra["next_run_time"] = now  # a new site: its baseline crawl starts now
        scheduler.add_job(
            CRAWL_FUNC,
            make_trigger(schedule, options.jitter, timezone),
            args=[site],
            id=job_id,
            name=job_name(site, spec),
            jobstore=jobstore,
            replace_existing=True,
            misfire_grace_time=options.misfire_grace_time,
            max_instances=options.max_instances,
            coalesce=options.coalesce,
            **extra,
        )
        (done.added if current is None else done.replaced).append(site)
    for job_id in stored:
        scheduler.remove_job(job_id, jobstore=jobstore)
        done.removed.append(site_of_job(job_id) or job_id)
    return done


def _same(job: Any, site: str, spec: str) -> bool:
    return (
        job.name == job_name(site, spec)
        and job.func_ref == CRAWL_FUNC
        and list(job.args) == [site]
        and not job.kwargs
        and job.next_run_time is not None  # a paused job is resumed by replacing it
    )
