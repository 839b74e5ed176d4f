"""``tgwatch scrape``: one page, now, from a URL or a saved HTML file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from crawler.extract import Article
from crawler.extract.decode import decode_html, looks_binary
from crawler.fetch import MAX_BYTES, fetch
from crawler.items import Page
from monitor.context import AppContext
from monitor.output import format_option, json_document, render
from storage.content import VN_TZ
from storage.errors import InputError, NoArticleError

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
    if looks_binary(body):
        raise InputError(name, "binary content, not an HTML page")
    return body


def load_page(target: str, url: str | None) -> Page:
    """Fetch an http(s) TARGET, or read a local file whose address is ``url`` (or its file: URL)."""
    if urlsplit(target).scheme in ("http", "https"):
        return fetch(target)
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
@click.option("--save", is_flag=True, help="Record the page in the archive (--db).")
@format_option(json_alias=True)
@click.pass_obj
def command(app: AppContext, target: str, url: str | None, profile_name: str | None, save: bool, fmt: str) -> None:
    """Extract one article from a URL or a local HTML file and print it.

    --format table (the default) prints the metadata, then the text; json one object; csv a header
    and one row (the same fields as json; lists one item per line).

    \b
    Example:
      tgwatch scrape https://tuyengiao.vn/some-report-139001 --json
      tgwatch scrape saved.html --url https://tuyengiao.vn/some-report-139001
    """
    from crawler.extract import extract
    from crawler.profiles import profile_for_url, select_profile

    page = load_page(target, url)
    address = url or page.url
    profile: SiteProfile | None
    if profile_name:
        profile = select_profile(profile_name, app.config)
    else:
        profile = profile_for_url(address, app.config)
    html = decode_html(page.body, page.headers.get("content-type"))
    article = extract(html, address, profile)
    if article is None:
        raise NoArticleError(target)
    if save:
        _save(app, article, page, site=profile.name if profile else (urlsplit(address).hostname or "local"))
    if fmt == "json":
        json_document(article.to_json())
    elif fmt == "csv":
        record = article.to_json()
        render(list(record), [list(record.values())], "csv")
    else:
        click.echo(render_text(article))


def _save(app: AppContext, article: Article, page: Page, *, site: str) -> None:
    from storage.observation import Capture, Fetched

    observation = Fetched(
        content=article.content(),
        fetched_at=datetime.now(VN_TZ),
        capture=Capture(url=page.url, status=page.status, headers=page.headers, body=page.body),
        etag=page.headers.get("etag"),
        last_modified=page.headers.get("last-modified"),
    )
    verdict = app.archive().record(site, article.url, observation)
    click.echo(f"saved: {verdict}", err=True)
