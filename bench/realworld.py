"""``python -m bench.realworld PATH``: generic mode against plain trafilatura on real pages with ground truth.

``PATH`` is a directory laid out like the Article Extraction Benchmark's (scrapinghub, MIT): ``html/<id>.html.gz``
(decoded as UTF-8 with replacement, as the benchmark does) and ``ground-truth.json`` (``{id: {url,
articleBody}}``). The project ships none of these pages: the path is given on the command line.

The metric is the benchmark's own (its ``evaluate.py``): tokens are ``\\w+`` runs, shingles runs of four
tokens (a text of one to three tokens is one shingle); per page the predicted and true shingle multisets
give tp, fp, fn, each divided by tp+fp+fn so every page weighs the same; precision is the mean over pages
where something was predicted, recall the mean over pages with ground truth, F1 of those means.

tgwatch reads each page twice: in generic mode (the ``generic`` profile: no site knowledge at all) and
as a new site configured with only its name and URLs (no profile: its CMS family recognised when it has
one). Its text is title-less, as the ground truth is: lead and body. Every page tgwatch refuses is listed with its
reason, and marked when trafilatura extracts it (the bench's requirement is that none is).

Example:
  python -m bench.realworld /path/to/aeb-dev
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura

from crawler.extract import NoArticle, read_article
from crawler.profiles import GENERIC, SiteProfile, builtin_profiles

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """The multiset of runs of ``n`` consecutive tokens (a shorter, non-empty text is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def page_scores(predicted: str, truth: str) -> tuple[float, float, float]:
    """tp, fp, fn of one page, each divided by tp+fp+fn (every page weighs the same)."""
    got, want = shingles(predicted), shingles(truth)
    tp = sum((got & want).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


@dataclass
class Score:
    """Totals of one extractor over the pages."""

    name: str
    rows: list[tuple[float, float, float, bool, bool]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, predicted: str, truth: str) -> None:
        tp, fp, fn = page_scores(predicted, truth)
        self.rows.append((tp, fp, fn, bool(shingles(predicted)), bool(shingles(truth))))

    @property
    def precision(self) -> float:
        rows = [(tp, fp) for tp, fp, _, said, _ in self.rows if said]
        return sum(tp / (tp + fp) if tp + fp else 0.0 for tp, fp in rows) / len(rows) if rows else 0.0

    @property
    def recall(self) -> float:
        rows = [(tp, fn) for tp, _, fn, _, truth in self.rows if truth]
        return sum(tp / (tp + fn) if tp + fn else 0.0 for tp, fn in rows) / len(rows) if rows else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    html: str
    truth: str


def load_pages(path: Path) -> list[Page]:
    """The benchmark's pages under ``path``, in id order."""
    truth = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        file = path / "html" / f"{key}.html.gz"
        if file.exists():
            html = gzip.decompress(file.read_bytes()).decode("utf-8", errors="replace")
            pages.append(Page(key, truth[key]["url"], html, truth[key].get("articleBody") or ""))
    return pages


def tgwatch(profile: SiteProfile | None) -> Callable[[Page], tuple[str, str | None]]:
    """tgwatch's text (lead and body) with ``profile`` and, for a refused page, why."""
    def run(page: Page) -> tuple[str, str | None]:
        found = read_article(page.html, page.url, profile)
        if isinstance(found, NoArticle):
            return "", found.reason
        return found.text, None
    return run


def trafilatura_text(page: Page) -> tuple[str, str | None]:
    return trafilatura.extract(page.html, url=page.url) or "", None


def run(pages: list[Page], extractors: dict[str, Callable[[Page], tuple[str, str | None]]],
        ) -> tuple[list[Score], dict[str, dict[str, str]], dict[str, set[str]]]:
    scores = {name: Score(name) for name in extractors}
    refused: dict[str, dict[str, str]] = {name: {} for name in extractors}
    found: dict[str, set[str]] = {name: set() for name in extractors}
    for page in pages:
        for name, extractor in extractors.items():
            start = time.perf_counter()
            text, reason = extractor(page)
            scores[name].seconds += time.perf_counter() - start
            scores[name].add(text, page.truth)
            if shingles(text):
                found[name].add(page.key)
            if reason is not None:
                refused[name][page.key] = reason
    return list(scores.values()), refused, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realworld", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="directory holding html/<id>.html.gz and ground-truth.json")
    args = parser.parse_args(argv)
    if not (args.path / "ground-truth.json").is_file():
        parser.error(f"{args.path}: no ground-truth.json there")
    pages = load_pages(args.path)
    scores, refused, found = run(pages, {"tgwatch (generic)": tgwatch(builtin_profiles()[GENERIC]),
                                         "tgwatch (new site, CMS recognised)": tgwatch(None),
                                         "trafilatura.extract (baseline)": trafilatura_text})
    *ours, base = scores
    print(f"{len(pages)} pages from {args.path}")
    print(f"{'extractor':<34}{'prec':>7}{'recall':>8}{'F1':>7}{'ms/page':>9}{'F1 x':>7}")
    for s in scores:
        print(f"{s.name:<34}{s.precision:>7.3f}{s.recall:>8.3f}{s.f1:>7.3f}"
              f"{1000 * s.seconds / max(1, len(pages)):>9.1f}{s.f1 / (base.f1 or 1):>7.2f}")
    urls = {p.key: p.url for p in pages}
    failed = False
    for score in ours:
        lost = {key for key in refused[score.name] if key in found[base.name]}
        print(f"refused by {score.name}: {len(refused[score.name])} pages, "
              f"{len(lost)} of them extracted by trafilatura")
        for key, reason in sorted(refused[score.name].items()):
            mark = "  (trafilatura extracts it)" if key in lost else ""
            print(f"  {key[:12]} {urls[key]}: {reason}{mark}")
        failed = failed or bool(lost) or score.f1 < base.f1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
