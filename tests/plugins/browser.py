"""A real headless Chromium for the report's security and rendering tests (owned by the report work).

Playwright drives the operating system's Chromium package (``/usr/bin/chromium``, env
``TGWATCH_CHROMIUM``): Playwright's own browser download is not used. Under ``CI=true`` a missing
browser fails the test (``.ci/run`` installs it); elsewhere the test skips with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crawler.chromium import CHROMIUM_ARGS, INSTALL_HINT, chromium_path
from tests.conftest import in_ci


def require_chromium() -> str:
    """The system's Chromium (the one the product finds); under CI=true its absence fails the test."""
    path = chromium_path()
    if path is None:
        message = f"no Chromium: {INSTALL_HINT}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of the Chromium executable the crawl's browser mode will launch."""
    return require_chromium()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (a Playwright ``Browser``)."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
