"""Fixtures for the handoff tests: the fake APIs (one server each per session) and harnesses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from telegram import Bot

from bot.faq import Faq
from bot.i18n import Messages
from bot.router import Router
from bot.storage import MemoryStore
from bot.storage.base import Store
from tests.fakes import TOKEN

from .fakes import FakeForum, FakeSms
from .support import OPEN_HOURS, Clock, Harness, make_config


@pytest.fixture
def telegram_api(_forum_server: tuple[FakeForum, str]) -> FakeForum:
    _forum_server[0].clear()
    return _forum_server[0]


@pytest.fixture
def twilio_api(_sms_server: tuple[FakeSms, str]) -> FakeSms:
    _sms_server[0].clear()
    return _sms_server[0]


@pytest.fixture
def router(faq: Faq, messages: Messages) -> Router:
    return Router(faq, messages, handoff_available=lambda: True)


@pytest.fixture
async def make_harness(
    _forum_server: tuple[FakeForum, str],
    _sms_server: tuple[FakeSms, str],
    telegram_api: FakeForum,
    twilio_api: FakeSms,
    router: Router,
) -> AsyncIterator[Any]:
    """`make_harness(store=None, start=OPEN_HOURS, **config_changes)`."""
    made: list[Harness] = []
    bots: list[Bot] = []

    async def make(
        store: Store | None = None,
        start: datetime = OPEN_HOURS,
        clock: Clock | None = None,
        **changes: Any,
    ) -> Harness:
        config = make_config(_forum_server[1], _sms_server[1], **changes)
        bot = Bot(TOKEN, base_url=f"{_forum_server[1]}/bot")
        await bot.initialize()
        bots.append(bot)
        harness = Harness(
            config,
            router,
            store or MemoryStore(),
            clock or Clock(start),
            bot,
            telegram_api,
            twilio_api,
        )
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.aclose()
    for bot in bots:
        await bot.shutdown()


@pytest.fixture
async def h(make_harness: Any) -> Harness:
    harness: Harness = await make_harness()
    return harness
