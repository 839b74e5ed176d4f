"""Which CMS family built a page: NukeViet, Joomla, WordPress, Liferay, SharePoint, DotNetNuke, Drupal,
ASP.NET WebForms.

Most provincial sites are one of a few CMSs, and nobody writes a profile for each site. Every family
leaves marks on all its pages (its ``<meta name="generator">``, ids and classes of its stock markup,
the paths of its scripts and images), so the family's built-in profile can be applied to a site the
user configured with only a name and start URLs. The markers live in each family's profile
(``[markers]``); here they are only counted. A family needs a generator match or two other marks,
and the family with the most marks wins: a SharePoint or DotNetNuke page is also an ASP.NET page,
but it carries more marks of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cssselect import SelectorError, parse
from cssselect.parser import Attrib, Class, Element, Hash
from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.clean import loosened, select
from crawler.profiles import SiteProfile

GENERATOR_WEIGHT = 3
"""A generator tag names its CMS outright; any other mark counts one."""
THRESHOLD = 2
MAX_SCRIPT = 20_000
"""Characters of each inline script searched for resource marks (configuration objects come first)."""


def page_resources(root: HtmlElement) -> str:
    """The page's script, stylesheet, image and form addresses and its inline scripts, casefolded."""
    parts: list[str] = []
    for element in root.iter("script", "link", "img", "form", "input"):
        for name in ("src", "href", "action", "name", "id"):
            value = element.get(name)
            if value:
                parts.append(value)
        if element.tag == "script" and element.text:
            parts.append(element.text[:MAX_SCRIPT])
    return "\n".join(parts).casefold()


def generators(root: HtmlElement) -> list[str]:
    return [str(m.get("content") or "").casefold() for m in root.iter("meta")
            if str(m.get("name") or "").casefold() == "generator"]


def score(profile: SiteProfile, generator: list[str], resources: str, root: HtmlElement,
          present: set[str] | None = None) -> int:
    """How many of the family's marks the page carries (the generator weighs more). ``present``: the
    selector marks known to match the page (``marked_selectors``); None: each is tried on it."""
    marks = profile.markers
    points = GENERATOR_WEIGHT if any(g in value for g in marks.generator for value in generator) else 0
    points += sum(1 for piece in marks.resources if piece in resources)
    if present is not None:
        return points + sum(1 for css in marks.selectors if css in present)
    return points + sum(1 for css in marks.selectors if select(root, css))


_XML_SPACE = re.compile("[ \t\n\r]+")
_CSS_SPACE = re.compile("[ \t\n\r\f]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_OPERATORS = ("exists", "=", "^=")


@lru_cache(maxsize=256)
def _simple(selector: str) -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] | None:
    """``selector`` (loosened as ``select`` does) as alternatives of a tag (``*``: any) and attribute
    tests (``id =``, ``class ~=``, ``exists``, ``=``, ``^=``), when it is no more than that; else None."""
    try:
        group = parse(loosened(selector))
    except SelectorError:
        return None
    alternatives = []
    for one in group:
        tests: list[tuple[str, str, str]] = []
        node: Any = one.parsed_tree
        while not isinstance(node, Element):
            if isinstance(node, Hash):
                tests.append(("id", "=", node.id))
            elif isinstance(node, Class):
                tests.append(("class", "~=", node.class_name))
            elif (isinstance(node, Attrib) and node.namespace is None and node.operator in _OPERATORS
                  and getattr(node, "flag", None) is None):
                value = "" if node.value is None else str(node.value.value)
                if node.operator == "^=" and not value:
                    return None
                tests.append((node.attrib, node.operator, value))
            else:
                return None  # combinators, pseudo-classes, functions: the selector engine judges
            node = node.selector
        if one.pseudo_element is not None or node.namespace is not None:
            return None
        alternatives.append((node.element or "*", tuple(tests)))
    return tuple(alternatives)


def _passes(get: Any, tests: tuple[tuple[str, str, str], ...]) -> bool:
    """cssselect's XPath for these tests (GenericTranslator): names as written, ``~=`` on the
    attribute's XML-white-space-separated words, ``^=`` on a non-empty prefix."""
    for name, operator, value in tests:
        found = get(name)
        if found is None:
            return False
        if operator == "=" and found != value:
            return False
        if operator == "^=" and not found.startswith(value):
            return False
        if operator == "~=" and (not value or _CSS_SPACE.search(value)
                                 or value not in _XML_SPACE.split(found.strip(" \t\n\r"))):
            return False
    return True


@lru_cache(maxsize=64)
def _having(names: tuple[str, ...]) -> etree.XPath:
    """The elements carrying any of the attributes ``names`` (libxml2 walks the page, not Python)."""
    tests = " or ".join(f"@{name}" if _NAME.fullmatch(name) else f"@*[name() = '{name}']" for name in names)
    return etree.XPath(f"descendant-or-self::*[{tests}]")


def marked_selectors(root: HtmlElement, selectors: list[str]) -> set[str] | None:
    """Which of ``selectors`` match an element of the page, from one index of the elements' attributes;
    None when one of them is more than a tag and attribute tests (``_simple``): ``select`` judges them."""
    simple = [(css, _simple(css)) for css in selectors]
    if any(alternatives is None or any(not tests for _, tests in alternatives) for _, alternatives in simple):
        return None  # a tag alone has no attribute to be found by
    names = tuple(sorted({name for _, alternatives in simple for _, tests in alternatives or ()
                          for name, _, _ in tests}))
    words = {name for _, alternatives in simple for _, tests in alternatives or () for name, op, _ in tests
             if op == "~="}
    present: dict[str, list[HtmlElement]] = {}
    equal: dict[tuple[str, str], list[HtmlElement]] = {}
    having: dict[tuple[str, str], list[HtmlElement]] = {}
    for element in _having(names)(root):
        for name in names:
            value = element.get(name)
            if value is None:
                continue
            present.setdefault(name, []).append(element)
            equal.setdefault((name, value), []).append(element)
            if name in words:
                for word in set(_XML_SPACE.split(value.strip(" \t\n\r"))):
                    having.setdefault((name, word), []).append(element)
    found: set[str] = set()
    for css, alternatives in simple:
        for want, tests in alternatives or ():
            name, operator, value = tests[0]
            candidates = (equal.get((name, value), []) if operator == "=" else
                          having.get((name, value), []) if operator == "~=" else present.get(name, []))
            if any((want == "*" or want == e.tag) and _passes(e.get, tests) for e in candidates):
                found.add(css)
                break
    return found


def recognise(root: HtmlElement, families: Iterable[SiteProfile]) -> SiteProfile | None:
    """The family profile whose marks the page carries most (at least ``THRESHOLD``), else None.

    The families' selector marks are tag and attribute tests, answered together from one index of
    the page (``marked_selectors``) where each selector walked the whole page; should one be more
    than that, the marks are tried as one selector group first (most pages carry none), then singly.
    """
    generator, resources = generators(root), page_resources(root)
    families = list(families)
    marks = [css for profile in families for css in profile.markers.selectors]
    present = marked_selectors(root, marks)
    if present is None and not (marks and select(root, ", ".join(marks))):
        present = set()
    best: tuple[int, SiteProfile] | None = None
    for profile in families:
        points = score(profile, generator, resources, root, present)
        if points >= THRESHOLD and (best is None or points > best[0]):
            best = (points, profile)
    return best[1] if best else None
