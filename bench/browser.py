"""``python -m bench.browser``: what browser mode costs, over a few hundred client-rendered pages.

Builds two fixture sites from the same generated articles (``--articles``, 300 by default): one
client-rendered (template ``nextjs_spa``, crawled with ``render = "browser"``: every listing and
article page rendered in Chromium) and one server-rendered (template ``nextjs``, plain HTTP, the
baseline). Crawls each once, in a ``tgwatch crawl`` child, sampling the resident memory of the
child and all its descendants (Chromium's processes included; PSS, so pages shared between them
count once) from ``/proc`` every 0.2 s. Prints pages/s, peak RSS, the RSS of the last third of the
crawl against the middle third (flat memory: contexts closed as the crawl goes), and browser mode's
figures as ratios of the baseline's.

Example:
  python -m bench.browser
  python -m bench.browser --articles 100
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fixtures.build import build
from fixtures.config import LOOPBACK_SETTINGS, setting_args
from fixtures.model import DATA_DIR, VN_TZ, load_site
from fixtures.pages import template_of
from fixtures.testing import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"pages fetched (\d+), new (\d+)")


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_data(directory: Path, count: int) -> None:
    """Two data files (``spa``, ``ssr``) of ``count`` articles made from the fixture site's texts."""
    source = load_site(DATA_DIR / "tgdvblogs.toml")
    texts = [e.first for e in source.entries]
    start = datetime(2024, 6, 1, 8, 0, tzinfo=VN_TZ)
    for name, template, render in (("spa", "nextjs_spa", True), ("ssr", "nextjs", False)):
        lines = ["[site]", f"name = {_toml(name)}", f"template = {_toml(template)}",
                 f"title = {_toml(source.title)}"] + (['render = "browser"'] if render else [])
        for slug, title in source.categories.items():
            lines += ["", "[[categories]]", f"slug = {_toml(slug)}", f"name = {_toml(title)}"]
        for n in range(count):
            base = texts[n % len(texts)]
            body = [b.text for b in base.body if b.kind == "p"]
            lines += ["", "[[articles]]", f'key = "bai-{n}"', f"id = {10_000 + n}", f'slug = "bai-viet-so-{n}"',
                      f"category = {_toml(base.category)}",
                      f"published = {_toml((start + timedelta(hours=n)).isoformat())}",
                      f"title = {_toml(f'{base.title} (số {n})')}", f"lead = {_toml(base.lead)}",
                      f"byline = {_toml(base.byline)}", f"author = {_toml(base.author or '')}",
                      f"body = {_toml(body)}"]
        (directory / f"{name}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def config_for(base_url: str, data: Path) -> str:
    blocks = []
    for name in ("spa", "ssr"):
        site = load_site(data / f"{name}.toml")
        tpl = template_of(site)
        base = base_url.rstrip("/")
        starts = [base + tpl.home_path(site)] + [base + tpl.listing_path(site, s, 1) for s in tpl.categories(site)]
        blocks.append("\n".join([
            "[[sites]]", f"name = {_toml(name)}", f"start_urls = {_toml(starts)}",
            f"article_url = {_toml(tpl.article_regex(site))}", f"follow_url = {_toml(tpl.follow_regex(site))}",
        ] + (['render = "browser"'] if site.render else [])))
    return "\n\n".join(blocks) + "\n"


def _pss(pid: int) -> int:
    """Proportional set size of one process in bytes: its RSS with shared pages divided among their
    sharers, so Chromium's many processes (sharing one binary) are not counted many times over."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_rss(pid: int) -> int:
    """Resident memory (PSS) of ``pid`` and every descendant, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for member in tree:
        try:
            total += _pss(member)
        except (OSError, ValueError):
            continue
    return total


def crawl(site: str, config: Path, db: str) -> dict[str, float]:
    """One ``tgwatch crawl SITE``: seconds, pages, peak RSS and RSS by thirds of the run."""
    command = [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "crawl", site,
               *setting_args({**LOOPBACK_SETTINGS, "DOWNLOAD_TIMEOUT": "30", "TGWATCH_LISTING_PAGES": "1000"})]
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - started, tree_rss(proc.pid)))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    match = SUMMARY.search(out)
    if proc.returncode != 0 or match is None:
        raise SystemExit(f"crawl of {site} failed ({proc.returncode}): {err[-2000:]}")

    def third(k: int) -> float:
        part = [r for t, r in samples if k * seconds / 3 <= t < (k + 1) * seconds / 3] or [0]
        return max(part) / 2**20

    return {"seconds": seconds, "pages": int(match.group(1)), "new": int(match.group(2)),
            "peak_mb": max(r for _, r in samples) / 2**20, "middle_mb": third(1), "last_mb": third(2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300, help="articles per site (default 300)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tgwatch-bench-browser-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        write_data(work / "data", args.articles)
        build(work / "out", work / "data")
        with FixtureServer(root=work / "out" / "sites") as server:
            config = work / "tgwatch.toml"
            config.write_text(config_for(server.url, work / "data"), encoding="utf-8")
            results = {site: crawl(site, config, f"sqlite:///{work / site}.db") for site in ("ssr", "spa")}
    for site, r in results.items():
        mode = "browser" if site == "spa" else "http (baseline)"
        print(f"{mode:16} {r['pages']:4d} pages ({r['new']} articles) in {r['seconds']:6.1f} s: "
              f"{r['pages'] / r['seconds']:6.1f} pages/s, peak RSS {r['peak_mb']:6.0f} MB "
              f"(middle third {r['middle_mb']:.0f} MB, last third {r['last_mb']:.0f} MB)")
    spa, ssr = results["spa"], results["ssr"]
    print(f"browser / http: {spa['pages'] / spa['seconds'] / (ssr['pages'] / ssr['seconds']):.2f}x pages/s, "
          f"{spa['peak_mb'] / ssr['peak_mb']:.2f}x peak RSS; browser RSS last/middle third "
          f"{spa['last_mb'] / max(spa['middle_mb'], 1):.2f}")


if __name__ == "__main__":
    main()
