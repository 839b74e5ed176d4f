"""Issue 9, item 5: ``diff`` in near-linear time (a 650 KB report's word diff took > 300 s).

The complexity is proved by counting work (``storage.textdiff.Work``), not by a clock: the work
grows in proportion to the text. On small inputs the result is difflib's exactly; on large ones
it is a valid diff that keeps nearly every unchanged word. One end-to-end ``tgwatch diff`` of a
650 KB report runs with a generous bound (the timings themselves belong in ``bench/``).
"""

from __future__ import annotations

import random
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.diff import tokens, word_diff
from storage.anatomy import analyse
from storage.archive import Archive
from storage.content import Content
from storage.textdiff import GAP_CELLS, MAX_DEPTH, RUNS, Work, opcodes, ratio
from tests.plugins.archive import fetched

SYLLABLES = (
    "của và các trong được cho những với là một đã có này để người không tỉnh ủy ban tuyên giáo đảng bộ "
    "hội nghị triển khai nhiệm vụ công tác năm 2024 thực hiện nghị quyết cán bộ đảng viên nhân dân"
).split()


def report(size: int, seed: int = 1) -> str:
    """Paragraphs of Vietnamese syllables, about ``size`` bytes: a tiny vocabulary, the hard case."""
    rng = random.Random(seed)
    paragraphs, total = [], 0
    while total < size:
        paragraph = " ".join(rng.choice(SYLLABLES) for _ in range(rng.randint(20, 120))) + "."
        paragraphs.append(paragraph)
        total += len(paragraph.encode()) + 1
    return "\n".join(paragraphs)


def edited(text: str, edits: int, seed: int = 2) -> str:
    rng = random.Random(seed)
    paragraphs = text.split("\n")
    for _ in range(edits):
        k = rng.randrange(len(paragraphs))
        words = paragraphs[k].split()
        words[rng.randrange(len(words))] = "SỬA"
        paragraphs[k] = " ".join(words)
    paragraphs.insert(len(paragraphs) // 3, "Một đoạn mới được thêm vào giữa bài.")
    del paragraphs[2 * len(paragraphs) // 3]
    return "\n".join(paragraphs)


def _check(a: list[str], b: list[str], ops: list[tuple[str, int, int, int, int]]) -> int:
    """The opcodes cover both sides in order, and 'equal' is equal; the number of equal items."""
    i = j = same = 0
    for op, i1, i2, j1, j2 in ops:
        assert (i1, j1) == (i, j) and i2 >= i1 and j2 >= j1
        if op == "equal":
            assert a[i1:i2] == b[j1:j2]
            same += i2 - i1
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))
    return same


@pytest.mark.parametrize("seed", range(30))
def test_small_inputs_give_difflibs_result(seed: int) -> None:
    rng = random.Random(seed)
    a = [rng.choice("abcdef") for _ in range(rng.randint(0, 150))]
    b = [rng.choice("abcdef") for _ in range(rng.randint(0, 150))]
    assert opcodes(a, b) == SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert ratio(a, b) == pytest.approx(SequenceMatcher(None, a, b, autojunk=False).ratio())


def test_large_diff_is_valid_and_keeps_unchanged_words() -> None:
    old = report(650_000)
    a, b = tokens(old), tokens(edited(old, 60))
    work = Work()
    same = _check(a, b, opcodes(a, b, work))
    assert same >= 0.99 * min(len(a), len(b))


def test_work_grows_linearly() -> None:
    """Twice the text, about twice the work; and the work is within the bound the design states."""
    costs = []
    for size in (160_000, 320_000, 640_000):
        old = report(size, seed=size)
        a, b = tokens(old), tokens(edited(old, size // 10_000, seed=size))
        work = Work()
        _check(a, b, opcodes(a, b, work))
        n = len(a) + len(b)
        assert work.cells <= int(GAP_CELLS**0.5) * n
        assert work.scanned <= sum(RUNS) * (MAX_DEPTH + 1) * n
        costs.append((work.scanned + work.cells) / n)
    assert max(costs) <= 8, costs  # work per item bounded by a small constant: linear, not quadratic
    assert costs[2] <= 1.5 * costs[1], costs  # twice the text, not four times the work per item


def test_unrelated_texts_are_one_replacement_not_a_quadratic_search() -> None:
    a = tokens(report(300_000, seed=5))
    b = tokens(report(300_000, seed=6))
    work = Work()
    _check(a, b, opcodes(a, b, work))
    assert work.scanned + work.cells <= 300 * (len(a) + len(b))


def test_word_diff_and_anatomy_of_a_650_kb_report() -> None:
    old = report(650_000)
    new = edited(old, 60)
    pieces = word_diff(old, new)
    assert sum(len(p.words) for p in pieces if p.op == "insert") < 400
    findings = analyse(Content(title="Báo cáo", text=old), Content(title="Báo cáo", text=new))
    kinds = {f.kind for f in findings}
    assert "sentence_added" in kinds or "sentence_reworded" in kinds
    assert len(findings) < 300


def test_tgwatch_diff_of_a_650_kb_report(tmp_path: Path) -> None:
    """End to end, with a generous bound: before, this ran for more than 300 s."""
    import time

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    old = report(650_000)
    with Archive.open(url) as archive:
        archive.record("s", "https://x.vn/a-1", fetched(0, text=old, lead=""))
        archive.record("s", "https://x.vn/a-1", fetched(5, text=edited(old, 60), lead=""))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--db", url, "diff", "1"])
    assert result.exit_code == 0, result.output
    assert "SỬA" in result.stdout
    assert time.monotonic() - started < 120
