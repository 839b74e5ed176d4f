"""The archive: articles, their versions, flagged changes, raw captures and crawl runs.

Nothing here imports Scrapy, the crawler or the monitor; importing ``storage`` itself imports
nothing heavy (``storage.content`` is what crawler workers need). Entry points:
``storage.archive.Archive`` (open, record, read), ``storage.readonly.run_query`` (``tgwatch sql``),
``storage.search`` and ``storage.urls.canonical_url``.

Relations for plain SQL (names and meanings are a contract; more columns may appear):

- ``articles``: one row per (site, canonical url); the latest version's ``title, lead,
  published_at, author, category`` denormalised; ``first_seen_at, last_checked_at`` (last check
  the server answered), ``last_changed_at``, ``removed_at`` (null while live), ``current_version``,
  ``content_hash``, HTTP ``etag``/``last_modified``, ``gone_signals``, ``failed_checks`` (in a
  row), ``last_error``, and ``search_text`` (PostgreSQL: folded, no diacritics, đ as d,
  lower-case; empty on SQLite, where only ``articles_fts`` holds it).
- ``versions``: ``article_id, version`` (1, 2, ...), ``fetched_at`` and the content fields
  (``text`` is one paragraph per line, the lead first) with their ``content_hash``.
- ``changes``: ``kind`` in new, edited, removed, restored, reextracted; ``detected_at``,
  ``from_version, to_version``, ``fields`` (e.g. ``title,text``), ``note`` (``returns to
  version K``, the removal reason, or the old values of a re-extraction as JSON), ``run_id``.
- ``captures``: per version, the response's final ``url``, ``status``, ``headers`` (JSON; on
  SQLite zstd-packed like ``versions.text``: ``tgwatch_text(headers)`` is the JSON text) and
  ``body`` (``compression``: zstd with the site's ``dictionary_id``, or zlib in older archives;
  ``size`` the raw length; ``storage.captures``). ``capture_dictionaries``: per site and training, its
  pages' and texts' zstd dictionaries and its vocabulary (``kind``: pages, texts, words).
- ``crawl_runs``: ``site, started_at, finished_at, outcome`` (running, ok, failed, timeout,
  interrupted), counts ``pages, new, edited, unchanged, removed, restored, failed``, ``error``,
  ``pid``.
- ``articles_fts`` (SQLite only): contentless FTS5 (``detail=none``), rowid = article id. On
  PostgreSQL ``articles.search_vector`` (generated: ``to_tsvector('simple', search_text)``) is
  GIN-indexed.

Times: SQLite stores ISO 8601 text always at +07:00 (so text order is time order);
PostgreSQL ``timestamptz``. Python always gets aware datetimes at +07:00.
"""
