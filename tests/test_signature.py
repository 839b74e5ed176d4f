"""The echo signature's MinHash values computed with numpy alone are datasketch's, bit for bit, and
the stored signature is their low bits (stored signatures and bands keep their meaning)."""

from __future__ import annotations

import random

from datasketch import MinHash

from storage.shingles import PERMUTATIONS, SCHEME, SEED, minhash_values, packed, shingles, signature

WORDS = "tuyên giáo đảng hội nghị tỉnh ủy quán triệt nghị quyết Ban Trung ương 16/7 x".split()


def reference(found: frozenset[str]) -> bytes:
    minhash = MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in sorted(found)])
    return bytes(minhash.hashvalues.astype("<u4").tobytes())


def full(found: frozenset[str]) -> bytes:
    return bytes(minhash_values(found).astype("<u4").tobytes())


def test_signature_is_datasketchs_minhash() -> None:
    rng = random.Random(11)
    for _ in range(60):
        text = "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))
                         for _ in range(rng.randint(1, 6)))
        found = shingles(text)
        assert full(found) == reference(found)
        assert signature(found) == packed(minhash_values(found))
    assert full(frozenset()) == reference(frozenset())
