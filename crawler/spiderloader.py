"""A spider loader that makes one spider per configured site, so ``scrapy crawl SITE`` just works.

There is one generic spider (``crawler.spiders.site.SiteSpider``) and many sites. Scrapy finds
spiders by name through ``SPIDER_LOADER_CLASS``; this loader reads the site config (the
``TGWATCH_CONFIG`` setting, else ``./tgwatch.toml``, else the built-in profiles) and gives each site
a subclass named after it that carries its profile.
"""

from __future__ import annotations

import builtins
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.profiles import Config, SiteProfile, config_path, load_config
from crawler.spiders.site import SiteSpider

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.settings import BaseSettings

def start_hosts(profile: SiteProfile) -> list[str]:
    """The hosts of the start URLs: the only hosts the site's spider visits."""
    hosts = (urlsplit(url).hostname for url in profile.start_urls)
    return list(dict.fromkeys(h for h in hosts if h))


def spider_class(profile: SiteProfile, config: Config | None = None,
                 base: type[SiteSpider] = SiteSpider) -> type[SiteSpider]:
    """The generic spider bound to one site's profile (``config``: the other sites, for ownership;
    ``base``: ``SiteSpider``, or the fleet worker's ``FleetSiteSpider``)."""
    words = re.split(r"[^A-Za-z0-9]+", profile.name)
    class_name = "".join(w.capitalize() for w in words) + "Spider"
    attrs = {"name": profile.name, "profile": profile, "config": config, "allowed_domains": start_hosts(profile)}
    if profile.render == "browser":  # scrapy-playwright for this site's crawler only (crawler/browser.py)
        attrs["custom_settings"] = {"ADDONS": {"crawler.browser.BrowserAddon": 0}, "TGWATCH_BROWSER_SITE": profile.name}
    return type(class_name, (base,), attrs)


class SiteSpiderLoader:
    """``SpiderLoaderProtocol`` over the configured sites."""

    def __init__(self, config: Config, base: type[SiteSpider] = SiteSpider) -> None:
        self.config = config
        self._spiders = {name: spider_class(profile, config, base) for name, profile in config.sites.items()}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """A fleet worker (TGWATCH_REDIS set) gets spiders that take their requests from the frontier."""
        base = SiteSpider
        if settings.get("TGWATCH_REDIS"):
            from crawler.fleet import FleetSiteSpider

            base = FleetSiteSpider
        return cls(load_config(config_path(settings.get("TGWATCH_CONFIG"))), base)

    def load(self, spider_name: str) -> type[SiteSpider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        return [name for name, cls in self._spiders.items() if cls.handles_request(request)]
