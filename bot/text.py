"""Text folding shared by matching, triage and language detection: lowercase, no accents,
no punctuation, so "¿Qué hago?" and "q hago" meet halfway."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "ayudaaaa" -> "ayudaa"


@lru_cache(maxsize=4096)  # one message is folded by triage, matcher and language alike
def fold(text: str) -> str:
    """Lowercase, strip accents (ñ -> n), turn punctuation into spaces, squeeze repeats."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_ = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_ = _REPEATS.sub(r"\1\1", ascii_)
    return " ".join(_NON_WORD.sub(" ", ascii_).split())


def words(text: str) -> list[str]:
    """The folded words of `text`."""
    return fold(text).split()


def split_parts(
    text: str, fits: Callable[[str], bool], seps: tuple[str, ...] = ("\n\n", "\n", ". ", " ")
) -> list[str]:
    """Cut `text` into as few parts as possible that each `fits`, at paragraph boundaries
    first, then lines, sentences and words (a run without any is cut by length)."""
    text = text.strip()
    return [p.strip() for p in _split(text, fits, seps) if p.strip()]


def _split(text: str, fits: Callable[[str], bool], seps: tuple[str, ...]) -> list[str]:
    if fits(text):
        return [text]
    if not seps:  # one unbroken run of characters: cut it by length
        cut: list[str] = []
        current = ""
        for ch in text:
            if current and not fits(current + ch):
                cut.append(current)
                current = ""
            current += ch
        return [*cut, current] if current else cut
    sep, rest = seps[0], seps[1:]
    pieces: list[str] = []
    for chunk in text.split(sep):
        pieces.extend(_split(chunk, fits, rest) if not fits(chunk) else [chunk])
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if fits(candidate):
            current = candidate
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts
