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
        sql = ("SELECT url FROM articles WHERE to_tsvector('simple', search_text) "
               "@@ plainto_tsquery('simple', 'tuyen giao')")
    assert run_query(archive_url, sql).rows == [(A1,)]
    like = "SELECT url FROM articles WHERE search_text LIKE '%dang bo%'"
    assert run_query(archive_url, like).rows == [(A3,)]


def test_snippet_windows_and_marks() -> None:
    body = " ".join(["mở đầu"] * 60) + " Ban Tuyên giáo họp. " + " ".join(["kết thúc"] * 60)
    cut = snippet(body, ["tuyen", "giao"], width=80)
    assert "«Tuyên» «giáo»" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) < 120
    assert snippet("Không khớp gì.", ["xyz"]) == "Không khớp gì."
