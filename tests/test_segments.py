"""SMS segment counting: GSM-7 with its extension table versus UCS-2."""

from __future__ import annotations

import pytest

from bot.segments import Encoding, count


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", Encoding.GSM7, 0, 1),
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("a" * 459, Encoding.GSM7, 459, 3),
        ("a" * 460, Encoding.GSM7, 460, 4),
        # é ñ ü ¿ ¡ are in the GSM-7 basic set
        ("¿Qué pasó? ¡Señor! Pingüino é", Encoding.UCS2, 29, 1),  # ó forces UCS-2
        ("¿Que paso? ¡Señor! Pingüino é", Encoding.GSM7, 29, 1),
        # extension characters cost two septets
        ("€" * 80, Encoding.GSM7, 160, 1),
        ("{}" * 41, Encoding.GSM7, 164, 2),
        # á í ó ú force UCS-2: 70 per single segment, 67 when split
        ("á" * 70, Encoding.UCS2, 70, 1),
        ("á" * 71, Encoding.UCS2, 71, 2),
        ("á" * 201, Encoding.UCS2, 201, 3),
        ("á" * 202, Encoding.UCS2, 202, 4),
        # emoji outside the BMP take two UTF-16 units
        ("🚨" * 35, Encoding.UCS2, 70, 1),
        ("🚨" * 36, Encoding.UCS2, 72, 2),
    ],
)
def test_count(text: str, encoding: Encoding, units: int, segments: int) -> None:
    info = count(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_extension_pair_never_straddles_a_segment() -> None:
    # 152 plain septets + "€" (2) does not fit in the 153 of segment one: it moves on
    info = count("a" * 152 + "€" + "a" * 10)
    assert info.segments == 2


def test_names_the_characters_that_forced_ucs2() -> None:
    info = count("Llamá al número, está bien")
    assert info.non_gsm == ("á", "ú")
    assert info.limit_for_three == 201
