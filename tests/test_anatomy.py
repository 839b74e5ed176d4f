"""The anatomy of an edit: every planted edit gives exactly its gold findings.

``fixtures/anatomy/edits.toml`` holds the planted edits of one base report (written for tgwatch,
with the quirks of real pages: "ph biến", "bng", "uỷ", "8.214/8.263") and the findings each must
give. Compared exactly: kind, field, before, after and (for numbers and names) the sentence.
"""

from __future__ import annotations

from collections import Counter

import pytest

from storage.anatomy import Finding, analyse, substance
from storage.content import Content
from storage.vntext import fold, is_cosmetic, names, number_value, sentences, tokens
from storage.vocabulary import FINDING_KINDS
from tests.anatomy_cases import EditCase, load_cases

CASES = load_cases()


def _key(f: Finding) -> tuple[str, str, str, str, str]:
    return (f.kind, f.field, f.before or "", f.after or "", f.context or "")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_planted_edit_gives_its_gold_findings(case: EditCase) -> None:
    got = analyse(case.old, case.new)
    assert sorted(map(_key, got)) == sorted(map(_key, case.gold)), case.note


def test_the_fixture_set_plants_every_kind_and_combinations() -> None:
    assert len(CASES) >= 60
    kinds = Counter(f.kind for c in CASES for f in c.gold)
    assert set(kinds) == set(FINDING_KINDS)
    assert sum(1 for c in CASES if len({f.kind for f in c.gold}) >= 2) >= 10
    assert {f.field for c in CASES for f in c.gold} == {"title", "lead", "text", "author", "category", "published_at"}


def test_no_cosmetic_edit_is_called_substantive() -> None:
    cosmetic = [c for c in CASES if c.gold and all(f.kind == "cosmetic" for f in c.gold)]
    assert len(cosmetic) >= 15
    for case in cosmetic:
        assert substance(analyse(case.old, case.new)) == "cosmetic", case.name
    for case in CASES:
        if any(f.kind != "cosmetic" for f in case.gold):
            assert substance(analyse(case.old, case.new)) == "substantive", case.name


def test_the_lead_is_one_finding_not_two() -> None:
    old = Content(title="T", lead="Mở đầu cũ.", text="Mở đầu cũ.\nThân bài.")
    new = Content(title="T", lead="Mở đầu mới hẳn.", text="Mở đầu mới hẳn.\nThân bài.")
    assert [f.kind for f in analyse(old, new)] == ["field"]


@pytest.mark.parametrize(("text", "value"), [
    ("3.450", "3450"), ("3450", "3450"), ("97,6%", "97.6%"), ("97,6 %", "97.6%"), ("16/07/2022", "16/7/2022"),
    ("8.199/8.257", "8199/8257"), ("1.234.567,5", "1234567.5"), ("8:21", "8:21"), ("0,50", "0.5"),
])
def test_vietnamese_number_formats(text: str, value: str) -> None:
    assert number_value(text) == value


def test_fold_keeps_numbers_apart_and_drops_marks() -> None:
    assert fold("Tỉnh uỷ ĐÃ phổ biến, 3,5%") == fold("tinh ủy đã phổ biến 3,5 %")
    assert fold("đạt 3,5") != fold("đạt 35")


@pytest.mark.parametrize(("old", "new", "cosmetic"), [
    ("ph biến", "phổ biến", True), ("bng nhiều", "bằng nhiều", True), ("Huyện Ủy", "huyện ủy", True),
    ("đã hoàn thành", "hoàn thành", False), ("tăng 5%", "tăng 15%", False), ("có", "không có", False),
    ("khóa XII", "khóa XIII", False), ("tu dưỡng", "tudưỡng", True), ("tăng", "giảm", False),
])
def test_cosmetic_spelling(old: str, new: str, cosmetic: bool) -> None:
    assert is_cosmetic(old, new) is cosmetic


def test_names_keep_titles_and_offices() -> None:
    sentence = ("Sáng nay, đồng chí Nguyễn Thị Thu Hà, Phó Bí thư Tỉnh ủy Quảng Nam cùng Chủ tịch Hồ Chí Minh "
                "và Ban Thường vụ Thành ủy Long Xuyên dự họp.")
    assert [n.text for n in names(tokens(sentence))] == [
        "đồng chí Nguyễn Thị Thu Hà", "Phó Bí thư Tỉnh ủy Quảng Nam", "Chủ tịch Hồ Chí Minh",
        "Ban Thường vụ Thành ủy Long Xuyên"]
    assert names(tokens("Tại Hà Nội, hội nghị khai mạc.")) == names(tokens("Ở Hà Nội, hội nghị khai mạc."))


def test_sentences_not_cut_after_abbreviations_or_inside_numbers() -> None:
    assert sentences("TP. Hồ Chí Minh có 3.450 người. Sáng 16/7, họp! Ông A nói: “Tốt.” Xong") == [
        "TP. Hồ Chí Minh có 3.450 người.", "Sáng 16/7, họp!", "Ông A nói: “Tốt.”", "Xong"]
