"""Bylines: who wrote an article, told apart from desk names and from the article's last sentence.

The sites print the byline as the last paragraph(s) of the body, in a handful of shapes: a bare
name (``Trường Giang``, ``ĐỖ NHUNG - NGUYỄN THÚY``, initials ``N.H``), a name with its unit after a
dash or in parentheses (``Minh Thu - Ban Tuyên giáo Tỉnh ủy Hà Giang``), NukeViet's
``Tác giả: X - Nguồn tin: Y``, a source credit (``Theo Báo Z``, ``Nguồn tin: Y``) and desk
signatures (``PV``, ``BTV``, ``ĐCSVN``) that name no person. A Vietnamese personal name capitalises
every syllable, while sentences, captions and units keep most words lower-case (``Ban Tuyên giáo
Tỉnh ủy``): that is the test that keeps ``Các đại biểu tham dự Hội nghị.`` in the body. A unit written
in capitals after a dash (``Huyện Ủy Bến Lức``) is caught by its organisation word instead. Authors
are returned as printed (capitals kept), several joined by ``", "``.
"""

from __future__ import annotations

import re

from storage.content import normalise_text

__all__ = ["DESK_NAMES", "is_desk_name", "looks_like_byline", "parse_byline", "split_byline"]

DESK_NAMES: frozenset[str] = frozenset({
    "PV", "CTV", "BTV", "PV-CTV", "PV/CTV", "Nhóm PV", "Nhóm phóng viên", "Phóng viên", "Biên tập viên",
    "Cộng tác viên", "Ban biên tập", "BBT", "Tòa soạn", "Toà soạn", "Quản trị viên", "Admin",
    "ĐCSVN", "TTXVN", "VNA", "TTXVN/VNA", "Vietnam+", "VietnamPlus", "Chinhphu.vn", "VGP", "TCCS",
    "LLCT", "Tuyên giáo", "Ban Tuyên giáo", "BTG", "BTGTW", "BTGDVTW", "Nhân Dân", "Báo Nhân Dân",
    "VOV", "VTV", "VTC", "QĐND", "TTO", "VnExpress", "Cổng TTĐT", "Văn phòng",
})
"""Desks, agencies and outlets that sign articles without naming a person (compared casefolded)."""

_DESKS = frozenset(name.casefold() for name in DESK_NAMES)
# Words that open the name of an organisation, not of a person ("Trường Giang" is a person, so
# "Trường" alone is not listed; "Thành ủy" is, "Thành Trung" is a person).
_ORG = re.compile(
    r"(?:ban|báo|đài|sở|phòng|cổng|trang|tạp\s+chí|hội|văn\s+phòng|ủy\s+ban|ubnd|hđnd|mttq|bộ|cục"
    r"|trung\s+tâm|công\s+an|trường\s+(?:đại\s+học|chính\s+trị|cao\s+đẳng|thpt)|btg|ttxvn"
    r"|(?:huyện|tỉnh|thành|thị|quận|đảng|xã|phường)\s+ủy|pv|ctv|btv|phóng\s+viên|cộng\s+tác\s+viên)"
    r"(?![^\W\d_])",
    re.IGNORECASE,
)
# What may follow the names without being one: a photo credit, "tổng hợp", a source.
_TRAILER = re.compile(
    r"(?:ảnh|video|đồ\s+họa|theo|nguồn)(?![^\W\d_]).*|(?:tổng\s+hợp|lược\s+dịch|biên\s+dịch|dịch|st)",
    re.IGNORECASE,
)
_DOMAIN = re.compile(r"[^\W_][\w-]*\.(?:vn|com|net|org|gov)(?:\.vn)?", re.IGNORECASE)
_AUTHOR_TAG = re.compile(
    r"(?:tác\s+giả(?:\s+bài\s+viết)?|bài(?:\s*(?:,|và)\s*ảnh)?|tin(?:\s*(?:,|và)\s*ảnh)?|thực\s+hiện|người\s+viết)\s*:\s*",
    re.IGNORECASE,
)
_SOURCE_TAIL = re.compile(r"(?:^|\s*[-–—|]?\s+)nguồn(?:\s+tin)?\s*:.*$", re.IGNORECASE)
_SOURCE = re.compile(r"(?:nguồn(?:\s+tin)?\s*:|theo\s)\s*(?P<rest>.+)", re.IGNORECASE)
_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[,;]\s*|\s+và\s+|\s*/\s*(?=[^\W\d_])")
_PARENS = re.compile(r"\s*\([^)]*\)")
_INITIALS = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{0,2}\.?")
_CHROME = frozenset(s.casefold() for s in (
    "Tin khác", "Các tin khác", "Phản hồi", "Tin liên quan", "Tin đọc nhiều", "Có thể bạn quan tâm",
    "Tham khảo thêm", "Những tin mới hơn", "Những tin cũ hơn", "Theo dòng sự kiện", "Mới nhất",
    "Tin nổi bật", "Liên kết website", "Website liên kết", "Thư viện ảnh", "Thống kê truy cập",
    "Lượt xem", "Chia sẻ", "In bài viết", "In ra", "Xem tiếp", "Xem thêm", "Từ khóa", "Bình luận",
    "Video", "Hết", "Trở về", "Quay lại", "Đầu trang",
))
_MAX_NAME_WORDS = 6
DEGREES = re.compile(r"^(?:(?:GS|PGS|TS|TSKH|ThS|Ths|THS|Th\.S|Th\.s|CN|NCS|BS|KS|ĐH)\.?(?:\s*,\s*|\s+))+(?=\S)")
"""Academic titles before a name (``ThS.``, ``PGS, TS``): not part of it."""


def _fold(text: str) -> str:
    """NFC, spaces folded, casefolded, both spellings of "ủy" made one, edge punctuation gone."""
    return normalise_text(text).casefold().replace("uỷ", "ủy").strip(" .:")


def _is_signature(text: str) -> bool:
    """Exactly a desk signature: ``PV``, ``PV - BTV``, ``Chinhphu.vn``, nothing else on the line."""
    folded = _fold(text)
    if folded in _DESKS or _DOMAIN.fullmatch(folded):
        return True
    parts = [p.strip(" .") for p in _SPLIT.split(folded) if p.strip(" .")]
    return len(parts) > 1 and all(p in _DESKS for p in parts)


def is_desk_name(name: str) -> bool:
    """True for a desk, agency or outlet signature (``PV``, ``Ban biên tập``, ``Báo Quảng Trị``)."""
    folded = _fold(_PARENS.sub("", name)) or _fold(name)
    folded = folded[5:] if folded.startswith("theo ") else folded
    return bool(folded) and (_is_signature(folded) or _ORG.match(folded) is not None)


def _is_initials(segment: str) -> bool:
    return _INITIALS.fullmatch(segment) is not None and segment.replace(".", "").isupper()


def _is_name(segment: str) -> bool:
    """A personal name: 1–6 words, each capitalised or in capitals, or initials such as ``N.H``."""
    words = segment.split()
    if _is_initials(segment):
        return not is_desk_name(segment)
    if not 1 <= len(words) <= _MAX_NAME_WORDS:
        return False
    for word in words:
        letters = word.replace("'", "").replace("’", "").replace("-", "")
        if not letters.isalpha() or not word[0].isupper() or not (word.istitle() or word.isupper()):
            return False
    return not is_desk_name(segment)


def _names(value: str) -> list[str]:
    """The personal names of a byline value; [] unless every other part is a unit or a credit."""
    names: list[str] = []
    for part in _SPLIT.split(DEGREES.sub("", _PARENS.sub("", value).strip(" -–—"))):
        part = part.strip()
        if _is_name(part):
            if part not in names:
                names.append(part)
        elif not names or not (is_desk_name(part) or _TRAILER.fullmatch(part)):
            return []  # a byline opens with its author and holds nothing of a sentence
    return names


def _source_credit(text: str) -> bool:
    """``Nguồn tin: Y``, ``Nguồn: Y`` or ``Theo Báo Z``: a short source, not ``Theo đó, ...``."""
    m = _SOURCE.match(text)
    if not m:
        return False
    rest = m["rest"].strip()
    words = rest.split()
    if text[:4].casefold() == "theo" and ("," in rest or not words[0][:1].isupper()):
        return False
    return 1 <= len(words) <= 10


def looks_like_byline(line: str) -> bool:
    """True if a short last paragraph is a byline, not a sentence or caption of the article."""
    text = normalise_text(line)
    if not text or "\n" in text or len(text.split()) > 16 or _fold(text) in _CHROME:
        return False
    if text.casefold().startswith(("ảnh:", "ảnh minh họa", "ảnh minh hoạ")):
        return False  # a photo caption or credit, not the article's author
    tagged = _AUTHOR_TAG.match(text)
    if tagged:
        return bool(text[tagged.end():].strip())
    if text.endswith((".", "!", "?", ":", ";")) and not _is_initials(text.split()[-1]):
        return False
    return _source_credit(text) or _is_signature(text) or bool(_names(text))


def parse_byline(line: str) -> str | None:
    """The author(s) a byline names, ``", "``-joined; None for no byline or a desk/source only."""
    if not looks_like_byline(line):
        return None
    text = normalise_text(line)
    tagged = _AUTHOR_TAG.match(text)
    value = _SOURCE_TAIL.sub("", text[tagged.end():] if tagged else text).strip()
    source = _SOURCE.match(value)
    if source:
        value = source["rest"]  # "Theo Minh Thu (Báo X)" names a person, "Theo TTXVN" does not
    if not value or is_desk_name(value):
        return None
    names = _names(value)
    if not names and tagged and len(value.split()) <= _MAX_NAME_WORDS:
        return value  # "Tác giả:" vouches for an unusually written name
    return ", ".join(names) or None


def _is_unit_line(line: str) -> bool:
    """A line naming only the writers' unit, printed under their names (seed: Lai Châu)."""
    text = normalise_text(line)
    return 0 < len(text.split()) <= 12 and not text.endswith(".") and is_desk_name(text)


def split_byline(paragraphs: list[str]) -> tuple[list[str], str | None, str | None]:
    """(body without its trailing byline lines, author or None, the byline as printed or None).

    Up to three trailing lines are taken: a name line may be followed by its unit on a line of its
    own, and NukeViet prints ``Tác giả:`` and ``Nguồn tin:`` lines one under the other.
    """
    end = len(paragraphs)
    while end and not paragraphs[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and end - start < 3:
        line = paragraphs[start - 1]
        if not (looks_like_byline(line) or (_is_unit_line(line) and start - 1 > 0)):
            break
        start -= 1
    while start < end and not looks_like_byline(paragraphs[start]):
        start += 1  # a unit line only counts under a name
    if start == end:
        return list(paragraphs), None, None
    lines = [p.strip() for p in paragraphs[start:end]]
    authors: list[str] = []
    for line in lines:
        for name in (parse_byline(line) or "").split(", "):
            if name and name not in authors:
                authors.append(name)
    return list(paragraphs[:start]), ", ".join(authors) or None, "\n".join(lines)
