"""canonical_url: one spelling per article URL."""

from __future__ import annotations

import pytest

from storage.urls import canonical_url

CASES = [
    # scheme and host lower-cased, default port dropped, fragment dropped
    ("HTTPS://TuyenGiao.VN:443/tin-tuc/bai-1#binh-luan", "https://tuyengiao.vn/tin-tuc/bai-1"),
    ("http://Example.com:80/a", "http://example.com/a"),
    # a non-default port is part of the identity
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("https://example.com:80/a", "https://example.com:80/a"),
    # tracking parameters dropped, the rest sorted
    ("https://x.vn/a?utm_source=fb&utm_medium=social&id=2&cat=1", "https://x.vn/a?cat=1&id=2"),
    ("https://x.vn/a?fbclid=IwAR0&gclid=1&zarsrc=31&ID=5", "https://x.vn/a?ID=5"),
    ("https://x.vn/a?UTM_Campaign=x", "https://x.vn/a"),
    ("https://x.vn/a?b=2&a=1&a=0", "https://x.vn/a?a=0&a=1&b=2"),
    # path and its trailing slash as served
    ("https://x.vn/chuyen-muc/", "https://x.vn/chuyen-muc/"),
    ("https://x.vn/chuyen-muc", "https://x.vn/chuyen-muc"),
    ("https://x.vn", "https://x.vn/"),
    # Vietnamese paths: raw and percent-encoded spellings meet, escapes upper-case
    ("https://x.vn/tuyên-giáo/bài-viết", "https://x.vn/tuy%C3%AAn-gi%C3%A1o/b%C3%A0i-vi%E1%BA%BFt"),
    (
        "https://x.vn/tuy%c3%aan-gi%c3%a1o/b%C3%A0i-vi%e1%ba%bft",
        "https://x.vn/tuy%C3%AAn-gi%C3%A1o/b%C3%A0i-vi%E1%BA%BFt",
    ),
    ("https://x.vn/tim-kiem?q=Đảng", "https://x.vn/tim-kiem?q=%C4%90%E1%BA%A3ng"),
    # IDN host in punycode
    ("https://tuyêngiáo.vn/a", "https://xn--tuyngio-mwa1f.vn/a"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize("raw", [raw for raw, _ in CASES])
def test_canonical_url_is_idempotent(raw: str) -> None:
    once = canonical_url(raw)
    assert canonical_url(once) == once


def test_undecodable_query_bytes_survive() -> None:
    """A query in a legacy encoding must not be decoded and re-encoded into something else."""
    assert canonical_url("http://x.vn/a?q=%E0&utm_source=z") == "http://x.vn/a?q=%E0"
