"""Sequence diffs in near-linear time: ``opcodes(a, b)``, a drop-in for ``SequenceMatcher.get_opcodes``.

``difflib.SequenceMatcher`` (without autojunk) costs about len(a) x len(b) on texts whose words repeat,
as Vietnamese syllables do ("của", "và", "các" ...): a 650 KB report against its next version took
minutes. Here the common head and tail are cut first, then the rest is anchored on items that
occur exactly once on each side (patience diff, as git and Bazaar do: anchors in order by a longest
increasing subsequence), recursively between anchors; only gaps small enough for
``SequenceMatcher`` to be cheap (at most ``GAP_CELLS`` cells) go to it, and a larger gap with no
anchor left is one replacement. The work is therefore bounded by a multiple of len(a) + len(b)
(``Work`` counts it, so the tests can prove the bound rather than time it), and the result is the
same as ``SequenceMatcher``'s wherever the texts are small.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

Opcode = tuple[str, int, int, int, int]

GAP_CELLS = 40_000
"""Largest len(a) x len(b) of a gap handed to ``SequenceMatcher`` (its cost is about that)."""
RUNS = (1, 4, 12)
"""Lengths of the runs tried as anchors, shortest first."""
MAX_DEPTH = 12
"""Levels of re-anchoring inside gaps; deeper gaps go to ``SequenceMatcher`` or become one replacement."""


@dataclass
class Work:
    """What a diff cost: items scanned for anchors, and cells handed to ``SequenceMatcher``."""

    scanned: int = 0
    cells: int = 0


def opcodes(a: Sequence[Hashable], b: Sequence[Hashable], work: Work | None = None) -> list[Opcode]:
    """``SequenceMatcher(None, a, b, autojunk=False).get_opcodes()``, in near-linear time."""
    work = work if work is not None else Work()
    if len(a) * len(b) <= GAP_CELLS:
        work.cells += len(a) * len(b)
        found: list[Opcode] = list(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
        return found
    raw: list[Opcode] = []
    _diff(a, b, 0, len(a), 0, len(b), 0, raw, work)
    return _merge(raw)


def _diff(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int, depth: int,
    out: list[Opcode], work: Work,
) -> None:
    while alo < ahi and blo < bhi and a[alo] == b[blo]:  # common head
        out.append(("equal", alo, alo + 1, blo, blo + 1))
        alo, blo = alo + 1, blo + 1
    tail: list[Opcode] = []
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:  # common tail
        ahi, bhi = ahi - 1, bhi - 1
        tail.append(("equal", ahi, ahi + 1, bhi, bhi + 1))
    if alo == ahi or blo == bhi:
        if alo < ahi or blo < bhi:
            out.append(("replace", alo, ahi, blo, bhi))
    elif (ahi - alo) * (bhi - blo) <= GAP_CELLS:
        work.cells += (ahi - alo) * (bhi - blo)
        for op, i1, i2, j1, j2 in SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False).get_opcodes():
            out.append((op, alo + i1, alo + i2, blo + j1, blo + j2))
    else:
        anchors = _anchors(a, b, alo, ahi, blo, bhi, work) if depth < MAX_DEPTH else []
        if not anchors:
            out.append(("replace", alo, ahi, blo, bhi))
        else:
            i, j = alo, blo
            for ai, bj in anchors:
                _diff(a, b, i, ai, j, bj, depth + 1, out, work)
                out.append(("equal", ai, ai + 1, bj, bj + 1))
                i, j = ai + 1, bj + 1
            _diff(a, b, i, ahi, j, bhi, depth + 1, out, work)
    out.extend(reversed(tail))


def _anchors(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int, work: Work
) -> list[tuple[int, int]]:
    """Starts of runs unique on both sides, as (i, j) pairs, the longest chain increasing in both.

    Single items first; where none is unique (a small vocabulary: syllables repeat), runs of
    ``RUNS`` items, which almost always are."""
    for length in RUNS:
        if length > min(ahi - alo, bhi - blo):
            break
        work.scanned += ((ahi - alo) + (bhi - blo)) * length
        seen_a: dict[Hashable, int] = {}
        for i in range(alo, ahi - length + 1):
            key = a[i] if length == 1 else tuple(a[i:i + length])
            seen_a[key] = -1 if key in seen_a else i
        seen_b: dict[Hashable, int] = {}
        for j in range(blo, bhi - length + 1):
            key = b[j] if length == 1 else tuple(b[j:j + length])
            if seen_a.get(key, -1) >= 0:
                seen_b[key] = -1 if key in seen_b else j
        pairs = sorted((seen_a[key], j) for key, j in seen_b.items() if j >= 0)
        if pairs:
            return longest_increasing(pairs)
    return []


def longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by i) increasing in j: patience sorting."""
    tops: list[int] = []  # smallest last j of an increasing run of each length
    ends: list[int] = []  # index in pairs of that run's last pair
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tops, j)
        back.append(ends[k - 1] if k else -1)
        if k == len(tops):
            tops.append(j)
            ends.append(index)
        else:
            tops[k], ends[k] = j, index
    chain: list[tuple[int, int]] = []
    index = ends[-1] if ends else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def _merge(raw: list[Opcode]) -> list[Opcode]:
    """Adjacent opcodes of one kind joined; a replace with an empty side is a delete or insert."""
    out: list[Opcode] = []
    for op, i1, i2, j1, j2 in raw:
        if i1 == i2 and j1 == j2:
            continue
        if op == "replace":
            op = "delete" if j1 == j2 else "insert" if i1 == i2 else "replace"
        if out and out[-1][0] == op and out[-1][2] == i1 and out[-1][4] == j1:
            out[-1] = (op, out[-1][1], i2, out[-1][3], j2)
        elif out and {out[-1][0], op} <= {"replace", "delete", "insert"} and op != "equal" and out[-1][0] != "equal" \
                and out[-1][2] == i1 and out[-1][4] == j1:
            out[-1] = ("replace", out[-1][1], i2, out[-1][3], j2)
        else:
            out.append((op, i1, i2, j1, j2))
    return out


def ratio(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """``SequenceMatcher.ratio()``: twice the matched items over all items, from ``opcodes``."""
    if not a and not b:
        return 1.0
    matched = sum(i2 - i1 for op, i1, i2, _, _ in opcodes(a, b) if op == "equal")
    return 2.0 * matched / (len(a) + len(b))
