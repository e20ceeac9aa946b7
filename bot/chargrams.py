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

    def best(self, folded: str, counts: Counter[str] | None = None) -> dict[str, float]:
        """For each entry, the cosine similarity of its closest example to `folded`
        (`counts`: its n-grams of any sizes, when the caller has them already). The
        weighting is `_vector`'s, written out to skip building a dict on the hot path
        (tests/test_sparse.py checks the two agree)."""
        if counts is None:
            counts = grams(folded)
        column, idf, common, unseen = self.index.features, self.idf, self.common, self.max_idf
        ids: list[int] = []
        weights: list[float] = []
        norm2 = 0.0
        for g, c in counts.items():
            if len(g) not in SIZES or g in common:
                continue
            w = (1 + math.log(c) if c > 1 else 1.0) * idf.get(g, unseen)
            norm2 += w * w
            k = column.get(g)
            if k is not None:
                ids.append(k)
                weights.append(w)
        if not norm2:
            return {}
        inv = 1 / math.sqrt(norm2)
        return self.index.best_ids(ids, [w * inv for w in weights])
