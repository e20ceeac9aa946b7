"""The Telegram channel end to end: webhook secret, real update payloads, replies through the
outbox to the (fake) Bot API, the volunteer-desk hook, and the sender's error mapping."""

from __future__ import annotations

import asyncio
import copy
import socket
from datetime import datetime
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import NetworkError, TimedOut

from bot.channels.botapi import AiohttpRequest
from bot.channels.telegram import delivery_error
from bot.errors import DeliveryError
from bot.i18n import Messages
from bot.models import Channel, Lang
from bot.storage.base import OutboxItem
from tests.fakes import TOKEN, FakeTelegram

from .conftest import (
    VOLUNTEER_CHAT_ID,
    WEBHOOK_SECRET,
    AppFactory,
    Running,
    load_update,
    post_update,
)

IGNORED = ("edited_message", "group_message", "channel_post", "unknown_kind")
ALL_PAYLOADS = (
    "private_text",
    "start_command",
    "callback_query",
    "photo_no_text",
    "volunteer_message",
    *IGNORED,
)


class RecordingDesk:
    def __init__(self) -> None:
        self.updates: list[Update] = []
        self.ticks: list[datetime] = []

    async def volunteer_update(self, update: Update) -> None:
        self.updates.append(update)

    async def check_timers(self, now: datetime) -> None:
        self.ticks.append(now)


def chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message", "channel_post"):
        if key in update:
            return int(update[key]["chat"]["id"])
    return int(update["callback_query"]["message"]["chat"]["id"])


async def no_more_calls(fake: FakeTelegram, app: Running, method: str = "sendMessage") -> None:
    """Let the worker run, then nothing new may arrive (a marker message proves it ran)."""
    marker = load_update("start_command")
    marker["update_id"] = 919999999
    marker["message"]["chat"]["id"] = marker["message"]["from"]["id"] = 555999999
    await post_update(app, marker)
    await fake.until(method, where=lambda c: c.params.get("chat_id") == 555999999)


@pytest.mark.parametrize("name", ALL_PAYLOADS)
async def test_every_kind_of_update_is_acknowledged(
    name: str, app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    async with app_client() as app:
        r = await post_update(app, load_update(name))
    assert r.status_code == 200


async def test_private_message_is_answered_through_the_bot_api(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    update = load_update("private_text")
    async with app_client() as app:
        r = await post_update(app, update)
        assert r.status_code == 200
        calls = await fake_telegram.until(
            "sendMessage", 2, where=lambda c: c.params.get("chat_id") == 555000111
        )
    texts = [str(c.params["text"]) for c in calls]
    assert texts[0].startswith("Hola")  # language_code "es" and a Spanish question
    assert any("No abras la puerta" in t for t in texts)
    with_buttons = [c for c in calls if "reply_markup" in c.params]
    assert with_buttons, "the answer's follow-ups come as inline buttons"
    keyboard = with_buttons[-1].params["reply_markup"]["inline_keyboard"]
    assert all(len(row) == 1 for row in keyboard)
    assert keyboard[-1][0]["callback_data"] == "person"
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)
    # with buttons, the text is the body: no numbered option lines
    assert "\n1 " not in str(with_buttons[-1].params["text"])


async def test_wrong_or_missing_secret_is_refused(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    update = load_update("private_text")
    async with app_client() as app:
        assert (await post_update(app, update, secret="wrong")).status_code == 403
        assert (await post_update(app, update, secret=None)).status_code == 403
        assert (await post_update(app, update, secret=WEBHOOK_SECRET + "x")).status_code == 403
        await no_more_calls(fake_telegram, app)
        store = app.server.store
        assert store is not None
        with store.transaction() as tx:
            assert tx.find_contact(Channel.TELEGRAM, "555000111") is None
    assert fake_telegram.sent_texts(555000111) == []


async def test_ignored_updates_send_nothing(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    async with app_client() as app:
        for name in IGNORED:
            assert (await post_update(app, load_update(name))).status_code == 200
        assert (await post_update(app, b"{not json")).status_code == 200
        assert (await post_update(app, b"[1, 2]")).status_code == 200
        await no_more_calls(fake_telegram, app)
    chats = {c.params["chat_id"] for c in fake_telegram.calls_to("sendMessage")}
    assert chats == {555999999}


async def test_callback_query_is_answered_and_acted_on(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    update = load_update("callback_query")
    async with app_client() as app:
        await post_update(app, update)
        [answer] = await fake_telegram.until("answerCallbackQuery")
        calls = await fake_telegram.until(
            "sendMessage", 2, where=lambda c: c.params.get("chat_id") == 555000333
        )
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    # first contact: the welcome (in Spanish, from language_code es-MX), then the area menu
    area = calls[-1].params["reply_markup"]["inline_keyboard"]
    assert all(row[0]["callback_data"].startswith("entry:") for row in area)


async def test_photo_without_text_gets_the_media_note(
    app_client: AppFactory, fake_telegram: FakeTelegram, messages: Messages
) -> None:
    async with app_client() as app:
        await post_update(app, load_update("photo_no_text"))
        [call] = await fake_telegram.until("sendMessage")
    assert call.params["text"] == messages(Lang.EN, "media-only")
    assert call.params["chat_id"] == 555000555


async def test_commands_map_to_the_core(
    app_client: AppFactory, fake_telegram: FakeTelegram, messages: Messages
) -> None:
    update = load_update("start_command")
    async with app_client() as app:
        await post_update(app, update)
        first = await fake_telegram.until("sendMessage", 2)
        assert first[0].params["text"] == messages(Lang.EN, "welcome")
        lang = copy.deepcopy(update)
        lang["update_id"] += 1
        lang["message"]["text"] = "/lang@hotline_test_bot"
        await post_update(app, lang)
        calls = await fake_telegram.until("sendMessage", 4)
    assert calls[2].params["text"] == messages(Lang.ES, "language-switched")


async def test_same_update_twice_is_processed_once(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    update = load_update("photo_no_text")
    async with app_client() as app:
        await post_update(app, update)
        await post_update(app, update)
        await no_more_calls(fake_telegram, app)
    assert len(fake_telegram.sent_texts(555000555)) == 1


async def test_volunteer_chat_updates_go_to_the_desk(
    app_client: AppFactory, fake_telegram: FakeTelegram
) -> None:
    desk = RecordingDesk()
    async with app_client(desk=desk) as app:
        await post_update(app, load_update("volunteer_message"))
        await post_update(app, load_update("group_message"))
        await no_more_calls(fake_telegram, app)
    assert [u.update_id for u in desk.updates] == [910000009]
    assert desk.updates[0].effective_chat is not None
    assert desk.updates[0].effective_chat.id == VOLUNTEER_CHAT_ID
    assert desk.ticks, "the case-timer hook runs with the worker"
    assert {c.params["chat_id"] for c in fake_telegram.calls_to("sendMessage")} == {555999999}


async def test_rate_limited_reply_waits_and_is_sent_once(
    app_client: AppFactory, fake_telegram: FakeTelegram, messages: Messages
) -> None:
    fake_telegram.fail("sendMessage", 429, description="Too Many Requests", retry_after=1)
    async with app_client() as app:
        await post_update(app, load_update("photo_no_text"))
        calls = await fake_telegram.until("sendMessage", 2, timeout=10)
        await no_more_calls(fake_telegram, app)
    assert calls[1].at - calls[0].at >= 0.9
    assert fake_telegram.sent_texts(555000555) == [messages(Lang.EN, "media-only")] * 2
    # the first was refused by the fake, so the member got exactly one


async def test_telegram_disabled_without_its_variables(app_client: AppFactory) -> None:
    off = {"TELEGRAM_BOT_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": ""}
    async with app_client(off) as app:
        r = await post_update(app, load_update("private_text"))
        health = (await app.http.get("/healthz")).json()
    assert r.status_code == 404
    assert health["channels"]["telegram"] is None


# --- the sender against the fake, fault by fault --------------------------------------------


def item(text: str = "hello", payload: dict[str, Any] | None = None) -> OutboxItem:
    return OutboxItem(1, Channel.TELEGRAM, "555000777", text, payload or {})


async def sender_for(url: str, read_timeout: float = 5.0) -> tuple[Any, Bot]:
    from bot.channels.telegram import TelegramSender

    bot = Bot(
        TOKEN,
        base_url=f"{url}/bot",
        request=AiohttpRequest(read_timeout=read_timeout, connect_timeout=2.0),
    )
    await bot.initialize()
    return TelegramSender(bot), bot


@pytest.fixture
async def sender(_telegram_server: tuple[FakeTelegram, str], fake_telegram: FakeTelegram) -> Any:
    s, bot = await sender_for(_telegram_server[1], read_timeout=0.5)
    yield s
    await bot.shutdown()


async def test_sender_sends_plain_text_with_buttons(
    sender: Any, fake_telegram: FakeTelegram
) -> None:
    payload = {"body": "Pick one <b>", "options": [["1", "Police & ICE", "area:police-and-ice"]]}
    await sender.send(item("Pick one <b>\n\n1 Police & ICE", payload))
    [call] = fake_telegram.calls_to("sendMessage")
    assert call.params["text"] == "Pick one <b>"  # no parse mode: nothing to escape
    assert "parse_mode" not in call.params
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Police & ICE", "callback_data": "area:police-and-ice"}]]
    }


async def test_sender_falls_back_to_numbered_text_when_an_action_is_too_long(
    sender: Any, fake_telegram: FakeTelegram
) -> None:
    payload = {"body": "Pick", "options": [["1", "Long", "entry:" + "x" * 80]]}
    await sender.send(item("Pick\n\n1 Long", payload))
    [call] = fake_telegram.calls_to("sendMessage")
    assert call.params["text"] == "Pick\n\n1 Long"
    assert "reply_markup" not in call.params


async def test_sender_splits_long_text_at_paragraphs(
    sender: Any, fake_telegram: FakeTelegram
) -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 300 for i in range(5)]  # ~1.5k chars each
    await sender.send(item("\n\n".join(paragraphs)))
    texts = fake_telegram.sent_texts()
    assert len(texts) == 3
    assert all(len(t) <= 4096 for t in texts)
    assert all(t.startswith("Paragraph") for t in texts)


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "permanent"),
    [
        (429, "Too Many Requests: retry after 7", 7.0, False),
        (500, "Internal Server Error", None, False),
        (502, "Bad Gateway", None, False),
        (403, "Forbidden: bot was blocked by the user", None, True),
        (400, "Bad Request: chat not found", None, True),
    ],
)
async def test_sender_maps_bot_api_errors(
    sender: Any,
    fake_telegram: FakeTelegram,
    status: int,
    description: str,
    retry_after: float | None,
    permanent: bool,
) -> None:
    fake_telegram.fail(
        "sendMessage",
        status,
        description=description,
        retry_after=int(retry_after) if retry_after else None,
    )
    with pytest.raises(DeliveryError) as caught:
        await sender.send(item())
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after


async def test_sender_maps_a_timeout_to_a_retryable_error(
    sender: Any, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail("sendMessage", 200, delay_s=1.5)
    with pytest.raises(DeliveryError) as caught:
        await sender.send(item())
    assert not caught.value.permanent
    await asyncio.sleep(0)


async def test_unreachable_api_is_a_network_error() -> None:
    """The aiohttp transport fails like PTB's own: NetworkError, which the sender retries."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2.0)
    try:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
    finally:
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert not delivery_error(caught.value).permanent


async def test_aiohttp_transport_hands_uploads_to_httpx(
    _telegram_server: tuple[FakeTelegram, str], fake_telegram: FakeTelegram
) -> None:
    """The bot sends no files, but a PTB call with one still works (multipart via httpx)."""
    bot = Bot(TOKEN, base_url=f"{_telegram_server[1]}/bot", request=AiohttpRequest())
    await bot.initialize()
    try:
        await bot.send_document(chat_id=555000777, document=b"report", filename="r.txt")
        await bot.send_message(chat_id=555000777, text="and a plain call after it")
    finally:
        await bot.shutdown()
    assert [c.method for c in fake_telegram.calls[-2:]] == ["sendDocument", "sendMessage"]
