"""Tables of the edit anatomy (``edit_findings``): what each edit consisted of.

One row per finding of ``storage.anatomy.analyse`` between a change's two versions, written in
the transaction that records the change (migration ``0003`` fills them in for older changes).
Users query the relation by name; see the README's schema section.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.vocabulary import FINDING_KINDS
from storage.models import Base


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EditFindingRow(Base):
    """One finding of one change: kind, the field it is in, the value before and after."""

    __tablename__ = "edit_findings"
    __table_args__ = (
        CheckConstraint(one_of("kind", FINDING_KINDS), name="kind"),
        Index(None, "change_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"))
    seq: Mapped[int]  # order of the findings within the change (field order, then text order)
    kind: Mapped[str] = mapped_column(String(24))
    field: Mapped[str] = mapped_column(String(16))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)  # the sentence of a number or name
