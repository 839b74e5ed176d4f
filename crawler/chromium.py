"""The operating system's Chromium: where it is and how it is launched, for every browser use.

Playwright's own browser download cannot be assumed (and does not work on the machines tgwatch is
built for): the crawl's browser mode (``crawler.browser``), ``tgwatch scrape --render``
(``crawler.render``) and the tests use the Chromium of the system's packages, or the executable
``TGWATCH_CHROMIUM`` names. No Scrapy and no Playwright here: finding it costs nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Where Chromium is looked for when ``TGWATCH_CHROMIUM`` is not set: Debian's package first."""

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
    "--disable-background-networking", "--disable-component-update", "--disable-default-apps", "--disable-sync",
    "--no-first-run", "--mute-audio", "--metrics-recording-only", "--renderer-process-limit=4",
    "--js-flags=--max-old-space-size=256",
]
"""Headless, quiet (no updates, sync or background traffic), a bounded number of renderers and heap."""

BLOCKED_RESOURCES = frozenset({"image", "font", "media"})
"""Resource types a rendered page never fetches: they add nothing to the text."""

INSTALL_HINT = ("install Chromium from the system's packages (Debian/Ubuntu: apt-get install chromium) "
                "or set TGWATCH_CHROMIUM to a Chromium or Chrome executable")


def _executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def chromium_path(configured: str | None = None) -> str | None:
    """The Chromium executable: the one ``configured`` (else env ``TGWATCH_CHROMIUM``) names, which
    must then exist; with neither, the first of ``CANDIDATES`` found (a name is looked up on PATH)."""
    named = configured or os.environ.get("TGWATCH_CHROMIUM")
    if named:
        found = named if os.sep in named else shutil.which(named)
        return found if found and _executable(found) else None
    for candidate in CANDIDATES:
        found = candidate if os.sep in candidate else shutil.which(candidate)
        if found and _executable(found):
            return found
    return None
