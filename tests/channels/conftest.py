"""Fixtures for the channel tests: the fake APIs, a per-test configuration and the real app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.config import Config
from bot.web import Server, create_app
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN, FakeTelegram, FakeTwilio, serve

DATA = Path(__file__).resolve().parent.parent / "data" / "telegram"
KEY = "channel-tests-secret-key-0123456789abcdef"
PUBLIC_URL = "https://hotline.example.org"
WEBHOOK_SECRET = "telegram-webhook-secret-for-tests"
VOLUNTEER_CHAT_ID = -1005550000001
FROM_NUMBER = "+15550001111"


@pytest.fixture(scope="session")
def _telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="session")
def _twilio_server() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def fake_telegram(_telegram_server: tuple[FakeTelegram, str]) -> FakeTelegram:
    fake = _telegram_server[0]
    fake.clear()
    return fake


@pytest.fixture
def fake_twilio(_twilio_server: tuple[FakeTwilio, str]) -> FakeTwilio:
    fake = _twilio_server[0]
    fake.clear()
    return fake


@pytest.fixture
def env(
    tmp_path: Path,
    _telegram_server: tuple[FakeTelegram, str],
    _twilio_server: tuple[FakeTwilio, str],
) -> dict[str, str]:
    """Every channel enabled, a fresh SQLite file, the fakes as the provider APIs."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "HOTLINE_SECRET_KEY": KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": _twilio_server[1],
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_URL": _telegram_server[1],
        "VOLUNTEER_CHAT_ID": str(VOLUNTEER_CHAT_ID),
    }


@dataclass(frozen=True, slots=True)
class Running:
    """The app with its lifespan started, and an HTTP client talking to it in-process."""

    http: httpx.AsyncClient
    server: Server


AppFactory = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture
def app_client(env: dict[str, str]) -> AppFactory:
    """`async with app_client(env_overrides, **options) as app:` the real app and lifespan."""

    @asynccontextmanager
    async def make(
        env_overrides: dict[str, str] | None = None, **options: Any
    ) -> AsyncIterator[Running]:
        mapping = {k: v for k, v in {**env, **(env_overrides or {})}.items() if v}
        options.setdefault("watch", False)
        app = create_app(Config.from_env(mapping), **options)
        server = app.state.server
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Running(http, server)

    return make


def sign(params: dict[str, str], url: str = PUBLIC_URL + "/sms", token: str = TWILIO_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send, computed by twilio's own validator."""
    return str(RequestValidator(token).compute_signature(url, params))


def sms_params(body: str, sender: str, sid: str, **extra: str) -> dict[str, str]:
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": FROM_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def post_sms(
    app: Running,
    params: dict[str, str],
    *,
    signature: str | None = None,
    path: str = "/sms",
) -> httpx.Response:
    sig = sign(params, PUBLIC_URL + path) if signature is None else signature
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Twilio-Signature"] = sig
    return await app.http.post(path, content=urlencode(params), headers=headers)


def load_update(name: str) -> dict[str, Any]:
    data = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


async def post_update(
    app: Running, update: dict[str, Any] | bytes, secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return await app.http.post("/telegram", content=body, headers=headers)
