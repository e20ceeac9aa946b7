"""A linear classifier trained on the FAQ's example questions when the FAQ is loaded.

Similarity to the nearest example (bot/matching.py) knows only the examples one at a
time; a linear support-vector machine (scikit-learn's LinearSVC) over character 2- to
5-grams and word uni- and bigrams learns which pieces of text tell each entry from all
the others, and generalises better to phrasings no example has. Training takes a fraction
of a second for the shipped FAQ. For scoring, the learned weights are kept in a sparse
index (weights too small to matter dropped), so one message costs a few numpy calls.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.svm import LinearSVC

from bot.chargrams import char_grams
from bot.sparse import SparseIndex

CHAR_SIZES = (3, 4, 5)
MIN_WEIGHT = 0.01  # learned weights smaller than this are left out of the index
# The shipped FAQ has about 40,000 features; ten times the entries would have hundreds of
# thousands, and a weight for each per entry (memory grows with their product).
MAX_FEATURES = 60_000


def features(folded: str) -> tuple[Counter[str], Counter[str]]:
    """Counts of character n-grams inside padded words (" la", "migr") and of words and
    word pairs ("w:" prefix; folded text has no ":" so the two never meet): two blocks,
    each normalised on its own, as scikit-learn's FeatureUnion of two vectorizers would."""
    words = folded.split()
    chars = char_grams(words, CHAR_SIZES)
    tokens: Counter[str] = Counter("w:" + w for w in words if len(w) > 1)
    tokens.update(f"w:{a} {b}" for a, b in itertools.pairwise(words))
    return chars, tokens


class ExampleClassifier:
    """Built once per FAQ version from folded example texts and their entry ids."""

    C = 0.5  # regularisation; chosen on the evaluation sets with scripts/tune_router.py

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.labels = sorted(set(labels))
        self.index: SparseIndex | None = None
        self.intercept: dict[str, float] = {}
        if len(self.labels) < 2:
            return
        counts = [features(t) for t in texts]
        df: Counter[str] = Counter()
        for blocks in counts:
            for block in blocks:
                df.update(block.keys())
        n = len(counts)
        if len(df) > MAX_FEATURES:  # a very large FAQ: keep the most widely used features
            keep = sorted(df, key=lambda f: (-df[f], f))[:MAX_FEATURES]
            df = Counter({f: df[f] for f in keep})
        self.idf = {f: math.log((1 + n) / (1 + d)) + 1 for f, d in df.items()}
        vocab = {f: k for k, f in enumerate(sorted(df))}
        rows, cols, vals = [], [], []
        for i, c in enumerate(counts):
            for f, w in self._vector(c).items():
                rows.append(i)
                cols.append(vocab[f])
                vals.append(w)
        x = csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)))
        svm = LinearSVC(C=self.C)
        svm.fit(x, np.array(labels))
        classes = [str(c) for c in svm.classes_]
        names = sorted(vocab, key=vocab.__getitem__)
        coef = np.asarray(svm.coef_, dtype=np.float64)
        if len(classes) == 2:  # one hyperplane: the first class is its negative side
            coef = np.vstack([-coef[0], coef[0]])
            intercepts = [-float(svm.intercept_[0]), float(svm.intercept_[0])]
        else:
            intercepts = [float(b) for b in svm.intercept_]
        self.index = SparseIndex.from_matrix(classes, names, coef, MIN_WEIGHT)
        self.intercept = dict(zip(classes, intercepts, strict=True))

    def _vector(self, blocks: tuple[Counter[str], ...]) -> dict[str, float]:
        idf = self.idf
        vec: dict[str, float] = {}
        for block in blocks:
            weighted = {f: (1 + math.log(c)) * idf[f] for f, c in block.items() if f in idf}
            norm = math.sqrt(sum(w * w for w in weighted.values())) or 1.0
            for f, w in weighted.items():
                vec[f] = w / norm
        return vec

    def scores(
        self, folded: str, blocks: tuple[Counter[str], Counter[str]] | None = None
    ) -> dict[str, float]:
        """Each entry's decision value for the message: above 0 means "this entry"
        (`blocks`: its `features()`, when the caller has them already)."""
        if self.index is None:
            return {}
        # the same weighting as `_vector`, straight into the index's feature numbers
        # (tests/test_sparse.py checks the two agree)
        column, idf = self.index.features, self.idf
        ids: list[int] = []
        weights: list[float] = []
        for block in blocks or features(folded):
            start, norm2 = len(weights), 0.0
            for f, c in block.items():
                k = column.get(f)
                if k is None:
                    continue
                w = (1 + math.log(c)) * idf[f] if c > 1 else idf[f]
                norm2 += w * w
                ids.append(k)
                weights.append(w)
            if norm2:
                inv = 1 / math.sqrt(norm2)
                weights[start:] = [w * inv for w in weights[start:]]
        dots = self.index.best_ids(ids, weights)
        return {label: dots.get(label, 0.0) + b for label, b in self.intercept.items()}
