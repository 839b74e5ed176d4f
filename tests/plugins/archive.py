"""Fixtures giving fresh archives on every backend (owned by the storage work)."""
