"""Captures from a web archive become versions, by the crawl's own rules.

Each capture of an article URL is read by ``crawler.worker.read_page`` (the crawl's read path) with
the profile its URL gets (a configured site, else a built-in profile by host: ``tuyengiao`` for the
old central site), and recorded by ``Archive.record`` at its capture time: the first a ``new``
article, a different one an ``edited`` version naming its fields, the same content nothing, a 404
or 410 (or a redirect away from the article) a removal signal, two of them a removal. Captures go in
time order per URL, and a capture no later than the article's last check is skipped, so importing
the same files twice adds nothing and an import never goes back in time over a newer crawl.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from crawler.archived import Archived
from crawler.items import Page
from crawler.profiles import Config, SiteProfile, profile_for_url
from crawler.worker import read_page
from storage.archive import Archive
from storage.observation import Gone, NotModified, Observation
from storage.urls import canonical_url

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class ImportCounts:
    """What an import did: verdicts recorded, and captures skipped by reason."""

    verdicts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        done = ", ".join(f"{k} {v}" for k, v in sorted(self.verdicts.items())) or "nothing recorded"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        return f"captures imported: {done}" + (f"; skipped: {skipped}" if skipped else "")


class Importer:
    """Records captures into ``archive``; ``site`` forces one configured site or profile for all URLs."""

    def __init__(self, archive: Archive, config: Config | None, site: SiteProfile | None = None) -> None:
        self.archive = archive
        self.config = config
        self.forced = site
        self.counts = ImportCounts()
        self._checked: dict[str, dict[str, datetime]] = {}

    def profile(self, url: str) -> SiteProfile | None:
        return self.forced or profile_for_url(url, self.config)

    def _last_checked(self, site: str, url: str) -> datetime | None:
        if site not in self._checked:
            self._checked[site] = {a.url: a.last_checked_at for a in self.archive.known_articles(site)}
        return self._checked[site].get(canonical_url(url))

    def wanted(self, url: str) -> SiteProfile | None:
        """The profile of an article URL, or None (counted) for any other URL."""
        profile = self.profile(url)
        if profile is None:
            self.counts.skipped["no site for the URL"] += 1
            return None
        if profile.article_url.search(url.split("#", 1)[0]) is None:
            self.counts.skipped["not an article URL"] += 1
            return None
        return profile

    def observe(self, capture: Archived, profile: SiteProfile, known: bool) -> Observation | None:
        """What the capture says about the article (None: nothing to record)."""
        at = capture.captured_at
        if capture.revisit:
            return NotModified(fetched_at=at)
        if capture.status in (404, 410):
            return Gone(reason=f"HTTP {capture.status} (archived capture)", fetched_at=at)
        if capture.status in (301, 302, 303, 307, 308):
            target = urljoin(capture.url, capture.headers.get("location", ""))
            if target and profile.article_url.search(target) is None:
                return Gone(reason=f"redirect to {target} (archived capture)", fetched_at=at)
            return None
        if capture.status != 200:
            return None
        ctype = capture.headers.get("content-type", "text/html").lower()
        if not ctype.startswith(HTML_TYPES):
            return None
        page = Page(url=capture.url, status=200, headers=capture.headers, body=capture.body)
        return read_page(page, profile, fetched_at=at, known=known).observation

    def add(self, capture: Archived, profile: SiteProfile) -> None:
        """Record one capture (of an article URL, in time order for its URL)."""
        last = self._last_checked(profile.name, capture.url)
        if last is not None and capture.captured_at <= last:
            self.counts.skipped["already in the archive"] += 1
            return
        observation = self.observe(capture, profile, known=last is not None)
        if observation is None:
            self.counts.skipped["no article in the capture"] += 1
            return
        verdict = self.archive.record(profile.name, capture.url, observation)
        self.counts.verdicts[str(verdict)] += 1
        self._checked[profile.name][canonical_url(capture.url)] = capture.captured_at
