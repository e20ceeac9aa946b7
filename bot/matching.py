"""Ranking FAQ entries for a texted question, in English, Spanish or a mix of both.

Each message is folded (lowercase, no accents); slang and synonyms from the lexicon become
language-neutral concepts (so "la migra" and "immigration" meet); other words are stemmed
(Snowball, English and Spanish) and typos are corrected against the FAQ's own vocabulary.
Entries are scored by TF-IDF similarity to their example questions and titles (best single
question and the entry as a whole), in both languages. Examples of questions the bot does
not answer (faq/not-answered.yaml) compete as one more "entry": landing there means "no".
The result is a ranked list with a confidence; the router decides what to do with it.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.chargrams import CharIndex
from bot.classifier import ExampleClassifier, features
from bot.faq import Faq
from bot.models import Lang
from bot.sparse import SparseIndex
from bot.text import fold

MAX_PHRASE_WORDS = 5
NOT_ANSWERED = "_not_answered"  # the pseudo-entry of questions the bot does not answer

_STEMMERS = {
    Lang.EN: snowballstemmer.stemmer("english"),
    Lang.ES: snowballstemmer.stemmer("spanish"),
}


@lru_cache(maxsize=65536)
def stem(word: str, lang: Lang) -> str:
    return str(_STEMMERS[lang].stemWord(word))


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    score: float
    why: tuple[str, ...] = ()  # the features that matched, for coordinators
    example: float = 0.0  # similarity to the entry's closest example question (1 = same)


@dataclass(frozen=True, slots=True)
class Match:
    """Ranked candidates for one message and how sure the matcher is."""

    candidates: tuple[Candidate, ...]  # real entries only, best first
    confidence: float  # 0..1: estimated chance the top candidate is right
    coverage: float  # share of the message's content the FAQ vocabulary knows
    not_answered: float = 0.0  # similarity to the questions the bot does not answer
    features: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(slots=True)
class Analysis:
    """A message turned into weighted features."""

    features: dict[str, float] = field(default_factory=dict)  # feature -> match quality
    unknown: list[str] = field(default_factory=list)
    folded: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What ranking one message found, before it is weighed (see `Matcher.combine`)."""

    # One number per entry, in the order of `Matcher.labels`:
    best_q: npt.NDArray[np.float64]  # similarity of its closest example question
    centroid: npt.NDArray[np.float64]  # similarity to the entry as a whole
    posterior: npt.NDArray[np.float64]  # Naive Bayes posterior
    chars: npt.NDArray[np.float64]  # character n-gram similarity of its closest example
    svm: npt.NDArray[np.float64]  # the linear classifier's decision value (empty: none)
    coverage: float
    features: tuple[str, ...]
    unknown: tuple[str, ...]


class Matcher:
    """Built once per FAQ version; `rank()` is pure and safe to share across threads."""

    # Weights and thresholds: scripts/tune_router.py on the evaluation sets but fresh2 and fresh5
    # (dev, test, holdout, final, blind, unseen, fresh1).
    question_weight = 0.449  # best single example question vs the entry as a whole
    answer_weight = 0.25  # the answer texts count a little towards an entry's vocabulary
    unknown_weight = 0.7  # an unknown word weighs this share of the rarest known feature
    fuzzy_quality = (1.0, 0.7, 0.45)  # by edit distance 0, 1, 2
    bayes_alpha = 0.3  # Laplace smoothing of the Naive Bayes part
    bayes_weight = 0.67  # how much its posterior adds to the similarity score
    char_weight = 2.037  # how much character n-gram similarity adds
    svm_weight = 0.868  # how much the linear classifier's decision value (+1) adds
    # Decision thresholds (the router applies them) on the weighted sum above.
    answer_threshold = 0.495  # below: offer the top two as a choice
    reject_threshold = 0.237  # below: "I don't know"
    choice_margin = 0.276  # top two closer than this: offer both
    min_coverage = 0.417  # less of the message known than this: "I don't know"
    not_answered_ratio = 0.517  # closer than this to a not-answered example: "I don't know"
    example_match = 0.92  # this close to one entry's example question: answer it

    def __init__(self, faq: Faq) -> None:
        self.faq = faq
        self.phrases: dict[tuple[str, ...], str] = {}  # folded phrase words -> "@concept"
        self.concept_stems: dict[str, str] = {}  # stem of a one-word lexicon entry -> concept
        self.stopwords = (
            frozenset().union(*faq.lexicon.stopwords.values())
            if faq.lexicon.stopwords
            else frozenset()
        )
        self.lang_words: dict[Lang, set[str]] = {lang: set() for lang in Lang}
        for concept, per_lang in faq.lexicon.concepts.items():
            for lang, phrases in per_lang.items():
                for phrase in phrases:
                    words = tuple(phrase.split())[:MAX_PHRASE_WORDS]
                    if not words:
                        continue
                    self.phrases[words] = "@" + concept
                    self.lang_words[lang].update(words)
                    if len(words) == 1:
                        s = stem(words[0], lang)
                        if len(s) >= 5:
                            self.concept_stems.setdefault(s, "@" + concept)
        self.vocab: dict[str, frozenset[str]] = {}  # surface word -> features it stands for
        questions: list[tuple[str, dict[str, float]]] = []
        question_texts: list[tuple[str, str]] = []  # (folded text, entry id)
        answers: list[tuple[str, dict[str, float]]] = []
        for entry in faq.entries.values():
            for lang in Lang:
                text = entry.text[lang]
                for q in (*text.questions, text.title):
                    questions.append((entry.id, self._doc(q, lang)))
                    question_texts.append((fold(q), entry.id))
                answers.append(
                    (entry.id, self._doc(text.sms + "\n" + text.full, lang, register=False))
                )
                self.lang_words[lang].update(fold(" ".join(text.questions)).split())
        for lang, qs in faq.not_answered.items():
            for q in qs:
                questions.append((NOT_ANSWERED, self._doc(q, lang)))
                question_texts.append((fold(q), NOT_ANSWERED))
        # inverse entry frequency over the real entries and the not-answered pseudo-entry
        df: dict[str, set[str]] = defaultdict(set)
        for entry_id, feats in questions:
            for f in feats:
                df[f].add(entry_id)
        n = len(faq.entries) + (1 if faq.not_answered else 0)
        self.idf = {f: math.log(1 + n / len(ids)) for f, ids in df.items()}
        self.max_idf = math.log(1 + max(1, n))
        # question vectors (L2-normalised) in an inverted index; entry centroids likewise
        vectors: list[tuple[str, dict[str, float]]] = []
        centroid: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for entry_id, feats in questions:
            vec = _unit({f: w * self.idf[f] for f, w in feats.items()})
            vectors.append((entry_id, vec))
            for f, v in vec.items():
                centroid[entry_id][f] += v
        # every score comes as an array over these (the entries and NOT_ANSWERED, sorted)
        self.labels = sorted({entry_id for entry_id, _ in questions})
        self._not_answered = (
            self.labels.index(NOT_ANSWERED) if NOT_ANSWERED in self.labels else None
        )
        self.index = SparseIndex(vectors, self.labels)
        for entry_id, feats in answers:
            vec = _unit({f: w * self.idf[f] for f, w in feats.items() if f in self.idf})
            for f, v in vec.items():
                centroid[entry_id][f] += v * self.answer_weight * 3
        self.entry_features: dict[str, frozenset[str]] = {}
        units: list[tuple[str, dict[str, float]]] = []
        for entry_id, vec in centroid.items():
            unit = _unit(vec)
            self.entry_features[entry_id] = frozenset(unit)
            units.append((entry_id, unit))
        self.centroids = SparseIndex(units, self.labels)  # one vector per entry
        singles = {p[0] for p in self.phrases if len(p) == 1 and len(p[0]) >= 4}
        self.fuzzy_words = sorted({w for w in self.vocab if len(w) >= 4} | singles)
        by_letter: dict[str, list[str]] = defaultdict(list)
        for w in self.fuzzy_words:
            by_letter[w[0]].append(w)
        self._fuzzy_by_letter = dict(by_letter)
        self._train_bayes(questions)
        self.chars = CharIndex(*_unzip(question_texts))
        self.classifier = ExampleClassifier(*_unzip(question_texts))
        assert self.chars.labels == self.classifier.labels == self.labels
        self._lookup_cache: dict[str, tuple[frozenset[str], float]] = {}

    def _train_bayes(self, docs: list[tuple[str, dict[str, float]]]) -> None:
        """Naive Bayes over the same features: it learns which words tell two neighbouring
        entries apart (ICE vs police on the street), which similarity alone can't."""
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        totals: dict[str, float] = defaultdict(float)
        vocab: set[str] = set()
        for entry_id, feats in docs:
            for f, w in feats.items():
                counts[entry_id][f] += w
                totals[entry_id] += w
                vocab.add(f)
        a, size = self.bayes_alpha, max(1, len(vocab))
        # log P(f|class) = default + gain: the default for a feature the class never saw,
        # the gain (> 0) for one it did; sparse, so scoring touches only those
        default = [math.log(a / (totals[c] + a * size)) for c in self.labels]
        self.bayes_default = np.array(default)
        self.bayes_gain = SparseIndex(
            [(c, {f: math.log((n + a) / a) for f, n in counts[c].items()}) for c in self.labels],
            self.labels,
        )

    def bayes(self, features: dict[str, float]) -> npt.NDArray[np.float64]:
        """Posterior probability of each entry (and NOT_ANSWERED) given the features."""
        column = self.bayes_gain.features
        ids: list[int] = []
        weights: list[float] = []
        for f, q in features.items():
            k = column.get(f)
            if k is not None:
                ids.append(k)
                weights.append(q)
        if not ids:
            return np.zeros(len(self.labels))
        scores = self.bayes_default * sum(weights) + self.bayes_gain.best_ids(ids, weights)
        exp = np.exp(scores - scores.max())
        posterior: npt.NDArray[np.float64] = exp / exp.sum()
        return posterior

    # --- analysis -------------------------------------------------------------------------

    def _doc(self, text: str, lang: Lang, register: bool = True) -> dict[str, float]:
        """Features of an example (or answer) text; examples extend the vocabulary."""
        out: dict[str, float] = {}
        for kind, token in self._tokens(fold(text).split()):
            if kind == "concept":
                out[token] = 1.0
            elif token not in self.stopwords and (len(token) > 1 or token.isdigit()):
                f = stem(token, lang)
                out[f] = 1.0
                if register:
                    self.vocab[token] = self.vocab.get(token, frozenset()) | {f}
        return out

    def _tokens(self, words: list[str]) -> list[tuple[str, str]]:
        """Greedy longest lexicon phrase first; other words pass through."""
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            for size in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                concept = self.phrases.get(tuple(words[i : i + size]))
                if concept is not None:
                    out.append(("concept", concept))
                    i += size
                    break
            else:
                out.append(("word", words[i]))
                i += 1
        return out

    def analyse(self, text: str) -> Analysis:
        a = Analysis(folded=fold(text))
        for kind, token in self._tokens(a.folded.split()):
            if kind == "concept":
                a.features[token] = 1.0
                continue
            if token in self.stopwords or (len(token) < 2 and not token.isdigit()):
                continue
            feats, quality = self._lookup(token)
            if feats:
                for f in feats:
                    a.features[f] = max(a.features.get(f, 0.0), quality)
            else:
                a.unknown.append(token)
        return a

    def _lookup(self, word: str) -> tuple[frozenset[str], float]:
        cached = self._lookup_cache.get(word)
        if cached is None:
            cached = self._lookup_uncached(word)
            if len(self._lookup_cache) < 100_000:
                self._lookup_cache[word] = cached
        return cached

    def _lookup_uncached(self, word: str) -> tuple[frozenset[str], float]:
        known = self.vocab.get(word)
        if known:
            return known, 1.0
        feats = {stem(word, lang) for lang in Lang} & self.idf.keys()
        if feats:
            return frozenset(feats), 1.0
        for lang in Lang:
            concept = self.concept_stems.get(stem(word, lang))
            if concept:
                return frozenset({concept}), 1.0
        if len(word) < 5 or word.isdigit():
            return frozenset(), 0.0
        # A typo keeps its first letter; long words may have two slips.
        limit = 1 if len(word) < 9 else 2
        choices = self._fuzzy_by_letter.get(word[0], ())
        best = process.extractOne(word, choices, scorer=Levenshtein.distance, score_cutoff=limit)
        if best is None:
            return frozenset(), 0.0
        choice, distance = str(best[0]), int(best[1])
        quality = self.fuzzy_quality[min(distance, 2)]
        if choice in self.vocab:
            return self.vocab[choice], quality
        concept = self.phrases.get((choice,))
        return (frozenset({concept}), quality) if concept else (frozenset(), 0.0)

    # --- ranking --------------------------------------------------------------------------

    def rank(self, text: str, k: int = 3) -> Match:
        return self.combine(self.evidence(self.analyse(text)), k)

    def evidence(self, a: Analysis) -> Evidence:
        """Every entry's similarity to the message, by each measure."""
        qvec = {f: q * self.idf[f] for f, q in a.features.items() if f in self.idf}
        known = sum(self.idf.get(f, 0.0) * q for f, q in a.features.items())
        possible = sum(self.idf.get(f, self.max_idf) for f in a.features)
        unknown_mass = len(a.unknown) * self.max_idf * self.unknown_weight
        total = possible + unknown_mass
        coverage = round(known / total, 3) if total else 0.0
        norm = math.sqrt(sum(v * v for v in qvec.values()))
        zeros = np.zeros(len(self.labels))
        best_q, cent = zeros, zeros
        if norm:
            best_q = self.index.best_array(qvec) / norm
            cent = self.centroids.best_array(qvec) / norm
        blocks = features(a.folded)  # character grams shared by two of the measures
        return Evidence(
            best_q=best_q,
            centroid=cent,
            posterior=self.bayes(a.features),
            chars=self.chars.best(a.folded, blocks[0]),
            svm=self.classifier.scores(a.folded, blocks),
            coverage=coverage,
            features=tuple(a.features),
            unknown=tuple(a.unknown),
        )

    def combine(self, ev: Evidence, k: int = 3) -> Match:
        """Weigh the evidence into ranked candidates and a confidence."""
        if not (ev.best_q.any() or ev.centroid.any() or ev.chars.any()):
            return Match((), 0.0, ev.coverage, 0.0, ev.features, ev.unknown)
        qw, lam, cw, sw = self.question_weight, self.bayes_weight, self.char_weight, self.svm_weight
        score = qw * ev.best_q + (1 - qw) * ev.centroid + lam * ev.posterior + cw * ev.chars
        if len(ev.svm):
            score = score + sw * (ev.svm + 1.0)
            considered = np.ones(len(score), dtype=bool)
        else:  # no classifier (a one-entry FAQ): entries something else found
            considered = (ev.best_q > 0) | (ev.centroid > 0) | (ev.chars > 0)
        # The not-answered examples are many unrelated questions: their centroid means
        # nothing, so they compete through their best single example.
        not_answered, na = 0.0, self._not_answered
        if na is not None:
            considered[na] = False
            not_answered = float(
                ev.best_q[na]
                + lam * ev.posterior[na]
                + cw * ev.chars[na]
                + (sw * (ev.svm[na] + 1.0) if len(ev.svm) else 0.0)
            )
        # highest score first; a tie goes to the later id, as a reversed sort would
        ids = np.flatnonzero(considered)[::-1]
        top_ids = ids[np.argsort(-score[ids], kind="stable")[:k]]
        matched = set(ev.features)
        cands = tuple(
            Candidate(
                self.labels[i],
                round(float(score[i]), 4),
                tuple(sorted(matched & self.entry_features.get(self.labels[i], frozenset()))),
                round(float(ev.best_q[i]), 4),
            )
            for i in top_ids
        )
        top = cands[0].score if cands else 0.0
        second = cands[1].score if len(cands) > 1 else 0.0
        confidence = calibrate(top, top - second, ev.coverage, not_answered)
        return Match(
            cands,
            confidence,
            ev.coverage,
            round(not_answered, 4),
            ev.features,
            ev.unknown,
        )


_BUILT: OrderedDict[str, Matcher] = OrderedDict()
_BUILT_LOCK = threading.Lock()
_KEEP = 4


def matcher_for(faq: Faq) -> Matcher:
    """The Matcher for this FAQ's examples, answers, lexicon and not-answered questions,
    built once per process: training takes seconds, and a reload that changed only
    settings, a second Router over the same content, or a test's app reuses it."""
    key = hashlib.sha256(
        repr((sorted(faq.entries.items()), faq.lexicon, sorted(faq.not_answered.items()))).encode()
    ).hexdigest()
    with _BUILT_LOCK:
        found = _BUILT.get(key)
        if found is not None:
            _BUILT.move_to_end(key)
            return found
    built = Matcher(faq)
    with _BUILT_LOCK:
        _BUILT[key] = built
        while len(_BUILT) > _KEEP:
            _BUILT.popitem(last=False)
    return built


def clear_built() -> None:
    """Forget the built Matchers (benchmarks time a cold start)."""
    with _BUILT_LOCK:
        _BUILT.clear()


def _unzip(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return [a for a, _ in pairs], [b for _, b in pairs]


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {f: v / norm for f, v in vec.items()}


# Logistic fit (scripts/tune_router.py --calibrate, same sets): P(top entry is right).
CALIBRATION = (-2.71, 0.52, 1.75, 1.64, -6.48)


def calibrate(top: float, margin: float, coverage: float, not_answered: float) -> float:
    """Map raw scores to an estimated probability that the top entry is the right one."""
    b0, b_top, b_margin, b_cov, b_na = CALIBRATION
    z = (
        b0
        + b_top * top
        + b_margin * margin
        + b_cov * coverage
        + b_na * max(0.0, not_answered - top)
    )
    return round(1.0 / (1.0 + math.exp(-z)), 3)
