"""Which volunteer-group updates the desk acts on (pure: no I/O)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from bot.handoff import VolunteerAction, parse_volunteer_update
from tests.fakes import TOKEN

from .support import VOLUNTEER_CHAT_ID, load_update

BOT = Bot(TOKEN)


def parse(name: str, allowed: frozenset[int] = frozenset(), **changes: Any) -> Any:
    data = load_update(name, **changes)
    return parse_volunteer_update(Update.de_json(data, BOT), VOLUNTEER_CHAT_ID, allowed)


def test_a_reply_in_a_topic_is_said() -> None:
    action = parse("volunteer_message", text="Hello", thread=777)
    assert action == VolunteerAction(920000001, "say", name="Ana", topic_id=777, arg="Hello")


def test_commands() -> None:
    assert parse("volunteer_message", text="/close@hotline_test_bot").kind == "close"
    faq = parse("volunteer_message", text="/faq  ice-home ")
    assert (faq.kind, faq.arg) == ("faq", "ice-home")
    assert parse("volunteer_message", text="/note called the family").arg == "called the family"
    assert parse("volunteer_message", text="/whatever").kind == "help"


def test_media_is_noted_not_relayed() -> None:
    assert parse("volunteer_photo").kind == "media"


def test_general_topic_edits_and_other_chats_are_ignored() -> None:
    data = load_update("volunteer_message")
    del data["message"]["is_topic_message"], data["message"]["message_thread_id"]
    assert parse_volunteer_update(Update.de_json(data, BOT), VOLUNTEER_CHAT_ID) is None
    data = load_update("volunteer_message")
    data["edited_message"] = data.pop("message")
    assert parse_volunteer_update(Update.de_json(data, BOT), VOLUNTEER_CHAT_ID) is None
    assert parse("volunteer_message", chat_id=-100123) is None
    assert parse("volunteer_callback", chat_id=555) is None
    assert parse("anonymous_admin") is None
    assert parse("volunteer_message", is_bot=True) is None


def test_allowlist() -> None:
    assert parse("volunteer_message", allowed=frozenset({1})) is None
    assert parse("volunteer_message", allowed=frozenset({777000111})).kind == "say"
    press = parse("volunteer_callback", allowed=frozenset({1}))
    assert press.kind == "ignore" and press.callback_id  # the spinner is still answered


def test_buttons() -> None:
    claim = parse("volunteer_callback", data="desk:claim:12")
    assert (claim.kind, claim.case_id, claim.name) == ("claim", 12, "Ana")
    assert parse("volunteer_callback", data="area:police-and-ice").kind == "ignore"
    assert parse("volunteer_callback", data="desk:delete:12").kind == "ignore"
