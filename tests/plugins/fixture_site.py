"""Fixtures serving the fixture sites (owned by the fixtures work)."""
