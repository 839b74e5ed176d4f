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

from collections.abc import Iterable

from lxml.html import HtmlElement

from crawler.extract.clean import select
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


def score(profile: SiteProfile, generator: list[str], resources: str, root: HtmlElement, *,
          marked: bool = True) -> int:
    """How many of the family's marks the page carries (the generator weighs more). ``marked``
    False: no selector mark of any family matches the page (``recognise`` asked once)."""
    marks = profile.markers
    points = GENERATOR_WEIGHT if any(g in value for g in marks.generator for value in generator) else 0
    points += sum(1 for piece in marks.resources if piece in resources)
    if marked:
        points += sum(1 for css in marks.selectors if select(root, css))
    return points


def recognise(root: HtmlElement, families: Iterable[SiteProfile]) -> SiteProfile | None:
    """The family profile whose marks the page carries most (at least ``THRESHOLD``), else None.

    Every family's selector marks are first tried as one selector group (one walk of the page);
    only a page where some mark matches has them tried one by one: most pages carry none.
    """
    generator, resources = generators(root), page_resources(root)
    families = list(families)
    marks = [css for profile in families for css in profile.markers.selectors]
    marked = bool(marks) and bool(select(root, ", ".join(marks)))
    best: tuple[int, SiteProfile] | None = None
    for profile in families:
        points = score(profile, generator, resources, root, marked=marked)
        if points >= THRESHOLD and (best is None or points > best[0]):
            best = (points, profile)
    return best[1] if best else None
