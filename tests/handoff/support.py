"""The handoff under test: the real Hotline, Router and Desk, an outbox worker driven by hand
with an injected clock, and the fake Bot API (with forum topics) and Twilio API over HTTP."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, Update

from bot.channels.sms import TwilioSender
from bot.channels.telegram import TelegramSender
from bot.config import Config
from bot.handoff import Desk, DeskSender
from bot.models import Channel, Inbound, Lang
from bot.outbox import OutboxPolicy, OutboxWorker
from bot.router import Router
from bot.service import Handled, Hotline
from bot.storage.base import Case, Store
from bot.web import ChannelSenders
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN

from .fakes import FakeForum, FakeSms

DATA = Path(__file__).resolve().parent / "data"
VOLUNTEER_CHAT_ID = -1005550000001
FROM_NUMBER = "+15550001111"
ONCALL = "+16175559876"
# A Tuesday at 11:00 in Boston: volunteers are on.
OPEN_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
# A Sunday at 11:00 in Boston: nobody is on until Monday 09:00.
SUNDAY = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


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
    `thread`, `user_id`, `chat_id`, `update_id`, `first_name`, `is_bot`."""
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
        elif key == "is_bot":
            author["is_bot"] = value
        elif key == "chat_id":
            message["chat"]["id"] = value
        else:
            raise KeyError(key)
    return data


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

    def __init__(
        self,
        config: Config,
        router: Router,
        store: Store,
        clock: Clock,
        bot: Bot,
        telegram: FakeForum,
        twilio: FakeSms,
    ) -> None:
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

    def member(
        self,
        text: str,
        *,
        sender: str = "+16175550100",
        channel: Channel = Channel.SMS,
        media: int = 0,
        action: str | None = None,
        lang: Lang | None = None,
        gap_s: float = 5,
    ) -> Handled:
        self.clock.advance(gap_s)
        return self.hotline.handle(
            Inbound(
                channel,
                sender,
                text,
                lang_hint=lang,
                provider_id=f"m{id(self)}-{next(self._ids)}",
                media_count=media,
                action=action,
            ),
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
        return [c.params["Body"] for c in self.twilio.delivered if c.params.get("To") == phone]

    def telegram_to(self, chat_id: int) -> list[str]:
        return self.telegram.sent_texts(chat_id)

    async def aclose(self) -> None:
        await self.twilio_sender.aclose()
