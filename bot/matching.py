"""Ranking FAQ entries for a texted question, in English, Spanish or a mix of both.

Each message is folded (lowercase, no accents), slang and synonyms from the lexicon become
language-neutral concepts (so "la migra" and "immigration" meet), other words are stemmed
(Snowball, English and Spanish) and typos are corrected against the FAQ's own vocabulary.
Entries are scored by TF-IDF similarity to their example questions and titles, in both
languages. The result is a ranked list with a confidence; the router decides what to do.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.faq import Faq
from bot.models import Lang
from bot.text import fold

MAX_PHRASE_WORDS = 5
TITLE_WEIGHT = 1.0

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


@dataclass(frozen=True, slots=True)
class Match:
    """Ranked candidates for one message and how sure the matcher is."""

    candidates: tuple[Candidate, ...]
    confidence: float  # 0..1, calibrated on the labelled set (see scripts/bench_router.py)
    coverage: float  # share of the message's meaning the FAQ vocabulary knows
    features: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(slots=True)
class _Analysis:
    features: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    en_votes: int = 0
    es_votes: int = 0


class Matcher:
    """Built once per FAQ version; `rank()` is pure and thread-safe."""

    # Decision thresholds, tuned on tests/data/eval/dev.jsonl (scripts/bench_router.py).
    answer_threshold = 0.34
    reject_threshold = 0.18
    choice_margin = 0.06
    min_coverage = 0.55

    def __init__(self, faq: Faq) -> None:
        self.faq = faq
        self.phrases: dict[tuple[str, ...], str] = {}  # folded phrase words -> "@concept"
        self.concept_stems: dict[str, str] = {}  # stem of a one-word lexicon entry -> concept
        self.stopwords: dict[Lang, frozenset[str]] = {
            lang: faq.lexicon.stopwords.get(lang, frozenset()) for lang in Lang
        }
        self.lang_words: dict[Lang, set[str]] = {lang: set() for lang in Lang}
        for concept, per_lang in faq.lexicon.concepts.items():
            for lang, phrases in per_lang.items():
                for phrase in phrases:
                    words = tuple(phrase.split())
                    if not words:
                        continue
                    self.phrases[words[:MAX_PHRASE_WORDS]] = "@" + concept
                    self.lang_words[lang].update(words)
                    if len(words) == 1 and len(words[0]) >= 4:
                        self.concept_stems.setdefault(stem(words[0], lang), "@" + concept)
        # Index: every example question and title is a "document" of its entry.
        self.vocab: dict[str, frozenset[str]] = {}  # surface word -> features it stands for
        docs: list[tuple[str, dict[str, float]]] = []
        for entry in faq.entries.values():
            for lang in Lang:
                text = entry.text[lang]
                for q in text.questions:
                    docs.append((entry.id, self._doc_features(q, lang)))
                title = self._doc_features(text.title, lang)
                docs.append((entry.id, {f: w * TITLE_WEIGHT for f, w in title.items()}))
                for w in fold(" ".join(text.questions)).split():
                    self.lang_words[lang].add(w)
        entry_df: dict[str, set[str]] = defaultdict(set)
        for entry_id, feats in docs:
            for f in feats:
                entry_df[f].add(entry_id)
        n = max(1, len(faq.entries))
        self.idf: dict[str, float] = {f: math.log(1 + n / len(ids)) for f, ids in entry_df.items()}
        self.max_idf = math.log(1 + n)
        # question-level vectors (normalised) in an inverted index
        self.doc_entry: list[str] = []
        self.index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        centroid: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for i, (entry_id, feats) in enumerate(docs):
            vec = {f: w * self.idf[f] for f, w in feats.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.doc_entry.append(entry_id)
            for f, v in vec.items():
                self.index[f].append((i, v / norm))
                centroid[entry_id][f] += v / norm
        self.centroid_index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for entry_id, vec in centroid.items():
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for f, v in vec.items():
                self.centroid_index[f].append((entry_id, v / norm))
        self.fuzzy_words = sorted(w for w in self.vocab if len(w) >= 4)

    # --- analysis -------------------------------------------------------------------------

    def _doc_features(self, text: str, lang: Lang) -> dict[str, float]:
        """Features of an example question, registering its words in the vocabulary."""
        out: dict[str, float] = defaultdict(float)
        for kind, token in self._tokens(fold(text).split()):
            if kind == "concept":
                out[token] = 1.0
            elif token not in self.stopwords[lang] and (len(token) > 1 or token.isdigit()):
                f = stem(token, lang)
                out[f] = 1.0
                self.vocab[token] = self.vocab.get(token, frozenset()) | {f}
        return dict(out)

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

    def analyse(self, text: str) -> _Analysis:
        a = _Analysis()
        words = fold(text).split()
        for w in words:
            a.en_votes += w in self.lang_words[Lang.EN]
            a.es_votes += w in self.lang_words[Lang.ES]
        for kind, token in self._tokens(words):
            if kind == "concept":
                a.features.append(token)
                continue
            if token in self.stopwords[Lang.EN] or token in self.stopwords[Lang.ES]:
                continue
            if len(token) < 2 and not token.isdigit():
                continue
            feats = self._word_features(token)
            if feats:
                a.features.extend(sorted(feats))
            else:
                a.unknown.append(token)
        return a

    def _word_features(self, word: str) -> frozenset[str]:
        return _word_features_cached(self, word)

    def _lookup(self, word: str) -> frozenset[str]:
        known = self.vocab.get(word)
        if known:
            return known
        feats = {stem(word, lang) for lang in Lang} & self.idf.keys()
        if feats:
            return frozenset(feats)
        for lang in Lang:
            concept = self.concept_stems.get(stem(word, lang))
            if concept:
                return frozenset({concept})
        if len(word) < 4 or word.isdigit():
            return frozenset()
        limit = 1 if len(word) < 7 else 2
        # typo: nearest known word (FAQ vocabulary or one-word lexicon entries)
        best = process.extractOne(
            word, self._fuzzy_choices(), scorer=Levenshtein.distance, score_cutoff=limit
        )
        if best is None:
            return frozenset()
        choice = best[0]
        if choice in self.vocab:
            return self.vocab[choice]
        concept = self.phrases.get((choice,))
        return frozenset({concept}) if concept else frozenset()

    def _fuzzy_choices(self) -> list[str]:
        cached: list[str] | None = getattr(self, "_fuzzy_cache", None)
        if cached is None:
            singles = [p[0] for p in self.phrases if len(p) == 1 and len(p[0]) >= 4]
            cached = sorted(set(self.fuzzy_words) | set(singles))
            self._fuzzy_cache = cached
        return cached

    # --- ranking --------------------------------------------------------------------------

    def rank(self, text: str, k: int = 3) -> Match:
        a = self.analyse(text)
        return self.rank_analysis(a, k)

    def rank_analysis(self, a: _Analysis, k: int = 3) -> Match:
        qvec: dict[str, float] = defaultdict(float)
        for f in a.features:
            qvec[f] += self.idf.get(f, 0.0)
        known = sum(qvec.values())
        unknown_mass = len(a.unknown) * self.max_idf * 0.7
        coverage = known / (known + unknown_mass) if known + unknown_mass else 0.0
        norm = math.sqrt(sum(v * v for v in qvec.values()))
        if not norm:
            return Match((), 0.0, coverage, tuple(a.features), tuple(a.unknown))
        best_doc: dict[str, float] = defaultdict(float)
        doc_scores: dict[int, float] = defaultdict(float)
        for f, v in qvec.items():
            for i, w in self.index.get(f, ()):
                doc_scores[i] += v * w
        for i, s in doc_scores.items():
            entry_id = self.doc_entry[i]
            if s > best_doc[entry_id]:
                best_doc[entry_id] = s
        cent: dict[str, float] = defaultdict(float)
        for f, v in qvec.items():
            for entry_id, w in self.centroid_index.get(f, ()):
                cent[entry_id] += v * w
        scored = []
        for entry_id in best_doc.keys() | cent.keys():
            s = (0.6 * best_doc.get(entry_id, 0.0) + 0.4 * cent.get(entry_id, 0.0)) / norm
            scored.append((s, entry_id))
        scored.sort(reverse=True)
        matched = set(qvec)
        cands = tuple(
            Candidate(entry_id, round(s, 4), tuple(sorted(matched & self._entry_feats(entry_id))))
            for s, entry_id in scored[:k]
        )
        top = cands[0].score if cands else 0.0
        second = cands[1].score if len(cands) > 1 else 0.0
        confidence = _calibrate(top, top - second, coverage)
        return Match(cands, confidence, round(coverage, 3), tuple(a.features), tuple(a.unknown))

    def _entry_feats(self, entry_id: str) -> set[str]:
        cache: dict[str, set[str]] | None = getattr(self, "_entry_feat_cache", None)
        if cache is None:
            cache = defaultdict(set)
            for f, postings in self.centroid_index.items():
                for eid, _ in postings:
                    cache[eid].add(f)
            self._entry_feat_cache = cache
        return cache[entry_id]


@lru_cache(maxsize=32768)
def _word_features_cached(matcher: Matcher, word: str) -> frozenset[str]:
    return matcher._lookup(word)


def _calibrate(top: float, margin: float, coverage: float) -> float:
    """Logistic map of the raw scores to a probability that the top entry is right."""
    z = -6.0 + 9.0 * top + 6.0 * margin + 3.0 * coverage
    return round(1.0 / (1.0 + math.exp(-z)), 3)
