"""``python -m bench.echoes``: the echo index at scale: 100,000 versions indexed one by one, then lookups.

A synthetic corpus (a seeded generator: words drawn from a Zipf distribution over 20,000
Vietnamese-like syllables, 3 to 5 paragraphs of 30 to 60 words; one report in ten republishes an
earlier one on another site, whole, edited or as an excerpt of a third) is recorded as articles
and versions and indexed incrementally, ``--batch`` versions per transaction, exactly as the
recording path does (``storage.echoes.index_version``). Then ``--lookups`` texts (half of them
excerpts of indexed reports, half new) are looked up: the LSH band probes plus the signature
estimate (``lookup``), and the whole judgement with the exact confirmation on the candidates'
texts (``candidates`` + shingle overlap). The baseline is a brute-force scan of every stored
signature in memory (numpy), measured in the same run. Memory: the process's peak resident set
and the archive's size on disk.

Example:
  python -m bench.echoes                       # 100,000 versions in a temporary SQLite archive
  python -m bench.echoes --versions 20000 --db postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, text as sql

from storage.archive import Archive
from storage.content import VN_TZ, Content
from storage.echoes import candidates, index_version, lookup
from storage.models import ArticleRow, VersionRow
from storage.models_echoes import EchoBandRow, EchoIndexRow, EchoRow
from storage.derived import echo_of
from storage.shingles import CHANCE, DTYPE, PERMUTATIONS, estimate, overlap, shingles

SITES = [f"site{n:02d}" for n in range(40)]
ONSETS = ["b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "r", "s",
          "t", "th", "tr", "v", "x", ""]
RHYMES = ["a", "à", "á", "ai", "an", "ang", "anh", "ao", "âm", "ân", "ất", "ây", "e", "em", "ên", "ết", "i", "inh",
          "iên", "o", "oa", "ong", "ô", "ôi", "ông", "ơ", "ơn", "u", "uy", "ung", "ư", "ước", "ương", "ượng"]


class Corpus:
    """Seeded reports: fresh ones, and republications of earlier ones."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        syllables = sorted({o + r for o in ONSETS for r in RHYMES})
        words = {self.rng.choice(syllables) + (f" {self.rng.choice(syllables)}" if self.rng.random() < 0.3 else "")
                 for _ in range(30000)}
        self.words = sorted(words)[:20000]
        ranks = np.arange(1, len(self.words) + 1)
        self.weights = (1 / ranks) / (1 / ranks).sum()

    def paragraph(self) -> str:
        count = int(self.rng.randrange(30, 61))
        picks = self.np.choice(len(self.words), size=count, p=self.weights)
        return " ".join(self.words[i] for i in picks).capitalize() + "."

    def fresh(self) -> str:
        return "\n".join(self.paragraph() for _ in range(self.rng.randrange(3, 6)))

    def republished(self, text: str) -> str:
        lines = text.splitlines()
        how = self.rng.random()
        if how < 0.4:
            return text
        if how < 0.7:
            third = max(1, len(lines) // 3)
            start = self.rng.randrange(0, len(lines) - third + 1)
            return "\n".join(lines[start:start + third])
        lines[self.rng.randrange(len(lines))] = self.paragraph()
        return "\n".join(lines)


def build(archive: Archive, corpus: Corpus, versions: int, batch: int) -> tuple[list[float], list[str]]:
    """Record and index ``versions`` reports, ``batch`` per transaction; seconds per version, texts."""
    texts: list[str] = []
    per_version: list[float] = []
    start = datetime(2024, 1, 1, tzinfo=VN_TZ)
    while len(texts) < versions:
        with archive.writing() as session:
            rows = []
            for _ in range(min(batch, versions - len(texts))):
                n = len(texts)
                echo = texts and corpus.rng.random() < 0.1
                text = corpus.republished(corpus.rng.choice(texts[-5000:])) if echo else corpus.fresh()
                texts.append(text)
                at = start + timedelta(minutes=n)
                content = Content(title=f"Bài {n}", text=text, published_at=at)
                article = ArticleRow(site=SITES[n % len(SITES)], url=f"https://x.vn/{n}", title=content.title,
                                     first_seen_at=at, last_checked_at=at, last_changed_at=at, current_version=1,
                                     content_hash=content.fingerprint(), published_at=at, gone_signals=0,
                                     failed_checks=0, search_text="")
                rows.append((article, content))
            session.add_all(a for a, _ in rows)
            session.flush()
            session.add_all(VersionRow(article_id=a.id, version=1, fetched_at=a.first_seen_at, title=c.title,
                                       text=c.text, content_hash=a.content_hash, published_at=c.published_at)
                            for a, c in rows)
            session.flush()
            for article, content in rows:
                began = time.perf_counter()
                index_version(session, article, content, article.first_seen_at)
                per_version.append(time.perf_counter() - began)
        if len(texts) % 10000 < batch:
            print(f"  {len(texts):>7} indexed, {statistics.mean(per_version[-batch:]) * 1000:.2f} ms/version",
                  flush=True)
    return per_version, texts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echoes", description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="versions per transaction")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--db", help="archive URL (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="tgwatch-bench-echoes-")
    path = Path(tmp.name) / "archive.db"
    url = args.db or f"sqlite:///{path}"
    corpus = Corpus(args.seed)
    with Archive.open(url) as archive:
        began = time.perf_counter()
        per_version, texts = build(archive, corpus, args.versions, args.batch)
        total = time.perf_counter() - began
        with archive.reading() as session:
            count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
            bands, echoes = count(EchoBandRow), count(EchoRow)
            tables: dict[str, int] = dict(session.execute(sql(  # SQLite: the index's bytes on disk, per table (dbstat)
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name IN ('echo_bands', 'echo_index') GROUP BY name"
            )).all()) if session.get_bind().dialect.name == "sqlite" else {}
            stored = session.execute(select(EchoIndexRow.signature).where(EchoIndexRow.signature.is_not(None)))
            matrix = np.frombuffer(b"".join(s for (s,) in stored), dtype=DTYPE).reshape(-1, PERMUTATIONS)
        probes, judged, scans, cpu, hits = [], [], [], [], 0
        queries = [(corpus.republished(corpus.rng.choice(texts)), True) if i % 2 else (corpus.fresh(), False)
                   for i in range(args.lookups)]
        with archive.reading() as session:
            for text, planted in queries:
                found = shingles(text)
                echo = echo_of(text)
                sig = echo.signature or b""
                c0, t0 = time.process_time(), time.perf_counter()
                near = lookup(session, "query-site", echo)
                t1, c1 = time.perf_counter(), time.process_time()
                confirmed = [a for a, c in candidates(session, "query-site", echo)
                             if overlap(found, shingles(c.text))[1] >= 0.5]
                t2 = time.perf_counter()
                mine = np.frombuffer(sig, dtype=DTYPE)
                best = np.nonzero(((matrix == mine).mean(axis=1) - CHANCE) / (1 - CHANCE) >= 0.2)[0]
                t3 = time.perf_counter()
                probes.append(t1 - t0)
                cpu.append(c1 - c0)
                judged.append(t2 - t0)
                scans.append(t3 - t2)
                hits += planted and bool(confirmed)
                del near, best
        estimate(sig, [])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in Path(tmp.name).glob("archive.db*")) / 2**20 if not args.db else float("nan")
    ms = lambda xs, q: sorted(xs)[int(q * (len(xs) - 1))] * 1000  # noqa: E731
    print(f"\nindex of {len(texts):,} versions built incrementally in {total:.0f} s "
          f"({statistics.mean(per_version) * 1000:.2f} ms per version indexed, "
          f"p95 {ms(per_version, 0.95):.2f} ms); {bands:,} band rows, {echoes:,} echoes found")
    if tables:
        print("bytes on disk: " + ", ".join(f"{name} {size:,} ({size / len(texts):.0f} per version)"
                                            for name, size in sorted(tables.items())))
    print(f"{'lookup of one text':<40}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'x scan':>9}")
    base = statistics.median(scans)
    for name, xs in (("LSH probes + signature estimate", probes), ("… + exact confirmation (judgement)", judged),
                     ("baseline: scan of all signatures", scans)):
        print(f"{name:<40}{ms(xs, 0.5):>10.2f}{ms(xs, 0.95):>9.2f}{ms(xs, 1.0):>9.2f}"
              f"{statistics.median(xs) / base:>9.2f}")
    print(f"LSH lookup CPU time: median {ms(cpu, 0.5):.2f} ms, p95 {ms(cpu, 0.95):.2f} ms "
          "(wall times above include waiting for a shared CPU)")
    print(f"planted republications found: {hits}/{args.lookups // 2}")
    print(f"memory: peak resident {peak:.0f} MiB (the index lives in the database: the scan baseline holds "
          f"{matrix.nbytes / 2**20:.0f} MiB of signatures); archive on disk {size:.0f} MiB")
    tmp.cleanup()


if __name__ == "__main__":
    main()
