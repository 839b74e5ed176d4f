"""``tgwatch daemon``: crawl every configured site on its schedule until SIGTERM or SIGINT.

APScheduler 3.x runs the schedule in a background thread while the main thread waits for a
signal. Each crawl is a child process (``monitor.runner``), so a crash, a hang or an out-of-memory
crawl costs one run, never the daemon. Jobs persist in the archive (``SQLAlchemyJobStore``) and
reference ``crawl_job`` by name with the site as their only argument; the live objects a job needs
are found through the one ``Daemon`` running in this process. After each crawl, and every
``NotifySettings.interval`` seconds, the dispatcher announces new changes (``monitor.notify``).

On SIGTERM/SIGINT the daemon starts no new crawl, stops running ones cleanly (SIGTERM, a grace
period, SIGKILL; the run is recorded as ``interrupted``), lets the dispatcher finish the message it
is sending, shuts the scheduler down and exits 0. Restarted, it finds its jobs where they were;
runs missed meanwhile coalesce into one.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.triggers.interval import IntervalTrigger

from monitor.context import AppContext
from monitor.crawl import parse_overrides
from monitor.fleet import redis_options
from monitor.logs import LOG_FORMATS, log_event, setup_logging
from monitor.notify import Dispatcher, NotifySettings
from monitor.runner import CrawlRunner, RunnerSettings
from crawler.schedules import make_trigger
from monitor.schedule import DEFAULT_SCHEDULE, JobOptions, reconcile, site_of_job
from monitor.settle import sweep_abandoned
from storage.engine import create_archive_engine
from storage.errors import ConfigError
from storage.lease import DaemonLease

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

DISPATCH_JOB = "dispatch"


@dataclass(frozen=True)
class DaemonSettings:
    """Everything ``tgwatch daemon`` can be told; each default is documented where it is defined."""

    default_schedule: str = DEFAULT_SCHEDULE
    workers: int = 4
    """Most crawls running at once (each site has at most one)."""
    standby: bool = False
    """When another daemon holds the archive's lease: wait and take over (else refuse to start)."""
    jobs: JobOptions = field(default_factory=JobOptions)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    redis: str | None = None
    """The shared frontier: set, each due crawl is queued there for the workers instead of run here."""
    redis_prefix: str = "tgwatch"


_ACTIVE: Daemon | None = None


def build_scheduler(db_url: str, settings: DaemonSettings) -> BackgroundScheduler:
    """Crawl jobs persist in the archive; the dispatch job lives in memory with a thread of its own."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=create_archive_engine(db_url)),
            "memory": MemoryJobStore(),
        },
        executors={"default": ThreadPoolExecutor(settings.workers), "notify": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": settings.jobs.coalesce, "max_instances": settings.jobs.max_instances,
                      "misfire_grace_time": settings.jobs.misfire_grace_time},
    )


def crawl_job(site: str) -> None:
    """The scheduled crawl of ``site`` (stored jobs name this function, not a live object)."""
    if _ACTIVE is None:
        raise RuntimeError("no tgwatch daemon runs in this process")
    _ACTIVE.crawl(site)


def dispatch_job() -> None:
    if _ACTIVE is not None:
        _ACTIVE.dispatcher.run()


class Daemon:
    """The scheduler, the crawl runner and the dispatcher of one ``tgwatch daemon`` process."""

    def __init__(self, app: AppContext, settings: DaemonSettings, logger: logging.Logger) -> None:
        self.app, self.settings, self.log = app, settings, logger
        self.stopping = threading.Event()
        self._crawls = threading.Condition()
        self._running = 0  # crawl jobs under way
        self.archive = app.archive()
        self.config = app.config
        path = app.config_path
        browsers = frozenset(name for name, site in self.config.sites.items() if site.render == "browser")
        self.runner = CrawlRunner(self.archive, app.child_env(), str(path.resolve()) if path else None,
                                  settings.runner, self.stopping, browsers)
        self.dispatcher = Dispatcher(self.archive, self.config, settings.notify, logger, self.stopping)
        self.scheduler = build_scheduler(app.db_url, settings)
        self.lease = DaemonLease(self.archive)
        self.frontier = None
        if settings.redis:
            from monitor.fleet import connect_frontier, require_shared_archive

            require_shared_archive(app.db_url)
            self.frontier = connect_frontier(settings.redis, settings.redis_prefix)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)

    def crawl(self, site: str) -> None:
        with self._crawls:
            if self.stopping.is_set():
                return
            self._running += 1
        try:
            self._crawl(site)
        finally:
            with self._crawls:
                self._running -= 1
                self._crawls.notify_all()

    def _crawl(self, site: str) -> None:
        if self.frontier is not None:
            self._enqueue(site)
            return
        log_event(self.log, "crawl.started", site=site)
        try:
            report = self.runner.run(site)
        except Exception as exc:  # the archive is unreachable, the fork failed...
            log_event(self.log, "crawl.error", logging.ERROR, exc_info=True, site=site,
                      error=f"{type(exc).__name__}: {exc}")
            return
        level = logging.INFO if report.outcome == "ok" else logging.WARNING
        counts: dict[str, Any] = dict(report.counts)
        log_event(self.log, "crawl.finished", level, site=site, run_id=report.run_id, outcome=report.outcome,
                  seconds=report.seconds, **counts, error=report.error, summary=report.summary)
        if not self.stopping.is_set():
            self.kick_dispatch()

    def _enqueue(self, site: str) -> None:
        """Queue the site's crawl in the shared frontier (at most one open crawl per site)."""
        from crawler.fleet import close_crawl, enqueue_crawl
        from crawler.run import crawl_settings

        assert self.frontier is not None
        try:
            for state in self.frontier.open_crawls():
                if state.site == site and state.done:
                    close_crawl(self.frontier, self.archive, state.id)
                elif state.site == site:
                    log_event(self.log, "crawl.skipped", site=site, crawl=state.id, pending=state.pending,
                              reason="the previous crawl is still in the frontier")
                    return
            profile = self.config.sites[site]
            settings = crawl_settings(overrides=parse_overrides(self.settings.runner.crawl_settings))
            crawl = enqueue_crawl(self.frontier, self.archive, profile, profile.recheck, settings)
        except Exception as exc:  # Redis or the archive away: the next run tries again
            log_event(self.log, "crawl.error", logging.ERROR, exc_info=True, site=site,
                      error=f"{type(exc).__name__}: {exc}")
            return
        log_event(self.log, "crawl.enqueued", site=site, crawl=crawl)
        if not self.stopping.is_set():
            self.kick_dispatch()

    def _wait_for_crawls(self) -> None:
        """Wait until every running crawl job has returned (their children are being stopped).

        Only then may the scheduler shut down: its shutdown holds the job-store lock while joining
        the worker threads, and a crawl job finishing meanwhile touches the job store.
        """
        deadline = self.settings.runner.term_grace + 5.0
        with self._crawls:
            self._crawls.wait_for(lambda: self._running == 0, timeout=deadline)

    def kick_dispatch(self) -> None:
        """Have the dispatcher run now (or go round once more if it is running)."""
        self.dispatcher.wanted.set()
        try:
            self.scheduler.modify_job(DISPATCH_JOB, "memory", next_run_time=datetime.now(self.scheduler.timezone))
        except Exception:  # shutting down: the next start dispatches what is left
            log_event(self.log, "notify.not_kicked", logging.DEBUG, exc_info=True)

    def _on_job_event(self, event: JobEvent) -> None:
        site = site_of_job(event.job_id)
        what = "crawl" if site else event.job_id  # the other job is the dispatcher's
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log_event(self.log, f"{what}.skipped", site=site, reason="the previous run is still going")
        elif event.code == EVENT_JOB_MISSED:
            log_event(self.log, f"{what}.missed", logging.WARNING, site=site, scheduled=event.scheduled_run_time)
        elif event.code == EVENT_JOB_ERROR:
            log_event(self.log, "job.error", logging.ERROR, job=event.job_id, error=repr(event.exception),
                      traceback=getattr(event, "traceback", None))

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping.is_set():
            log_event(self.log, "daemon.stopping", signal=signal.Signals(signum).name)
        self.stopping.set()

    def run(self) -> int:
        """Run until a signal; returns the exit code."""
        global _ACTIVE
        _ACTIVE = self
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        try:
            if not self._take_lease():
                return 0
            try:
                self._serve()
            finally:
                self.lease.release()
        finally:
            _ACTIVE = None
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
        log_event(self.log, "daemon.stopped")
        return 0

    def _take_lease(self) -> bool:
        """The archive's one-daemon lease: taken, or ``LeaseHeld`` (one line, exit 6); with
        ``--standby``, waited for until it is free (False: stopped while waiting)."""
        if not self.settings.standby:
            self.lease.acquire()
            return True

        def waiting(holder: str) -> None:
            log_event(self.log, "daemon.standby", holder=holder)

        if self.lease.wait(self.stopping, waiting):
            return True
        log_event(self.log, "daemon.stopped")
        return False

    def _serve(self) -> None:
        """Sweep, schedule and wait for a signal (or the loss of the lease); then stop cleanly."""
        stale = timedelta(seconds=2 * self.settings.runner.timeout)
        for run_id in sweep_abandoned(self.archive, stale):
            log_event(self.log, "crawl.abandoned", logging.WARNING, run_id=run_id)
        self.scheduler.start(paused=True)
        try:
            done = reconcile(self.scheduler, self.config, self.settings.default_schedule, self.settings.jobs)
            self.scheduler.add_job(
                dispatch_job, IntervalTrigger(seconds=self.settings.notify.interval), id=DISPATCH_JOB,
                jobstore="memory", executor="notify", next_run_time=datetime.now(self.scheduler.timezone),
            )
            log_event(self.log, "daemon.started", sites=",".join(self.config.sites) or "-",
                      added=",".join(done.added) or None, replaced=",".join(done.replaced) or None,
                      kept=",".join(done.kept) or None, removed=",".join(done.removed) or None)
            self.scheduler.resume()
            while not self.stopping.wait(1.0):
                if self.lease.lost.is_set():
                    log_event(self.log, "daemon.lease_lost", logging.ERROR,
                              reason="another daemon took this archive's lease")
                    break
        finally:
            self.stopping.set()
            self.scheduler.pause()
            self._wait_for_crawls()
            self.scheduler.shutdown(wait=True)


@click.command("daemon")
@click.option("--default-schedule", default=DEFAULT_SCHEDULE, show_default=True,
              help="Schedule of sites without one: 'every N seconds|minutes|hours' or a crontab line.")
@click.option("--crawl-timeout", type=click.FloatRange(min=1), default=RunnerSettings.timeout, show_default=True,
              help="Seconds a crawl may run before it is stopped and recorded as 'timeout'.")
@click.option("--crawl-memory", type=click.IntRange(min=0), default=RunnerSettings.memory_mb, show_default=True,
              help="Address-space limit of a crawl process in MiB (0: none).")
@click.option("--workers", type=click.IntRange(min=1), default=DaemonSettings.workers, show_default=True,
              help="Most crawls running at once.")
@click.option("--jitter", type=click.FloatRange(min=0), default=JobOptions.jitter, show_default=True,
              help="Random delay of each run in seconds (at most a tenth of an interval schedule).")
@click.option("--misfire-grace", type=click.IntRange(min=1), default=JobOptions.misfire_grace_time,
              show_default=True, help="A run missed by more seconds than this (daemon down) is skipped.")
@click.option("--notify-retry", type=click.FloatRange(min=0.1), default=NotifySettings.retry, show_default=True,
              help="Seconds before a failed notification is retried (doubled each time, up to an hour).")
@click.option("--notify-interval", type=click.FloatRange(min=0.1), default=NotifySettings.interval,
              show_default=True, help="Seconds between notification passes besides the one after each crawl.")
@click.option("--crawl-set", "crawl_settings", multiple=True, metavar="NAME=VALUE",
              help="A setting for every crawl (repeatable), as `tgwatch crawl -s`, e.g. DOWNLOAD_DELAY=2.")
@click.option("--crawl-logs", type=click.Path(file_okay=False), help="Keep each crawl's log in this directory.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", show_default=True,
              help="One line per event: key=value text, or one JSON object per line.")
@click.option("--standby", is_flag=True,
              help="If another daemon runs on this archive, wait and take over when it stops (else refuse).")
@redis_options(required=False)
@click.pass_obj
def command(app: AppContext, default_schedule: str, crawl_timeout: float, crawl_memory: int, workers: int,
            jitter: float, misfire_grace: int, notify_retry: float, notify_interval: float,
            crawl_settings: tuple[str, ...], crawl_logs: str | None, log_format: str, standby: bool,
            redis_url: str | None, redis_prefix: str) -> None:
    """Crawl the configured sites on their schedules and send notifications, until stopped.

    \b
    Example:
      tgwatch --config tgwatch.toml daemon --default-schedule "every 30 minutes" --log-format json
      tgwatch --db postgresql://tgwatch@db/archive daemon --redis redis://frontier:6379/0

    With --redis, each due crawl is queued in the shared frontier for `tgwatch worker`s.
    """
    try:
        make_trigger(default_schedule, 0, UTC)
    except ConfigError:
        problem = f"{default_schedule!r} is not 'every N minutes' nor a crontab line"
        raise ConfigError("--default-schedule", problem) from None
    parse_overrides(crawl_settings)  # a malformed pair fails here, in one line, not in every crawl
    defaults = DaemonSettings()
    settings = DaemonSettings(
        default_schedule=default_schedule,
        workers=workers,
        standby=standby,
        jobs=replace(defaults.jobs, jitter=jitter, misfire_grace_time=misfire_grace),
        runner=replace(defaults.runner, timeout=crawl_timeout, memory_mb=crawl_memory,
                       crawl_settings=crawl_settings, log_dir=crawl_logs),
        notify=replace(defaults.notify, retry=notify_retry, interval=notify_interval),
        redis=redis_url,
        redis_prefix=redis_prefix,
    )
    logger = setup_logging(log_format)
    Daemon(app, settings, logger).run()
