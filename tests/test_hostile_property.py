"""Property (issue 9): any string of code points in a title, paragraph, caption or byline comes out as
the input less its control characters, and no CLI output of it carries a control character.

``st.text()`` draws from every code point but surrogates (they cannot be written to a page in
UTF-8): C0 and C1 controls, DEL, non-characters, combining marks, private use, astral planes. The
comparison folds white space (the page's own line breaks and spaces are layout) and NFC (a
paragraph's text is compared as the archive compares it). A carriage return is a line end in HTML,
and a vertical tab or form feed is white space to a reader: they count as white space. Soft hyphens
and zero-width characters are invisible, and no more text than control characters.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crawler.extract import NOT_FOUND, Article, read_article
from crawler.extract.clean import fold
from monitor.cli import main

URL = "https://tinh.example.vn/tin-tuc/hoi-nghi-tuyen-giao-12345"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe\uffff]")
"""Soft hyphens, zero-width characters, BOMs and non-characters: invisible, so not text
(``crawler.extract.core`` drops them before parsing)."""
PARAGRAPH = ("Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị sơ kết công tác tuyên giáo sáu tháng đầu năm, "
             "đánh giá kết quả thực hiện nhiệm vụ và triển khai phương hướng cho thời gian tới.")
SLOTS = ("title", "paragraph", "caption", "byline")


def page(slot: str, value: str) -> str:
    """A plain news page with ``value`` (HTML-escaped) in ``slot``."""
    put = {name: "" for name in SLOTS}
    put[slot] = html.escape(value)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tin tức</title></head>
<body><nav><a href="/">Trang chủ</a></nav><article>
<h1>Hội nghị tuyên giáo {put["title"]} năm 2024</h1><p>Thứ Hai, 12/3/2024 08:30</p>
<p>{PARAGRAPH}</p>
<p>Mở đầu đoạn văn {put["paragraph"]} kết thúc đoạn văn dài về công tác tuyên giáo ở cơ sở trong năm.</p>
<figure><img src="/anh/hoi-nghi.jpg" alt="">
<figcaption>Quang cảnh hội nghị {put["caption"]} tại tỉnh</figcaption></figure>
<p>{PARAGRAPH}</p>
<p>Trường Giang {put["byline"]}</p>
</article><footer>Liên kết website</footer></body></html>"""


def expected(value: str) -> str:
    """The input less its control characters, as the archive compares text."""
    value = value.replace("\r", "\n").replace("\x0b", " ").replace("\x0c", " ")
    return folded(CONTROL.sub("", INVISIBLE.sub("", value)))


def folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def not_a_refusal(value: str) -> None:
    """Hypothesis also draws the project's own string constants: a value holding a not-found phrase
    ("Trang không tồn tại") rightly makes the page a not-found page, which is not what these test."""
    assume(not any(fold(marker) in fold(value) for marker in NOT_FOUND))


def letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", text) if c.isalnum())


def read(slot: str, value: str) -> Article:
    found = read_article(page(slot, value).encode("utf-8"), URL)
    assert isinstance(found, Article), found
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slot=st.sampled_from(SLOTS), value=st.text(max_size=40))
def test_any_text_comes_out_less_its_control_characters(slot: str, value: str) -> None:
    not_a_refusal(value)
    found = read(slot, value)
    want = expected(value)
    every = folded(" \n ".join([found.title, found.text, found.author or "", *(i.caption or "" for i in found.images)]))
    for field in (found.title, found.text, found.author or "", found.category or ""):
        assert not CONTROL.search(field)
    if slot == "title":
        assert folded(found.title) == folded(f"Hội nghị tuyên giáo {want} năm 2024")
    elif slot == "paragraph":
        assert folded(f"Mở đầu đoạn văn {want} kết thúc đoạn văn dài") in folded(found.text)
    elif slot == "caption":
        assert folded(f"Quang cảnh hội nghị {want} tại tỉnh") in folded(found.text)
    else:  # the byline is the author (its separators those of an author list), or a line of the text
        assert letters(f"Trường Giang {want}") in letters(every)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slot=st.sampled_from(SLOTS), value=st.text(min_size=1, max_size=30))
def test_no_cli_output_of_any_text_holds_a_control_character(slot: str, value: str, tmp_path_factory) -> None:
    not_a_refusal(value)
    path = Path(tmp_path_factory.mktemp("page")) / "page.html"
    path.write_text(page(slot, value), encoding="utf-8")
    for fmt in ("table", "csv", "json"):
        result = CliRunner().invoke(main, ["scrape", str(path), "--url", URL, "--format", fmt])
        assert result.exit_code == 0, result.stderr
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stdout), repr(result.stdout)
        if fmt == "json":
            document = json.loads(result.stdout)
            assert not CONTROL.search(document["title"] + document["text"] + (document["author"] or ""))
