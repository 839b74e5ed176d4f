"""Site profiles: what the crawler and the extractor know about a site, and the ``tgwatch.toml`` loader.

A built-in profile (``crawler/profiles/<name>.toml``) and a ``[[sites]]`` table of the user's config
have the same keys, so a user can copy a profile, or say ``profile = "tuyengiao"`` to inherit its
selectors. Everything is validated on load, so a typo fails once with the line's site index instead
of silently turning a known site into a generic one.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from lxml.cssselect import CSSSelector, SelectorError

from crawler.patterns import PatternError, UrlPattern, compile_pattern
from crawler.recheck import RECHECK_MODES
from crawler.schedules import make_trigger
from storage.errors import ConfigError
from storage.vocabulary import FLAGGED_KINDS, SUBSTANTIVE_EDITS

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_CONFIG = "tgwatch.toml"
"""The config file used when none is named, if it exists in the working directory."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SITE_KEYS = {
    "name", "start_urls", "article_url", "follow_url", "schedule", "notify", "notify_kinds", "recheck", "profile",
    "hosts", "description", "template_generation", "selectors", "text", "markers", "recognise_cms", "render",
    "render_url", "rate", "delay", "concurrency", "autothrottle",
}
RENDER_MODES = ("http", "browser")
"""How a site's pages are fetched: ``http`` (default) or ``browser`` (Chromium runs their scripts)."""
_MARKER_KEYS = ("generator", "selectors", "resources")
_TEXT_KEYS = {"not_found"}
MAX_DELAY = 3600.0
"""Longest ``delay`` between two requests to a site (seconds); ``rate`` at least its inverse."""
MAX_CONCURRENCY = 64
"""Most requests at once to one site a config may ask for."""
_NEVER = UrlPattern(r"(?!)")  # placeholder of a required pattern (never used: the key is checked first)
T = TypeVar("T")


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for a known template; every one optional (absent = found generically)."""

    content: str | None = None
    title: str | None = None
    lead: str | None = None
    date: str | None = None
    body: str | None = None
    byline: str | None = None
    category: str | None = None
    drop: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class Markers:
    """How a CMS family shows itself on any of its pages, so its profile applies unasked.

    ``generator``: words of ``<meta name="generator">``; ``selectors``: CSS that only this family's
    markup matches (ids, classes); ``resources``: pieces of script, stylesheet and image addresses
    or of inline scripts (``/wp-content/``, ``_spPageContextInfo``).
    """

    generator: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.generator or self.selectors or self.resources)


@dataclass(frozen=True)
class SiteProfile:
    """One watched site (or one built-in template): where to crawl and how to read its pages."""

    name: str
    start_urls: list[str]
    article_url: UrlPattern
    follow_url: UrlPattern | None = None
    hosts: list[str] = field(default_factory=list)
    schedule: str | None = None
    notify: list[str] = field(default_factory=list)
    notify_kinds: tuple[str, ...] = ()  # change kinds announced for this site; () = all
    recheck: str = "due"
    rate: float | None = None  # requests per second to this site, at most: 1/delay (None: settings)
    delay: float | None = None  # seconds between two requests to this site, at least (None: settings)
    concurrency: int | None = None  # requests at once to this site (None: settings)
    autothrottle: bool | None = None  # AutoThrottle on this site (None: AUTOTHROTTLE_ENABLED)
    selectors: Selectors = field(default_factory=Selectors)
    not_found: list[str] = field(default_factory=list)
    description: str = ""
    template_generation: str | None = None
    profile: str | None = None
    markers: Markers = field(default_factory=Markers)
    recognise_cms: bool = True
    render: str = "http"  # "browser": pages are fetched through Chromium (crawler/browser.py)
    render_url: UrlPattern | None = None  # with render = "browser": only URLs it matches

    def renders(self, url: str) -> bool:
        """Whether ``url`` of this site is fetched through the browser."""
        return self.render == "browser" and (self.render_url is None or self.render_url.search(url) is not None)

    @property
    def is_generic(self) -> bool:
        """True when extraction has no site knowledge of its own (a CMS family may still be recognised)."""
        return self.selectors.is_empty()


@dataclass(frozen=True)
class Config:
    """The loaded ``tgwatch.toml`` (or the built-in sites): Apprise URLs for every site, the sites."""

    notify: list[str]
    sites: dict[str, SiteProfile]
    source: str


@dataclass(frozen=True)
class _Check:
    """Validation of one table, failing with ``ConfigError(source, "sites[2]: ...")`` (one line)."""

    source: str
    where: str

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(self.source, f"{self.where}: {problem}" if self.where else problem)

    def strings(self, value: Any, key: str) -> list[str]:
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{key} must be a list of non-empty strings")
        return [v.strip() for v in value]

    def regex(self, value: Any, key: str) -> UrlPattern:
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key} must be a non-empty string (a regular expression)")
        try:
            return compile_pattern(value)
        except PatternError as exc:
            invalid = str(exc).startswith("not a valid")
            raise self.fail(f"{key} is {exc}" if invalid else f"{key} {value!r} is refused: {exc}") from None

    def urls(self, value: Any, key: str) -> list[str]:
        urls = self.strings(value, key)
        bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname]
        if bad:
            raise self.fail(f"{key}: {bad[0]!r} is not an http(s) URL")
        return urls

    def selectors(self, raw: Any, base: Selectors) -> Selectors:
        """Given keys replace the inherited ones; ``drop`` adds to the inherited list."""
        known = {f.name for f in fields(Selectors)}
        if not isinstance(raw, dict):
            raise self.fail("selectors must be a table")
        if unknown := sorted(set(raw) - known):
            raise self.fail(f"unknown key selectors.{unknown[0]} (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            items = self.strings(value, f"selectors.{key}") if key == "drop" else [value]
            for css in items:
                if not isinstance(css, str) or not css.strip():
                    raise self.fail(f"selectors.{key} must be a non-empty CSS selector")
                try:
                    CSSSelector(css)
                except SelectorError as exc:
                    raise self.fail(f"selectors.{key} is not a valid CSS selector: {css!r} ({exc})") from None
            values[key] = tuple(dict.fromkeys(base.drop + tuple(items))) if key == "drop" else value.strip()
        return replace(base, **values)

    def markers(self, raw: Any, base: Markers) -> Markers:
        """A family's markers; given keys replace the inherited ones."""
        if not isinstance(raw, dict) or set(raw) - set(_MARKER_KEYS):
            raise self.fail(f"markers must be a table with the keys {', '.join(_MARKER_KEYS)}")
        values = {key: tuple(s if key == "selectors" else s.casefold() for s in self.strings(value, f"markers.{key}"))
                  for key, value in raw.items()}
        for css in values.get("selectors", ()):
            try:
                CSSSelector(css)
            except SelectorError as exc:
                raise self.fail(f"markers.selectors is not a valid CSS selector: {css!r} ({exc})") from None
        return replace(base, **values)


def parse_site(raw: Any, source: str, where: str, base: SiteProfile | None = None) -> SiteProfile:
    """Validate one site table; ``base`` is the built-in profile it extends (``profile = ...``).

    Keys not given are inherited from ``base``; ``start_urls`` and ``article_url`` are required
    only without one.
    """
    check = _Check(source, where)
    table = _site_table(raw, check, base)
    schedule = _schedule(table, check, base)
    recheck = table.get("recheck", "due")
    if recheck not in RECHECK_MODES:
        raise check.fail(f"recheck must be one of {', '.join(RECHECK_MODES)}, not {recheck!r}")
    notify_kinds = tuple(check.strings(table.get("notify_kinds", []), "notify_kinds"))
    if set(notify_kinds) - {*FLAGGED_KINDS, SUBSTANTIVE_EDITS}:
        raise check.fail(f"notify_kinds may only name {', '.join((*FLAGGED_KINDS, SUBSTANTIVE_EDITS))}")
    not_found = _not_found(table, check, base)
    for key in ("description", "template_generation"):
        if key in table and not isinstance(table[key], str):
            raise check.fail(f"{key} must be a string")
    rate, delay = _pace(table, check, base)
    concurrency = table.get("concurrency", base.concurrency if base else None)
    if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                                    or not 1 <= concurrency <= MAX_CONCURRENCY):
        raise check.fail(f"concurrency must be a whole number of requests from 1 to {MAX_CONCURRENCY}, "
                         f"not {concurrency!r}")
    autothrottle = table.get("autothrottle", base.autothrottle if base else None)
    if autothrottle is not None and not isinstance(autothrottle, bool):
        raise check.fail(f"autothrottle must be true or false, not {autothrottle!r}")
    recognise = table.get("recognise_cms", base.recognise_cms if base else True)
    if not isinstance(recognise, bool):
        raise check.fail("recognise_cms must be true or false")
    return SiteProfile(
        name=table["name"],
        start_urls=_inherit(table, "start_urls", check.urls, base, []),
        article_url=_inherit(table, "article_url", check.regex, base, _NEVER),
        follow_url=_inherit(table, "follow_url", check.regex, base, None),
        hosts=[h.lower() for h in check.strings(table.get("hosts", base.hosts if base else []), "hosts")],
        schedule=schedule,
        notify=check.strings(table.get("notify", []), "notify"),
        notify_kinds=notify_kinds,
        recheck=recheck,
        rate=rate,
        delay=delay,
        concurrency=concurrency,
        autothrottle=autothrottle,
        selectors=check.selectors(table.get("selectors", {}), base.selectors if base else Selectors()),
        not_found=not_found,
        description=table.get("description", base.description if base else ""),
        template_generation=table.get("template_generation", base.template_generation if base else None),
        profile=base.name if base else None,
        markers=check.markers(table.get("markers", {}), base.markers if base else Markers()),
        recognise_cms=recognise,
        render=_render(table, check, base),
        render_url=_inherit(table, "render_url", check.regex, base, None),
    )


def _pace(table: dict[str, Any], check: _Check, base: SiteProfile | None) -> tuple[float | None, float | None]:
    """(rate, delay) of a site: one defines the other (rate = 1/delay); given both, they must agree.
    ``delay = 0`` is no delay at all (no rate limit); neither given: the base profile's, else None."""
    rate, delay = table.get("rate"), table.get("delay")
    for key, value in (("rate", rate), ("delay", delay)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            raise check.fail(f"{key} must be a number, not {value!r}")
    if rate is not None and not 1 / MAX_DELAY <= rate:
        raise check.fail(f"rate must be at least 1/{MAX_DELAY:.0f} requests per second (one an hour), not {rate!r}")
    if delay is not None and not 0 <= delay <= MAX_DELAY:
        raise check.fail(f"delay must be from 0 to {MAX_DELAY:.0f} seconds, not {delay!r}")
    if rate is not None and delay is not None and not math.isclose(rate * delay, 1.0, rel_tol=1e-6):
        raise check.fail(f"rate = {rate!r} and delay = {delay!r} disagree (rate {rate!r} is delay "
                         f"{1 / rate:g}); give one of them")
    if rate is not None:
        return float(rate), 1.0 / rate
    if delay is not None:
        return (1.0 / delay if delay else None), float(delay)
    return (base.rate, base.delay) if base else (None, None)


def _render(table: dict[str, Any], check: _Check, base: SiteProfile | None) -> str:
    render = table.get("render", base.render if base else "http")
    if render not in RENDER_MODES:
        raise check.fail(f"render must be one of {', '.join(RENDER_MODES)}, not {render!r}")
    if "render_url" in table and render != "browser":
        raise check.fail('render_url needs render = "browser"')
    return str(render)


def _site_table(raw: Any, check: _Check, base: SiteProfile | None) -> dict[str, Any]:
    """``raw`` if it is a table of known keys with a valid name and the keys a site cannot inherit."""
    if not isinstance(raw, dict):
        raise check.fail("must be a table")
    if unknown := sorted(set(raw) - _SITE_KEYS):
        raise check.fail(f"unknown key {unknown[0]!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise check.fail("name must be a word of letters, digits, '-', '_' or '.'")
    for key in ("start_urls", "article_url"):
        if key not in raw and base is None:
            raise check.fail(f"{key} is required")
    return raw


def _inherit(table: dict[str, Any], key: str, parse: Callable[[Any, str], T], base: SiteProfile | None,
             default: T) -> T:
    """The table's ``key`` parsed, else the base profile's value (a copy of a list), else ``default``."""
    if key in table:
        return parse(table[key], key)
    if base is None:
        return default
    value = getattr(base, key)
    return cast(T, list(value) if isinstance(value, list) else value)


def _schedule(table: dict[str, Any], check: _Check, base: SiteProfile | None) -> str | None:
    """The site's schedule, checked by the daemon's own parser (``crawler.schedules``)."""
    schedule = table.get("schedule", base.schedule if base else None)
    if schedule is None:
        return None
    problem = f"schedule {schedule!r} is neither 'every N minutes|hours|...' nor a crontab line"
    if not isinstance(schedule, str):
        raise check.fail(problem)
    try:
        make_trigger(schedule, 0, UTC)
    except ConfigError as err:
        raise check.fail(f"{problem} (site {table['name']}: {err.problem})") from None
    return schedule.strip()


def _not_found(table: dict[str, Any], check: _Check, base: SiteProfile | None) -> list[str]:
    """Soft-404 markers: the base profile's, then the table's own."""
    text = table.get("text", {})
    if not isinstance(text, dict) or set(text) - _TEXT_KEYS:
        raise check.fail("text must be a table with the key not_found")
    not_found = list(base.not_found) if base else []
    return not_found + [s for s in check.strings(text.get("not_found", []), "text.not_found") if s not in not_found]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(str(path), "invalid TOML: arrays or tables nested too deeply") from None


@cache
def builtin_profiles() -> dict[str, SiteProfile]:
    """Every ``crawler/profiles/*.toml``, by name (read once per process)."""
    profiles: dict[str, SiteProfile] = {}
    for path in sorted(PROFILES_DIR.glob("*.toml")):
        raw = _read_toml(path)
        profile = parse_site(raw, str(path), "")
        if profile.name in profiles:
            raise ConfigError(str(path), f"duplicate profile name {profile.name!r}")
        profiles[profile.name] = profile
    return profiles


def family_profiles() -> list[SiteProfile]:
    """The built-in profiles of CMS families (those with markers), recognised on pages of unprofiled sites."""
    return [p for p in builtin_profiles().values() if not p.markers.is_empty()]


GENERIC = "generic"
"""The built-in profile of no site knowledge at all: no selectors, no CMS family recognised."""


def config_path(value: str | None) -> Path | None:
    """The config file to read: the one named (``--config``, ``TGWATCH_CONFIG``), else
    ``./tgwatch.toml`` if present, else none (the built-in profiles)."""
    if value:
        return Path(value)
    local = Path(DEFAULT_CONFIG)
    return local if local.is_file() else None


def load_config(path: Path | None) -> Config:
    """The sites of ``path`` (``tgwatch.toml`` format), or the built-in profiles that name real sites."""
    if path is None:
        real = {name: p for name, p in builtin_profiles().items() if p.start_urls}
        return Config(notify=[], sites=real, source="built-in profiles")
    source = str(path)
    raw = _read_toml(Path(path))
    unknown = sorted(set(raw) - {"notify", "sites"})
    if unknown:
        raise ConfigError(source, f"unknown top-level key {unknown[0]!r} (known: notify, sites)")
    notify = _Check(source, "").strings(raw.get("notify", []), "notify")
    tables = raw.get("sites", [])
    if not isinstance(tables, list):
        raise ConfigError(source, "sites must be an array of tables ([[sites]])")
    sites: dict[str, SiteProfile] = {}
    for index, table in enumerate(tables):
        site = parse_config_site(table, source, f"sites[{index}]")
        if site.name in sites:
            raise _Check(source, f"sites[{index}]").fail(f"duplicate site name {site.name!r}")
        sites[site.name] = site
    return Config(notify=notify, sites=sites, source=source)


def parse_config_site(table: Any, source: str, where: str) -> SiteProfile:
    """One ``[[sites]]`` table of a config: its ``profile`` resolved, validated, with start URLs
    (the catalogue's entries go through here too, so each is a valid config site)."""
    check, base = _Check(source, where), None
    if isinstance(table, dict) and "profile" in table:
        base = builtin_profiles().get(table["profile"]) if isinstance(table["profile"], str) else None
        if base is None:
            known = ", ".join(sorted(builtin_profiles()))
            raise check.fail(f"unknown profile {table['profile']!r} (built-in: {known})")
    site = parse_site(table, source, where, base)
    if not site.start_urls:
        raise check.fail(f"start_urls of site {site.name} is empty: give at least one listing page URL")
    return site


def select_profile(name: str, config: Config | None = None) -> SiteProfile:
    """A configured site or built-in profile by name (``tgwatch scrape --profile``)."""
    found = (config.sites.get(name) if config else None) or builtin_profiles().get(name)
    if found is None:
        known = sorted(set(config.sites if config else ()) | set(builtin_profiles()))
        raise ConfigError(config.source if config else "built-in profiles",
                          f"no site or profile named {name!r} (known: {', '.join(known)})")
    return found


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _segments(url: str) -> list[str]:
    return [s for s in urlsplit(url).path.split("/") if s]


def profile_for_url(url: str, config: Config | None = None) -> SiteProfile | None:
    """The configured site that owns ``url``, else the built-in profile for its host, else None.

    A configured site owns a URL when one of its start URLs has the same scheme, host and port;
    among several (sites sharing a host, as on the fixture server), the longest shared path prefix wins.
    """
    origin, path = _origin(url), _segments(url)
    best: tuple[int, SiteProfile] | None = None
    for site in (config.sites.values() if config else ()):
        for start in site.start_urls:
            if _origin(start) != origin:
                continue
            pairs = list(zip(_segments(start), path))
            shared = next((i for i, (a, b) in enumerate(pairs) if a != b), len(pairs))
            if best is None or shared > best[0]:
                best = (shared, site)
    if best is not None:
        return best[1]
    host = origin[1]
    for profile in builtin_profiles().values():
        if host and host in profile.hosts:
            return profile
    return None
