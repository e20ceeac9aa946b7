"""A linear classifier trained on the FAQ's example questions when the FAQ is loaded.

Similarity to the nearest example (bot/matching.py) knows only the examples one at a
time; a linear support-vector machine (scikit-learn's LinearSVC) over character 2- to
5-grams and word uni- and bigrams learns which pieces of text tell each entry from all
the others, and generalises better to phrasings no example has. Training takes a fraction
of a second for the shipped FAQ. For scoring, the learned weights are kept as one dense
row of per-entry weights per feature, so one message costs one gather and one product.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from sklearn.svm import LinearSVC

from bot.chargrams import char_grams

CHAR_SIZES = (3, 4, 5)
# The shipped FAQ has about 40,000 features; ten times the entries would have hundreds of
# thousands, and a weight for each per entry (memory grows with their product: 60,000
# features for 330 entries are 80 MB in single precision).
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
        self.columns: dict[str, int] = {}  # feature -> row of `weights`
        self.weights = np.zeros((0, len(self.labels)), dtype=np.float32)
        self.intercept = np.zeros(len(self.labels))
        self.idf: dict[str, float] = {}
        self._idf = np.zeros(0)  # by row of `weights`
        self.trained = len(self.labels) >= 2
        if not self.trained:
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
        assert [str(c) for c in svm.classes_] == self.labels  # scikit-learn sorts them too
        coef = np.asarray(svm.coef_, dtype=np.float64)
        intercept = np.asarray(svm.intercept_, dtype=np.float64)
        if len(self.labels) == 2:  # one hyperplane: the first class is its negative side
            coef = np.vstack([-coef[0], coef[0]])
            intercept = np.array([-intercept[0], intercept[0]])
        self.columns = vocab
        self._idf = np.array([self.idf[f] for f in sorted(vocab, key=vocab.__getitem__)])
        self.weights = np.ascontiguousarray(coef.T, dtype=np.float32)
        self.intercept = intercept

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
    ) -> npt.NDArray[np.float64]:
        """Each entry's decision value for the message, in the order of `labels`: above 0
        means "this entry" (`blocks`: its `features()`, when the caller has them already).
        Untrained (fewer than two entries): an empty array."""
        if not self.trained:
            return np.zeros(0)
        # the same weighting as `_vector`, in numpy (tests/test_sparse.py checks the two
        # agree)
        rows, weights = [], []
        for block in blocks or features(folded):
            found = map(self.columns.get, block, itertools.repeat(-1))
            ids = np.fromiter(found, np.intp, len(block))
            known = ids >= 0
            w = np.log(np.fromiter(block.values(), np.float64, len(block))[known]) + 1
            w *= self._idf[ids[known]]
            norm2 = float(w @ w)
            if norm2:
                rows.append(ids[known])
                weights.append(w / math.sqrt(norm2))
        if not rows:
            return self.intercept.copy()
        dots = np.concatenate(weights).astype(np.float32) @ self.weights[np.concatenate(rows)]
        out: npt.NDArray[np.float64] = dots.astype(np.float64) + self.intercept
        return out
