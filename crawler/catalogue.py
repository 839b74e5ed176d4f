"""The catalogue of real provincial and district sites (``crawler/catalogue.toml``), and the copy of
one entry into a user's config (``tgwatch sites add``).

Each entry is a ``[[sites]]`` table validated by the config's own parser (``parse_config_site``), so
what ``sites add`` appends always loads; beside it, ``[sites.catalogue]`` records where each fact
was learned, which is never copied into a config (only as a comment). Nothing half-written: the new
config is written to a temporary file next to the old one, loaded back, then swapped in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.profiles import SiteProfile, load_config, parse_config_site
from storage.errors import ConfigError

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.toml"
CMS_FAMILIES: dict[str, str | None] = {
    "NukeViet": "nukeviet", "Liferay": "liferay", "SharePoint": "portal", "ASP.NET": "aspnet",
    "WordPress": "wordpress", "Joomla": "joomla", "DotNetNuke": "dotnetnuke", "Drupal": "drupal",
    "unknown": None,
}
"""CMS family names of the catalogue and the built-in profile of each (``unknown``: none)."""
_META_KEYS = {"title", "cms", "checked", "sources", "examples", "note"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class CatalogueEntry:
    """One catalogued site: the site as a config would hold it, and its provenance."""

    site: SiteProfile
    table: dict[str, Any]  # the [[sites]] table as written, without [sites.catalogue]: what `sites add` copies
    title: str
    cms: str
    checked: bool
    sources: tuple[str, ...]
    examples: tuple[str, ...]
    note: str

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def url(self) -> str:
        return self.site.start_urls[0]


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, CatalogueEntry]:
    """Every entry of ``path`` by name; a malformed entry is a ``ConfigError`` naming it."""
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(source, f"cannot be read ({exc})") from None
    if set(raw) - {"sites"} or not isinstance(raw.get("sites"), list):
        raise ConfigError(source, "must hold only an array of [[sites]] tables")
    entries: dict[str, CatalogueEntry] = {}
    for index, table in enumerate(raw["sites"]):
        entry = _entry(table, source, f"sites[{index}]")
        if entry.name in entries:
            raise ConfigError(source, f"sites[{index}]: duplicate site name {entry.name!r}")
        entries[entry.name] = entry
    return entries


@cache
def catalogue() -> dict[str, CatalogueEntry]:
    """The shipped catalogue (read once per process)."""
    return load_catalogue()


def _entry(table: Any, source: str, where: str) -> CatalogueEntry:
    def fail(problem: str) -> ConfigError:
        return ConfigError(source, f"{where}: {problem}")

    if not isinstance(table, dict) or not isinstance(table.get("catalogue"), dict):
        raise fail("needs a [sites.catalogue] table (title, cms, checked, sources)")
    site_table = {k: v for k, v in table.items() if k != "catalogue"}
    site = parse_config_site(site_table, source, where)
    meta = table["catalogue"]
    if unknown := sorted(set(meta) - _META_KEYS):
        raise fail(f"unknown key catalogue.{unknown[0]} (known: {', '.join(sorted(_META_KEYS))})")
    title, cms, checked, note = meta.get("title"), meta.get("cms"), meta.get("checked"), meta.get("note", "")
    sources, examples = meta.get("sources"), meta.get("examples", [])
    if not isinstance(title, str) or not title.strip():
        raise fail("catalogue.title must be a non-empty string")
    if cms not in CMS_FAMILIES:
        raise fail(f"catalogue.cms must be one of {', '.join(CMS_FAMILIES)}, not {cms!r}")
    if site.profile is not None and site.profile != CMS_FAMILIES[cms]:
        raise fail(f"profile {site.profile!r} is not the profile of the CMS family {cms!r}")
    if not isinstance(checked, bool):
        raise fail("catalogue.checked must be true or false")
    if not _strings(sources) or not sources:
        raise fail("catalogue.sources must be a non-empty list of strings: where each fact was learned")
    if not _strings(examples) or not isinstance(note, str):
        raise fail("catalogue.examples must be a list of article URLs, catalogue.note a string")
    for url in examples:
        if urlsplit(url).hostname not in {urlsplit(u).hostname for u in site.start_urls}:
            raise fail(f"example {url!r} is not on the site's hosts")
        if site.article_url.search(url) is None:
            raise fail(f"example {url!r} does not match article_url {site.article_url.pattern!r}")
    return CatalogueEntry(site=site, table=site_table, title=title.strip(), cms=cms, checked=checked,
                          sources=tuple(sources), examples=tuple(examples), note=note.strip())


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


# --- an entry as config text -------------------------------------------------------------------

def entry_toml(entry: CatalogueEntry) -> str:
    """The entry as a ``[[sites]]`` table of a config, after comment lines giving its provenance."""
    def comment(text: str) -> str:
        return "# " + " ".join(text.split())

    lines = [comment(f"From the tgwatch site catalogue: {entry.title} (CMS {entry.cms}; facts "
                     f"{'checked in the sources' if entry.checked else 'not all checked'})")]
    lines += [comment(f"source: {s}") for s in entry.sources]
    if entry.note:
        lines.append(comment(f"note: {entry.note}"))
    lines.append("[[sites]]")
    tables = {k: v for k, v in entry.table.items() if isinstance(v, dict)}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in entry.table.items() if k not in tables]
    for key, sub in tables.items():
        lines.append(f"\n[sites.{_key(key)}]")
        lines += [f"{_key(k)} = {_value(v)}" for k, v in sub.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    """A TOML value: literal strings for regexes (no escaping to get wrong), else JSON's escaping
    (valid TOML for strings, numbers and booleans)."""
    if isinstance(value, str):
        plain = "'" not in value and all(c.isprintable() for c in value)
        return f"'{value}'" if plain else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise TypeError(f"no TOML form for {value!r}")


# --- `tgwatch sites add` -----------------------------------------------------------------------

def add_to_config(path: Path, name: str) -> CatalogueEntry:
    """Append catalogue entry ``name`` to the config at ``path`` (created when missing), keeping
    its text and comments; refused (``ConfigError``, nothing written) when the name is unknown,
    already configured, or the config does not load."""
    entry = catalogue().get(name)
    if entry is None:
        raise ConfigError("catalogue", f"no entry named {name!r} (see `tgwatch sites --catalogue`)")
    path = path.resolve() if path.is_symlink() else path  # a linked config is changed where it lives
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.exists() and name in load_config(path).sites:
        raise ConfigError(str(path), f"a site named {name!r} is already configured")
    separator = "" if not old.strip() else ("\n" if old.endswith("\n") else "\n\n")
    try:
        with _replacement(path) as temporary:
            temporary.write_text(old + separator + entry_toml(entry), encoding="utf-8")
            added = load_config(temporary).sites.get(name)
            if added != entry.site:
                raise ConfigError(str(path), f"the appended table of {name!r} does not load as the catalogue's entry")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be written ({exc.strerror or exc})") from None
    return entry


class _replacement:
    """A temporary file beside ``path`` that replaces it atomically when the block succeeds, and
    is removed when it fails (the original untouched)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary = Path()

    def __enter__(self) -> Path:
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        os.close(handle)
        self.temporary = Path(name)
        return self.temporary

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.temporary.unlink(missing_ok=True)
            return
        try:
            if self.path.exists():
                shutil.copymode(self.path, self.temporary)
            else:  # mkstemp's 0600 would hide a new config from its group
                umask = os.umask(0)
                os.umask(umask)
                self.temporary.chmod(0o666 & ~umask)
            with self.temporary.open("rb") as written:
                os.fsync(written.fileno())
            os.replace(self.temporary, self.path)
        except BaseException:
            self.temporary.unlink(missing_ok=True)
            raise


def rows() -> Iterator[tuple[Any, ...]]:
    """``tgwatch sites --catalogue`` rows: name, title, URL, CMS, checked, article_url, sources."""
    for entry in catalogue().values():
        yield (entry.name, entry.title, entry.url, entry.cms, entry.checked, entry.site.article_url.pattern,
               list(entry.sources))
