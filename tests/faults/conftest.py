"""Fixtures for the fault tests: the fake Bot API with forum topics and the fake Twilio API
(one server each per session), a per-test environment and the real app with its lifespan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.channels.conftest import (  # noqa: F401  (fixtures shared with these suites)
    FROM_NUMBER,
    KEY,
    PUBLIC_URL,
    VOLUNTEER_CHAT_ID,
    WEBHOOK_SECRET,
    app_client,
)
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN
from tests.handoff.fakes import FakeForum, FakeSms


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
