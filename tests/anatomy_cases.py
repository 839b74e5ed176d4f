"""The planted edits of ``fixtures/anatomy/edits.toml``: each case as (old, new, gold findings)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.anatomy import Finding
from storage.content import Content

CASES_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "anatomy" / "edits.toml"


@dataclass(frozen=True)
class EditCase:
    name: str
    note: str
    old: Content
    new: Content
    gold: list[Finding]


def _content(fields: dict[str, Any], paragraphs: list[list[str]]) -> Content:
    lead = fields["lead"] or None
    body = [" ".join(s for s in p if s) for p in paragraphs]
    lines = ([lead] if lead else []) + [line for p in body for line in p.split("\n") if line]
    return Content(title=fields["title"], text="\n".join(lines), lead=lead, author=fields["author"] or None,
                   category=fields["category"] or None,
                   published_at=datetime.fromisoformat(fields["published"]))


def _edited(base: list[list[str]], case: dict[str, Any]) -> list[list[str]]:
    paragraphs = [list(p) for p in base]
    for p, s, old, new in case.get("edits", []):
        sentence = paragraphs[p][s]
        assert sentence.count(old) == 1, f"{case['name']}: {old!r} not once in {sentence!r}"
        paragraphs[p][s] = sentence.replace(old, new)
    if "split" in case:
        p, first = case["split"]
        paragraphs[p] = [" ".join(paragraphs[p][:first]) + "\n" + " ".join(paragraphs[p][first:])]
    for after, text in reversed(case.get("add", [])):
        paragraphs.insert(after + 1, [text])
    order = case.get("order") or list(range(len(paragraphs)))
    return [paragraphs[i] for i in order if i not in case.get("drop", [])]


def load_cases() -> list[EditCase]:
    data = tomllib.loads(CASES_FILE.read_text("utf-8"))
    base = data["base"]
    fields = {k: base[k] for k in ("title", "lead", "author", "category", "published")}
    old = _content(fields, base["paragraphs"])
    cases = []
    for case in data["cases"]:
        new_fields = {k: case.get(k, v) for k, v in fields.items()}
        new = _content(new_fields, _edited(base["paragraphs"], case))
        gold = [Finding(*(x or None for x in f)) for f in case["findings"]]
        cases.append(EditCase(case["name"], case["note"], old, new, gold))
    return cases
