"""The extraction pool dies with the crawl: a crawl killed with SIGKILL leaves no process behind.

A ``ProcessPoolExecutor``'s workers wait for work on a pipe they hold both ends of, so they never
see their owner go; the owner here is a small script starting the pool exactly as a crawl does
(``ExtractPipeline.start_pool``, from a short-lived thread). Its process tree is read from /proc.
``crawler.lifeline`` is also checked alone, with a pidfd and with the polling fallback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWNER = """
import os, sys, time
from crawler.pipelines import ExtractPipeline

pipeline = ExtractPipeline(None, 2, sys.argv[1])
pipeline.start_pool()
pool = pipeline.pool.result(timeout=120)
pool.submit(os.getpid).result(timeout=120)
print("ready", flush=True)
time.sleep(300)
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree in /proc")


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Every process below ``root``, with its start time (a pid reused later is not it)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append((int(entry.name), stat[2]))
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for pid, started in children.get(todo.pop(), []):
            found[pid] = started
            todo.append(pid)
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return str(pid)


def _alive(pid: int, started: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in ("Z", "X")  # a zombie has ended


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_sigkill_of_the_crawl_ends_its_extraction_workers(start_method: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    owner = subprocess.Popen([sys.executable, "-c", OWNER, start_method], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        tree = _descendants(owner.pid)  # the pool started both workers before it was handed out
        assert len(tree) >= 2, tree
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 5
        while (left := [pid for pid, started in tree.items() if _alive(pid, started)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == [], [_command(pid) for pid in left]
    finally:
        try:
            os.killpg(owner.pid, signal.SIGKILL)  # whatever outlived it (the old code's workers)
        except ProcessLookupError:
            pass
        owner.wait()


WATCHER = """
import os, sys, time
if sys.argv[2] == "poll":
    del os.pidfd_open  # as on a system without pidfds
from crawler import lifeline
lifeline.POLL_SECONDS = 0.05
lifeline.hold(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("how", ["pidfd", "poll"])
def test_a_held_process_ends_with_its_owner(how: str) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(owner.pid), how], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().strip() == "watching"
        assert watcher.poll() is None  # alive while its owner is
        owner.kill()
        owner.wait()
        assert watcher.wait(timeout=10) == 1
    finally:
        owner.kill()
        watcher.kill()
        watcher.wait()


BORROWER = """
import os
from crawler.pool import extraction_pool, return_pool

first = extraction_pool(1, "forkserver", borrowed=True)
second = extraction_pool(1, "forkserver", borrowed=True)  # a crawl running beside the first
worker = first.submit(os.getpid).result(timeout=120)
return_pool(first)
print("shared", first is second, flush=True)
print("after one", os.path.exists(f"/proc/{worker}"), second.submit(os.getpid).result(timeout=60) == worker, flush=True)
return_pool(second)
print("after both", os.path.exists(f"/proc/{worker}"), flush=True)
print("next crawl", extraction_pool(1, "forkserver", borrowed=True) is not first, flush=True)
"""


def test_a_pool_ends_its_workers_when_the_last_crawl_using_it_gives_it_back() -> None:
    """Crawls at once share the workers; the last one's ``return_pool`` ends them (their memory back
    before the crawl's closing work); a later crawl gets a new pool."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", BORROWER], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["shared True", "after one True True", "after both False", "next crawl True"]
