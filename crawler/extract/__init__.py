"""The extraction core: from a page's HTML to its ``Article`` (or "no article"), with no Scrapy.

``extract(html, url, profile)`` is the one entry point. The modules beside it, one concept each:
``meta`` (head tags, JSON-LD), ``title``, ``category``, ``dates`` (the date line) and ``vndate``
(Vietnamese date formats), ``lead`` (lead and byline) with ``byline`` (recognising names),
``listing`` (listing pages are not articles), ``clean`` (chrome removal), ``prepare`` (photos,
layout tables, the body hint), ``text`` (the trafilatura call and its lines), ``decode`` (bytes to
text), ``article`` (the result).
"""

from __future__ import annotations

from crawler.extract.article import Article, Image
from crawler.extract.core import NOT_FOUND, NoArticle, extract, parse_html, read_article

__all__ = ["NOT_FOUND", "Article", "Image", "NoArticle", "extract", "parse_html", "read_article"]
