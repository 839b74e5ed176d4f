"""The change report: pages over the archive, served (``tgwatch serve``) or written (``tgwatch report``).

``views`` builds each page's values from ``storage.report`` (the web layer runs no SQL), ``diffview``
turns two versions into word-level diff rows, ``render`` holds the Jinja2 environment (autoescaping
everything: scraped text reaches the page only as text), ``app`` serves the pages with Starlette,
``static`` writes them as files.
"""
