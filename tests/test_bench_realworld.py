"""The real-world bench's metric and its report, on pages written here (no outside page is read)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench.realworld import main, page_scores, shingles

ARTICLE = """<html><head><title>Rain returns to the valley after a long summer - Valley News</title>
<meta property="og:type" content="article"></head><body><header><div class="logo">Valley News</div></header>
<article><header><h1>Rain returns to the valley after a long summer</h1></header>
<p>The first rain in four months fell on the valley on Tuesday, filling the dry river beds and the reservoirs
that the farmers of the region had watched sink all summer long.</p>
<p>Forecasters expect more showers this week, and the water board said the restrictions on garden watering
would stay in place until the reservoirs are at least half full again.</p></article></body></html>"""


def test_shingles_are_runs_of_four_tokens_and_a_short_text_is_one() -> None:
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles("a b") == {("a", "b"): 1}
    assert not shingles("  ")


def test_page_scores_are_shares_of_one_page() -> None:
    assert page_scores("a b c d", "a b c d") == (1.0, 0.0, 0.0)
    tp, fp, fn = page_scores("a b c d e", "a b c d")
    assert (tp, fp, fn) == pytest.approx((0.5, 0.5, 0.0))
    assert page_scores("", "") == (0.0, 0.0, 0.0)


def test_report_lists_refused_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "html").mkdir()
    truth = {}
    for key, html in (("a1", ARTICLE), ("b2", "<html><body><p>Page not found</p></body></html>")):
        (tmp_path / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html.encode()))
        truth[key] = {"url": f"https://valley.example/{key}", "articleBody": "The first rain in four months"}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "2 pages from" in out and "tgwatch (generic)" in out
    assert "refused by tgwatch (generic): 1 pages" in out and "b2 https://valley.example/b2" in out
