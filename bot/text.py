"""Text folding shared by matching, triage and language detection: lowercase, no accents,
no punctuation, so "¿Qué hago?" and "q hago" meet halfway."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "ayudaaaa" -> "ayudaa"


def fold(text: str) -> str:
    """Lowercase, strip accents (ñ -> n), turn punctuation into spaces, squeeze repeats."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_ = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_ = _REPEATS.sub(r"\1\1", ascii_)
    return " ".join(_NON_WORD.sub(" ", ascii_).split())


def words(text: str) -> list[str]:
    """The folded words of `text`."""
    return fold(text).split()
