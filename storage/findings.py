"""Reading and writing ``edit_findings``: the anatomy of each edit, kept beside its change.

Findings are computed once, when a change is recorded (``storage.recording``), from the change's
two versions, and again when re-extraction corrects one of those versions. Readers (``changes``,
``diff``, the feed, notifications) get them back as ``storage.anatomy.Finding`` values and filter
changes by substance: *cosmetic* when every finding is cosmetic, *substantive* otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased

from storage.anatomy import Finding, analyse
from storage.content import Content
from storage.models import ChangeRow, VersionRow
from storage.models_anatomy import EditFindingRow

ANALYSED_KINDS = ("edited", "restored")
"""Changes whose two versions differ get findings (a restoration may bring new content)."""


def record_findings(session: Session, change_id: int, old: Content, new: Content) -> list[Finding]:
    """Analyse ``old`` → ``new`` and store the findings of change ``change_id``."""
    found = analyse(old, new)
    session.add_all(
        EditFindingRow(change_id=change_id, seq=seq, kind=f.kind, field=f.field,
                       before=f.before, after=f.after, context=f.context)
        for seq, f in enumerate(found)
    )
    return found


def findings_of(session: Session, change_ids: Iterable[int]) -> dict[int, list[Finding]]:
    """The findings of each change, in order (changes without any are absent)."""
    ids = list(change_ids)
    out: dict[int, list[Finding]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(EditFindingRow).where(EditFindingRow.change_id.in_(ids[start:start + 500]))
            .order_by(EditFindingRow.change_id, EditFindingRow.seq)
        )
        for row in rows:
            out[row.change_id].append(Finding(row.kind, row.field, row.before, row.after, row.context))
    return dict(out)


def substance_is(substance: str) -> ColumnElement[bool]:
    """A condition on ``ChangeRow``: an edit that is ``substantive`` or only ``cosmetic``."""
    finding = aliased(EditFindingRow)
    weighty = exists().where(finding.change_id == ChangeRow.id, finding.kind != "cosmetic")
    analysed = exists().where(finding.change_id == ChangeRow.id)
    if substance == "substantive":
        return weighty
    if substance == "cosmetic":
        return and_(analysed, ~weighty)
    raise ValueError(f"unknown substance {substance!r}")


def refresh_version(session: Session, article_id: int, version: int) -> None:
    """Recompute the findings of every change that has ``version`` as one of its two ends."""
    changes = session.scalars(
        select(ChangeRow).where(
            ChangeRow.article_id == article_id, ChangeRow.kind.in_(ANALYSED_KINDS),
            or_(ChangeRow.from_version == version, ChangeRow.to_version == version),
        )
    ).all()
    for change in changes:
        session.execute(delete(EditFindingRow).where(EditFindingRow.change_id == change.id))
        if change.from_version is None or change.to_version is None or change.from_version == change.to_version:
            continue
        old, new = (session.scalars(select(VersionRow).where(
            VersionRow.article_id == article_id, VersionRow.version == number)).one()
            for number in (change.from_version, change.to_version))
        record_findings(session, change.id, old.content(), new.content())
