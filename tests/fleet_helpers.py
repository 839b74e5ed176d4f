"""Helpers of the fleet tests: a frontier of the test's own in the real Redis, worker processes,
``tgwatch enqueue --wait``, a Redis server of the test's own (to restart) and a TCP proxy in
front of PostgreSQL (to cut).

Each test gets its own key prefix, so parallel tests and other users of the shared Redis never
see each other's keys; the keys are deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from crawler.frontier import Frontier
from tests.crawl_helpers import FAST, ROOT, settings_args, tgwatch
from tests.orphans import end_with_parent

FLEET = {**FAST, "TGWATCH_FLEET_VISIBILITY": "8", "TGWATCH_FLEET_POLL": "0.05", "TGWATCH_FLEET_POLL_MAX": "0.5",
         "TGWATCH_REDIS_TIMEOUT": "1"}
"""Worker settings for the tests: the fixture sites' fast settings, short leases."""


def unique_prefix() -> str:
    return f"tgwatch-test-{uuid.uuid4().hex[:12]}"


@contextmanager
def frontier_of(redis_url: str) -> Iterator[Frontier]:
    frontier = Frontier.connect(redis_url, unique_prefix())
    try:
        yield frontier
    finally:
        with suppress(Exception):
            frontier.clear()
        frontier.close()


class Workers:
    """``tgwatch worker`` child processes on one frontier."""

    def __init__(self, db: str, config: Path, redis_url: str, prefix: str, log_dir: Path,
                 settings: dict[str, str] | None = None) -> None:
        self.db, self.config, self.redis_url, self.prefix = db, config, redis_url, prefix
        self.log_dir = log_dir
        self.settings = {**FLEET, **(settings or {})}
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1, *, pin: int | None = None) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            n = len(self.procs)
            command = [sys.executable, "-m", "monitor.cli", "--db", self.db, "--config", str(self.config),
                       "worker", "--redis", self.redis_url, "--redis-prefix", self.prefix,
                       *settings_args(self.settings)]
            if pin is not None and shutil.which("taskset"):
                command = ["taskset", "-c", str(pin), *command]
            log = (self.log_dir / f"worker-{n}.log").open("wb")
            proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
                                    preexec_fn=end_with_parent)
            self.procs.append(proc)
            started.append(proc)
        return started

    def log(self, n: int) -> str:
        return (self.log_dir / f"worker-{n}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- worker {n}\n{self.log(n)[-4000:]}" for n in range(len(self.procs)))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(proc)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def enqueue(db: str, config: Path, redis_url: str, prefix: str, *sites: str, recheck: str = "all",
            timeout: float = 120) -> str:
    """``tgwatch enqueue --wait``; returns its summary line."""
    result = tgwatch(db, "enqueue", *sites, "--redis", redis_url, "--redis-prefix", prefix, "--recheck", recheck,
                     "--wait", "--timeout", str(timeout), config=config, timeout=timeout + 30)
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own on a free port, persisting every write (AOF, fsync
    always) so that a restart keeps the frontier, as a production frontier must be run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class TcpProxy:
    """A TCP proxy to ``target`` that can be cut (every connection dropped, new ones refused)
    and restored: a PostgreSQL outage without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.open = threading.Event()
        self.open.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            for sock in self.conns:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()
            self.conns.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()
