"""The server as a whole: /healthz, start-up with no channel, hot reload, SIGHUP, polling,
and `telegram set-webhook` against the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.channels.telegram import set_webhook
from bot.config import Config
from bot.i18n import Messages
from bot.models import Lang
from tests.conftest import ROOT
from tests.fakes import FakeTelegram

from .conftest import WEBHOOK_SECRET, AppFactory, Running, load_update, post_sms, sms_params

QUESTION = "¿Qué hago si ICE toca a mi puerta?"
OLD = "No abras la puerta."  # in the Spanish answer of ice-home
NEW = "No abra la puerta."


async def test_healthz_reports_database_content_and_channels(app_client: AppFactory) -> None:
    async with app_client() as app:
        r = await app.http.get("/healthz")
        content = app.server.content
        assert content is not None
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["content"]["version"] == content.version
    assert re.fullmatch(r"[0-9a-f]{8,}", body["content"]["version"])
    assert body["content"]["entries"] == len(content.router().faq.entries) > 0
    assert body["channels"] == {"sms": True, "telegram": "webhook"}
    assert body["worker"] is True


async def test_starts_with_no_channel_and_says_so(
    app_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    off = {
        k: ""
        for k in (
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET",
            "VOLUNTEER_CHAT_ID",
        )
    }
    with caplog.at_level(logging.INFO, logger="bot.web"):
        async with app_client(off, worker=False) as app:
            health = (await app.http.get("/healthz")).json()
            assert (await app.http.post("/sms")).status_code == 404
            assert (await app.http.post("/telegram")).status_code == 404
    assert health["channels"] == {"sms": False, "telegram": None}
    assert health["worker"] is False
    summary = next(r.getMessage() for r in caplog.records if "hotline serve:" in r.getMessage())
    assert "SMS disabled" in summary and "TWILIO_AUTH_TOKEN" in summary
    assert "Telegram disabled" in summary and "TELEGRAM_BOT_TOKEN" in summary
    assert "worker off" in summary
    assert any("no channel is enabled" in r.getMessage() for r in caplog.records)


def twiml_texts(text: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(text).findall("Message")]


async def ask(app: Running, sender: str) -> list[str]:
    sid = f"SM{time.monotonic_ns():032d}"[:34]
    r = await post_sms(app, sms_params(QUESTION, sender, sid))
    assert r.status_code == 200
    return twiml_texts(r.text)


async def wait_until(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the content watcher")
        await asyncio.sleep(0.05)


@pytest.fixture
def content_copy(tmp_path: Path) -> dict[str, str]:
    shutil.copytree(ROOT / "faq", tmp_path / "faq")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return {"FAQ_DIR": str(tmp_path / "faq"), "LOCALES_DIR": str(tmp_path / "locales")}


async def test_hot_reload_rejects_a_broken_edit_and_takes_a_valid_one(
    app_client: AppFactory, content_copy: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    faq_file = Path(content_copy["FAQ_DIR"]) / "police-and-ice.yaml"
    original = faq_file.read_text(encoding="utf-8")
    at = original.index(OLD, original.index("- id: ice-home"))
    edited = original[:at] + NEW + original[at + len(OLD) :]
    async with app_client(content_copy, watch=True) as app:
        content = app.server.content
        assert content is not None
        before = content.version
        assert any(OLD in t for t in await ask(app, "+15550200001"))
        await asyncio.sleep(0.3)  # let the watcher settle before the first edit

        with caplog.at_level(logging.ERROR, logger="bot.content"):
            faq_file.write_text(original + "\n  - id: [unclosed\n", encoding="utf-8")
            await wait_until(lambda: content.last_error is not None)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert re.search(r"police-and-ice\.yaml:\d+: error", logged), logged
        assert content.version == before
        assert any(OLD in t for t in await ask(app, "+15550200002"))  # old content still live

        faq_file.write_text(edited, encoding="utf-8")
        await wait_until(lambda: content.last_error is None and content.version != before)
        texts = await ask(app, "+15550200003")
        health = (await app.http.get("/healthz")).json()
    assert any(NEW in t for t in texts)
    assert not any(OLD in t for t in texts)
    assert health["content"]["version"] == content.version


async def test_sighup_reloads_content(app_client: AppFactory, content_copy: dict[str, str]) -> None:
    locale = Path(content_copy["LOCALES_DIR"]) / "en" / "main.ftl"
    async with app_client(content_copy) as app:  # no watcher: only the signal reloads
        content = app.server.content
        assert content is not None
        assert content.reloads == 0
        source = locale.read_text(encoding="utf-8")
        locale.write_text(
            source.replace("media-only = I can only read text.", "media-only = Text only."),
            encoding="utf-8",
        )
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_until(lambda: content.reloads == 1)
        assert content.router().t(Lang.EN, "media-only").startswith("Text only.")


async def test_polling_mode_fetches_updates_and_answers(
    app_client: AppFactory, fake_telegram: FakeTelegram, messages: Messages
) -> None:
    fake_telegram.push_update(load_update("photo_no_text"))
    async with app_client(polling=True) as app:
        [call] = await fake_telegram.until("sendMessage")
        webhook = await app.http.post(
            "/telegram", content=b"{}", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        )
    assert fake_telegram.calls_to("deleteWebhook")
    assert call.params["text"] == messages(Lang.EN, "media-only")
    assert webhook.status_code == 404  # polling and webhook never both


async def test_set_webhook_registers_url_secret_and_commands_in_both_languages(
    env: dict[str, str], fake_telegram: FakeTelegram, messages: Messages
) -> None:
    url = await set_webhook(Config.from_env(env))
    assert url == "https://hotline.example.org/telegram"
    [hook] = fake_telegram.calls_to("setWebhook")
    assert hook.params["url"] == url
    assert hook.params["secret_token"] == WEBHOOK_SECRET
    assert set(hook.params["allowed_updates"]) >= {"message", "callback_query"}
    en, es = fake_telegram.calls_to("setMyCommands")
    assert "language_code" not in en.params
    assert es.params["language_code"] == "es"
    names = ["start", "help", "menu", "lang", "human", "delete"]
    assert [c["command"] for c in en.params["commands"]] == names
    assert [c["command"] for c in es.params["commands"]] == names
    for call, lang in ((en, Lang.EN), (es, Lang.ES)):
        for c in call.params["commands"]:
            assert c["description"] == messages(lang, f"command-{c['command']}")
            assert 1 <= len(c["description"]) <= 256


def test_config_errors_name_the_variable() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="TELEGRAM_RATE_LIMIT"):
        Config.from_env({"TELEGRAM_RATE_LIMIT": "fast"})
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        Config.from_env(
            {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+1"}
        )
