"""Word shingles and MinHash LSH bands of a report's text: the fingerprints echoes are found by.

A text is read as Unicode NFC, lower case, words only (punctuation and spacing do not count), one
paragraph at a time, so that an excerpt's shingles are a subset of its original's. Shingles are
``SHINGLE`` consecutive words (a shorter paragraph is one shingle). The MinHash signature
(``datasketch``, ``PERMUTATIONS`` permutations, a fixed seed and scheme: stable across processes
and restarts) is cut into ``BANDS`` bands of ``ROWS`` rows; two texts share a band with probability
``1 - (1 - J^ROWS)^BANDS`` for Jaccard similarity J: 0.98 at J = 0.25 (an excerpt of a third of a
report is J ≈ 0.33), 0.006 at J = 0.01 (unrelated reports).
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from typing import Any

SHINGLE = 5
PERMUTATIONS = 128
ROWS = 2
BANDS = PERMUTATIONS // ROWS
SEED = 14
SCHEME = "affine32"  # datasketch's hashing scheme, named so that stored bands never change meaning
_WORD = re.compile(r"\w+", re.UNICODE)


def words(line: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", line).lower())


def shingles(text: str) -> frozenset[str]:
    """The distinct word shingles of ``text`` (paragraphs one per line), each within a paragraph."""
    out: set[str] = set()
    for line in text.splitlines():
        found = words(line)
        if not found:
            continue
        if len(found) <= SHINGLE:
            out.add(" ".join(found))
            continue
        out.update(" ".join(found[i:i + SHINGLE]) for i in range(len(found) - SHINGLE + 1))
    return frozenset(out)


def quiet_blas() -> None:
    """Before numpy is imported: no BLAS threads. OpenBLAS reserves a buffer per core at import,
    which under a crawl child's address-space limit ends the process (no exception)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


@lru_cache(maxsize=1)
def _minhash() -> Any:
    """datasketch's ``MinHash`` (its numpy without BLAS threads: ``quiet_blas``)."""
    quiet_blas()
    from datasketch import MinHash

    return MinHash


@lru_cache(maxsize=1)
def _permutations() -> Any:
    MinHash = _minhash()
    return MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME).permutations


def warm() -> None:
    """Load datasketch and the permutations now (an extraction worker, before its first page)."""
    _permutations()


def signature(found: frozenset[str]) -> bytes:
    """The MinHash signature of a shingle set: ``PERMUTATIONS`` unsigned 32-bit values, little-endian."""
    minhash = _minhash()(num_perm=PERMUTATIONS, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in sorted(found)])
    return bytes(minhash.hashvalues.astype("<u4").tobytes())


def bands(sig: bytes) -> list[tuple[int, int]]:
    """``(band, bucket)`` of each LSH band; the bucket is a signed 64-bit integer (a SQL BIGINT)."""
    out = []
    width = 4 * ROWS
    for band in range(BANDS):
        bucket = int.from_bytes(sig[band * width:(band + 1) * width], "little", signed=True)
        out.append((band, bucket))
    return out


def estimate(sig: bytes, others: list[bytes]) -> list[float]:
    """Estimated Jaccard similarity of ``sig``'s set with each of ``others``' (share of equal values)."""
    import numpy as np

    if not others:
        return []
    mine = np.frombuffer(sig, dtype="<u4")
    theirs = np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), PERMUTATIONS)
    return [float(x) for x in (theirs == mine).mean(axis=1)]


def containment(jaccard: float, size: int, other: int) -> float:
    """Containment in the smaller set implied by a Jaccard similarity and the two sizes."""
    if not size or not other:
        return 0.0
    shared = jaccard * (size + other) / (1 + jaccard)
    return min(1.0, shared / min(size, other))


def overlap(a: frozenset[str], b: frozenset[str]) -> tuple[float, float]:
    """(Jaccard similarity, containment in the smaller) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / len(a | b), shared / min(len(a), len(b))
