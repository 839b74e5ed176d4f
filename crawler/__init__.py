"""Fetching and extraction: Scrapy spiders, site profiles, the extraction step."""

from __future__ import annotations

__version__ = "0.1.0"
USER_AGENT = f"tgwatch/{__version__} (+https://github.com/tgwatch/tgwatch; news archive crawler)"
