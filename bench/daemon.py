"""``python -m bench.daemon``: does the daemon's memory stay flat over many crawl cycles?

A real ``tgwatch daemon`` runs the three fixture sites every second (each crawl a real ``tgwatch
crawl`` child, polite delays off) into a fresh SQLite archive, with a local JSON webhook as its
Apprise target; the fixtures move to v2 halfway, so the dispatcher has changes to announce. The
daemon's resident memory (``VmRSS`` of the daemon process only, never its children) is read after
20 and after 200 finished crawls. A leak of a few kB per cycle shows as a difference of megabytes.

Example:
  python -m bench.daemon                # 200 cycles
  python -m bench.daemon --cycles 60 --sites tuyengiao
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fixtures.config import LOOPBACK_SETTINGS, setting_args, site_config
from fixtures.testing import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
FAST = {**LOOPBACK_SETTINGS, "RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "5", "TGWATCH_EXTRACT_WORKERS": "0",
        "TGWATCH_RECHECK": "all"}


class Hook(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def finished_runs(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM crawl_runs WHERE outcome != 'running'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="finished crawls to wait for")
    parser.add_argument("--sites", nargs="+", default=["tuyengiao", "longan", "quangtri"])
    args = parser.parse_args()

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="tgwatch-bench-"))
    db = work / "archive.db"
    with FixtureServer() as server:
        every_second = '[[sites]]\nschedule = "every 1 second"\n'
        body = site_config(server.url, sites=args.sites).replace("[[sites]]\n", every_second)
        config = work / "tgwatch.toml"
        config.write_text(f'notify = ["json://127.0.0.1:{hook.server_port}/hook"]\n\n{body}', encoding="utf-8")
        command = [sys.executable, "-m", "monitor.cli", "--db", f"sqlite:///{db}", "--config", str(config), "daemon",
                   "--jitter", "0", "--workers", str(len(args.sites)), "--notify-interval", "5",
                   *setting_args(FAST, "--crawl-set")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        started = time.monotonic()
        with (work / "daemon.log").open("wb") as log:
            daemon = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log)
        marks: dict[int, int] = {}
        switched = False
        try:
            while len(marks) < 2:
                done = finished_runs(db)
                if daemon.poll() is not None:
                    raise SystemExit(f"daemon exited with {daemon.returncode}; see {work / 'daemon.log'}")
                for mark in (20, args.cycles):
                    if done >= mark and mark not in marks:
                        marks[mark] = rss_kib(daemon.pid)
                        print(f"after {done:>4} cycles ({time.monotonic() - started:6.1f} s): "
                              f"daemon RSS {marks[mark] / 1024:.1f} MiB", flush=True)
                if not switched and done >= args.cycles // 2:
                    server.set_version("v2")
                    switched = True
                time.sleep(0.5)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=30)
    growth = (marks[args.cycles] - marks[20]) / 1024
    print(json.dumps({"cycles": args.cycles, "sites": args.sites, "rss_mib_after_20": round(marks[20] / 1024, 1),
                      f"rss_mib_after_{args.cycles}": round(marks[args.cycles] / 1024, 1),
                      "growth_mib": round(growth, 1), "notifications": Hook.received, "exit_code": code,
                      "seconds": round(time.monotonic() - started, 1), "work_dir": str(work)}))
    hook.shutdown()


if __name__ == "__main__":
    main()
