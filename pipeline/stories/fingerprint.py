"""Fingerprints of article texts: MinHash signatures over word shingles (datasketch), the LSH band
keys that find candidate copies, and the similarity test that decides whether two texts are copies.

Two texts are copies of one article when their shingle sets are near-equal (estimated Jaccard at least
`JACCARD`) or when one nearly contains the other (a trimmed copy: `CONTAINMENT` of the smaller set,
with at least `MIN_JACCARD` overall so a short stub inside a long article does not count).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE_WORDS = 5
NUM_PERM = 128
SEED = 20261129  # fixed: signatures stored by one process are compared by every other
JACCARD = 0.5
CONTAINMENT = 0.8
MIN_JACCARD = 0.3

# LSH banding tuned by datasketch for candidates at MIN_JACCARD; every candidate is then checked
_LSH = MinHashLSH(threshold=MIN_JACCARD, num_perm=NUM_PERM)
BANDS, ROWS = _LSH.b, _LSH.r

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def shingles(tokens: list[str], k: int = SHINGLE_WORDS) -> set[bytes]:
    if len(tokens) < k:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i:i + k]).encode() for i in range(len(tokens) - k + 1)}


@dataclass(frozen=True)
class Fingerprint:
    """What is stored per article to find and check its copies."""

    article_id: str
    seen_at: datetime
    url: str
    outlet: str
    words: int
    shingles: int
    signature: bytes  # NUM_PERM little-endian uint32 hash values; empty for a text too short to compare
    bands: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        return bool(self.signature)

    def hashvalues(self) -> np.ndarray:
        return np.frombuffer(self.signature, dtype="<u4")

    def encoded_signature(self) -> str:
        return base64.b64encode(self.signature).decode("ascii")


def fingerprint(article_id: str, text: str, *, seen_at: datetime, url: str, outlet: str,
                min_words: int) -> Fingerprint:
    tokens = words(text)
    if len(tokens) < min_words:
        return Fingerprint(article_id, seen_at, url, outlet, len(tokens), 0, b"", ())
    grams = shingles(tokens)
    mh = MinHash(num_perm=NUM_PERM, seed=SEED)
    mh.update_batch(list(grams))
    signature = mh.hashvalues.astype("<u4").tobytes()  # affine32 scheme: the values fit 32 bits
    return Fingerprint(article_id, seen_at, url, outlet, len(tokens), len(grams), signature,
                       band_keys(signature))


def band_keys(signature: bytes) -> tuple[str, ...]:
    step = ROWS * 4
    return tuple(f"{b}:{hashlib.blake2b(signature[b * step:(b + 1) * step], digest_size=8).hexdigest()}"
                 for b in range(BANDS))


def decode_signature(encoded: str) -> bytes:
    return base64.b64decode(encoded) if encoded else b""


def jaccard(a: Fingerprint, b: Fingerprint) -> float:
    if not (a.comparable and b.comparable):
        return 0.0
    # the share of equal MinHash values estimates the Jaccard similarity (as MinHash.jaccard does)
    return float(np.count_nonzero(a.hashvalues() == b.hashvalues())) / NUM_PERM


def are_copies(a: Fingerprint, b: Fingerprint) -> bool:
    """Near-duplicates (see the module docstring)."""
    j = jaccard(a, b)
    if j >= JACCARD:
        return True
    if j < MIN_JACCARD:
        return False
    common = j * (a.shingles + b.shingles) / (1.0 + j)
    return common / max(1, min(a.shingles, b.shingles)) >= CONTAINMENT
