"""The page made inert before anything reads it: control characters out, deep nesting flattened.

Control characters (C0 but tab and newline, DEL, C1) are dropped from the text before parsing and
again from the parsed tree (``&#27;`` makes one), in text, tails and attributes, so that titles,
captions, bylines and JSON-LD never carry one: one ``\\x0b`` in a paragraph made trafilatura cut the
article down to its lead, and one in a caption made lxml refuse it. JSON read from the page
(JSON-LD, application data) goes through ``loads_inert`` for the same reason.

Deep nesting (hundreds of unclosed ``<div>``) is parsed with lxml's ``huge_tree`` (without it,
libxml2 drops everything below 256 levels) and then flattened: once the tree is deeper than
``FLATTEN_DEPTH``, bare wrappers (no attributes, no text of their own) and chains of identical
wrappers are unwrapped everywhere, and
anything but a text block deeper than ``MAX_DEPTH`` is unwrapped too, as a browser stops nesting at
some depth. Past libxml2's hard limit (2048 levels even with ``huge_tree``) the source itself loses
the tags opened beyond ``MAX_DEPTH`` before it is parsed again. The text is kept; only wrappers go.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring


FLATTEN_DEPTH = 100
"""A tree deeper than this is flattened (real article pages stay far below it)."""

MAX_DEPTH = 200
"""No element but a text block stays deeper than this."""

BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li ul ol dl dt dd br hr img figure figcaption table thead tbody tfoot tr td th "
    "pre blockquote head body html title meta link script style".split()
)
"""Elements never unwrapped: they make the lines of the text (or the page's head)."""

VOID = frozenset("area base br col embed hr img input link meta source track wbr param keygen".split())
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NUMERIC_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+))")


def _harmless(code: int) -> bool:
    """A character a reference may put in the tree that ``drop_controls`` would leave as it is."""
    return code in (9, 10) or (0x20 <= code < 0x7F) or (0x9F < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF)


def may_make_controls(text: str) -> bool:
    """Whether parsing ``text`` (already without control characters) can put one in the tree: only
    a numeric character reference can (``&#27;``, ``&#x9b;``, ``&#13;``); most pages have none."""
    for match in _NUMERIC_REF.finditer(text):
        hexa, decimal = match.groups()
        digits = hexa or decimal
        if len(digits) > 8 or not _harmless(int(digits, 16 if hexa else 10)):
            return True
    return False


def drop_controls(text: str) -> str:
    """``text`` without control characters (C0 but tab and newline, DEL, C1) and lone surrogates.

    A carriage return is a line end (HTML reads CR LF and a lone CR as LF), so it becomes one; a
    vertical tab or form feed is white space (as ``core.parse_html`` treats the raw characters).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub("", text.replace("\x0b", " ").replace("\x0c", " "))


def loads_inert(text: str | bytes) -> Any:
    """``json.loads`` whose strings are page text: control characters (``\\u001b``) and lone
    surrogates (``\\ud800``) dropped as from the HTML's text; a lone surrogate crashed ``scrape``.
    Raises ``ValueError`` for broken JSON, and for JSON nested too deep to read."""
    try:
        return _inert(json.loads(text, strict=False, object_pairs_hook=_inert_object))
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _inert(value: Any) -> Any:
    if isinstance(value, str):
        return drop_controls(value)
    if isinstance(value, list):
        return [_inert(item) for item in value]
    return value


def _inert_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {drop_controls(key): _inert(value) for key, value in pairs}


def has_controls(text: str | None) -> bool:
    return bool(text) and _CONTROLS.search(text) is not None  # type: ignore[arg-type]


def inert_tree(root: HtmlElement) -> None:
    """Drop the control characters character references put into text, tails and attributes."""
    for element in root.iter():
        if has_controls(element.text):
            element.text = drop_controls(element.text)
        if has_controls(element.tail):
            element.tail = drop_controls(element.tail)
        if isinstance(element.tag, str):
            for name, value in element.attrib.items():
                if has_controls(value):
                    element.set(name, drop_controls(value))


def depths(root: HtmlElement) -> list[tuple[HtmlElement, int]]:
    """Every element with its depth (``root`` is 0), in document order, without recursion."""
    found: list[tuple[HtmlElement, int]] = []
    depth = -1
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            found.append((element, depth))
        else:
            depth -= 1
    return found


def _own_text(element: HtmlElement) -> bool:
    return bool((element.text or "").strip()) or any((child.tail or "").strip() for child in element)


def _repeated(element: HtmlElement) -> bool:
    """A link of a chain of identical wrappers (same tag, same attributes as its parent or a child)."""
    parent = element.getparent()
    if parent is not None and parent.tag == element.tag and parent.attrib == element.attrib:
        return True
    return any(child.tag == element.tag and child.attrib == element.attrib for child in element)


def _unwrap(element: HtmlElement) -> None:
    if element.getparent() is not None:
        element.drop_tag()


_DEEPER = etree.XPath("boolean(" + "/".join(["*"] * (FLATTEN_DEPTH + 1)) + ")")
"""Whether an element lies deeper than ``FLATTEN_DEPTH`` below the root (libxml2 asks, level by level)."""


def flatten(root: HtmlElement) -> None:
    """Unwrap wrappers of a tree deeper than ``FLATTEN_DEPTH`` (see the module docstring)."""
    if not _DEEPER(root):
        return
    found = depths(root)
    wrappers = [e for e, _ in found if isinstance(e.tag, str) and e.tag not in BLOCKS and not _own_text(e)
                and (not e.attrib or _repeated(e))]  # all judged before any is unwrapped
    for element in wrappers:
        _unwrap(element)
    for element, depth in depths(root):
        if depth > MAX_DEPTH and isinstance(element.tag, str) and element.tag not in BLOCKS:
            _unwrap(element)


def shallow_source(text: str, limit: int = MAX_DEPTH) -> str:
    """The source with every start tag beyond ``limit`` open elements (and its end tag) taken out.

    Only for a page libxml2 cannot parse at all; tags are tracked as written (no implied ends),
    which is enough to keep the outer structure and every word.
    """
    out: list[str] = []
    stack: list[str] = []
    dropped: dict[str, int] = {}
    position = 0
    for match in _TAG.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if name in VOID or match.group(3):
            continue
        drop = False
        if not closing:
            drop = len(stack) >= limit
            if drop:
                dropped[name] = dropped.get(name, 0) + 1
            else:
                stack.append(name)
        elif dropped.get(name):
            dropped[name] -= 1
            drop = True
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name):]
        if drop:
            out.append(text[position:match.start()])
            position = match.end()
    out.append(text[position:])
    return "".join(out)


def _too_deep(parser: HTMLParser) -> bool:
    return any("depth" in str(error.message).lower() for error in parser.error_log)


def parse_document(text: str) -> HtmlElement:
    """``text`` parsed (no depth limit), made inert and flattened."""
    text = drop_controls(text)
    parser = HTMLParser(huge_tree=True)  # one per call: lxml parsers are not shared between threads
    root = document_fromstring(text, parser=parser)
    if _too_deep(parser):
        root = document_fromstring(shallow_source(text), parser=HTMLParser(huge_tree=True))
    if may_make_controls(text):  # else the tree has none: no need to look at every node
        inert_tree(root)
    flatten(root)
    return root
