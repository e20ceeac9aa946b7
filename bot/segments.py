"""SMS segment counting: GSM-7 (with its extension table) versus UCS-2.

A message that uses only GSM-7 characters travels as 160 septets in one segment or
153 per segment when split; a single character outside GSM-7 (á í ó ú, curly quotes,
emoji) makes the whole message UCS-2: 70 code units in one segment, 67 when split.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each costs two septets (escape + char).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

MAX_SEGMENTS_SMS_ANSWER = 3


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: Encoding
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    non_gsm: tuple[str, ...]  # distinct characters that forced UCS-2, in order of appearance

    @property
    def limit_for_three(self) -> int:
        return 459 if self.encoding is Encoding.GSM7 else 201


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:  # a character (escape pair, surrogate pair) never straddles segments
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return segments


def count(text: str) -> SegmentInfo:
    """How many SMS segments `text` takes, and in which encoding."""
    non_gsm: list[str] = []
    for c in text:
        if c not in GSM7_BASIC and c not in GSM7_EXTENSION and c not in non_gsm:
            non_gsm.append(c)
    if not non_gsm:
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SegmentInfo(Encoding.GSM7, _pack(costs, 160, 153), sum(costs), ())
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SegmentInfo(Encoding.UCS2, _pack(costs, 70, 67), sum(costs), tuple(non_gsm))


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.segments TEXT`: print the encoding and segment count of TEXT."""
    text = " ".join(sys.argv[1:] if argv is None else argv) or sys.stdin.read()
    info = count(text)
    forced = f"; forced by {' '.join(info.non_gsm)}" if info.non_gsm else ""
    print(f"{info.encoding}, {info.units} units, {info.segments} segment(s){forced}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
