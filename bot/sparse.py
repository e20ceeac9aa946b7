"""Sparse vectors grouped by label, and the best dot product per label for a query.

The matcher compares a message with every example question, twice (word features and
character n-grams); done in Python that is a loop over every posting of every word. Here
the postings live in numpy arrays, gathered and summed in one go (by scipy's sparse matrix
product when there are many).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

# Above this many postings, scipy's compiled sparse product is faster than numpy's gather
# (it costs a fixed ~0.05 ms more a call); a 10x FAQ's character n-grams touch ~100,000.
SCIPY_FROM = 20_000


class SparseIndex:
    """Built once from (label, {feature: weight}) vectors; `best()` is pure."""

    def __init__(
        self,
        vectors: Sequence[tuple[str, Mapping[str, float]]],
        labels: Sequence[str] = (),
    ) -> None:
        """`labels`: every label the scores must have (sorted), also those without a
        vector, which then score 0."""
        have = {label for label, _ in vectors}
        vectors = [*vectors, *((label, {}) for label in labels if label not in have)]
        order = sorted(range(len(vectors)), key=lambda i: vectors[i][0])  # groups contiguous
        features: dict[str, int] = {}
        docs: list[int] = []
        feats: list[int] = []
        weights: list[float] = []
        for j, i in enumerate(order):
            for f, w in vectors[i][1].items():
                docs.append(j)
                feats.append(features.setdefault(f, len(features)))
                weights.append(w)
        self._build(
            [vectors[i][0] for i in order],
            features,
            np.array(docs, dtype=np.intp),
            np.array(feats, dtype=np.intp),
            np.array(weights, dtype=np.float64),
        )

    def _build(
        self,
        doc_labels: list[str],
        features: dict[str, int],
        docs: npt.NDArray[np.intp],
        feats: npt.NDArray[np.intp],
        weights: npt.NDArray[np.float64],
    ) -> None:
        self.features = features
        self.n_docs = len(doc_labels)
        self.labels: list[str] = []
        starts: list[int] = []
        for j, label in enumerate(doc_labels):
            if not self.labels or self.labels[-1] != label:
                self.labels.append(label)
                starts.append(j)
        self._starts = np.array(starts, dtype=np.intp)
        by_feature = np.argsort(feats, kind="stable")  # postings grouped by feature
        self._docs = docs[by_feature]
        self._weights = weights[by_feature]
        self._indptr = np.zeros(len(features) + 1, dtype=np.intp)
        self._indptr[1:] = np.cumsum(np.bincount(feats, minlength=len(features)))
        # the same arrays as a features x documents matrix, for long posting lists
        self._matrix = csr_matrix(
            (self._weights, self._docs, self._indptr), shape=(len(features), self.n_docs)
        )

    def __len__(self) -> int:
        return len(self._docs)

    def best(self, query: Mapping[str, float]) -> dict[str, float]:
        """For each label, the largest dot product of one of its vectors with `query`
        (labels with nothing in common are left out)."""
        per_label = self.best_array(query)
        return {g: float(v) for g, v in zip(self.labels, per_label, strict=True) if v > 0}

    def best_array(self, query: Mapping[str, float]) -> npt.NDArray[np.float64]:
        """`best()` as an array in the order of `labels` (0: nothing in common)."""
        known = self.features
        ids: list[int] = []
        weights: list[float] = []
        for f, w in query.items():
            k = known.get(f)
            if k is not None:
                ids.append(k)
                weights.append(w)
        return self.best_ids(ids, weights)

    def best_ids(
        self,
        ids: Sequence[int] | npt.NDArray[np.intp],
        weights: Sequence[float] | npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """`best()` for a query already given as feature numbers (see `features`), as an
        array in the order of `labels` (0 for a label with nothing in common)."""
        if len(ids) == 0:
            return np.zeros(len(self.labels))
        scores = self._scores(np.asarray(ids, dtype=np.intp), np.asarray(weights, dtype=np.float64))
        per_label: npt.NDArray[np.float64] = np.maximum.reduceat(scores, self._starts)
        return per_label

    def _scores(
        self, ids: npt.NDArray[np.intp], weights: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        # the posting lists of the query's features, gathered without a Python loop
        starts = self._indptr[ids]
        lens = self._indptr[ids + 1] - starts
        total = int(lens.sum())
        if total > SCIPY_FROM:
            dots: npt.NDArray[np.float64] = self._matrix[ids].T @ weights
            return dots
        offsets = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
        contrib = self._weights[offsets] * np.repeat(weights, lens)
        summed: npt.NDArray[np.float64] = np.bincount(
            self._docs[offsets], weights=contrib, minlength=self.n_docs
        ).astype(np.float64, copy=False)
        return summed
