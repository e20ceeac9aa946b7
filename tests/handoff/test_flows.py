"""Members and volunteers talking through the desk, end to end against the fake APIs."""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import Channel, EventKind, Lang, Reason, Urgency
from bot.router import Router
from bot.storage.base import CaseStatus, Direction
from tests.fakes import Call

from .support import ONCALL, SUNDAY, VOLUNTEER_CHAT_ID, Harness

PHONE = "+16175550100"
OTHER_PHONE = "+16175550177"
TG_MEMBER = 700000123


def _buttons(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def _volunteer_chat_calls(h: Harness) -> list[Call]:
    return [c for c in h.telegram.calls if c.params.get("chat_id") == VOLUNTEER_CHAT_ID]


async def test_urgent_sms_topic_card_reply_and_close(h: Harness, router: Router) -> None:
    """The issue's 'done when': an urgent SMS opens a topic with a card; a volunteer's reply
    reaches the phone through the Twilio API; /close closes it with a localized message."""
    handled = h.member("la migra está en mi puerta ahorita")
    assert any(e.kind is EventKind.ESCALATED for e in handled.events)
    await h.drain()

    (create,) = h.telegram.calls_to("createForumTopic")
    name = create.params["name"]
    assert "#1" in name and "🔴" in name and "SMS" in name and "ES" in name
    assert "0100" not in name and "617" not in name
    assert int(create.params["icon_color"]) == 0xFB6F5F  # red
    topic = h.case().topic_id
    assert topic is not None and h.case().card_message_id is not None
    card = next(
        c for c in h.telegram.calls_to("sendMessage") if c.params.get("message_thread_id") == topic
    )
    text = card.params["text"]
    assert "URGENT" in text and "ICE or police there now" in text and "Spanish" in text
    assert "SMS ···0100" in text and "ICE at your door (ice-home)" in text
    assert "la migra está en mi puerta ahorita" in text  # the last messages
    assert _buttons(card) == ["desk:claim:1", "desk:close:1"]

    await h.volunteer(thread=topic, text="Hola, soy Ana de la línea. ¿Están adentro?")
    await h.drain()
    joined = router.t(Lang.ES, "volunteer-joined")
    assert h.texts_to(PHONE) == [joined, "Hola, soy Ana de la línea. ¿Están adentro?"]
    assert h.case().status is CaseStatus.CLAIMED and h.case().claimed_by == "Ana"
    edit = h.telegram.calls_to("editMessageText")[-1]
    assert "With Ana" in edit.params["text"] and _buttons(edit) == ["desk:close:1"]
    assert any("Ana has this case" in t for t in h.telegram.posts(topic))

    await h.volunteer(thread=topic, text="/close")
    await h.drain()
    closed = router.t(Lang.ES, "case-closed")
    assert h.texts_to(PHONE)[-1] == closed
    assert "(617) 555-0123" in closed  # how to reach the hotline again
    assert h.telegram.calls_to("closeForumTopic")[0].params["message_thread_id"] == topic
    assert h.case().status is CaseStatus.CLOSED
    assert _buttons(h.telegram.calls_to("editMessageText")[-1]) == ["desk:reopen:1"]


async def test_sms_member_and_volunteer_talk(h: Harness) -> None:
    h.member("quiero hablar con una persona")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    replies = h.member("es sobre mi permiso de trabajo").replies
    assert replies == ()  # the bot stays quiet: a person has the conversation
    assert h.member("menu").replies == ()
    await h.drain()
    posts = h.telegram.posts(topic)
    assert "👤 es sobre mi permiso de trabajo" in posts and "👤 menu" in posts
    await h.volunteer(thread=topic, text="Claro, cuénteme.")
    h.member("gracias", media=1)
    await h.drain()
    assert h.texts_to(PHONE)[-1] == "Claro, cuénteme."
    assert any("📎" in p and "1 attachment" in p for p in h.telegram.posts(topic))
    assert "👤 gracias" in "\n".join(h.telegram.posts(topic))


async def test_telegram_member_claim_button_faq_and_note(h: Harness, router: Router) -> None:
    member = str(TG_MEMBER)
    h.member("", sender=member, channel=Channel.TELEGRAM, action="person", lang=Lang.EN)
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    card = h.telegram.calls_to("sendMessage")
    assert any("Telegram (private chat)" in c.params["text"] for c in card)
    assert all(member not in str(c.params) for c in _volunteer_chat_calls(h))

    await h.volunteer("volunteer_callback", data="desk:claim:1", first_name="Luis")
    (answer,) = h.telegram.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "You have case #1."
    await h.drain()
    assert h.telegram_to(TG_MEMBER)[-1] == router.t(Lang.EN, "volunteer-joined")

    await h.volunteer(thread=topic, text="Hi, I'm here. What happened?", first_name="Luis")
    await h.volunteer(thread=topic, text="/faq ice-home")
    await h.volunteer(thread=topic, text="/note she sounds safe for now")
    await h.volunteer(thread=topic, text="/faq no-such-thing")
    await h.volunteer("volunteer_photo", thread=topic)
    await h.drain()
    sent = h.telegram_to(TG_MEMBER)
    assert sent[-2] == "Hi, I'm here. What happened?"
    assert sent[-1].startswith(router.faq.entries["ice-home"].text[Lang.EN].full[:40])
    assert not any("sounds safe" in t for t in sent)  # notes are never relayed
    assert not any("Luis" in t for t in sent)  # nor the volunteer's name
    posts = h.telegram.posts(topic)
    assert any("Note saved" in p for p in posts)
    assert any('There is no FAQ answer "no-such-thing"' in p for p in posts)
    assert any("attachment was not sent" in p for p in posts)
    with h.store.transaction() as tx:
        lines = tx.transcript(h.case().contact_id, 20)
    assert [ln.text for ln in lines if ln.direction is Direction.NOTE] == [
        "she sounds safe for now"
    ]

    # STOP still works while a person has the chat
    stopped = h.member("STOP", sender=member, channel=Channel.TELEGRAM)
    assert stopped.replies and "START" in stopped.replies[0].text
    await h.volunteer(thread=topic, text="Are you still there?")
    await h.drain()
    assert "Are you still there?" not in h.telegram_to(TG_MEMBER)
    assert any("replied STOP" in p for p in h.telegram.posts(topic))


async def test_two_cases_at_once_are_kept_apart(h: Harness) -> None:
    h.member("ICE is at my door right now", sender=PHONE)
    h.member("I want to talk to a person", sender=OTHER_PHONE)
    await h.drain()
    first, second = h.case(1), h.case(2)
    assert first.topic_id and second.topic_id and first.topic_id != second.topic_id
    assert "🔴" in h.telegram.topics[first.topic_id]["name"]
    assert "🟡" in h.telegram.topics[second.topic_id]["name"]

    h.member("they are knocking", sender=PHONE)
    h.member("it is about a work permit", sender=OTHER_PHONE)
    await h.volunteer(thread=first.topic_id, text="Do not open the door.", first_name="Ana")
    await h.volunteer(thread=second.topic_id, text="Happy to help with that.", first_name="Luis")
    await h.drain()
    assert h.texts_to(PHONE)[-1] == "Do not open the door."
    assert h.texts_to(OTHER_PHONE)[-1] == "Happy to help with that."
    assert "Happy to help with that." not in h.texts_to(PHONE)
    assert "👤 they are knocking" in h.telegram.posts(first.topic_id)
    assert "👤 they are knocking" not in h.telegram.posts(second.topic_id)
    assert "👤 it is about a work permit" in h.telegram.posts(second.topic_id)
    assert (h.case(1).claimed_by, h.case(2).claimed_by) == ("Ana", "Luis")


async def test_strangers_cannot_claim_or_reply(make_harness: Any) -> None:
    h: Harness = await make_harness(volunteer_ids=frozenset({777000111}))
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    before = len(h.twilio.calls)

    # a button press and a message from a user not on VOLUNTEER_IDS
    await h.volunteer("volunteer_callback", data="desk:claim:1", user_id=424242)
    await h.volunteer(thread=topic, text="give me their number", user_id=424242)
    # the same from another chat (a private chat with the bot, another group)
    await h.volunteer("volunteer_callback", data="desk:close:1", chat_id=424242)
    await h.volunteer(thread=topic, text="/close", chat_id=-1009999999999)
    # an anonymous admin (posting as the group) and a bot
    await h.volunteer("anonymous_admin", thread=topic)
    await h.volunteer(thread=topic, text="hello", user_id=777000111, is_bot=True)
    await h.drain()

    assert h.case().status is CaseStatus.OPEN and h.case().claimed_by is None
    assert len(h.twilio.calls) == before  # nothing reached the member
    assert h.telegram.calls_to("closeForumTopic") == []

    await h.volunteer(thread=topic, text="I'm on it")  # the allowed volunteer
    await h.drain()
    assert h.texts_to(PHONE)[-1] == "I'm on it"


async def test_duplicate_update_is_acted_on_once(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    await h.volunteer(thread=topic, text="Hello!", update_id=5)
    await h.volunteer(thread=topic, text="Hello!", update_id=5)  # Telegram retried
    await h.drain()
    assert h.texts_to(PHONE).count("Hello!") == 1


async def test_claim_timeout_repages_on_call(h: Harness, router: Router) -> None:
    h.member("ICE is at my door right now")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    h.clock.advance(170)
    await h.desk.check_timers(h.clock())
    assert await h.drain() == 0

    h.clock.advance(10)  # 3 minutes after the escalation
    await h.desk.check_timers(h.clock())
    await h.drain()
    repage = [p for p in h.telegram.posts(topic) if p.startswith("⏰")]
    assert len(repage) == 1 and "@oncall_rosa" in repage[0] and "#1" in repage[0]
    (page,) = h.texts_to(ONCALL)
    assert "case #1" in page and "0100" not in page and "door" not in page
    waiting = router.t(Lang.EN, "handoff-waiting", minutes="15")
    assert h.texts_to(PHONE)[-1] == waiting and "911" in waiting

    h.clock.advance(600)
    await h.desk.check_timers(h.clock())
    await h.drain()
    assert len(h.texts_to(ONCALL)) == 1  # paged once per wait

    # a normal request waits 30 minutes
    h.member("I want to talk to a person", sender=OTHER_PHONE)
    await h.drain()
    h.clock.advance(29 * 60)
    await h.desk.check_timers(h.clock())
    assert len(h.texts_to(ONCALL)) == 1
    h.clock.advance(60)
    await h.desk.check_timers(h.clock())
    await h.drain()
    assert len(h.texts_to(ONCALL)) == 2 and "case #2" in h.texts_to(ONCALL)[-1]


async def test_off_hours(make_harness: Any, router: Router) -> None:
    h: Harness = await make_harness(start=SUNDAY)
    normal = h.member("I want to talk to a person", sender=OTHER_PHONE)
    assert "back tomorrow at 09:00" in normal.replies[-1].text
    await h.drain()
    assert h.case(1).topic_id is not None  # waiting for the volunteers in the group
    h.clock.advance(3600)
    await h.desk.check_timers(h.clock())
    await h.drain()
    assert h.texts_to(ONCALL) == []  # a normal request pages nobody at night

    urgent = h.member("ICE is at my door right now")
    assert router.t(Lang.EN, "handoff-offhours-urgent") in urgent.replies[-1].text
    await h.drain()
    assert len(h.texts_to(ONCALL)) == 1  # urgent: on-call paged at once
    topic = h.case(2).topic_id
    assert topic is not None
    assert any(p.startswith("🚨") and "@oncall_rosa" in p for p in h.telegram.posts(topic))

    h.clock.now = SUNDAY.replace(day=30, hour=14, minute=1)  # Monday 09:01 in Boston
    await h.desk.check_timers(h.clock())
    await h.drain()
    assert len(h.texts_to(ONCALL)) == 2  # the normal case, once the shift starts


async def test_deleted_topic_is_created_again(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    old = h.case().topic_id
    assert old is not None
    await h.volunteer(thread=old, text="Hi, I'm here.")
    await h.drain()
    h.telegram.delete_topic(old)

    h.member("are you still there?")
    await h.drain()
    new = h.case().topic_id
    assert new is not None and new != old and len(h.telegram.calls_to("createForumTopic")) == 2
    posts = h.telegram.posts(new)
    assert "Case #1" in posts[0] and "are you still there?" in posts[0]  # a fresh card
    assert posts[-1] == "👤 are you still there?"
    await h.volunteer(thread=new, text="Yes, still here.")
    await h.drain()
    assert h.texts_to(PHONE)[-1] == "Yes, still here."

    # closing after another deletion: the notices bring the topic back, then close it
    h.telegram.delete_topic(new)
    await h.volunteer(thread=new, text="/close")
    await h.drain()
    assert h.case().status is CaseStatus.CLOSED
    assert h.case().topic_id not in (old, new)


async def test_relay_during_telegram_outage_is_delivered_after(h: Harness) -> None:
    member = str(TG_MEMBER)
    h.member("", sender=member, channel=Channel.TELEGRAM, action="person", lang=Lang.EN)
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None

    h.telegram.fail("sendMessage", 502, description="Bad Gateway", times=1000)
    h.member("my brother was taken this morning", sender=member, channel=Channel.TELEGRAM)
    await h.volunteer(thread=topic, text="I'm so sorry. Where was he taken?")
    await h.drain()
    for _ in range(4):
        h.clock.advance(60)
        await h.drain()
    assert "👤 my brother was taken this morning" not in h.telegram.posts(topic)

    h.telegram.clear_failures()
    h.clock.advance(600)
    await h.drain()
    assert "👤 my brother was taken this morning" in h.telegram.posts(topic)
    assert h.telegram_to(TG_MEMBER)[-1] == "I'm so sorry. Where was he taken?"


async def test_flood_limit_waits_retry_after(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    h.telegram.fail(
        "sendMessage", 429, description="Too Many Requests: retry after 7", retry_after=7
    )
    h.member("hello?")
    await h.drain()
    assert "👤 hello?" not in h.telegram.posts(topic)
    h.clock.advance(6)
    await h.drain()
    assert "👤 hello?" not in h.telegram.posts(topic)
    h.clock.advance(1)
    await h.drain()
    assert "👤 hello?" in h.telegram.posts(topic)


async def test_twilio_outage_delays_but_does_not_lose_a_reply(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    h.twilio.fail(503, times=2)
    await h.volunteer(thread=h.case().topic_id, text="Hello from the hotline")
    await h.drain()
    for _ in range(5):
        h.clock.advance(30)
        await h.drain()
    assert h.texts_to(PHONE).count("Hello from the hotline") == 1


async def test_member_writing_after_close(make_harness: Any, router: Router) -> None:
    h: Harness = await make_harness(reopen_window_s=3600)
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    await h.volunteer(thread=topic, text="Hi!")
    await h.volunteer(thread=topic, text="/close")
    await h.drain()

    # within the window: the case opens again and the volunteers see the message
    h.clock.advance(600)
    assert h.member("one more question").replies == ()
    await h.drain()
    assert h.case().status is CaseStatus.OPEN and h.case().claimed_by is None
    assert h.telegram.calls_to("reopenForumTopic")
    assert any("wrote again" in p for p in h.telegram.posts(topic))
    assert h.telegram.posts(topic)[-1] == "👤 one more question"
    assert h.texts_to(PHONE)[-1] == router.t(Lang.EN, "handoff-requested")

    await h.volunteer(thread=topic, text="/close")
    await h.drain()
    # after the window: the bot answers, as for a new conversation
    h.clock.advance(3601)
    answered = h.member("what are my rights if ICE comes to my door?")
    assert answered.replies and not any(e.kind is EventKind.RELAYED for e in answered.events)
    assert h.case().status is CaseStatus.CLOSED
    with h.store.transaction() as tx:
        contact = tx.find_contact(Channel.SMS, PHONE)
        assert contact is not None and contact.state.case_id is None

    # a volunteer can still reopen it, and then writes to the member again
    await h.volunteer(thread=topic, text="/reopen")
    await h.volunteer(thread=topic, text="Following up on your question.")
    await h.drain()
    assert h.case().status is CaseStatus.CLAIMED
    assert h.texts_to(PHONE)[-1] == "Following up on your question."
    assert h.member("thanks!").replies == ()


async def test_delete_my_data_deletes_the_topic(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    h.member("delete my data")
    assert h.member("yes").replies
    await h.drain()
    assert h.telegram.topics[topic]["deleted"]
    await h.volunteer(thread=topic, text="Hello?")
    await h.drain()
    assert "Hello?" not in h.texts_to(PHONE)


async def test_bot_without_rights_keeps_the_case_until_fixed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.telegram.fail(
        "createForumTopic", 400, description="Bad Request: not enough rights to create a topic"
    )
    h.member("I want to talk to a person")
    await h.drain()
    assert h.case().topic_id is None
    assert "admin allowed to manage topics" in caplog.text
    h.clock.advance(5)  # the coordinator made the bot an admin
    await h.drain()
    assert h.case().topic_id is not None


async def test_a_waiting_request_that_turns_urgent(h: Harness) -> None:
    h.member("I want to talk to a person")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None and "🟡" in h.telegram.topics[topic]["name"]
    h.member("ICE is at my door right now")  # relayed, not a new case: the router stays quiet
    await h.drain()
    assert "👤 ICE is at my door right now" in h.telegram.posts(topic)
    assert h.case().urgency is Urgency.URGENT and h.case().reason is Reason.ICE_PRESENT
    assert "🔴" in h.telegram.topics[topic]["name"]
    assert "URGENT" in h.telegram.calls_to("editMessageText")[-1].params["text"]
    h.clock.advance(180)  # now the urgent timeout applies
    await h.desk.check_timers(h.clock())
    await h.drain()
    assert len(h.texts_to(ONCALL)) == 1
