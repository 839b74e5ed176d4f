"""``tgwatch scrape``: one page, now, from a URL or a saved HTML file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from crawler.extract import Article
from crawler.fetch import DEADLINE, MAX_BYTES, fetch
from crawler.items import Page
from monitor.context import AppContext
from monitor.output import echo, format_option, json_document, render
from storage.content import VN_TZ
from storage.errors import FetchError, InputError, NoArticleError
from storage.observation import Failed

if TYPE_CHECKING:
    from crawler.profiles import SiteProfile

MAX_FILE_BYTES = MAX_BYTES


def read_file(path: Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a local HTML file, or an ``InputError`` saying why it cannot be one."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    name = str(path)
    if not path.exists():
        raise InputError(name, "no such file")
    if path.is_dir():
        raise InputError(name, "is a directory, not an HTML file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(name, f"file is {size / 1048576:.1f} MB, over the {max_bytes // 1048576} MB limit")
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror})") from None
    if not body.strip():
        raise InputError(name, "file is empty")
    return body  # binary content is judged by the read path, as for a fetched page


def load_page(target: str, url: str | None, *, deadline: float | None = None, browser: bool = False) -> Page:
    """Fetch an http(s) TARGET (rendered in Chromium with ``browser``), or read a local file whose
    address is ``url`` (or its file: URL)."""
    if urlsplit(target).scheme in ("http", "https"):
        if browser:
            from crawler.render import render_page

            return render_page(target)
        return fetch(target, deadline=deadline)
    if "://" in target:
        raise InputError(target, "unsupported URL scheme (only http and https are fetched)")
    path = Path(target)
    body = read_file(path)
    return Page(url=url or path.resolve().as_uri(), status=200, headers={}, body=body)


def render_text(article: Article) -> str:
    """A plain rendering for the terminal: metadata lines, a blank line, the text."""
    meta = [
        ("Title", article.title),
        ("Published", article.published_at.isoformat() if article.published_at else "-"),
        ("Author", article.author or "-"),
        ("Category", article.category or "-"),
        ("URL", article.url),
    ]
    head = "\n".join(f"{key + ':':<11}{value}" for key, value in meta)
    return f"{head}\n\n{article.text}"


@click.command("scrape")
@click.argument("target")
@click.option("--url", help="The page's address when TARGET is a file (picks the site profile).")
@click.option("--profile", "profile_name", help="Use this site/profile instead of choosing by URL.")
@click.option("--deadline", type=click.FloatRange(min=0.1), default=DEADLINE, show_default=True,
              help="Seconds the whole fetch of a URL may take (redirects, headers and body).")
@click.option("--save", is_flag=True, help="Record the page in the archive (--db).")
@click.option("--render", "in_browser", is_flag=True,
              help="Render the page in Chromium first (the default for a site with render = \"browser\").")
@format_option(json_alias=True)
@click.pass_obj
def command(app: AppContext, target: str, url: str | None, profile_name: str | None, deadline: float, save: bool,
            in_browser: bool, fmt: str) -> None:
    """Extract one article from a URL or a local HTML file and print it.

    --format table (the default) prints the metadata, then the text; json one object; csv a header
    and one row (the same fields as json; lists one item per line).

    \b
    Example:
      tgwatch scrape https://tuyengiao.vn/some-report-139001 --json
      tgwatch scrape saved.html --url https://tuyengiao.vn/some-report-139001
      tgwatch scrape https://tuyengiaodanvan.vn/some-report-65a1b2c3d4e5f60718293a4b --render
    """
    from crawler.profiles import profile_for_url, select_profile
    from crawler.worker import read_page

    profile: SiteProfile | None
    if profile_name:
        profile = select_profile(profile_name, app.config)
    else:
        profile = profile_for_url(url or target, app.config)
    page = load_page(target, url, deadline=deadline,
                     browser=in_browser or (profile is not None and profile.renders(url or target)))
    address = url or page.url
    if not profile_name and (url or target) != address:
        profile = profile_for_url(address, app.config)
    # known=True: when saving, the archive decides (a soft-404 of an article it never held is ignored)
    reading = read_page(replace(page, url=address), profile, fetched_at=datetime.now(VN_TZ), known=True)
    if save and reading.observation is not None:
        site = profile.name if profile else (urlsplit(address).hostname or "local")
        verdict = app.archive().record(site, address, reading.observation)
        click.echo(f"saved: {verdict}", err=True)
    article = reading.article
    if article is None:
        if isinstance(reading.observation, Failed):
            raise (FetchError if urlsplit(target).scheme else InputError)(target, reading.reason or "unreadable")
        raise NoArticleError(target, reading.reason)
    if fmt == "json":
        json_document(article.to_json())
    elif fmt == "csv":
        record = article.to_json()
        render(list(record), [list(record.values())], "csv")
    else:
        echo(render_text(article))

