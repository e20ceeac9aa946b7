"""Whatever a member sends, the core answers sensibly and never crashes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.faq import Faq
from bot.i18n import Messages
from bot.models import Channel, ContactState, Inbound
from bot.router import STOP_WORDS, Router
from bot.segments import count
from bot.text import fold
from bot.triage import triage
from tests.chat import OPEN_HOURS


@pytest.fixture(scope="module")
def router(faq: Faq, messages: Messages) -> Router:
    return Router(faq, messages, handoff_available=lambda: True)


texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1000, max_size=10_000),
    st.sampled_from(
        [
            "",
            " ",
            "\x00\x01\x1b[31m",
            "\u202eenilno\u202c",
            "🚨🚨🚨",
            "؟ماذا أفعل",
            "1" * 5000,
            "STOP" * 100,
            "{ $hotline_phone }",
            "<b>hola</b>",
            "\n\n\n",
        ]
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts, channel=st.sampled_from(list(Channel)), media=st.integers(0, 3))
def test_any_text_gets_a_valid_outcome(
    router: Router, text: str, channel: Channel, media: int
) -> None:
    out = router.handle(
        Inbound(channel, "+16175550100", text, media_count=media), ContactState(), OPEN_HOURS
    )
    assert out.events
    for reply in out.replies:
        assert reply.text.strip()
        assert "{" not in reply.text or "{" in text  # no unrendered placeables
        if channel is Channel.TELEGRAM:
            assert len(reply.text) <= 4096 * 2
    assert out.state.opted_out is False or fold(text) in STOP_WORDS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_triage_never_crashes(text: str) -> None:
    assert triage(text).urgency is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_segment_count_is_consistent(text: str) -> None:
    info = count(text)
    assert info.segments >= 1
    assert info.units >= len(text) or info.encoding.value == "GSM-7"
