"""Word shingles and MinHash LSH bands of a report's text: the fingerprints echoes are found by.

A text is read as Unicode NFC, lower case, words only (punctuation and spacing do not count), one
paragraph at a time, so that an excerpt's shingles are a subset of its original's. Shingles are
``SHINGLE`` consecutive words (a shorter paragraph is one shingle). The MinHash signature
(datasketch's, ``PERMUTATIONS`` permutations, a fixed seed and scheme: stable across processes
and restarts; computed with numpy alone, see ``minhash_values``): its first ``BANDS * ROWS`` values
are cut into ``BANDS`` bands of ``ROWS`` rows; two texts share a band with probability
``1 - (1 - J^ROWS)^BANDS`` for Jaccard similarity J: 0.9965 at J = 1/3 (an excerpt of a third of a
report), 0.954 at J = 0.25, 0.005 at J = 0.01 (unrelated reports). 48 bands, not the 64 all 128
values would make (migration ``0016``): 16 fewer ``echo_bands`` rows, about 208 bytes an article
version, for a curve that was 0.9995 at J = 1/3 and 0.984 at J = 0.25 (issue 11's size target; a
quarter-of-a-report excerpt is now missed about once in 22 instead of once in 62). The estimate
still reads all ``PERMUTATIONS`` values.

Stored, a signature keeps the low ``VALUE_BITS`` bits of each MinHash value (b-bit minwise hashing,
Li & König 2010: two different values agree by chance once in ``2**VALUE_BITS``, which ``estimate``
takes off; migration ``0015``), and a band is one 32-bit key computed from the full values (its
two values' low 16 bits, mixed with the band number so that equal values in different bands do
not meet: migration ``0012``). The bands cannot be computed back from a stored signature: an
article's old bands are found from the text it was indexed with (``storage.echoes``).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from functools import lru_cache
from typing import Any

SHINGLE = 5
PERMUTATIONS = 128
ROWS = 2
BANDS = 48  # the first BANDS * ROWS values make the bands (migration 0016; was PERMUTATIONS // ROWS)
SEED = 14
SCHEME = "affine32"  # datasketch's hashing scheme, named so that stored bands never change meaning
VALUE_BITS = 8
DTYPE = "u1"  # a stored signature: PERMUTATIONS values of VALUE_BITS bits
CHANCE = 1 / (1 << VALUE_BITS)  # two stored values of different MinHash values agree this often
KEY_BITS = 16  # the bits of each value a band key holds (ROWS of them: a 32-bit key)
_MIX = 0x9E3779B1  # odd: band * _MIX is distinct for every band (mod 2**32)
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
def _permutations() -> tuple[Any, Any]:
    """datasketch's ``affine32`` permutations for ``SEED``: ``(a, b)``, ``PERMUTATIONS`` uint32 each."""
    quiet_blas()
    import numpy as np

    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return a, b


def warm() -> None:
    """Load numpy and the permutations now (an extraction worker, before its first page)."""
    _permutations()


def minhash_values(found: frozenset[str]) -> Any:
    """The full 32-bit MinHash values of a shingle set (a numpy array of ``PERMUTATIONS`` uint32).

    Bit for bit datasketch's ``MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme="affine32")`` after
    ``update_batch`` of the UTF-8 shingles (SHA-1's first 4 bytes, the MurmurHash3 finalizer, then
    ``a * h + b`` mod 2^32; a test holds the two together), computed with numpy alone: importing
    datasketch imports scipy, 50 MB more in every process that signs (each extraction worker).
    """
    import numpy as np

    a, b = _permutations()
    values = np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)
    if found:
        digests = (hashlib.sha1(s.encode("utf-8")).digest()[:4] for s in found)  # a minimum: any order
        hv = np.frombuffer(b"".join(digests), dtype="<u4").astype(np.uint32).reshape(-1, 1)
        hv = hv ^ (hv >> np.uint32(16))
        hv = hv * np.uint32(0x85EBCA6B)
        hv = hv ^ (hv >> np.uint32(13))
        hv = hv * np.uint32(0xC2B2AE35)
        hv = hv ^ (hv >> np.uint32(16))
        values = np.minimum(values, (hv * a + b).min(axis=0))
    return values


def packed(values: Any) -> bytes:
    """A signature as stored: each value's low ``VALUE_BITS`` bits."""
    import numpy as np

    return bytes((np.asarray(values, dtype=np.uint32) & np.uint32((1 << VALUE_BITS) - 1)).astype(DTYPE).tobytes())


def signature(found: frozenset[str]) -> bytes:
    """The MinHash signature of a shingle set as stored (``packed``)."""
    return packed(minhash_values(found))


@lru_cache(maxsize=1)
def _band_mix() -> Any:
    import numpy as np

    return (np.arange(BANDS, dtype=np.uint64) * _MIX & 0xFFFFFFFF).astype(np.uint32)


def bands(values: Any) -> list[int]:
    """The LSH key of each of the ``BANDS`` bands of full MinHash ``values`` (their first
    ``BANDS * ROWS``): its ``ROWS`` values' low ``KEY_BITS`` bits as one unsigned 32-bit number
    (the first value in the low half), mixed with the band number, as a signed 32-bit integer (a
    SQL INTEGER)."""
    import numpy as np

    low = np.asarray(values, dtype=np.uint32)[:BANDS * ROWS] & np.uint32((1 << KEY_BITS) - 1)
    keys = (low[0::ROWS] | (low[1::ROWS] << np.uint32(KEY_BITS))) ^ _band_mix()
    return list(keys.view(np.int32).tolist())


def estimate(sig: bytes, others: list[bytes]) -> list[float]:
    """Estimated Jaccard similarity of ``sig``'s set with each of ``others``': the share of equal
    stored values less the chance agreements of ``VALUE_BITS``-bit values, ``(P - c) / (1 - c)``
    (Li & König's b-bit estimator for sets small next to the shingle space), within [0, 1]."""
    if not others:  # before numpy: a crawl's main process need not import it
        return []
    import numpy as np

    mine = np.frombuffer(sig, dtype=DTYPE)
    theirs = np.frombuffer(b"".join(others), dtype=DTYPE).reshape(len(others), PERMUTATIONS)
    share = (theirs == mine).mean(axis=1)
    return [float(x) for x in np.clip((share - CHANCE) / (1 - CHANCE), 0.0, 1.0)]


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
