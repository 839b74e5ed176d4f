"""``python -m bench.fleet``: how a crawl scales with workers on the shared frontier.

A CPU-bound job: a large generated site (plain HTML, long articles, no politeness limit) served
from memory, crawled into a fresh PostgreSQL database by 1 and then 2 ``tgwatch worker``
processes, each pinned to a core of its own with ``taskset`` to stand for one machine. Redis is a
``redis-server`` of the bench's own and the archive a database of its own, so the Redis commands
and PostgreSQL transactions counted per page are the crawl's alone. Prints seconds, pages/s and
the speed-up of 2 workers over 1 (measured in this run), and what each page costs the shared
servers.

Example:
  python -m bench.fleet
  python -m bench.fleet --articles 800 --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fixtures.config import LOOPBACK_SETTINGS, setting_args
from storage.archive import Archive

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("cán bộ đảng viên tuyên truyền nghị quyết hội nghị tỉnh ủy huyện ủy ban tuyên giáo triển khai "
         "nhiệm vụ công tác năm nay đồng chí phó bí thư thường trực chỉ đạo học tập làm theo tư tưởng "
         "đạo đức phong cách cơ sở nhân dân đoàn thể mặt trận tổ quốc kết quả đạt được phát huy vai trò").split()
PER_LISTING = 20


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 28))]
    return " ".join(words).capitalize() + "."


def build_site(articles: int, seed: int = 7) -> dict[str, bytes]:
    """path -> page: a home page linking every listing page, listings of 20 articles, articles of
    about 40 paragraphs (what makes the crawl CPU-bound: extraction and recording)."""
    rng = random.Random(seed)
    pages: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    listings = (articles + PER_LISTING - 1) // PER_LISTING
    links = "".join(f'<li><a href="/tin-tuc?page={n}">Trang {n}</a></li>' for n in range(1, listings + 1))
    pages["/"] = f"<html><body><h1>Tin tức</h1><ul>{links}</ul></body></html>".encode()
    for n in range(1, listings + 1):
        items = "".join(f'<li><a href="/bai-viet/bai-{i}-{1000 + i}">Bài {i}</a></li>'
                        for i in range((n - 1) * PER_LISTING, min(n * PER_LISTING, articles)))
        pages[f"/tin-tuc?page={n}"] = f"<html><body><h1>Tin tức trang {n}</h1><ul>{items}</ul></body></html>".encode()
    for i in range(articles):
        title = sentence(rng)[:-1]
        body = "".join(f"<p>{' '.join(sentence(rng) for _ in range(4))}</p>" for _ in range(40))
        day = 1 + i % 28
        pages[f"/bai-viet/bai-{i}-{1000 + i}"] = (
            f'<html><head><title>{title}</title></head><body><nav><a href="/">Trang chủ</a></nav>'
            f'<article><h1>{title}</h1><p class="date">Thứ hai, {day:02d}/05/2024 08:{i % 60:02d}</p>'
            f'{body}<p class="author">Trường Giang</p></article><footer>Liên kết website</footer></body></html>'
        ).encode()
    return pages


@contextmanager
def serve(pages: dict[str, bytes]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            ctype = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_redis(directory: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                             "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def own_database(pg: str) -> Iterator[str]:
    name = f"tgwatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def transactions(db: str) -> int:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")) or 0)
    finally:
        engine.dispose()


def redis_commands(url: str) -> int:
    stats = redis.Redis.from_url(url).info("stats")
    return int(stats["total_commands_processed"])


def tgwatch(db: str, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), *args]


def run(workers: int, site: str, pg: str, tmp: Path, settings: dict[str, str]) -> dict[str, float]:
    """One crawl of the site by ``workers`` pinned workers (started first, not timed)."""
    config = tmp / "tgwatch.toml"
    config.write_text(f'[[sites]]\nname = "bench"\nstart_urls = ["{site}/"]\narticle_url = \'/bai-viet/\'\n'
                      f"follow_url = '\\?page=\\d+$'\n", encoding="utf-8")
    cores = os.sched_getaffinity(0)
    with own_redis(tmp) as redis_url, own_database(pg) as db:
        Archive.open(db).close()  # migrated once, before the workers
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = []
        for n in range(workers):
            command = tgwatch(db, config, "worker", "--redis", redis_url, "--log-level", "WARNING",
                              *setting_args(settings))
            if shutil.which("taskset") and len(cores) > n:
                command = ["taskset", "-c", str(sorted(cores)[n]), *command]
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL))
        try:
            time.sleep(4)  # workers up and idle on the frontier
            before_tx, before_redis = transactions(db), redis_commands(redis_url)
            started = time.perf_counter()
            enqueue = tgwatch(db, config, "enqueue", "--redis", redis_url, "--wait", "--recheck", "none")
            done = subprocess.run(enqueue, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - started
            tx, commands = transactions(db) - before_tx, redis_commands(redis_url) - before_redis
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
    line = done.stdout.strip().splitlines()[-1]
    pages = int(line.split(",")[0].split()[-1])
    return {"seconds": seconds, "pages": pages, "tx": tx, "redis": commands, "summary": line}  # type: ignore[dict-item]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--pg", default=os.environ.get("TGWATCH_TEST_PG",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args(argv)
    settings = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "64", "CONCURRENT_REQUESTS": "64",
                "TGWATCH_EXTRACT_WORKERS": "1", "TGWATCH_FLEET_PREFETCH": "32", "ROBOTSTXT_OBEY": "True"}
    pages = build_site(args.articles)
    cores = sorted(os.sched_getaffinity(0))
    print(f"site: {args.articles} articles of ~40 paragraphs, {len(pages)} pages; cores {cores}")
    results = {}
    with serve(pages) as site, tempfile.TemporaryDirectory(prefix="tgwatch-bench-fleet-") as tmp:
        for workers in (1, 2):
            results[workers] = run(workers, site, args.pg, Path(tmp), settings)
            result = results[workers]
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {result['summary']}", flush=True)
    print()
    print("workers  pages  seconds  pages/s  speed-up  redis cmds/page  pg transactions/page")
    base = results[1]["seconds"]
    for workers, r in results.items():
        print(f"{workers:>7}  {r['pages']:>5}  {r['seconds']:>7.2f}  {r['pages'] / r['seconds']:>7.1f}  "
              f"{base / r['seconds']:>7.2f}x  {r['redis'] / r['pages']:>15.1f}  {r['tx'] / r['pages']:>20.2f}")


if __name__ == "__main__":
    main()
