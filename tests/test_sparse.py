"""The numpy postings behind the matcher, and character n-gram similarity."""

from __future__ import annotations

import math
import random

import pytest

from bot.chargrams import CharIndex, grams
from bot.classifier import ExampleClassifier, features
from bot.faq import Faq
from bot.matching import matcher_for
from bot.sparse import SCIPY_FROM, SparseIndex
from bot.text import fold


def test_best_is_the_largest_dot_product_per_label() -> None:
    index = SparseIndex(
        [
            ("b", {"x": 0.6, "y": 0.8}),
            ("a", {"x": 1.0}),
            ("b", {"y": 1.0}),
            ("c", {"z": 1.0}),
        ]
    )
    best = index.best({"x": 0.5, "y": 0.5})
    assert best == pytest.approx({"a": 0.5, "b": 0.7})  # max(0.3 + 0.4, 0.5); c shares nothing
    assert index.best({"unknown": 1.0}) == {}
    assert len(index) == 5  # postings


def test_long_posting_lists_give_the_same_best_as_a_plain_loop() -> None:
    # enough postings that scipy's product is used instead of numpy's gather
    rng = random.Random(3)
    words = [f"w{i}" for i in range(60)]
    vectors = [
        (f"label{d % 40}", {w: rng.random() for w in rng.sample(words, 30)}) for d in range(1200)
    ]
    index = SparseIndex(vectors, [f"label{k}" for k in range(41)])
    assert len(index) > SCIPY_FROM
    query = {w: rng.random() for w in words[:50]}
    expected: dict[str, float] = {}
    for label, vec in vectors:
        dot = sum(w * query.get(f, 0.0) for f, w in vec.items())
        expected[label] = max(expected.get(label, 0.0), dot)
    assert index.best(query) == pytest.approx(expected)
    assert index.best_array(query)[index.labels.index("label40")] == 0.0  # no vector: 0


def test_grams_are_taken_inside_padded_words() -> None:
    g = grams("la migra")
    assert g[" la"] == 1 and g["la "] == 1 and g[" mig"] == 1 and g["gra "] == 1
    assert "a m" not in g  # never across two words


def test_a_misspelt_word_still_meets_its_example() -> None:
    texts = [
        "me van a deportacion",
        "mi esposo me pega",
        "cual es el horario",
        "donde hay abogados",
    ]
    index = CharIndex(texts, ["deport", "dv", "hours", "lawyer"])
    best = positive(index, "deportasion")
    assert max(best, key=best.__getitem__) == "deport"
    # words the examples never use still count in the message's length
    assert positive(index, "deportasion zzqx wvvy")["deport"] < best["deport"]
    assert all(v <= 1 + 1e-9 for v in best.values())
    assert "hours" not in best  # nothing in common


def test_an_identical_text_has_similarity_one() -> None:
    index = CharIndex(["donde hay abogados gratis", "mi esposo me pega"], ["lawyer", "dv"])
    assert math.isclose(positive(index, "donde hay abogados gratis")["lawyer"], 1.0)


def positive(index: CharIndex, text: str) -> dict[str, float]:
    """The entries the message has something in common with, and their similarity."""
    return {
        label: float(v)
        for label, v in zip(index.labels, index.best(fold(text)), strict=True)
        if v > 0
    }


def test_the_classifier_learns_what_tells_entries_apart() -> None:
    texts = [
        "la migra esta en mi puerta",
        "ice is knocking on my door",
        "tocan la puerta y es inmigracion",
        "mi esposo me pega",
        "my husband hits me",
        "mi pareja me golpea",
        "cual es su horario",
        "what are your hours",
        "a que hora abren",
    ]
    labels = ["ice"] * 3 + ["dv"] * 3 + ["hours"] * 3
    clf = ExampleClassifier([fold(t) for t in texts], labels)
    for text, want in [
        ("migra en la puerta", "ice"),
        ("me pego mi esposo", "dv"),
        ("horario??", "hours"),
    ]:
        scores = dict(zip(clf.labels, clf.scores(fold(text)), strict=True))
        assert set(scores) == {"ice", "dv", "hours"}
        assert max(scores, key=scores.__getitem__) == want, (text, scores)


def test_a_classifier_with_one_entry_abstains() -> None:
    assert len(ExampleClassifier(["hola"], ["only"]).scores("hola")) == 0


@pytest.mark.parametrize(
    "text",
    ["la migra esta tocando mi puerta q hago", "my husbnd hits me wat do i do", "zzqx", ""],
)
def test_the_fast_scoring_paths_agree_with_the_training_weighting(text: str, faq: Faq) -> None:
    matcher = matcher_for(faq)
    folded = fold(text)
    chars = matcher.chars
    slow = chars.index.best_array(chars._vector(grams(folded)))
    assert chars.best(folded) == pytest.approx(slow)
    clf = matcher.classifier
    vec = clf._vector(features(folded))
    expected = [
        sum(w * float(clf.weights[clf.columns[f], j]) for f, w in vec.items()) + b
        for j, b in enumerate(clf.intercept)
    ]
    assert clf.scores(folded) == pytest.approx(expected, abs=1e-5)
