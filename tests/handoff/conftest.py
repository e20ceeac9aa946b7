"""The handoff under test: the real Hotline, Router and Desk, an outbox worker driven by hand
with an injected clock, and the fake Bot API (with forum topics) and Twilio API over HTTP."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import Bot, Update

from bot.channels.sms import TwilioSender
from bot.channels.telegram import TelegramSender
from bot.config import Config
from bot.faq import Faq
from bot.handoff import Desk, DeskSender
from bot.i18n import Messages
from bot.models import Channel, Inbound, Lang
from bot.outbox import OutboxPolicy, OutboxWorker
from bot.router import Router
from bot.service import Handled, Hotline
from bot.storage import MemoryStore
from bot.storage.base import Case, Store
from bot.web import ChannelSenders
from tests.fakes import (
    TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    Call,
    FakeTelegram,
    FakeTwilio,
    _telegram_params,
    serve,
)

DATA = Path(__file__).resolve().parent / "data"
VOLUNTEER_CHAT_ID = -1005550000001
FROM_NUMBER = "+15550001111"
ONCALL = "+16175559876"
# A Tuesday at 11:00 in Boston: volunteers are on.
OPEN_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
# A Sunday at 11:00 in Boston: nobody is on until Monday 09:00.
SUNDAY = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


class FakeForum(FakeTelegram):
    """The fake Bot API plus forum topics: createForumTopic, close/reopen/deleteForumTopic,
    editMessageText; a deleted topic answers "message thread not found" like Telegram."""

    def __init__(self) -> None:
        super().__init__()
        self._thread_ids = itertools.count(501)
        self.topics: dict[int, dict[str, Any]] = {}
        self.message_thread: dict[int, int] = {}  # message id -> topic
        self.create_delay_s = 0.0

    def clear(self) -> None:
        super().clear()
        self.topics.clear()
        self.message_thread.clear()
        self.create_delay_s = 0.0

    def delete_topic(self, thread_id: int) -> None:
        """A volunteer deletes the topic in the Telegram app."""
        self.topics[thread_id]["deleted"] = True

    def live_topics(self) -> list[int]:
        return [t for t, info in self.topics.items() if not info["deleted"]]

    def posts(self, thread_id: int) -> list[str]:
        """Texts sent into one topic."""
        return [
            str(c.params["text"])
            for c in self.calls_to("sendMessage")
            if c.params.get("message_thread_id") == thread_id
        ]

    async def _endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = _telegram_params(await request.body(), request.headers.get("content-type", ""))
        thread = params.get("message_thread_id")
        if method == "editMessageText":
            thread = self.message_thread.get(int(params.get("message_id") or 0))
        if thread is not None and self.topics.get(int(thread), {}).get("deleted"):
            self.record(Call(method, params))
            description = (
                "Bad Request: message to edit not found"
                if method == "editMessageText"
                else "Bad Request: message thread not found"
            )
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": description}, status_code=400
            )
        if method == "createForumTopic" and self.create_delay_s:
            await asyncio.sleep(self.create_delay_s)
        return await super()._endpoint(request)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "createForumTopic":
            thread = next(self._thread_ids)
            color = int(params.get("icon_color") or 0)
            self.topics[thread] = {"name": params["name"], "closed": False, "deleted": False}
            return {"message_thread_id": thread, "name": params["name"], "icon_color": color}
        if method in ("closeForumTopic", "reopenForumTopic", "deleteForumTopic"):
            info = self.topics[int(params["message_thread_id"])]
            info["closed"] = method == "closeForumTopic"
            info["deleted"] = info["deleted"] or method == "deleteForumTopic"
            return True
        result = super()._result(method, params)
        if method == "sendMessage" and params.get("message_thread_id") is not None:
            self.message_thread[int(result["message_id"])] = int(params["message_thread_id"])
        return result


class Clock:
    """Time that moves only when the test (or the worker's backoff sleep) says so."""

    def __init__(self, start: datetime = OPEN_HOURS) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def load_update(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded update from tests/handoff/data with some fields changed: `text`, `data`,
    `thread`, `user_id`, `chat_id`, `update_id`, `first_name`."""
    data: dict[str, Any] = copy.deepcopy(json.loads((DATA / f"{name}.json").read_text()))
    body = data.get("message") or data["callback_query"]
    message = body if "message" in data else body["message"]
    author = body["from"]
    for key, value in changes.items():
        if key == "update_id":
            data["update_id"] = value
        elif key == "text":
            body["text"] = value
        elif key == "data":
            body["data"] = value
        elif key == "thread":
            message["message_thread_id"] = value
        elif key == "user_id":
            author["id"] = value
        elif key == "first_name":
            author["first_name"] = value
        elif key == "chat_id":
            message["chat"]["id"] = value
        else:
            raise KeyError(key)
    return data


@pytest.fixture(scope="session")
def _forum_server() -> Iterator[tuple[FakeForum, str]]:
    fake = FakeForum()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="session")
def _sms_server() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def telegram_api(_forum_server: tuple[FakeForum, str]) -> FakeForum:
    _forum_server[0].clear()
    return _forum_server[0]


@pytest.fixture
def twilio_api(_sms_server: tuple[FakeTwilio, str]) -> FakeTwilio:
    _sms_server[0].clear()
    return _sms_server[0]


def make_config(telegram_url: str, twilio_url: str, **changes: Any) -> Config:
    values: dict[str, Any] = {
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_url": twilio_url,
        "telegram_bot_token": TOKEN,
        "telegram_api_url": telegram_url,
        "volunteer_chat_id": VOLUNTEER_CHAT_ID,
        "oncall_sms": (ONCALL,),
        "oncall_telegram": ("@oncall_rosa",),
    }
    values.update(changes)
    return Config(**values)


class Harness:
    """One hotline process with its desk; `member` talks, `volunteer` acts, `drain` sends."""

    def __init__(self, config: Config, router: Router, store: Store, clock: Clock, bot: Bot,
                 telegram: FakeForum, twilio: FakeTwilio) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.bot = bot
        self.telegram = telegram
        self.twilio = twilio
        self.desk = Desk(config, lambda: router, store, clock=clock)
        self.desk.bind(bot=bot)
        self.hotline = Hotline(lambda: router, store, escalations=self.desk, clock=clock)
        self.twilio_sender = TwilioSender(config)
        self.sender = DeskSender(self.desk, bot, TelegramSender(bot))
        senders = ChannelSenders({Channel.SMS: self.twilio_sender, Channel.TELEGRAM: self.sender})
        policy = OutboxPolicy(pacing_s={Channel.SMS: 0.0, Channel.TELEGRAM: 0.0}, jitter=0.0)
        self.worker = OutboxWorker(store, senders, clock, policy=policy, sleep=clock.sleep)
        self._ids = itertools.count(1)
        self._updates = itertools.count(930000000)

    def member(self, text: str, *, sender: str = "+16175550100", channel: Channel = Channel.SMS,
               media: int = 0, action: str | None = None, lang: Lang | None = None,
               gap_s: float = 5) -> Handled:
        self.clock.advance(gap_s)
        return self.hotline.handle(
            Inbound(channel, sender, text, lang_hint=lang, provider_id=f"m{next(self._ids)}",
                    media_count=media, action=action),
            via_outbox=channel is Channel.TELEGRAM,
        )

    async def volunteer(self, name: str = "volunteer_message", **changes: Any) -> None:
        changes.setdefault("update_id", next(self._updates))
        update = Update.de_json(load_update(name, **changes), self.bot)
        await self.desk.volunteer_update(update)

    async def drain(self) -> int:
        """Send everything due now; return how many items were tried."""
        total = 0
        while n := await self.worker.run_once():
            total += n
        return total

    def case(self, case_id: int = 1) -> Case:
        with self.store.transaction() as tx:
            case = tx.get_case(case_id)
        assert case is not None
        return case

    def texts_to(self, phone: str) -> list[str]:
        return [c.params["Body"] for c in self.twilio.calls_to("Messages")
                if c.params.get("To") == phone]

    def telegram_to(self, chat_id: int) -> list[str]:
        return self.telegram.sent_texts(chat_id)

    async def aclose(self) -> None:
        await self.twilio_sender.aclose()


@pytest.fixture
def router(faq: Faq, messages: Messages) -> Router:
    return Router(faq, messages, handoff_available=lambda: True)


@pytest.fixture
async def make_harness(
    _forum_server: tuple[FakeForum, str],
    _sms_server: tuple[FakeTwilio, str],
    telegram_api: FakeForum,
    twilio_api: FakeTwilio,
    router: Router,
) -> AsyncIterator[Any]:
    """`make_harness(store=None, start=OPEN_HOURS, **config_changes)`."""
    made: list[Harness] = []
    bots: list[Bot] = []

    async def make(store: Store | None = None, start: datetime = OPEN_HOURS,
                   clock: Clock | None = None, **changes: Any) -> Harness:
        config = make_config(_forum_server[1], _sms_server[1], **changes)
        bot = Bot(TOKEN, base_url=f"{_forum_server[1]}/bot")
        await bot.initialize()
        bots.append(bot)
        harness = Harness(config, router, store or MemoryStore(), clock or Clock(start), bot,
                          telegram_api, twilio_api)
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
