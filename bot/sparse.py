"""Sparse vectors grouped by label, and the best dot product per label for a query.

The matcher compares a message with every example question, twice (word features and
character n-grams); done in Python that is a loop over every posting of every word. Here
the postings live in numpy arrays, gathered and summed in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt


class SparseIndex:
    """Built once from (label, {feature: weight}) vectors; `best()` is pure."""

    def __init__(
        self, vectors: Sequence[tuple[str, Mapping[str, float]]], *, signed: bool = False
    ) -> None:
        self.signed = signed  # weights may be negative: report every label, not only > 0
        order = sorted(range(len(vectors)), key=lambda i: vectors[i][0])  # groups contiguous
        self.labels: list[str] = []
        starts: list[int] = []
        features: dict[str, int] = {}
        postings: list[list[tuple[int, float]]] = []
        for j, i in enumerate(order):
            label, vec = vectors[i]
            if not self.labels or self.labels[-1] != label:
                self.labels.append(label)
                starts.append(j)
            for f, w in vec.items():
                k = features.setdefault(f, len(features))
                if k == len(postings):
                    postings.append([])
                postings[k].append((j, w))
        self.features = features
        self.n_docs = len(order)
        self._starts = np.array(starts, dtype=np.intp)
        self._indptr = np.zeros(len(postings) + 1, dtype=np.intp)
        self._indptr[1:] = np.cumsum([len(p) for p in postings])
        self._docs = np.array([j for p in postings for j, _ in p], dtype=np.intp)
        self._weights = np.array([w for p in postings for _, w in p], dtype=np.float64)

    def __len__(self) -> int:
        return len(self._docs)

    def best(self, query: Mapping[str, float]) -> dict[str, float]:
        """For each label, the largest dot product of one of its vectors with `query`
        (labels with nothing in common are left out)."""
        known = self.features
        ids: list[int] = []
        weights: list[float] = []
        for f, w in query.items():
            k = known.get(f)
            if k is not None:
                ids.append(k)
                weights.append(w)
        if not ids:
            return {}
        scores = self._scores(np.array(ids, dtype=np.intp), np.array(weights))
        per_label = np.maximum.reduceat(scores, self._starts)
        return {
            g: float(v) for g, v in zip(self.labels, per_label, strict=True) if v > 0 or self.signed
        }

    def _scores(
        self, ids: npt.NDArray[np.intp], weights: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        # the posting lists of the query's features, gathered without a Python loop
        starts = self._indptr[ids]
        lens = self._indptr[ids + 1] - starts
        total = int(lens.sum())
        offsets = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
        contrib = self._weights[offsets] * np.repeat(weights, lens)
        summed: npt.NDArray[np.float64] = np.bincount(
            self._docs[offsets], weights=contrib, minlength=self.n_docs
        ).astype(np.float64, copy=False)
        return summed
