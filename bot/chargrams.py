"""Character n-gram similarity between a message and the FAQ's example questions.

Words people text are often misspelt, unaccented or in a form the stemmer doesn't know
("deportasion", "polisia", "inmigrasion", "detuvieron"); whole words then fail to meet,
but most of their letters still do. Each text becomes TF-IDF weighted character 3- and
4-grams taken inside words (padded with a space, so beginnings and ends count), and the
similarity is the cosine of the two vectors. Grams the examples never use still count
in the message's length, so a message about something else stays far from every example.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import repeat

import numpy as np
import numpy.typing as npt

from bot.sparse import SparseIndex

SIZES = (3, 4)
MAX_DF = 0.1  # grams in more texts than this say little ("de ", " th") and cost the most
MIN_COMMON = 50  # ...but a small FAQ keeps them all


def char_grams(words: list[str], sizes: tuple[int, ...]) -> Counter[str]:
    """The character n-grams of these sizes inside each word padded with spaces, counted."""
    out: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        for n in sizes:
            for i in range(len(padded) - n + 1):
                out[padded[i : i + n]] += 1
    return out


def grams(folded: str) -> Counter[str]:
    """The character n-grams this index compares, counted."""
    return char_grams(folded.split(), SIZES)


class CharIndex:
    """Built once from folded texts, each labelled with its entry; `best()` is pure."""

    def __init__(self, texts: list[str], labels: list[str]) -> None:
        """`labels[i]`: the entry of `texts[i]`; scores come in the order of `labels`'
        distinct values, sorted (`self.labels`)."""
        docs = [grams(t) for t in texts]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(docs)
        limit = max(MAX_DF * n, MIN_COMMON)
        self.common = frozenset(g for g, c in df.items() if c > limit)
        self.idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items()}
        self.max_idf = math.log(1 + n) + 1
        self.index = SparseIndex(
            [(label, self._vector(d)) for label, d in zip(labels, docs, strict=True)]
        )
        self.labels = self.index.labels
        self._idf = np.zeros(len(self.index.features))  # by feature number
        for g, k in self.index.features.items():
            self._idf[k] = self.idf[g]

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vec: dict[str, float] = {}
        norm2 = 0.0
        for g, c in counts.items():
            if g in self.common:
                continue
            w = (1 + math.log(c)) * self.idf.get(g, self.max_idf)
            norm2 += w * w
            if g in self.idf:
                vec[g] = w
        norm = math.sqrt(norm2) or 1.0
        return {g: w / norm for g, w in vec.items()}

    def best(self, folded: str, counts: Counter[str] | None = None) -> npt.NDArray[np.float64]:
        """For each entry (in the order of `labels`), the cosine similarity of its closest
        example to `folded`
        (`counts`: its n-grams of any sizes, when the caller has them already). The
        weighting is `_vector`'s, in numpy for the hot path (tests/test_sparse.py checks
        the two agree)."""
        if counts is None:
            counts = grams(folded)
        common = self.common
        kept = [g for g in counts if len(g) in SIZES and g not in common]
        ids = np.fromiter(map(self.index.features.get, kept, repeat(-1)), np.intp, len(kept))
        known = ids >= 0
        weights = np.log(np.fromiter(map(counts.__getitem__, kept), np.float64, len(kept))) + 1
        weights *= np.where(known, self._idf[ids], self.max_idf)  # unseen: the rarest
        norm2 = float(weights @ weights)
        if not norm2:
            return np.zeros(len(self.labels))
        return self.index.best_ids(ids[known], weights[known] / math.sqrt(norm2))
