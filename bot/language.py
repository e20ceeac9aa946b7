"""English or Spanish, per message, reliable on short SMS; a contact keeps its language
unless a message clearly says otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import Lang
from bot.text import fold

# Strong hints that survive missing accents and SMS shorthand.
_ES_MARKS = re.compile(r"[ñ¿¡áéíóú]", re.IGNORECASE)
_ES_WORDS = frozenset(
    "que q k xq pq porque por para con los las del una uno mi mis tu tus su sus es esta estan "
    "esta soy estoy tengo tiene tienen hay hace hago puedo puede pueden si no pero como cuando "
    "donde quien cual y o el la lo le les me te se nos ya muy mas tambien tb ahora ahorita "
    "hola gracias ayuda ayudame favor porfa necesito quiero sabe saber hacer va van fue "
    "esposo esposa hijo hija hijos mama papa hermano hermana novio marido casa puerta "
    "trabajo policia migra abogado papeles mica deportar deportan deportado carcel licencia "
    "manejar manejando llamar llamo pegar pega miedo derechos orden juez visa".split()
)
_EN_WORDS = frozenset(
    "the a an is are was were be been what whats how when where who why which do does did "
    "i im i'm my me you your u ur he she his her they them their it its we our us can could "
    "should would will if and or but not dont don't no yes to of in on at for with from about "
    "have has had get got need want help please pls know there this that these those any "
    "husband wife son daughter kids mom dad brother sister boyfriend house door work job "
    "police cops lawyer papers deported jail license driving call hit afraid rights judge "
    "warrant visa".split()
)
_EN_ONLY_SHORT = frozenset({"hi", "hello", "hey", "thanks", "thank", "ok", "okay"})

SWITCH_MARGIN = 2  # votes needed to leave a contact's current language


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: Lang | None  # None: can't tell
    en: float
    es: float


def guess(
    text: str, extra_en: frozenset[str] = frozenset(), extra_es: frozenset[str] = frozenset()
) -> LangGuess:
    """Votes for each language; `extra_*` are content words learned from the FAQ."""
    es = 2.0 * len(_ES_MARKS.findall(text))
    en = 0.0
    for w in fold(text).split():
        in_es = w in _ES_WORDS or w in extra_es
        in_en = w in _EN_WORDS or w in extra_en or w in _EN_ONLY_SHORT
        if in_es and in_en:
            continue
        if in_es:
            es += 1
        elif in_en:
            en += 1
    if es > en:
        return LangGuess(Lang.ES, en, es)
    if en > es:
        return LangGuess(Lang.EN, en, es)
    return LangGuess(None, en, es)


def choose(g: LangGuess, current: Lang | None, hint: Lang | None) -> Lang:
    """The language to answer in: keep `current` unless the message clearly switches."""
    if current is None:
        return g.lang or hint or Lang.EN
    if g.lang is None or g.lang is current:
        return current
    margin = abs(g.es - g.en)
    return g.lang if margin >= SWITCH_MARGIN else current
