"""The anatomy of an edit: what kind of change turned one version of a report into the next.

``analyse(old, new)`` returns findings, one per thing a reader would name:

- ``cosmetic``: a sentence, paragraph or field that differs only in spelling, diacritics,
  punctuation, spacing or letter case ("ph biến" → "phổ biến", "uỷ" → "ủy");
- ``number``: a number that changed, old → new, with its sentence as ``context``;
- ``name``: a name (person, place, body, with its title) added, removed or replaced;
- ``sentence_added`` / ``sentence_removed`` / ``sentence_reworded``: sentences aligned one by one;
- ``paragraph_moved``: a paragraph now elsewhere (``before``/``after`` are its positions, 1-based);
- ``field``: title, lead, author (byline), category or publication time changed.

A sentence whose only differences are numbers or names gets only those findings; one with other
word changes is also ``sentence_reworded``. ``cosmetic`` is reported only where nothing else
changed in the same sentence or field, so an edit is *substantive* exactly when it has a finding
of another kind. The lead is a field of its own and is the text's first line; it is taken out of
the text before the text is compared, so a new lead is one finding, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from storage.content import Content, normalise_text
from storage.textdiff import longest_increasing, opcodes, ratio
from storage.vntext import Name, Token, cosmetic_span, fold, is_cosmetic, names, sentences, tokens


PAIR_SIMILARITY = 0.5
"""Share of words two sentences must have in common to be one sentence reworded."""

_CONNECTORS = frozenset({"va", "cung", "voi"})  # words that come and go with a listed name

MOVE_PAIRS = 10_000
"""Most paragraph pairs compared for likeness when looking for moved paragraphs (a long report's
other paragraphs are paired only with their identical twins: the work stays near-linear)."""
ALIGN_WINDOW = 50
"""Sentences looked ahead for the likeliest partner of a reworded sentence, in a long block."""


@dataclass(frozen=True)
class Finding:
    kind: str
    field: str
    before: str | None = None
    after: str | None = None
    context: str | None = None


def substance(findings: list[Finding]) -> str:
    return "cosmetic" if all(f.kind == "cosmetic" for f in findings) else "substantive"


def analyse(old: Content, new: Content) -> list[Finding]:
    """Findings for every field that changed between ``old`` and ``new``, in field order."""
    a, b = old.normalised(), new.normalised()
    found: list[Finding] = []
    for name in ("title", "lead"):
        found += _phrase_field(name, getattr(a, name), getattr(b, name))
    found += _text(_body(a), _body(b))
    for name in ("author", "category"):
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            kind = "cosmetic" if before and after and is_cosmetic(before, after) else "field"
            found.append(Finding(kind, name, before, after))
    if a.published_at != b.published_at:
        shown = [t.isoformat() if t else None for t in (a.published_at, b.published_at)]
        found.append(Finding("field", "published_at", shown[0], shown[1]))
    return found


def _body(content: Content) -> list[str]:
    """The text's paragraphs without the lead line it starts with."""
    lines = content.text.split("\n") if content.text else []
    if content.lead and lines and lines[0] == normalise_text(content.lead):
        lines = lines[1:]
    return lines


def _phrase_field(name: str, before: str | None, after: str | None) -> list[Finding]:
    """Title or lead: one ``field`` finding, with the numbers and names changed inside it."""
    if before == after:
        return []
    if before and after and is_cosmetic(before, after):
        return [Finding("cosmetic", name, before, after)]
    found = [Finding("field", name, before, after)]
    if before and after:
        found += _pair(name, before, after).findings
    elif after or before:
        found += _names_alone(name, before, after)
    return found


def _names_alone(field: str, before: str | None, after: str | None) -> list[Finding]:
    text = after or before or ""
    return [Finding("name", field, None if after else n.text, n.text if after else None, text)
            for n in names(tokens(text))]


@dataclass
class _Pair:
    findings: list[Finding]
    reworded: bool
    cosmetic: bool


def _pair(field: str, before: str, after: str) -> _Pair:
    """Numbers, names and other word changes between two aligned sentences."""
    a, b = tokens(before), tokens(after)
    names_a, names_b = names(a), names(b)
    in_a = {i for n in names_a for i in range(n.start, n.stop)}
    in_b = {i for n in names_b for i in range(n.start, n.stop)}
    out: list[Finding] = []
    reworded = cosmetic = False
    for op, i1, i2, j1, j2 in opcodes([t.key for t in a], [t.key for t in b]):
        if op == "equal":
            continue
        span_a, span_b = a[i1:i2], b[j1:j2]
        nums_a, nums_b = [t for t in span_a if t.number], [t for t in span_b if t.number]
        for x, y in zip_longest(nums_a, nums_b):
            if x is None or y is None or x.key != y.key:
                out.append(Finding("number", field, x.raw if x else None, y.raw if y else None, after))
        words_a = [(i, t) for i, t in enumerate(span_a, i1) if not t.number]
        words_b = [(j, t) for j, t in enumerate(span_b, j1) if not t.number]
        if not words_a and not words_b:
            continue
        if _named(words_a, in_a) and _named(words_b, in_b) and (
                any(i in in_a for i, _ in words_a) or any(j in in_b for j, _ in words_b)):
            continue
        if not nums_a and not nums_b and cosmetic_span(span_a, span_b):
            cosmetic = True
            continue
        reworded = True
    out += _name_changes(field, names_a, names_b, after or before)
    return _Pair(out, reworded, cosmetic and not out and not reworded)


def _named(words: list[tuple[int, Token]], inside: set[int]) -> bool:
    return all(i in inside or t.key in _CONNECTORS for i, t in words)


def _name_changes(field: str, old: list[Name], new: list[Name], context: str) -> list[Finding]:
    """Names gone and come between two aligned sentences, paired in order as replacements."""
    gone = [n for n in old if not any(n.key == m.key or is_cosmetic(n.text, m.text) for m in new)]
    came = [m for m in new if not any(n.key == m.key or is_cosmetic(n.text, m.text) for n in old)]
    out = [Finding("name", field, x.text if x else None, y.text if y else None, context)
           for x, y in zip_longest(gone, came)]
    return out


def _text(old: list[str], new: list[str]) -> list[Finding]:
    """Paragraphs first: those out of order are moved; the rest are aligned in order and what
    differs is read sentence by sentence."""
    moved = _moved(old, new)
    out: list[Finding] = []
    for i, j in sorted(moved.items(), key=lambda m: m[1]):
        out.append(Finding("paragraph_moved", "text", str(i + 1), str(j + 1), new[j]))
        out += _sentences([old[i]], [new[j]])
    rest_a = [p for i, p in enumerate(old) if i not in moved]
    rest_b = [p for j, p in enumerate(new) if j not in moved.values()]
    keys_a, keys_b = [fold(p) for p in rest_a], [fold(p) for p in rest_b]
    for op, i1, i2, j1, j2 in opcodes(keys_a, keys_b):
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                out += _cosmetic(rest_a[i], rest_b[j])
        else:
            out += _sentences(rest_a[i1:i2], rest_b[j1:j2])
    return out


def _moved(old: list[str], new: list[str]) -> dict[int, int]:
    """Paragraphs paired with their most alike counterpart; pairs out of the longest in-order
    chain are moved (old index → new index).

    A long report (more than ``MOVE_PAIRS`` pairs to compare) first pairs paragraphs that occur
    once, identical, on each side, and compares only the rest, if few enough."""
    candidates_a, candidates_b = list(range(len(old))), list(range(len(new)))
    pairs: dict[int, int] = {}
    if len(old) * len(new) > MOVE_PAIRS:
        pairs = _twins(old, new)
        taken = set(pairs.values())
        candidates_a = [i for i in candidates_a if i not in pairs]
        candidates_b = [j for j in candidates_b if j not in taken]
        if len(candidates_a) * len(candidates_b) > MOVE_PAIRS:
            candidates_a = candidates_b = []
    words_a = {i: [t.key for t in tokens(old[i])] for i in candidates_a}
    words_b = {j: [t.key for t in tokens(new[j])] for j in candidates_b}
    scored = []
    for i, wa in words_a.items():
        for j, wb in words_b.items():
            if 2.0 * min(len(wa), len(wb)) / ((len(wa) + len(wb)) or 1) < PAIR_SIMILARITY:
                continue  # SequenceMatcher.real_quick_ratio
            alike = ratio(wa, wb)
            if alike >= PAIR_SIMILARITY:
                scored.append((-alike, abs(i - j), i, j))
    for _, _, i, j in sorted(scored):
        if i not in pairs and j not in pairs.values():
            pairs[i] = j
    ordered = sorted(pairs.items())
    chain = _in_order(ordered) if len(ordered) <= MOVE_PAIRS // 20 else set(longest_increasing(ordered))
    return {i: j for i, j in pairs.items() if (i, j) not in chain}


def _twins(old: list[str], new: list[str]) -> dict[int, int]:
    """Paragraphs that occur exactly once on each side, identical: old index → new index."""
    once_a: dict[str, int] = {}
    for i, p in enumerate(old):
        once_a[p] = -1 if p in once_a else i
    once_b: dict[str, int] = {}
    for j, p in enumerate(new):
        once_b[p] = -1 if p in once_b else j
    return {i: once_b[p] for p, i in once_a.items() if i >= 0 and once_b.get(p, -1) >= 0}


def _in_order(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The longest chain of pairs increasing in both indices (pairs sorted by old index)."""
    best: list[list[tuple[int, int]]] = []
    for pair in pairs:
        before = [c for c in best if c[-1][1] < pair[1]]
        longest = max(before, key=lambda chain: len(chain)) if before else []
        best.append(longest + [pair])
    longest_chain: list[tuple[int, int]] = max(best, key=lambda chain: len(chain)) if best else []
    return set(longest_chain)


def _cosmetic(old: str, new: str) -> list[Finding]:
    """Cosmetic twins: one finding per sentence that differs, or one for the whole when the
    sentences themselves were cut differently (a paragraph split, two sentences joined)."""
    if old == new:
        return []
    sa = [s for p in old.split("\n") for s in sentences(p)]
    sb = [s for p in new.split("\n") for s in sentences(p)]
    if sa == sb or len(sa) != len(sb) or any(fold(x) != fold(y) for x, y in zip(sa, sb)):
        return [Finding("cosmetic", "text", old, new)]
    return [Finding("cosmetic", "text", x, y) for x, y in zip(sa, sb) if x != y]


def _sentences(old: list[str], new: list[str]) -> list[Finding]:
    if not old and not new:
        return []
    if old and new and fold(" ".join(old)) == fold(" ".join(new)):
        return _cosmetic("\n".join(old), "\n".join(new))
    sa = [s for p in old for s in sentences(p)]
    sb = [s for p in new for s in sentences(p)]
    keys_a, keys_b = [fold(s) for s in sa], [fold(s) for s in sb]
    out: list[Finding] = []
    for op, i1, i2, j1, j2 in opcodes(keys_a, keys_b):
        if op == "equal":
            out += [Finding("cosmetic", "text", sa[i], sb[j])
                    for i, j in zip(range(i1, i2), range(j1, j2)) if sa[i] != sb[j]]
            continue
        pairs = _align(sa[i1:i2], sb[j1:j2])
        paired_a = {i for i, _ in pairs}
        paired_b = {j for _, j in pairs}
        events: list[tuple[int, int, Finding]] = []
        for i, j in pairs:
            before, after = sa[i1 + i], sb[j1 + j]
            result = _pair("text", before, after)
            if result.cosmetic or not (result.findings or result.reworded):
                events.append((i, j, Finding("cosmetic", "text", before, after)))
                continue
            if result.reworded:
                events.append((i, j, Finding("sentence_reworded", "text", before, after)))
            events += [(i, j, f) for f in result.findings]
        events += [(i, -1, Finding("sentence_removed", "text", sa[i1 + i], None))
                   for i in range(i2 - i1) if i not in paired_a]
        events += [(-1, j, Finding("sentence_added", "text", None, sb[j1 + j]))
                   for j in range(j2 - j1) if j not in paired_b]
        out += [f for _, _, f in sorted(events, key=lambda e: (max(e[0], e[1]), e[0]))]
    return out


def _align(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of the most alike sentences, in order, each alike enough to be one reworded.

    In a long block each sentence looks ``ALIGN_WINDOW`` sentences ahead, not to the end."""
    words_a = [[t.key for t in tokens(s)] for s in old]
    words_b = [[t.key for t in tokens(s)] for s in new]
    window = len(words_b) if len(words_a) * len(words_b) <= MOVE_PAIRS else ALIGN_WINDOW
    pairs: list[tuple[int, int]] = []
    last = -1
    for i, wa in enumerate(words_a):
        best, best_j = PAIR_SIMILARITY, -1
        for j in range(last + 1, min(len(words_b), last + 1 + window)):
            alike = ratio(wa, words_b[j])
            if alike >= best:
                best, best_j = alike, j
        if best_j >= 0:
            pairs.append((i, best_j))
            last = best_j
    return pairs
