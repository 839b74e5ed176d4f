"""The dispatcher: sends the outbox's pending deliveries with Apprise, and retries failed ones.

It runs in the daemon (never in a crawl child), after each crawl and periodically, one pass at a
time. A pass first enqueues the changes of finished crawls (``monitor.outbox``), then sends what is
due, in order, within a time budget. Each delivery is claimed before it is sent (attempts + 1 and
its next attempt pushed past the send's time limit, in its own short transaction) and marked
``sent`` or ``failed`` after, so no transaction is held open during network I/O, and a second
dispatcher on the same archive cannot send it too. A failed delivery is retried with exponential
back-off, forever (capped), so none is lost; a target that fails is skipped for the rest of the
pass so that its later messages keep their order. The one duplicate left possible is a crash
between the receiver's answer and the ``sent`` mark: the message is then sent again (at least
once beats at most once for an alert).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from crawler.profiles import Config
from monitor.logs import log_event
from monitor.outbox import enqueue
from storage.archive import Archive
from storage.outbox import claim_delivery, due_deliveries, finish_delivery
from storage.types import now

Sender = Callable[[str, str, str, float], "tuple[bool, str | None]"]


@dataclass(frozen=True)
class NotifySettings:
    """How the dispatcher sends (``tgwatch daemon`` options)."""

    interval: float = 60.0
    """Seconds between dispatch passes when no crawl finishes (retries become due in between)."""
    retry: float = 60.0
    """``--notify-retry``: delay before the first retry of a failed delivery; doubled each time."""
    retry_max: float = 3600.0
    """Longest delay between two attempts of one delivery."""
    send_timeout: float = 5.0
    """Time limit of one Apprise call; also bounds how long a stopping daemon waits for a send."""
    pass_budget: float = 60.0
    """A pass stops starting new sends after this many seconds; the next pass goes on."""


def shown_target(url: str) -> str:
    """An Apprise URL as logs may show it: scheme and host, never tokens or passwords."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def apprise_send(target: str, title: str, body: str, timeout: float) -> tuple[bool, str | None]:
    """Send one message to one Apprise URL; (delivered, why not)."""
    import apprise  # only the daemon sends: every other command starts faster without it

    client = apprise.Apprise()
    if not client.add(target):
        return False, "not a valid Apprise URL"
    result = client.notify(body=body, title=title, timeout=timeout)
    if result:
        return True, None
    messages = [entry.message for entry in result.logs() if entry.message]
    return False, (messages[-1] if messages else f"Apprise: {result.status.name.lower()}")[:500]


def backoff(attempts: int, settings: NotifySettings) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return min(settings.retry * 2 ** max(attempts - 1, 0), settings.retry_max)


@dataclass
class PassReport:
    enqueued: int = 0
    sent: int = 0
    failed: int = 0


class Dispatcher:
    """One per daemon; ``run`` is the job the scheduler calls after each crawl and periodically."""

    def __init__(
        self,
        archive: Archive,
        config: Config,
        settings: NotifySettings,
        logger: logging.Logger,
        stopping: threading.Event | None = None,
        sender: Sender = apprise_send,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.archive, self.config, self.settings, self.log = archive, config, settings, logger
        self.stopping = stopping or threading.Event()
        self.sender = sender
        self.clock = clock  # the tests' clock makes back-off independent of how fast they run
        self.wanted = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Run passes while more are wanted; a call during a pass makes that pass go round again."""
        self.wanted.set()
        while self.wanted.is_set() and not self.stopping.is_set():
            if not self._lock.acquire(blocking=False):
                return  # the running pass sees ``wanted`` and loops
            try:
                while self.wanted.is_set() and not self.stopping.is_set():
                    self.wanted.clear()
                    self.pass_once()
            finally:
                self._lock.release()

    def pass_once(self) -> PassReport:
        report = PassReport()
        for run_id in self.archive.settle_abandoned():  # a killed crawl's changes are not held back
            log_event(self.log, "crawl.abandoned", logging.WARNING, run_id=run_id)
        for site in self.config.sites:
            try:
                with self.archive.writing() as session:
                    done = enqueue(session, self.config, site, self.clock())
            except IntegrityError:  # another dispatcher took these changes in first: it sends them
                continue
            if done.changes:
                report.enqueued += done.deliveries
                log_event(self.log, "notify.enqueued", site=site, changes=done.changes,
                          deliveries=done.deliveries, baseline=done.baseline or None)
        started = time.monotonic()
        with self.archive.reading() as session:
            due = due_deliveries(session, self.clock())
        down: set[str] = set()
        for delivery_id, target in due:
            if self.stopping.is_set() or time.monotonic() - started > self.settings.pass_budget:
                break
            if target in down:
                continue
            if not self._send(delivery_id, report):
                down.add(target)
        return report

    def _send(self, delivery_id: int, report: PassReport) -> bool:
        lease = timedelta(seconds=self.settings.send_timeout * 2 + 30)
        with self.archive.writing() as session:
            row = claim_delivery(session, delivery_id, self.clock(), lease)
        if row is None:
            return True  # sent or claimed meanwhile by someone else
        try:
            ok, error = self.sender(row.target, row.title, row.body, self.settings.send_timeout)
        except Exception as exc:  # a broken plugin must not stop the dispatcher
            self.log.debug("Apprise raised while sending delivery %s", delivery_id, exc_info=True)
            ok, error = False, f"{type(exc).__name__}: {exc}"
        with self.archive.writing() as session:
            done = finish_delivery(session, delivery_id, self.clock(), ok, error,
                                   lambda attempts: backoff(attempts, self.settings))
        if done is None:  # its change was deleted meanwhile: nothing left to mark
            return ok
        fields: dict[str, Any] = dict(site=row.site, change=row.change_id, delivery=row.id,
                                      target=shown_target(row.target), attempt=done.attempts)
        if ok:
            report.sent += 1
            log_event(self.log, "notify.sent", **fields)
        else:
            report.failed += 1
            log_event(self.log, "notify.failed", logging.WARNING, **fields, error=error, retry_in=done.retry_in)
        return ok
