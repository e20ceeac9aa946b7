"""Redaction of personal data from free text before it is kept for reports.

`redact(text)` replaces A-numbers, e-mail addresses, dates (of birth or otherwise),
street addresses and phone numbers with tags, and any other long run of digits
(receipt, case, social security or passport numbers) with [NUMBER]. It errs towards
removing too much: a kept sample only has to show what people ask about.
"""

from __future__ import annotations

import re

A_NUMBER = "[A-NUMBER]"
PHONE = "[PHONE]"
EMAIL = "[EMAIL]"
ADDRESS = "[ADDRESS]"
DATE = "[DATE]"
NUMBER = "[NUMBER]"

_F = re.IGNORECASE | re.UNICODE

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", _F)

# A-number: "A" + 8 or 9 digits, written A123456789, A-123-456-789, A 123 456 789,
# A#12345678, A No. 123456789; or introduced by "A-number"/"alien number"/"número A".
_DIGITS_8_9 = r"\d(?:[\s.-]?\d){7,8}(?![\s.-]?\d)"
_A_NUMBER = re.compile(
    rf"(?<![\w])(?:"
    rf"A\s?(?:#|No\.?|Nº|n[uú]m(?:ero)?\.?)?[\s.:-]*{_DIGITS_8_9}"
    rf"|(?:alien|A)[\s-]?(?:number|num|no|#)\.?[\s:#-]*(?:is\s+|es\s+)?A?[\s.-]*{_DIGITS_8_9}"
    rf"|n[uú]mero\s+(?:de\s+)?(?:A|extranjero)[\s:#-]*(?:es\s+)?A?[\s.-]*{_DIGITS_8_9}"
    rf")",
    _F,
)

_MONTHS_EN = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?"
    r"|aug(?:ust|\.)?|sep(?:t(?:ember)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?"
)
_MONTHS_ES = (
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre|ene\.?|feb\.?|mar\.?|abr\.?|jun\.?|jul\.?|ago\.?|sept?\.?|oct\.?"
    r"|nov\.?|dic\.?"
)
_MONTH = rf"(?:{_MONTHS_EN}|{_MONTHS_ES})"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|º|°)?"
_YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
_DATE = re.compile(
    r"(?<!\d)(?:"
    # 1990-01-02, 1990/1/2
    rf"{_YEAR}[/.-](?:1[0-2]|0?[1-9])[/.-](?:[12]\d|3[01]|0?[1-9])"
    # 1/2/1990, 01-02-90, 2.1.1990
    r"|(?:[12]\d|3[01]|0?[1-9])[/.-](?:[12]\d|3[01]|0?[1-9])[/.-](?:\d{4}|\d{2})"
    # 2 de enero de 1990, 2 de enero del 1990, 2 de enero, 2nd of January 1990, 2 Jan 1990
    rf"|{_DAY}\s+(?:de\s+|of\s+)?{_MONTH}(?:,?\s+(?:de\s+|del\s+)?{_YEAR})?"
    # January 2, 1990; enero 2 de 1990; Jan 2nd
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+(?:de\s+|del\s+)?{_YEAR})?"
    # January 1990, enero de 1990
    rf"|{_MONTH},?\s+(?:de\s+|del\s+)?{_YEAR}"
    r")(?![\w/])",
    _F,
)

_SUFFIX = (
    r"st|street|ave|av|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place"
    r"|ter|terrace|pkwy|parkway|hwy|highway|cir|circle|sq|square|trl|trail|pike|row|loop"
)
# Words that start ordinary sentences, not street names ("2 days to go to court").
_NOT_STREET = (
    r"(?!(?:to|at|in|on|my|is|are|was|go|for|and|or|the|a|an|i|you|we|he|she|they|it|if"
    r"|days?|weeks?|months?|years?|hours?|times?|kids?|children|people|dollars?"
    r"|desde|hace|por|para|en|con|que|y|mi|su|es|son|al|el|d[ií]as?|semanas?|meses|años?"
    r"|horas?|veces|niños|hijos?|hijas?|d[oó]lares)\b)"
)
_STREET_WORD = rf"{_NOT_STREET}(?:[^\W\d_][\w'.-]*|\d+(?:st|nd|rd|th))"
_UNIT = (
    r"(?:,?\s*(?:apt|apartment|unit|suite|ste|depto|departamento|int|interior|#)"
    r"\.?\s*#?\s*\w{1,6})?"
)
_STREET_ES = (
    r"calle|c/|avenida|avda\.?|av\.|av|camino|carretera|paseo|bulevar|boulevard|privada"
    r"|callej[oó]n|cerrada|andador|calzada|prolongaci[oó]n|circuito|retorno"
)
_ADDRESS = re.compile(
    r"(?<![\w])(?:"
    # 123 Main St, 45 W 23rd Street Apt 4B, 1200 N. Martin Luther King Jr Blvd
    rf"\d{{1,6}}[A-Z]?\s+(?:(?:{_STREET_WORD})\s+){{0,4}}(?:{_SUFFIX})\b\.?{_UNIT}"
    # 1234 Calle Ocho, 12 Avenida Juárez
    rf"|\d{{1,6}}\s+(?:{_STREET_ES})\s+(?:(?:{_STREET_WORD}|de|del|la|los|las)\s*){{1,4}}"
    # Calle 5 de Mayo 123, Avenida Juárez #45, Av. Reforma núm. 222, Calle Luna 12 int. 3
    rf"|(?:{_STREET_ES})\s+(?:(?:{_STREET_WORD}|\d{{1,3}}|de|del|la|los|las)\s+){{1,5}}"
    rf"(?:#|n[uú]m\.?|no\.?|n[uú]mero)?\s*\d{{1,6}}[A-Z]?\b{_UNIT}"
    r")",
    _F,
)

# Phone numbers: +1 (617) 555-0199, 617.555.0199, 0044 20 7946 0958, +52 55 1234 5678.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)?\d{1,4}[\s.-]?)?\(?\d{1,4}\)?(?:[\s.-]?\d{2,5}){1,4}(?![\w])"
)
_LONG_NUMBER = re.compile(r"(?<![\w])[A-Z]{0,3}\d(?:[\s.-]?\d){6,}(?![\w])", _F)


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return PHONE if 7 <= digits <= 15 else match.group()


def redact(text: str) -> str:
    """`text` with personal data replaced by [A-NUMBER], [EMAIL], [DATE], [ADDRESS],
    [PHONE] or [NUMBER]; otherwise unchanged."""
    text = _EMAIL.sub(EMAIL, text)
    text = _A_NUMBER.sub(A_NUMBER, text)
    # Addresses before dates: "Calle 5 de Mayo 123" is a street, not the fifth of May.
    text = _ADDRESS.sub(ADDRESS, text)
    text = _DATE.sub(DATE, text)
    text = _PHONE.sub(_phone, text)
    return _LONG_NUMBER.sub(NUMBER, text)
