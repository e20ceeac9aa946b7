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

    def __init__(self, vectors: Sequence[tuple[str, Mapping[str, float]]]) -> None:
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
            False,
        )

    @classmethod
    def from_matrix(
        cls,
        labels: Sequence[str],
        names: Sequence[str],
        matrix: npt.NDArray[np.float64],
        min_abs: float,
    ) -> SparseIndex:
        """One vector per row of `matrix` (columns named by `names`), leaving out entries
        smaller than `min_abs`; rows may be negative (a linear model's weights)."""
        self = cls.__new__(cls)
        order = sorted(range(len(labels)), key=lambda i: labels[i])
        m = matrix[order]
        docs, feats = np.nonzero(np.abs(m) >= min_abs)
        self._build(
            [labels[i] for i in order],
            {f: k for k, f in enumerate(names)},
            docs.astype(np.intp),
            feats.astype(np.intp),
            m[docs, feats].astype(np.float64),
            True,
        )
        return self

    def _build(
        self,
        doc_labels: list[str],
        features: dict[str, int],
        docs: npt.NDArray[np.intp],
        feats: npt.NDArray[np.intp],
        weights: npt.NDArray[np.float64],
        signed: bool,
    ) -> None:
        self.signed = signed  # weights may be negative: report every label, not only > 0
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
        return self.best_ids(ids, weights)

    def best_ids(self, ids: Sequence[int], weights: Sequence[float]) -> dict[str, float]:
        """`best()` for a query already given as feature numbers (see `features`)."""
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
