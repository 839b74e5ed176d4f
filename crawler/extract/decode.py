"""Bytes to text for HTML pages whose declared charset cannot be trusted, and text made inert.

Vietnamese sites often declare ``iso-8859-1`` or ``windows-1252`` while sending UTF-8, and older
ones send windows-1258 with no charset at all, or under a copied ``utf-8`` meta. The order:

1. a byte-order mark (UTF-8, UTF-16, UTF-32) decides;
2. text that decodes as strict UTF-8 is UTF-8 (mis-decoded legacy bytes almost never form valid
   UTF-8);
3. otherwise the candidates are tried in order: declared (HTTP header, then ``<meta>``), then
   detected (charset-normalizer, which knows windows-1258). A decoding that needs replacement
   characters is refused when another decodes cleanly, and a clean decoding that reads as mojibake
   (charset-normalizer's mess ratio well above the detected one's) gives way to the detected one.

windows-1258 spells tones as combining marks: the decoded text is NFC-normalised, the form every
other page of the archive has.
"""

from __future__ import annotations

import codecs
import unicodedata

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
"""Byte-order marks, the UTF-32 ones first (UTF-32-LE's mark begins with UTF-16-LE's)."""

MESS_MARGIN = 0.1
"""How much messier than the detected decoding a declared one may read before it is overruled."""

DETECT_BYTES = 512 * 1024
"""charset-normalizer reads at most this much of a page (it samples; this bounds its work)."""

SAMPLE_CHARS = 100_000
"""The mess ratio is read on at most this many characters of non-ASCII words."""

_NFC_CODECS = {"cp1258"}


def bom_encoding(body: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark names, and the mark's length."""
    for mark, encoding in BOMS:
        if body.startswith(mark):
            return encoding, len(mark)
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    try:
        return codecs.lookup(resolved).name if resolved else None
    except LookupError:
        return None


def _detected(body: bytes) -> str | None:
    best = from_bytes(body[:DETECT_BYTES]).best()
    return _codec(best.encoding) if best is not None else None


def candidates(body: bytes, content_type: str | None) -> list[str]:
    """Codecs to try, in order: the HTTP header's, the ``<meta>``'s, the detected one."""
    declared = [_codec(http_content_type_encoding(content_type or "")), _codec(html_body_declared_encoding(body))]
    found = [c for c in declared if c]
    detected = _detected(body)
    if detected:
        found.append(detected)
    return list(dict.fromkeys(found)) or ["cp1252"]


def _letters(text: str) -> str:
    """The words that tell decodings apart (those with a non-ASCII character), markup diluting none."""
    return " ".join(word for word in text.split() if not word.isascii())[:SAMPLE_CHARS]


def choose(body: bytes, names: list[str]) -> tuple[str, str]:
    """The first clean decoding that does not read as mojibake; else the one with fewest replacements."""
    decodings: list[tuple[str, str, int]] = []
    for name in names:
        text = body.decode(name, errors="replace")
        decodings.append((name, text, text.count("\ufffd")))
    clean = [(name, text) for name, text, bad in decodings if bad == 0]
    if not clean:
        name, text, _ = min(decodings, key=lambda d: d[2])
        return name, text
    if len(clean) == 1:
        return clean[0]
    mess = {name: mess_ratio(_letters(text), maximum_threshold=1.0) for name, text in clean}
    least = min(mess.values())
    return next((name, text) for name, text in clean if mess[name] <= least + MESS_MARGIN)


def decode_page(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The codec an HTML body is in and its text (see the module's docstring for the order)."""
    bom = bom_encoding(body)
    if bom is not None:
        name, skip = bom
        return name, body[skip:].decode(name, errors="replace")
    try:
        return "utf-8", body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    name, text = choose(body, candidates(body, content_type))
    return name, unicodedata.normalize("NFC", text) if name in _NFC_CODECS else text


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body: BOM, strict UTF-8, then declared or detected, whichever reads cleanly."""
    return decode_page(body, content_type)[1]


def looks_binary(body: bytes) -> bool:
    """True for content that is not text: more than 5% control bytes (NUL included) in the first 8 KiB.

    A page behind a UTF-16 or UTF-32 byte-order mark is text, NUL bytes and all; so is a page with a
    stray NUL in a title (it is dropped with the other control characters).
    """
    head = body[:8192]
    if not head or bom_encoding(head) is not None:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05
