"""Helpers of the daemon tests: a real ``tgwatch daemon`` subprocess and what it left in the archive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fixtures.config import LOOPBACK_SETTINGS, setting_args, site_config
from fixtures.testing import FixtureServer
from storage.archive import Archive
from storage.models import CrawlRunRow
from tests.orphans import end_with_parent

ROOT = Path(__file__).resolve().parent.parent
FAST_CRAWL = {
    **LOOPBACK_SETTINGS,
    "RETRY_TIMES": "0",
    "DOWNLOAD_TIMEOUT": "5",
    "TGWATCH_EXTRACT_WORKERS": "0",  # no process pool to start in every short crawl
    "TGWATCH_RECHECK": "all",  # removals need two checks: every cycle re-checks every article
}


def write_config(directory: Path, server: FixtureServer, sites: list[str], schedule: str,
                 notify: list[str] = ()) -> Path:  # type: ignore[assignment]
    body = site_config(server.url, sites=sites).replace("[[sites]]\n", f'[[sites]]\nschedule = "{schedule}"\n')
    head = f"notify = {json.dumps(list(notify))}\n\n" if notify else ""
    path = directory / "tgwatch.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


class Daemon:
    """``tgwatch daemon`` in a child process, logging JSON lines to a file."""

    def __init__(self, directory: Path, db: str, config: Path, *options: str,
                 env: dict[str, str] | None = None) -> None:
        self.log = directory / f"daemon-{time.monotonic_ns()}.log"
        settings = setting_args(FAST_CRAWL, "--crawl-set")
        command = [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "daemon",
                   "--log-format", "json", "--jitter", "0", "--notify-retry", "0.5", "--notify-interval", "1",
                   "--crawl-timeout", "120", "--crawl-logs", str(directory / "crawl-logs"), *settings, *options]
        environment = {**os.environ, **(env or {}),
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with self.log.open("wb") as stderr:
            self.proc = subprocess.Popen(command, cwd=directory, env=environment, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=end_with_parent)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = [line for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]
        parsed = [json.loads(line) for line in lines]  # every line must be one JSON object
        return [e for e in parsed if name is None or e.get("event") == name]

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Signal the daemon; (exit code, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc.poll() is None


def runs(db: str, site: str | None = None) -> list[CrawlRunRow]:
    with Archive.open(db) as archive, archive.reading() as session:
        query = select(CrawlRunRow).order_by(CrawlRunRow.id)
        if site:
            query = query.where(CrawlRunRow.site == site)
        return list(session.scalars(query))


def wait_for(what: str, check: Callable[[], bool], daemon: Daemon, timeout: float = 150.0,
             every: float = 0.25) -> None:
    """Poll ``check`` until true; fail with the daemon's log tail if it dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not daemon.alive():
            raise AssertionError(f"daemon exited ({daemon.proc.returncode}) waiting for {what}:\n"
                                 + daemon.log.read_text(encoding="utf-8")[-3000:])
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}:\n" + daemon.log.read_text(encoding="utf-8")[-3000:])


class Receiver:
    """A JSON webhook (Apprise ``json://``) on a fixed loopback port that can fail or go away."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[dict[str, Any]] = []
        self.status = 200
        self.hits = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.hits += 1
                    status = receiver.status
                    if status == 200:
                        receiver.messages.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def titles(self) -> list[str]:
        with self._lock:
            return [m["title"] for m in self.messages]
