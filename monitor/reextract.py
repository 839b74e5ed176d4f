"""``tgwatch reextract``: read every stored capture again with today's extractor.

Extraction improves; the raw HTML of every version is kept for exactly this. Each capture is read
the way a crawl reads a page (``crawler.worker.read_page``, the one read-a-page path, in the
extraction process pool) and ``Archive.rederive`` corrects the version in place, recording a
``reextracted`` change with the old values. A capture in which today's extractor finds no article
(or which it cannot read) is left alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import TypeVar

import click

from monitor.context import AppContext
from monitor.crawl import parse_overrides
from storage.content import VN_TZ
from storage.observation import Fetched

BATCH = 64
T = TypeVar("T")


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@click.command("reextract")
@click.argument("sites", nargs=-1)
@click.option("--workers", type=int,
              help="Extraction processes (0: extract in this process). Default: TGWATCH_EXTRACT_WORKERS.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a crawl setting (repeatable), e.g. -s TGWATCH_EXTRACT_START_METHOD=spawn.")
@click.pass_obj
def command(app: AppContext, sites: tuple[str, ...], workers: int | None, overrides: tuple[str, ...]) -> None:
    """Re-derive every stored version of SITES (default: all) from its raw HTML.

    Reads the pages as a crawl does, with the crawl's settings (and -s on top). Prints how many
    versions were read and how many changed, by field.

    \b
    Example:
      tgwatch reextract
      tgwatch reextract tuyengiao longan -s TGWATCH_EXTRACT_WORKERS=4
    """
    from crawler.items import Page
    from crawler.pool import extraction_pool
    from crawler.profiles import profile_for_url
    from crawler.run import check_sites, crawl_settings
    from crawler.worker import read_page

    settings = crawl_settings(overrides=parse_overrides(overrides))
    workers = settings.getint("TGWATCH_EXTRACT_WORKERS") if workers is None else workers
    config = app.config
    check_sites(sites, config.sites, config.source)
    archive = app.archive()
    pool = extraction_pool(workers, settings.get("TGWATCH_EXTRACT_START_METHOD")) if workers > 0 else None
    read = Counter[str]()
    fields = Counter[str]()
    changed_versions = 0
    for site in sites or (None,):
        for batch in _batches(archive.iter_captures(site)):
            pages, profiles = [], []
            for capture in batch:
                headers = {str(k).lower(): str(v) for k, v in capture.headers.items()}
                pages.append(Page(url=capture.url, status=capture.status, headers=headers, body=capture.body))
                profiles.append(config.sites.get(capture.site) or profile_for_url(capture.article_url, config))
            read_one = partial(read_page, fetched_at=datetime.now(VN_TZ), known=True)
            readings = pool.map(read_one, pages, profiles) if pool else map(read_one, pages, profiles)
            for capture, reading in zip(batch, readings):
                read[capture.site] += 1
                if not isinstance(reading.observation, Fetched):
                    continue
                changed = archive.rederive(capture.version_id, reading.observation.content)
                if changed:
                    changed_versions += 1
                    fields.update(changed)
    total = sum(read.values())
    detail = ", ".join(f"{name} {count}" for name, count in fields.most_common())
    click.echo(f"re-extracted {total} versions: {changed_versions} changed" + (f" ({detail})" if detail else ""))
