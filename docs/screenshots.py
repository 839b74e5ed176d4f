"""Screenshots of the report for the README: ``python docs/screenshots.py [ARCHIVE_URL]``.

Serves the report over an archive (default: the one ``make demo`` leaves in
``demo-archive/archive.db``) and has the system's headless Chromium photograph the changes list,
the side-by-side diff of the first edited article and that article's capture, into ``docs/``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from monitor.serve import open_report, running
from monitor.web.app import create_app

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main(url: str = "sqlite:///demo-archive/archive.db") -> None:
    out = Path(__file__).parent
    report = open_report(url, [])
    with running(create_app(report)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(f"{base}/changes")
        page.screenshot(path=out / "changes.png")
        page.goto(f"{base}/changes?kind=edited&field=text")
        link = page.locator("a.title").first.get_attribute("href") or ""
        page.goto(base + link)
        page.locator("tr.changed").first.scroll_into_view_if_needed()
        page.mouse.wheel(0, 250)
        page.wait_for_timeout(200)
        page.screenshot(path=out / "article-diff.png")
        capture = page.locator("a[href^='/capture/']").last.get_attribute("href") or ""
        page.goto(base + capture)
        page.screenshot(path=out / "capture.png")
        browser.close()
    report.archive.close()
    print("wrote", ", ".join(str(out / n) for n in ("changes.png", "article-diff.png", "capture.png")))
    assert re.match(r"/capture/\d+$", capture)


if __name__ == "__main__":
    main(*sys.argv[1:2])
