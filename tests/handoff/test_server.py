"""The whole server (`hotline serve`'s app) with the desk wired in: an urgent SMS through the
signed /sms webhook opens a topic with a card; a volunteer's reply through /telegram reaches
the phone through the Twilio API; /close closes it with a localized message."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from bot.config import Config
from bot.handoff import Desk
from bot.web import create_app
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN

from .fakes import FakeForum, FakeSms
from .support import FROM_NUMBER, VOLUNTEER_CHAT_ID, load_update

KEY = "handoff-server-tests-key-0123456789abcdef"
PUBLIC_URL = "https://hotline.example.org"
SECRET = "telegram-webhook-secret-for-handoff-tests"
PHONE = "+16175550100"


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(
    tmp_path: Path, forum: tuple[FakeForum, str], sms: tuple[FakeSms, str]
) -> AsyncIterator[httpx.AsyncClient]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "HOTLINE_SECRET_KEY": KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": sms[1],
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": forum[1],
        "VOLUNTEER_CHAT_ID": str(VOLUNTEER_CHAT_ID),
    }
    app = create_app(Config.from_env(env), watch=False)
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.server.escalations, Desk)  # wired by the server
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def _sms(http: httpx.AsyncClient, body: str, sid: str) -> Awaitable[httpx.Response]:
    params = {
        "From": PHONE,
        "To": FROM_NUMBER,
        "Body": body,
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "NumMedia": "0",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/sms", params)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": str(signature),
    }
    return http.post("/sms", content=urlencode(params), headers=headers)


def _update(http: httpx.AsyncClient, data: dict[str, Any]) -> Awaitable[httpx.Response]:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return http.post("/telegram", content=json.dumps(data).encode(), headers=headers)


async def test_urgent_sms_to_topic_reply_to_phone_and_close(
    tmp_path: Path,
    _forum_server: tuple[FakeForum, str],
    _sms_server: tuple[FakeSms, str],
    telegram_api: FakeForum,
    twilio_api: FakeSms,
) -> None:
    async with running(tmp_path, _forum_server, _sms_server) as http:
        answer = await _sms(http, "la migra está en mi puerta ahorita", "SM" + "1" * 32)
        assert answer.status_code == 200 and "<Message>" in answer.text  # the safety answer
        await eventually(lambda: bool(telegram_api.topics))
        (topic,) = telegram_api.topics
        assert telegram_api.topics[topic]["name"] == "🔴 #1 · SMS · ES"
        await eventually(lambda: any("Case #1" in p for p in telegram_api.posts(topic)))
        card = next(p for p in telegram_api.posts(topic) if "Case #1" in p)
        assert "SMS ···0100" in card and PHONE not in card

        reply = load_update("volunteer_message", thread=topic, text="Estoy aquí. ¿Está a salvo?")
        assert (await _update(http, reply)).status_code == 200
        sent = lambda: [c.params["Body"] for c in twilio_api.delivered]  # noqa: E731
        await eventually(lambda: "Estoy aquí. ¿Está a salvo?" in sent())
        assert twilio_api.delivered[-1].params["To"] == PHONE

        close = load_update("volunteer_message", thread=topic, text="/close", update_id=2)
        assert (await _update(http, close)).status_code == 200
        await eventually(lambda: any("cerró este chat" in b for b in sent()))
        await eventually(lambda: bool(telegram_api.topics[topic]["closed"]))
