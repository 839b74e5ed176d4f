"""Scrapy settings of tgwatch: polite defaults, the project's components, every ``TGWATCH_*`` setting.

This is the one place where a ``TGWATCH_*`` setting gets its default and its documentation.
``scrapy crawl SITE`` reads this module through ``scrapy.cfg``; ``tgwatch crawl`` starts from it and
overrides a few values (archive, config, recheck mode, log level). Tests and the demo shorten the
delays and time-outs through the same settings, never by patching components.
"""

from __future__ import annotations

import os

from crawler import USER_AGENT as _USER_AGENT
from storage.vocabulary import DEFAULT_ARCHIVE_URL as _DEFAULT_ARCHIVE_URL

BOT_NAME = "tgwatch"

# --- Spiders: one generic spider per configured site (crawler/spiderloader.py) -------------------
SPIDER_LOADER_CLASS = "crawler.spiderloader.SiteSpiderLoader"
SPIDER_MODULES: list[str] = []
NEWSPIDER_MODULE = ""
# Scrapy's check re-parses each callback's source with ast.parse on every response; CPython 3.11.7's
# parser is not thread-safe (gh-106905: "AST constructor recursion depth mismatch"), and our callbacks
# are known: the check is off.
WARN_ON_GENERATOR_RETURN_VALUE = False

# --- Politeness -----------------------------------------------------------------------------------
USER_AGENT = _USER_AGENT
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5  # the floor AutoThrottle never goes below
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
COOKIES_ENABLED = False  # news pages need no session; cookies only make responses vary
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 would open an HTTP control port for every crawl

# --- Robustness -----------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is a failed check, never a shorter version
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 520, 521, 522, 523, 524, 408, 429]
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"  # giving up is a failed check, recorded and counted
CONCURRENT_ITEMS = 16  # Scrapy's default of 100 costs about a third of the throughput here
DEPTH_LIMIT = 10  # listing -> next page -> ...: how deep pagination goes from a start URL
DEPTH_PRIORITY = 0
REFERER_ENABLED = True
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformat.QuietLogFormatter"  # no per-page DEBUG record below LOG_LEVEL

# --- tgwatch components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "crawler.pace.SiteSlotMiddleware": 90,  # a site's own delay/concurrency (its download slot)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    # process_response runs from high to low numbers: this one sees a redirect before
    # RedirectMiddleware (600) follows it.
    "crawler.middlewares.ArticleRedirectMiddleware": 650,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.RecordPipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.ArchiveRun": 100,
    "crawler.backfill.BackfillRun": 110,
}

# --- TGWATCH_* settings (defaults and documentation) ----------------------------------------------
TGWATCH_DB = os.environ.get("TGWATCH_DB", _DEFAULT_ARCHIVE_URL)
"""SQLAlchemy URL of the archive the crawl records into (env ``TGWATCH_DB``)."""

TGWATCH_CONFIG = os.environ.get("TGWATCH_CONFIG", "")
"""Site config file (``tgwatch.toml`` format; env ``TGWATCH_CONFIG``). Empty: ``./tgwatch.toml``
when present, else the built-in site profiles."""

TGWATCH_RECHECK = ""
"""Which known articles a crawl re-checks: ``due`` (by TGWATCH_RECHECK_POLICY), ``all`` or
``none``. Empty: the site's ``recheck`` key in the config (itself ``due`` by default). The spider
argument ``-a recheck=all`` overrides both."""

TGWATCH_RECHECK_POLICY = "crawler.recheck.AgeBackoffPolicy"
"""Dotted path of the policy deciding which known articles are due (``recheck = due``)."""

TGWATCH_RECHECK_RATIO = 0.2
"""AgeBackoffPolicy: an article is due when the time since its last check is at least this share
of its age (diffengine's ``Entry.stale``): young articles often, old ones rarely."""

TGWATCH_RECHECK_MIN_INTERVAL = 600.0
"""AgeBackoffPolicy: never re-check an article more often than this (seconds)."""

TGWATCH_RECHECK_MAX_INTERVAL = 7 * 24 * 3600.0
"""AgeBackoffPolicy: re-check every article at least this often (seconds), however old."""

TGWATCH_LISTING_PAGES = 200
"""Most listing/pagination pages one crawl of one site fetches (DEPTH_LIMIT bounds their depth); a
log line says when pagination went further."""

TGWATCH_LISTING_LINKS = 5000
"""Most links read from one listing page (a page of 300,000 links is read no further, with a log
line); links are read as a stream, so the rest of the page costs nothing."""

TGWATCH_ARTICLE_REQUESTS = 20000
"""Most article requests (new articles and re-checks together) one crawl of one site makes; a log
line says when the cap held some back: they wait for the next crawl."""

TGWATCH_BACKFILL = False
"""Set by ``tgwatch crawl --backfill``: the crawl walks every listing page of the site once (no
TGWATCH_LISTING_PAGES, TGWATCH_ARTICLE_REQUESTS or DEPTH_LIMIT cap; TGWATCH_LISTING_LINKS and the
politeness settings hold), checks only articles the archive does not have, and keeps its frontier
in the archive so that an interrupted backfill goes on where it stopped (``crawler.backfill``)."""

TGWATCH_BACKFILL_FLUSH = 1.0
"""Seconds between writes of a backfill's frontier: a killed backfill reads again at most the
listing pages of its last seconds (recorded articles are never fetched again)."""

TGWATCH_FOLLOW_DEFAULT = r"[?&](page|p|trang|pg|cur)=\d+$|/(page|trang)[-/]\d+/?$"
"""Pagination links followed for a site whose config has no ``follow_url``."""

TGWATCH_EXTRACT_WORKERS = os.cpu_count() or 1
"""Size of the process pool that runs extraction beside the reactor; 0 runs it in a thread."""

TGWATCH_EXTRACT_START_METHOD = "forkserver"
"""multiprocessing start method of the extraction pool: never ``fork`` a process with threads."""

TGWATCH_CONDITIONAL_REQUESTS = True
"""Send If-None-Match/If-Modified-Since on re-checks, from the validators the archive keeps."""

TGWATCH_CHROMIUM = os.environ.get("TGWATCH_CHROMIUM", "")
"""Chromium (or Chrome) executable for sites with ``render = "browser"`` (env ``TGWATCH_CHROMIUM``).
Empty: ``/usr/bin/chromium``, else ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH
(``crawler.browser.chromium_path``). Playwright's own browser download is never used."""

TGWATCH_BROWSER_TIMEOUT = 30.0
"""Seconds a rendered page may take to load (navigation and its scripts' requests), and to launch."""

TGWATCH_BROWSER_SITE = ""
"""Set by the spider loader on the crawler of a site with ``render = "browser"`` (its name), so that
a missing Chromium is reported for that site; not a setting to give by hand."""

TGWATCH_BROWSER_QUIET = 0.5
"""A rendered page is read once, after its ``load`` event, none of its requests has been in flight
for this many seconds: the data its scripts fetch have arrived and been rendered."""

TGWATCH_BROWSER_PAGES = 4
"""Rendered pages open at the same time (scrapy-playwright's pages per context)."""

TGWATCH_BROWSER_CONTEXT_PAGES = 50
"""Pages rendered in one browser context before it is closed and a fresh one opened."""

TGWATCH_RETRY_BACKOFF = 1.0
"""Seconds to wait before the first retry; doubled for each further retry."""

TGWATCH_RETRY_BACKOFF_MAX = 30.0
"""Longest wait before a retry (seconds)."""

# --- a fleet of workers on a shared frontier (crawler/fleet.py, crawler/frontier.py) ---------------
TGWATCH_REDIS = os.environ.get("TGWATCH_REDIS", "")
"""Redis URL of the shared crawl frontier (env ``TGWATCH_REDIS``). Set, a crawl is a fleet worker:
``tgwatch worker`` takes its requests from the frontier instead of starting them itself."""

TGWATCH_REDIS_PREFIX = os.environ.get("TGWATCH_REDIS_PREFIX", "tgwatch")
"""Prefix of every frontier key in Redis (env ``TGWATCH_REDIS_PREFIX``): fleets may share a server."""

TGWATCH_REDIS_TIMEOUT = 5.0
"""Seconds a Redis call may take (connect and answer) before it counts as Redis being away."""

TGWATCH_FLEET_VISIBILITY = 60.0
"""Seconds a taken request stays leased without its worker renewing the lease (every quarter of
it): after that, the request is given back to the frontier for another worker."""

TGWATCH_FLEET_PREFETCH = 8
"""Most requests of one site a worker holds (taken, not yet acknowledged) at a time."""

TGWATCH_FLEET_POLL = 0.2
"""Seconds between a worker's looks at the frontier when it has room for more requests."""

TGWATCH_FLEET_POLL_MAX = 2.0
"""A worker that finds a site's queue empty looks again later and later, up to this (seconds)."""

TGWATCH_RECORD_RETRY = 0.0
"""Seconds to keep retrying an observation the archive cannot take (the server is away); 0: no
retry. ``tgwatch worker`` sets 600: a short PostgreSQL outage delays recording, it loses nothing."""

TGWATCH_RECORD_BATCH = 50
"""Most observations recorded in one transaction (each in a savepoint of its own: one that fails
rolls back alone and is retried alone). Those that arrive while the writer is busy are recorded
together when it is done (group commit): one commit per batch instead of one per page is what lets
recording keep up with a fast crawl; 1 records each observation on its own."""

TGWATCH_ROBOTS_PERIOD = 24 * 3600.0
"""A worker: seconds the fleet keeps a host's robots.txt (one worker fetches it, the others read
it from Redis) before it is fetched again."""

FLEET_DOWNLOADER_MIDDLEWARES = {
    "crawler.pace.SiteSlotMiddleware": 90,  # a site's own delay/concurrency (its download slot)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.politeness.FleetRobotsTxtMiddleware": 100,
    "crawler.politeness.FleetPolitenessMiddleware": 950,  # last before the download: the send time
}
"""What a worker adds to DOWNLOADER_MIDDLEWARES: politeness and robots.txt shared by the fleet."""
