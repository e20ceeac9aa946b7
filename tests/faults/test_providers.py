"""The Telegram and Twilio APIs fail (5xx, 429 with retry_after, hanging past the send
timeout) while the app runs: the outbox retries, and every message arrives exactly once."""

from __future__ import annotations

import asyncio

from bot.models import Channel
from bot.outbox import OutboxPolicy
from tests.channels.conftest import (
    VOLUNTEER_CHAT_ID,
    AppFactory,
    post_sms,
    post_update,
    sms_params,
)
from tests.handoff.fakes import FakeForum, FakeSms
from tests.handoff.support import load_update as load_desk_update

from .support import eventually, replies_to, text_update

# fast retries, and a send timeout short enough for a hanging API to count as a failure
POLICY = OutboxPolicy(
    base_delay_s=0.05,
    max_delay_s=0.2,
    jitter=0.0,
    send_timeout_s=0.5,
    pacing_s={Channel.SMS: 0.0, Channel.TELEGRAM: 0.0},
)
CHATS = [555000301 + i for i in range(5)]
PHONE = "+16175550300"


async def test_telegram_replies_survive_5xx_429_and_timeouts(
    app_client: AppFactory, forum: FakeForum
) -> None:
    async with app_client(outbox_policy=POLICY) as app:
        # a clean run first: what one member gets for "hola"
        assert (await post_update(app, text_update(CHATS[0], "hola", 930000000))).status_code == 200
        expected = await replies_to(forum, CHATS[0])

        forum.fail("sendMessage", 500, times=3)
        forum.fail("sendMessage", 502, description="Bad Gateway")
        forum.fail("sendMessage", 429, description="Too Many Requests", retry_after=1)
        forum.fail("sendMessage", 200, delay_s=1.0, times=2)  # longer than the send timeout
        for i, chat in enumerate(CHATS[1:], start=1):
            r = await post_update(app, text_update(chat, "hola", 930000000 + i))
            assert r.status_code == 200
        for chat in CHATS[1:]:
            got = await replies_to(forum, chat, len(expected), timeout_s=15)
            assert sorted(got) == sorted(expected)
            assert got == expected
        await asyncio.sleep(0.5)  # anything sent twice would arrive now
        for chat in CHATS:
            assert forum.sent_texts(chat) == expected
    failed = len(forum.calls_to("sendMessage")) - len(forum.sent_texts())
    assert failed == 7  # every injected failure was met, and retried


async def test_volunteer_reply_by_sms_survives_twilio_failures(
    app_client: AppFactory, forum: FakeForum, twilio: FakeSms
) -> None:
    async with app_client(outbox_policy=POLICY) as app:
        urgent = sms_params("ICE is at my door right now", PHONE, "SM" + "4" * 32)
        assert (await post_sms(app, urgent)).status_code == 200
        await eventually(lambda: bool(forum.topics))
        (topic,) = forum.topics

        twilio.fail(500, times=2)
        twilio.fail(429, code=20429, retry_after="1")
        twilio.fail(201, delay_s=1.0)  # hangs past the send timeout
        words = "Don't open the door. Are you safe?"
        reply = load_desk_update("volunteer_message", thread=topic, text=words)
        assert (await post_update(app, reply)).status_code == 200
        delivered = lambda: [c.params["Body"] for c in twilio.delivered]  # noqa: E731
        await eventually(lambda: words in delivered(), timeout_s=15)
        await asyncio.sleep(0.5)
        assert delivered().count(words) == 1
        assert all(c.params["To"] == PHONE for c in twilio.delivered)
    assert len(forum.calls_to("createForumTopic")) == 1
    assert all(c.params["chat_id"] == VOLUNTEER_CHAT_ID for c in forum.calls_to("createForumTopic"))
