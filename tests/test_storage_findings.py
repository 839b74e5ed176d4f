"""``edit_findings``: written with each edit, recomputed by re-extraction, filled in on upgrade."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import select, text

from storage.archive import Archive
from storage.engine import alembic_config, create_archive_engine
from storage.findings import findings_of, substance_is
from storage.models import ChangeRow
from storage.observation import Verdict
from tests.plugins.archive import content, fetched

URL = "https://example.vn/tin-tuc/bai-viet-1"
TEXT = "Sáng 16/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.\nĐảng bộ tỉnh quán triệt nghị quyết."
NUMBER = TEXT.replace("Đảng bộ tỉnh", "Đảng bộ tỉnh với 3.450 đảng viên")


def rows(archive: Archive) -> list[tuple[Any, ...]]:
    with archive.engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT c.to_version, f.kind, f.field, f.before, f.after FROM edit_findings f "
            "JOIN changes c ON c.id = f.change_id ORDER BY c.id, f.seq"))]


def test_an_edit_is_recorded_with_its_findings(archive: Archive) -> None:
    archive.record("s", URL, fetched(0, url=URL))
    assert archive.record("s", URL, fetched(5, url=URL, title="Ban Tuyên Giáo Trung ương triển khai nhiệm vụ")) \
        == Verdict.EDITED
    assert archive.record("s", URL, fetched(9, url=URL, title="Ban Tuyên Giáo Trung ương triển khai nhiệm vụ",
                                            author="Thu Hà")) == Verdict.EDITED
    assert rows(archive) == [
        (2, "cosmetic", "title", "Ban Tuyên giáo Trung ương triển khai nhiệm vụ",
         "Ban Tuyên Giáo Trung ương triển khai nhiệm vụ"),
        (3, "field", "author", "Trường Giang", "Thu Hà"),
    ]
    with archive.reading() as session:
        cosmetic = session.scalars(select(ChangeRow.to_version).where(substance_is("cosmetic"))).all()
        weighty = session.scalars(select(ChangeRow.to_version).where(substance_is("substantive"))).all()
        ids = session.scalars(select(ChangeRow.id)).all()
        assert sorted(findings_of(session, ids)) == sorted(ids[1:])
    assert (cosmetic, weighty) == ([2], [3])


def test_reextraction_recomputes_the_findings(archive: Archive) -> None:
    archive.record("s", URL, fetched(0, url=URL))
    archive.record("s", URL, fetched(5, url=URL, text=NUMBER))
    assert [r[1:] for r in rows(archive)] == [
        ("sentence_reworded", "text", "Đảng bộ tỉnh quán triệt nghị quyết.",
         "Đảng bộ tỉnh với 3.450 đảng viên quán triệt nghị quyết."),
        ("number", "text", None, "3.450")]
    version_2 = archive.article_versions(URL)[1]
    archive.rederive(version_2.id, content(text=TEXT.replace("quán triệt", "quán triêt")))
    assert rows(archive) == [(2, "cosmetic", "text", "Đảng bộ tỉnh quán triệt nghị quyết.",
                              "Đảng bộ tỉnh quán triêt nghị quyết.")]


def test_an_upgraded_archive_gets_findings_for_its_old_edits(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        archive.record("s", URL, fetched(0, url=URL))
        archive.record("s", URL, fetched(5, url=URL, text=NUMBER.replace("3.450", "3.540")))
        archive.record("s", URL, fetched(9, url=URL, text=NUMBER))
        before = rows(archive)
    assert [r[:2] for r in before] == [(2, "sentence_reworded"), (2, "number"), (3, "number")]
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    engine.dispose()
    with Archive.open(archive_url) as archive:
        assert rows(archive) == before
