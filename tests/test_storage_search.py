"""Diacritic-insensitive search over the latest versions, in Python and in plain SQL."""

from __future__ import annotations

import pytest

from storage.archive import Archive
from storage.readonly import run_query
from storage.search import fold, snippet
from tests.plugins.archive import fetched

A1 = "https://x.vn/tuyen-giao-1"
A2 = "https://x.vn/kinh-te-2"
A3 = "https://y.vn/dang-bo-3"


@pytest.fixture
def searchable(archive: Archive) -> Archive:
    archive.record(
        "tuyengiao", A1,
        fetched(0, title="Ban Tuyên giáo Tỉnh ủy tổng kết công tác", lead=None,
                text="Ban Tuyên giáo Tỉnh ủy tổng kết.\nCác đại biểu được tặng giấy khen."),
    )
    archive.record(
        "tuyengiao", A2,
        fetched(1, title="Kinh tế quý II tăng trưởng", lead=None, author=None, category="Kinh tế",
                text="Tổng sản phẩm trong tỉnh tăng 6,5%.\nXuất khẩu tăng mạnh."),
    )
    archive.record(
        "other", A3,
        fetched(2, title="ĐẢNG BỘ XÃ đại hội", lead=None, author=None, category="Xây dựng Đảng",
                text="Đại hội Đảng bộ xã nhiệm kỳ 2025-2030 thành công tốt đẹp."),
    )
    return archive


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Tuyên giáo", "tuyen giao"),
        ("Đảng ĐẢNG đảng", "dang dang dang"),
        ("Nguyễn Thị Ưởng, ơ ư", "nguyen thi uong, o u"),
        ("Tuye\u0302n gia\u0301o", "tuyen giao"),  # NFD input folds the same
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def _urls(hits: list) -> list[str]:
    return sorted(h.url for h in hits)


def test_search_ignores_diacritics_and_case(searchable: Archive) -> None:
    assert _urls(searchable.search("tuyen giao")) == [A1]
    assert _urls(searchable.search("giao tuyen")) == [A1]  # every word, in any order
    assert _urls(searchable.search("TUYÊN GIÁO")) == [A1]
    assert _urls(searchable.search("dang bo")) == [A3]
    assert _urls(searchable.search("đảng")) == [A3]
    assert _urls(searchable.search("tang")) == sorted([A1, A2])  # "tăng" and "tặng" alike
    assert searchable.search("khong co tu nay") == []
    assert searchable.search("  ,;  ") == []


def test_search_by_site_and_limit(searchable: Archive) -> None:
    assert _urls(searchable.search("tinh", site="tuyengiao")) == sorted([A1, A2])
    assert searchable.search("tinh", site="other") == []
    assert len(searchable.search("tinh", limit=1)) == 1


def test_hit_fields_and_snippet(searchable: Archive) -> None:
    [hit] = searchable.search("xuat khau")
    assert hit.site == "tuyengiao" and hit.title == "Kinh tế quý II tăng trưởng"
    assert "«Xuất» «khẩu»" in hit.snippet
    assert hit.published_at is not None and hit.article_id > 0


def test_search_follows_the_latest_version(searchable: Archive) -> None:
    searchable.record("tuyengiao", A2, fetched(10, title="Nông nghiệp được mùa", text="Lúa tốt."))
    assert searchable.search("xuat khau") == []
    assert _urls(searchable.search("nong nghiep")) == [A2]


def test_folded_text_is_queryable_in_sql(searchable: Archive, archive_url: str) -> None:
    if searchable.backend == "sqlite":
        sql = ("SELECT a.url FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
               "WHERE articles_fts MATCH 'tuyen giao'")
    else:
        sql = "SELECT url FROM articles WHERE search_vector @@ plainto_tsquery('simple', 'tuyen giao')"
    assert run_query(archive_url, sql).rows == [(A1,)]
    if searchable.backend == "sqlite":  # the folded text is in the index only: stored once
        words = "SELECT a.url FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid " \
                "WHERE articles_fts MATCH 'dang bo'"
        assert run_query(archive_url, words).rows == [(A3,)]
        assert run_query(archive_url, "SELECT DISTINCT search_text FROM articles").rows == [("",)]
    else:
        like = "SELECT url FROM articles WHERE search_text LIKE '%dang bo%'"
        assert run_query(archive_url, like).rows == [(A3,)]


def test_snippet_windows_and_marks() -> None:
    body = " ".join(["mở đầu"] * 60) + " Ban Tuyên giáo họp. " + " ".join(["kết thúc"] * 60)
    cut = snippet(body, ["tuyen", "giao"], width=80)
    assert "«Tuyên» «giáo»" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) < 120
    assert snippet("Không khớp gì.", ["xyz"]) == "Không khớp gì."


def test_reextraction_of_the_latest_version_reindexes_it(searchable: Archive) -> None:
    [version] = searchable.article_versions(A2)
    fixed = version.content.__class__(title="Kinh tế quý II", text="Nông sản được mùa.")
    assert searchable.rederive(version.id, fixed)
    assert searchable.search("xuat khau") == []
    assert _urls(searchable.search("nong san")) == [A2]


def test_only_the_newest_candidates_are_ranked(searchable: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.search

    monkeypatch.setattr(storage.search, "CANDIDATES", 2)
    assert _urls(searchable.search("tinh")) == sorted([A1, A2])
    assert len(searchable.search("tinh", limit=1)) == 1
    found = searchable.search("tinh", limit=5)  # a limit above the candidates ranks as many
    assert len(found) == 2


def test_an_archive_upgraded_from_0008_is_searchable(archive_url: str) -> None:
    from alembic import command

    from storage.engine import alembic_config, create_archive_engine

    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
    engine.dispose()
    old = Archive(create_archive_engine(archive_url))  # recorded by the 0008 code path: search_text filled
    with old.writing() as session:
        from sqlalchemy import text

        session.execute(text(
            "INSERT INTO articles (id, site, url, title, first_seen_at, last_checked_at, last_changed_at, "
            "current_version, content_hash, search_text) VALUES (7, 's', 'https://x.vn/7', 'Đảng bộ', "
            "'2024-05-01T08:00:00+07:00', '2024-05-01T08:00:00+07:00', '2024-05-01T08:00:00+07:00', 1, 'h', "
            "'dang bo\nhoi nghi tuyen giao')"))
        session.execute(text(
            "INSERT INTO versions (article_id, version, fetched_at, title, text, content_hash) VALUES "
            "(7, 1, '2024-05-01T08:00:00+07:00', 'Đảng bộ', 'Hội nghị tuyên giáo', 'h')"))
    old.close()
    with Archive.open(archive_url) as archive:
        assert _urls(archive.search("tuyen giao")) == ["https://x.vn/7"]
        archive.record("s", "https://x.vn/7", fetched(5, title="Đảng bộ", text="Kinh tế tăng trưởng.", lead=None,
                                                      author=None, category=None))
        assert archive.search("tuyen giao") == [] and _urls(archive.search("kinh te")) == ["https://x.vn/7"]


def _migrate(archive_url: str, revision: str) -> None:
    from alembic import command

    from storage.engine import alembic_config, create_archive_engine

    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def test_search_vector_migrates_down_and_up(searchable: Archive, archive_url: str) -> None:
    """0011 stores the words (PostgreSQL); down to 0010 the expression index is back, and up again
    the vector is generated for the articles recorded meanwhile."""
    searchable.close()
    _migrate(archive_url, "0010")
    if searchable.backend == "postgresql":
        columns = run_query(archive_url, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_schema = current_schema() AND table_name = 'articles'")
        assert ("search_vector",) not in columns.rows
        index = run_query(archive_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search' "
                                       "AND schemaname = current_schema()")
        assert "to_tsvector('simple'::regconfig, search_text)" in index.rows[0][0]
    with Archive.open(archive_url) as archive:
        assert _urls(archive.search("tuyen giao")) == [A1]
        archive.record("other", "https://y.vn/4", fetched(5, title="Tuyên giáo cơ sở", lead=None, text="Hội nghị."))
        assert _urls(archive.search("tuyen giao")) == [A1, "https://y.vn/4"]
        if archive.backend == "postgresql":
            index = run_query(archive_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search' "
                                           "AND schemaname = current_schema()")
            assert index.rows[0][0].endswith("USING gin (search_vector)")
