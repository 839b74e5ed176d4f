"""A deploy is no edit: the Next.js-like fixture site crawled, rebuilt as another deploy (every
build id, chunk name and order, payload row order and chunk size, view count and timestamp
changed; the content the same), and crawled twice more flags nothing beyond the first discovery,
although every article page was fetched and read again (new ETags, no 304)."""

from __future__ import annotations

import re
from pathlib import Path

from fixtures.build import build
from fixtures.testing import FixtureServer
from fixtures.tree import SITES_DIR
from tests.crawl_helpers import crawl, flagged, live_paths, write_config

SITE = "tuyengiaodanvan"


def test_a_deploy_without_content_change_flags_nothing(tmp_path: Path) -> None:
    build(tmp_path / "rebuilt", deploy="another-build")
    root = tmp_path / "root"
    root.mkdir()
    (root / "v1").symlink_to(SITES_DIR / "v1")
    (root / "v1-deploy").symlink_to(tmp_path / "rebuilt" / "sites" / "v1")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with FixtureServer(root=root) as server:
        config = write_config(tmp_path, server, sites=[SITE])
        first = crawl(db, config)
        server.set_version("v1-deploy")
        lines = [crawl(db, config), crawl(db, config)]
    live = live_paths("v1", [SITE])
    assert flagged(db) == {key: [("new", frozenset())] for key in live}
    assert f"new {len(live)}," in first
    for line in lines:  # every article read again and found unchanged
        assert re.search(rf"new 0, edited 0, unchanged {len(live)}, removed 0, failed checks 0", line), line
