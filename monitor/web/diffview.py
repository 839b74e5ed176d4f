"""Two versions of an article as word-level diff rows, for the report's side-by-side and inline views.

Paragraphs are aligned first (``storage.textdiff.opcodes`` over paragraphs: difflib's result, in
near-linear time), then each pair of replaced paragraphs is diffed word by word with
``monitor.diff.word_diff``, the same diff ``tgwatch diff`` prints. Changed words that hold a digit
or start with a capital letter (numbers, dates, names of people and places) are marked so the page
can make them stand out, and are listed apart as "key changes". Everything here is plain data: the templates escape it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from storage.textdiff import opcodes

from monitor.diff import Piece, join, word_diff
from storage.content import Content, normalise_text

_DIGIT = re.compile(r"\d")
KEY_CHANGES = 20
CONTEXT_ROWS = 1  # unchanged paragraphs shown on each side of a changed one
KEY_WORDS = 8  # a longer replacement is a rewritten passage, not a changed figure or name
FIELD_LABELS = {
    "title": "Title",
    "lead": "Lead",
    "author": "Byline",
    "category": "Category",
    "published_at": "Published",
}


@dataclass(frozen=True)
class Word:
    text: str
    mark: str  # "" | "num" | "name"


@dataclass(frozen=True)
class Segment:
    op: str  # "equal" | "delete" | "insert"
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Row:
    """One aligned paragraph: old and new side by side, and the merged inline form."""

    old: tuple[Segment, ...]
    new: tuple[Segment, ...]
    inline: tuple[Segment, ...]
    changed: bool
    skipped: int = 0  # > 0: stands for this many unchanged paragraphs left out


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    old: str
    new: str
    inline: tuple[Segment, ...]  # word diff of the value


@dataclass
class VersionDiff:
    fields: list[FieldChange] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    key_changes: list[tuple[str, str]] = field(default_factory=list)  # (old, new) words

    @property
    def same(self) -> bool:
        return not self.fields and not any(row.changed for row in self.rows)


def mark(word: str) -> str:
    if _DIGIT.search(word):
        return "num"
    return "name" if word[:1].isupper() else ""


def _segment(op: str, words: tuple[str, ...] | list[str]) -> Segment:
    marked = op != "equal"
    return Segment(op, tuple(Word(w, mark(w) if marked else "") for w in words if w != "\n"))


def _sides(pieces: list[Piece]) -> Row:
    old = tuple(_segment(p.op, p.words) for p in pieces if p.op != "insert")
    new = tuple(_segment(p.op, p.words) for p in pieces if p.op != "delete")
    inline = tuple(_segment(p.op, p.words) for p in pieces)
    return Row(old, new, inline, any(p.op != "equal" for p in pieces))


def _rows(old_text: str, new_text: str) -> list[Row]:
    a = normalise_text(old_text).split("\n") if old_text else []
    b = normalise_text(new_text).split("\n") if new_text else []
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            rows += [_sides([Piece("equal", tuple(p.split()))]) for p in a[i1:i2]]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            before = olds[k] if k < len(olds) else ""
            after = news[k] if k < len(news) else ""
            rows.append(_sides(word_diff(before, after)))
    return rows


def collapse(rows: list[Row], context: int = CONTEXT_ROWS) -> list[Row]:
    """Unchanged paragraphs more than ``context`` away from a change become one "skipped" row."""
    near = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.changed:
            for k in range(max(0, index - context), min(len(rows), index + context + 1)):
                near[k] = True
    out: list[Row] = []
    for index, row in enumerate(rows):
        if near[index] or not any(near):
            out.append(row)
        elif out and out[-1].skipped:
            out[-1] = replace(out[-1], skipped=out[-1].skipped + 1)
        else:
            out.append(Row((), (), (), False, 1))
    return out


def key_changes(pieces: list[Piece], limit: int = KEY_CHANGES) -> list[tuple[str, str]]:
    """Replaced or added/removed words that hold a number or a name, as (old, new)."""
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(pieces) and len(found) < limit:
        piece = pieces[index]
        if piece.op == "equal":
            index += 1
            continue
        old = join(piece.words) if piece.op == "delete" else ""
        new = join(piece.words) if piece.op == "insert" else ""
        if piece.op == "delete" and index + 1 < len(pieces) and pieces[index + 1].op == "insert":
            new = join(pieces[index + 1].words)
            index += 1
        index += 1
        words = (old + " " + new).split()
        if len(words) <= KEY_WORDS and any(mark(w) for w in words):
            found.append((old.replace("\n", " ").strip(), new.replace("\n", " ").strip()))
    return found


def _shown(content: Content, name: str) -> str:
    value = getattr(content.normalised(), name)
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" ", timespec="minutes"))
    return str(value or "")


def diff_versions(old: Content, new: Content) -> VersionDiff:
    result = VersionDiff()
    for name in old.changed_fields(new):
        if name == "text" or name not in FIELD_LABELS:
            continue
        before, after = _shown(old, name), _shown(new, name)
        inline = _sides(word_diff(before, after)).inline
        result.fields.append(FieldChange(name, FIELD_LABELS[name], before, after, inline))
    result.rows = collapse(_rows(old.text, new.text))
    pieces = word_diff(normalise_text(old.text), normalise_text(new.text))
    result.key_changes = key_changes(pieces)
    return result
