"""The anatomy of an edit as a reader sees it: one line per finding (``storage.anatomy``).

Shared by ``tgwatch diff``, ``tgwatch changes``, the Atom feed and notifications, so that each
says the same thing the same way: ``number: 3.450 → 3.540 (in "Có 3.540 đảng viên…")``.
"""

from __future__ import annotations

from collections import Counter

from storage.anatomy import Finding, substance

WIDTH = 120
LABELS = {
    "cosmetic": "cosmetic", "number": "number", "name": "name", "sentence_added": "sentence added",
    "sentence_removed": "sentence removed", "sentence_reworded": "sentence reworded",
    "paragraph_moved": "paragraph moved", "field": "changed",
}


def clip(text: str | None, width: int = WIDTH) -> str:
    if text is None:
        return "—"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def line(f: Finding) -> str:
    """One finding in words."""
    where = "" if f.field == "text" else f" [{f.field}]"
    if f.kind == "paragraph_moved":
        return f"paragraph moved: {f.before} → {f.after}: {clip(f.context, 80)}"
    if f.kind == "sentence_added":
        return f"sentence added{where}: {clip(f.after)}"
    if f.kind == "sentence_removed":
        return f"sentence removed{where}: {clip(f.before)}"
    if f.kind in ("number", "name"):
        if f.before is None:
            change = f"+ {f.after}"
        elif f.after is None:
            change = f"- {f.before}"
        else:
            change = f"{f.before} → {f.after}"
        return f"{f.kind}{where}: {clip(change, 80)} (in \"{clip(f.context, 70)}\")"
    return f"{LABELS[f.kind]}{where}: {clip(f.before, 80)} → {clip(f.after, 80)}"


def lines(findings: list[Finding]) -> list[str]:
    """``edit: substantive`` (or ``cosmetic``), then a line per finding."""
    if not findings:
        return []
    return [f"edit: {substance(findings)}"] + [line(f) for f in findings]


def summary(findings: list[Finding]) -> str:
    """A short count by kind, for a table cell: ``number×2, name, sentence_added``."""
    counts = Counter(f.kind for f in findings)
    return ", ".join(k if n == 1 else f"{k}×{n}" for k, n in counts.items())
