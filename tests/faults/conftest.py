"""Fixtures for the fault tests: the fake Bot API with forum topics and the fake Twilio API
(one server each per session), a per-test environment and the real app with its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Config
from bot.web import create_app
from tests.channels.conftest import (
    FROM_NUMBER,
    KEY,
    PUBLIC_URL,
    VOLUNTEER_CHAT_ID,
    WEBHOOK_SECRET,
    AppFactory,
    Running,
)
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN, serve
from tests.handoff.fakes import FakeForum, FakeSms


@pytest.fixture(scope="session")
def _forum_server() -> Iterator[tuple[FakeForum, str]]:
    fake = FakeForum()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="session")
def _sms_server() -> Iterator[tuple[FakeSms, str]]:
    fake = FakeSms()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def forum(_forum_server: tuple[FakeForum, str]) -> FakeForum:
    _forum_server[0].clear()
    return _forum_server[0]


@pytest.fixture
def twilio(_sms_server: tuple[FakeSms, str]) -> FakeSms:
    _sms_server[0].clear()
    return _sms_server[0]


@pytest.fixture
def env(
    tmp_path: Path,
    _forum_server: tuple[FakeForum, str],
    _sms_server: tuple[FakeSms, str],
) -> dict[str, str]:
    """Every channel and the volunteer desk, a fresh SQLite file, the fakes as the APIs."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "HOTLINE_SECRET_KEY": KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": _sms_server[1],
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_URL": _forum_server[1],
        "VOLUNTEER_CHAT_ID": str(VOLUNTEER_CHAT_ID),
    }


@pytest.fixture
def app_client(env: dict[str, str], forum: FakeForum, twilio: FakeSms) -> AppFactory:
    """`async with app_client(env_overrides, **options) as app:` the real app and lifespan."""

    @asynccontextmanager
    async def make(
        env_overrides: dict[str, str] | None = None, **options: Any
    ) -> AsyncIterator[Running]:
        mapping = {k: v for k, v in {**env, **(env_overrides or {})}.items() if v}
        options.setdefault("watch", False)
        app = create_app(Config.from_env(mapping), **options)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Running(http, app.state.server)

    return make
