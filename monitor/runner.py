"""One crawl of one site in a child process, with a time limit and a memory limit.

The daemon must outlive every crawl: a crash, a hang, a runaway allocation or a site answering
garbage ends the child, never the daemon. The child is the ordinary ``tgwatch crawl SITE``
command, which records its own ``crawl_runs`` row; when the child dies before finishing that row
(killed, out of memory, timed out) the runner completes it (or creates it, if the child died
before starting it) so that ``tgwatch status`` always tells what happened.

The child runs in a session of its own: a Ctrl-C at the terminal reaches the daemon only, and the
daemon stops its children in order (SIGTERM, a grace period, then SIGKILL to the whole group,
which also takes down the crawl's extraction workers).

A dead child is reaped only once its run is settled: until then it stays a zombie, its pid still
taken, so the sweeps of abandoned runs (``storage.runs``: another crawl starting, the outbox,
``status``) leave its run to the runner, which knows how it ended.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any

from monitor.settle import RunReport, settle_run
from storage.archive import Archive
from storage.types import now

_POLL = 0.1  # seconds between checks of a running child: the daemon's reaction time to a stop


@dataclass(frozen=True)
class RunnerSettings:
    """Limits of one crawl child (``tgwatch daemon`` options)."""

    timeout: float = 3600.0
    """``--crawl-timeout``: seconds a crawl may run before it is stopped and recorded as ``timeout``."""
    memory_mb: int = 2048
    """``--crawl-memory``: address-space limit of the child in MiB (``RLIMIT_AS``); 0 for none.
    A crawl with its extraction workers runs in well under 512 MiB."""
    term_grace: float = 5.0
    """Seconds between SIGTERM and SIGKILL when a crawl is stopped (timeout or daemon shutdown)."""
    crawl_settings: tuple[str, ...] = ()
    """``--crawl-set NAME=VALUE``: Scrapy/``TGWATCH_*`` settings handed to each crawl (``-s``)."""
    log_dir: str | None = None
    """``--crawl-logs DIR``: keep each crawl's log (stderr) as ``DIR/<site>-<time>.log``; by default
    only its last line survives, in the run's error."""


ARENAS = 2
"""glibc malloc arenas of a memory-limited crawl child (``MALLOC_ARENA_MAX``): each reserves 64 MiB of
address space, up to eight per core, which ``RLIMIT_AS`` counts although it is never used; with a
crawl's threads (reactor, recording, pool start, DNS) a 768 MiB limit once left none to start a
thread ("can't start new thread"). Two are shared by the threads: only the reactor and the
recording thread are busy."""


def _limit_memory(limit: int) -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class CrawlRunner:
    """Runs ``tgwatch crawl SITE`` children; one runner serves every site of a daemon."""

    def __init__(
        self,
        archive: Archive,
        env: dict[str, str],
        config_path: str | None,
        settings: RunnerSettings = RunnerSettings(),
        stopping: threading.Event | None = None,
        browser_sites: frozenset[str] = frozenset(),
    ) -> None:
        self.archive = archive
        self.browser_sites = browser_sites  # render = "browser": no RLIMIT_AS (Chromium reserves terabytes)
        self.env = env
        self.config_path = config_path
        self.settings = settings
        self.stopping = stopping or threading.Event()

    def command(self, site: str) -> list[str]:
        """The child's argv; the archive URL travels in ``TGWATCH_DB`` so no password shows in ``ps``."""
        config = ["--config", self.config_path] if self.config_path else []
        settings = [arg for pair in self.settings.crawl_settings for arg in ("-s", pair)]
        return [sys.executable, "-m", "monitor.cli", *config, "crawl", site, *settings]

    def run(self, site: str) -> RunReport:
        """Crawl ``site`` once; never raises for anything the child did."""
        env = dict(self.env)
        # Chromium reserves address space by the terabyte (V8's sandbox) and dies under any RLIMIT_AS;
        # a browser crawl's memory is bounded by its own means instead (crawler/browser.py).
        limit = 0 if site in self.browser_sites else self.settings.memory_mb * 1024 * 1024
        if limit > 0:  # glibc reserves 64 MiB of address space per thread's malloc arena: under RLIMIT_AS
            env.setdefault("MALLOC_ARENA_MAX", str(ARENAS))  # a few threads then could not start at all
        launched, clock = now(), time.monotonic()
        with tempfile.TemporaryFile() as out, self._log_file(site, launched) as err:
            proc = subprocess.Popen(
                self.command(site),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
                preexec_fn=functools.partial(_limit_memory, limit) if limit > 0 else None,
            )
            try:
                stop_reason, killed = self._wait(proc)
                returncode = _exit_status(proc.pid)
                _kill_group(proc.pid)  # leftovers of a crashed crawl (extraction workers)
                summary = _last_line(out)
                problem = _last_line(err, prefer="tgwatch: error:")
                error = None
                if stop_reason == "timeout":
                    error = f"no result after {self.settings.timeout:g} s: " + ("killed" if killed else "terminated")
                elif stop_reason is None and returncode != 0:
                    error = _exit_text(returncode, problem)
                report = settle_run(self.archive, site, proc.pid, launched, stop_reason, returncode, error, summary)
            finally:
                proc.wait()  # reaped only now (see the module docstring)
        return replace(report, seconds=round(time.monotonic() - clock, 3))

    def _log_file(self, site: str, launched: datetime) -> IO[bytes]:
        if not self.settings.log_dir:
            return tempfile.TemporaryFile()
        os.makedirs(self.settings.log_dir, exist_ok=True)
        name = f"{site}-{launched.strftime('%Y%m%dT%H%M%S.%f')}.log"
        return open(os.path.join(self.settings.log_dir, name), "w+b")

    def _wait(self, proc: subprocess.Popen[Any]) -> tuple[str | None, bool]:
        """Wait for the child; stop it on timeout or daemon stop. Returns (why stopped, SIGKILLed)."""
        deadline = time.monotonic() + self.settings.timeout
        while True:
            if _exited(proc.pid, _POLL):
                return None, False
            if self.stopping.is_set():
                return "interrupted", self._terminate(proc)
            if time.monotonic() >= deadline:
                return "timeout", self._terminate(proc)

    def _terminate(self, proc: subprocess.Popen[Any]) -> bool:
        """SIGTERM (the crawl records itself as interrupted), then SIGKILL after the grace period."""
        proc.send_signal(signal.SIGTERM)
        if _exited(proc.pid, self.settings.term_grace):
            return False
        _kill_group(proc.pid)
        _exited(proc.pid, None)
        return True


def _exited(pid: int, timeout: float | None) -> bool:
    """Whether child ``pid`` ended within ``timeout`` seconds (None: wait for it), without reaping it."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _exit_status(pid: int) -> int:
    """The exit status of the ended, unreaped child ``pid``, as ``Popen.returncode`` gives it
    (minus the signal that killed it)."""
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    assert info is not None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _last_line(stream: IO[bytes], prefer: str | None = None, tail: int = 16384) -> str | None:
    """The last non-empty line of a child's output (or the last one starting with ``prefer``)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - tail))
    lines = [ln.strip() for ln in stream.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    if prefer:
        preferred = [ln for ln in lines if ln.startswith(prefer)]
        if preferred:
            return preferred[-1][:500]
    return lines[-1][:500] if lines else None


def _exit_text(returncode: int, problem: str | None) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {returncode}" + (f": {problem}" if problem else "")
