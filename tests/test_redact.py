"""Redaction of personal data from unmatched questions, in English and Spanish."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "my A number is A123456789",
        "A-123-456-789 is my number",
        "A 123 456 789",
        "A12345678",
        "A#123456789",
        "A-number: 123456789",
        "my alien number is 123-456-789",
        "mi número A es 123456789",
        "mi numero de extranjero 123456789",
        "a 123-456-789",
    ],
)
def test_a_numbers(text: str) -> None:
    out = redact(text)
    assert "[A-NUMBER]" in out
    assert not re.search(r"\d", out)


@pytest.mark.parametrize(
    "text",
    [
        "call me at (617) 555-0199",
        "617-555-0199",
        "617.555.0199",
        "6175550199",
        "+16175550199",
        "+1 617 555 0199",
        "1-617-555-0199",
        "mi número es +52 55 1234 5678",
        "llámame al 55 1234 5678",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+503 7123 4567",
        "555-0199",
    ],
)
def test_phone_numbers(text: str) -> None:
    out = redact(text)
    assert "[PHONE]" in out
    assert not re.search(r"\d", out)


@pytest.mark.parametrize(
    "text",
    ["write to maria.lopez+ice@example.org please", "mi correo es JUAN_P@correo.com.mx"],
)
def test_emails(text: str) -> None:
    out = redact(text)
    assert "[EMAIL]" in out
    assert "@" not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I live at 123 Main St and ICE came", "I live at [ADDRESS] and ICE came"),
        ("45 W 23rd Street Apt 4B", "[ADDRESS]"),
        ("1200 Martin Luther King Jr Blvd.", "[ADDRESS]"),
        ("they are at 77 Massachusetts Avenue now", "they are at [ADDRESS] now"),
        ("9 Elm Rd", "[ADDRESS]"),
        ("vivo en Calle 5 de Mayo 123", "vivo en [ADDRESS]"),
        ("estoy en Avenida Juárez #45, hay policía", "estoy en [ADDRESS], hay policía"),
        ("Av. Reforma núm. 222", "[ADDRESS]"),
        ("en la 1234 Calle Ocho", "en la [ADDRESS]"),
        ("calle luna 12 int. 3", "[ADDRESS]"),
    ],
)
def test_street_addresses(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "born 1/2/1990",
        "born 01/02/90",
        "DOB 1990-01-02",
        "nací el 2 de enero de 1990",
        "nací el 2 de enero del 1990",
        "fecha de nacimiento: 15 de septiembre, 1985",
        "my court date is January 2, 2027",
        "on Jan 2nd",
        "2nd of March 1990",
        "enero 2 de 1990",
        "mi cita es el 3 de marzo",
        "31.12.1999",
    ],
)
def test_dates(text: str) -> None:
    out = redact(text)
    assert "[DATE]" in out
    assert not re.search(r"\d", out)
    for month in ("enero", "jan", "march", "marzo", "septiembre", "january"):
        assert month not in out.lower()


@pytest.mark.parametrize(
    "text",
    [
        "what do i do if ice is at my door",
        "¿qué hago si la migra está en mi casa?",
        "I have 2 days to go to court",
        "tengo 3 hijos y vivo en la calle desde hace 2 años",
        "can I get a work permit after 180 days",
        "is form I-589 free",
        "they came at 6 am, 5 people",
        "cuesta $1,500 o 2000 dólares?",
        "I may go to court in May",
    ],
)
def test_ordinary_questions_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_long_digit_runs_are_removed() -> None:
    out = redact("receipt IOE0912345678 and SSN 123-45-6789")
    assert out.startswith("receipt [NUMBER] and SSN [")
    assert not re.search(r"\d", out)


def test_everything_in_one_message() -> None:
    text = (
        "Hola, soy Ana, A-098-765-432, nací el 4 de julio de 1988, vivo en 12 Oak Street "
        "Apt 3, mi cel es (857) 555-0123 y correo ana@example.com"
    )
    out = redact(text)
    assert out == (
        "Hola, soy Ana, [A-NUMBER], nací el [DATE], vivo en [ADDRESS], "
        "mi cel es [PHONE] y correo [EMAIL]"
    )


_phone = st.builds(
    lambda cc, a, b, c, sep: f"{cc}{a}{sep}{b}{sep}{c}",
    st.sampled_from(["", "+1 ", "1-", "+52 ", "+503 ", "(", "00 44 "]),
    st.integers(200, 999),
    st.integers(200, 999),
    st.integers(1000, 9999),
    st.sampled_from(["-", ".", " ", ""]),
)


@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40), _phone
)
def test_phone_never_survives_surrounding_text(prefix: str, phone: str) -> None:
    out = redact(f"{prefix} {phone} gracias")
    digits = re.sub(r"\D", "", phone)
    assert digits not in re.sub(r"\D", "", out)


@given(st.text(max_size=200))
def test_redact_is_idempotent_and_leaves_no_long_digit_runs(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert not re.search(r"\d(?:[\s.-]?\d){6}", once)
