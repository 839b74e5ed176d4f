"""Vietnamese text as the edit anatomy reads it: tokens, folded keys, numbers, sentences, names.

Two spellings are *cosmetically* the same when they differ only in diacritics, letter case,
punctuation or spacing; ``fold`` maps both to one key (no diacritics, đ as d, lower case, numbers
by value, punctuation dropped). Numbers are read in Vietnamese formats: a dot groups thousands
("3.450" is 3450), a comma is the decimal mark ("3,5%"), and dates/ratios keep their parts
("16/7/2022", "8.199/8.257"), so "16/07" and "16/7" are one number but "3,5" and "35" are not.
Names are runs of capitalised words (people, places, bodies) with a title kept in front
("đồng chí", "ông", or a capitalised office such as "Phó Bí thư Tỉnh ủy").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rapidfuzz.distance import Levenshtein

_TOKEN = re.compile(r"\d+(?:[.,/:]\d+)*(?:\s?%)?|[^\W\d_]+(?:[-'’][^\W\d_]+)*|[^\w\s]", re.UNICODE)
_ROMAN = re.compile(r"^[IVXLC]+$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»’)]*\s+(?=[\"“«(‘]?[^\W_a-zđ])", re.UNICODE)
_ABBREVIATIONS = frozenset({"tp", "ts", "ths", "pgs", "gs", "bs", "th", "q", "p", "tt", "nxb", "st", "v.v"})

TITLES = ("đồng chí", "đ/c", "ông", "bà", "anh", "chị", "nhà báo", "thượng tướng", "trung tướng",
          "thiếu tướng", "đại tá")
"""Lowercase titles kept with the name that follows them (capitalised offices join by case)."""

_TAILS = frozenset("ủy uỷ giáo vận quốc hội tịch thư vụ trực nghiệp ban".split())
"""Lowercase syllables that may end a capitalised office's or body's name ("Tỉnh ủy", "Chủ tịch")."""
_BRIDGES = _TAILS | frozenset("trận chí viện sở tá dân nhân tộc phố thị xã huyện tỉnh tướng trưởng đốc".split())
"""Lowercase syllables that may sit between two capitalised words of one name ("Bí thư Tỉnh ủy",
"Thành phố Hồ Chí Minh"); any other lowercase word ends a name."""

_STARTERS = frozenset(
    "tại ở theo trong sáng chiều tối trưa ngày đêm với đến từ qua các những đây đó khi sau trước nhân "
    "thực tiếp cùng về cũng được đã tuy năm tháng dịp hôm để ngoài bên như là vì do "
    "nhờ còn tới trên dưới giữa thay".split()
)
"""Words that start a sentence with a capital without being part of a name."""


def fold_word(word: str) -> str:
    """Lower case without diacritics, đ as d: the key under which spellings are cosmetic twins."""
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def number_value(text: str) -> str:
    """A number's value as a string: "3.450" → "3450", "3,5 %" → "3.5%", "16/07" → "16/7"."""
    percent = "%" if text.endswith("%") else ""
    body = text.rstrip("%").strip()
    if "/" in body or ":" in body:
        parts = re.split(r"([/:])", body)
        return "".join(p if p in "/:" else number_value(p) for p in parts) + percent
    if _THOUSANDS.match(body):
        body = body.replace(".", "")
    elif body.count(".") > 1:
        body = body.replace(".", "")
    body = body.replace(",", ".")
    try:
        value = Decimal(body).normalize()
    except InvalidOperation:
        return body + percent
    return f"{value:f}" + percent


@dataclass(frozen=True)
class Token:
    """One word or number of a sentence; ``joined`` when no punctuation separates it from the last."""

    raw: str
    key: str
    number: bool
    capital: bool
    joined: bool


def tokens(text: str) -> list[Token]:
    """Words and numbers of ``text`` (punctuation only marks where a name must stop)."""
    out: list[Token] = []
    joined = False
    for match in _TOKEN.finditer(unicodedata.normalize("NFC", text)):
        raw = match.group()
        if raw[0].isdigit():
            out.append(Token(raw, number_value(raw), True, False, joined))
        elif raw[0].isalpha():
            roman = bool(_ROMAN.match(raw)) and len(raw) > 1 or raw in ("I", "V", "X")
            key = f"#{raw}" if roman else fold_word(raw)
            out.append(Token(raw, key, roman, raw[0].isupper(), joined))
        else:
            joined = False
            continue
        joined = True
    return out


def fold(text: str) -> str:
    """The cosmetic key of a text: folded words and number values, punctuation and spacing gone."""
    return " ".join(t.key for t in tokens(text))


def sentences(paragraph: str) -> list[str]:
    """A paragraph cut into sentences (not after "TP." or other abbreviations)."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start:match.start()].split()
        last = fold_word(before[-1]) if before else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and before and before[-1].isupper()):
            continue
        out.append(paragraph[start:match.end()].strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _small_edit(a: str, b: str) -> bool:
    """A spelling slip: one character apart ("ph" → "pho", "bng" → "bang"), never in a number."""
    return Levenshtein.distance(a, b) <= 1


def cosmetic_span(old: list[Token], new: list[Token]) -> bool:
    """Whether two differing runs of tokens differ only in spelling, spacing or letter case."""
    if any(t.number for t in old) or any(t.number for t in new):
        return False
    if not old or not new:
        return False
    if len(old) == len(new):
        return all(_small_edit(a.key, b.key) for a, b in zip(old, new))
    return _small_edit("".join(t.key for t in old), "".join(t.key for t in new))


def is_cosmetic(old: str, new: str) -> bool:
    """Only spelling, diacritics, punctuation, spacing or letter case tell ``old`` from ``new``."""
    from storage.textdiff import opcodes

    a, b = tokens(old), tokens(new)
    keys_a, keys_b = [t.key for t in a], [t.key for t in b]
    if keys_a == keys_b or "".join(keys_a) == "".join(keys_b):
        return True
    for op, i1, i2, j1, j2 in opcodes(keys_a, keys_b):
        if op != "equal" and not cosmetic_span(a[i1:i2], b[j1:j2]):
            return False
    return True


@dataclass(frozen=True)
class Name:
    """A name found in a sentence: its words as printed, and its token positions."""

    text: str
    start: int
    stop: int

    @property
    def key(self) -> str:
        return fold(self.text)


def names(toks: list[Token]) -> list[Name]:
    """Runs of two or more capitalised words, bridging one lowercase syllable ("Ban Tuyên giáo
    Tỉnh ủy Quảng Nam"), with a lowercase title in front ("đồng chí Nguyễn Văn Nam")."""
    found: list[Name] = []
    i = 0
    while i < len(toks):
        if not toks[i].capital or toks[i].number:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j].joined and not toks[j].number:
            if toks[j].capital:
                j += 1
            elif toks[j].raw.lower() not in _BRIDGES:
                break
            elif j + 1 < len(toks) and toks[j + 1].joined and toks[j + 1].capital:
                j += 2
            else:
                j += toks[j].raw.lower() in _TAILS
                break
        start = i
        if i == 0 and toks[0].raw.lower() in _STARTERS:
            start = 1
        if sum(t.capital for t in toks[start:j]) >= 2:
            start = _with_title(toks, start)
            found.append(Name(" ".join(t.raw for t in toks[start:j]), start, j))
        i = j
    return found


def _with_title(toks: list[Token], start: int) -> int:
    for title in TITLES:
        words = title.split()
        first = start - len(words)
        if first >= 0 and [t.raw.lower() for t in toks[first:start]] == words and toks[start].joined:
            return first
    return start
