"""Bytes to text for HTML pages whose declared charset cannot be trusted.

Vietnamese sites often declare ``iso-8859-1`` or ``windows-1252`` while sending UTF-8. Text that
decodes as strict UTF-8 and contains multi-byte sequences is UTF-8 for all practical purposes
(mis-decoded Latin-1 almost never forms valid UTF-8), so that check comes first; otherwise w3lib
applies the usual order (BOM, HTTP header, ``<meta>``, sniffing).
"""

from __future__ import annotations

from w3lib.encoding import html_to_unicode


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body: strict UTF-8 when it is valid UTF-8, else the declared/sniffed charset."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    _encoding, text = html_to_unicode(content_type, body)
    return text


def looks_binary(body: bytes) -> bool:
    """True for content that is not text: NUL bytes or mostly control bytes in the first 8 KiB."""
    head = body[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05
