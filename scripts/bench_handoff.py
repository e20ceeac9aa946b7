"""Handoff latency: member message -> post in the case topic, volunteer reply -> send to the member.

One process as `hotline serve` runs it: the real Hotline, Router and Desk, the outbox worker
loop woken by the desk, python-telegram-bot and the Twilio sender talking HTTP to local fakes
of the Bot API and Twilio (tests/handoff/fakes.py), on SQLite (default) or in memory.

  member -> topic   from `Hotline.handle` of an SMS (as the /sms webhook calls it) to the
                    fake Bot API receiving the sendMessage into the case's topic
  volunteer -> SMS  from `Desk.volunteer_update` of a topic message (as the /telegram webhook
                    calls it) to the fake Twilio API receiving the message
  volunteer -> TG   the same for a Telegram member (sendMessage to the member's chat)

SMS pacing (one per second per number in production) and the per-sender flood limit are
lifted: they bound throughput, not the latency measured here; messages go one at a time.

    .venv/bin/python scripts/bench_handoff.py [--messages 200] [--store sqlite|memory]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.concurrency import run_in_threadpool
from telegram import Bot, Update

from bot.channels.sms import TwilioSender
from bot.channels.telegram import TelegramSender
from bot.config import Config
from bot.handoff import Desk, DeskSender
from bot.models import Channel, Inbound, Lang
from bot.outbox import OutboxPolicy, OutboxWorker
from bot.ratelimit import RateLimiter
from bot.router import Router
from bot.service import Hotline
from bot.storage import MemoryStore, open_store
from bot.storage.base import Store
from bot.web import ChannelSenders, run_outbox
from tests.fakes import TOKEN, serve
from tests.handoff.fakes import FakeForum, FakeSms
from tests.handoff.support import load_update, make_config

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key-0123456789-0123456789-0123456789"
SMS_MEMBER = "+16175550100"
TG_MEMBER = "700000123"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _line(name: str, ms: list[float]) -> str:
    return (
        f"{name:<18} n={len(ms):<4} p50 {statistics.median(ms):6.1f} ms   "
        f"p99 {_pct(ms, 99):6.1f} ms   max {max(ms):6.1f} ms"
    )


async def _arrival(
    fake: FakeForum | FakeSms, match: Callable[[dict[str, object]], bool], timeout_s: float = 10.0
) -> float:
    """When (time.monotonic) the fake accepted the first call matching `match`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for call in fake.delivered:
            if match(call.params):
                return call.at
        await asyncio.sleep(0.0005)
    raise TimeoutError(f"the message never arrived; last calls: {fake.calls[-3:]}")


def _topic_of(store: Store, case_id: int) -> int:
    with store.transaction() as tx:
        case = tx.get_case(case_id)
    assert case is not None and case.topic_id is not None
    return case.topic_id


async def run(messages: int, store: Store) -> dict[str, list[float]]:
    telegram, twilio = FakeForum(), FakeSms()
    with serve(telegram.app) as tg_url, serve(twilio.app) as sms_url:
        config: Config = make_config(tg_url, sms_url)
        router = Router.from_dirs(ROOT / "faq", ROOT / "locales", handoff_available=lambda: True)
        bot = Bot(TOKEN, base_url=f"{tg_url}/bot")
        await bot.initialize()
        desk = Desk(config, lambda: router, store)
        # one member sends every measured message: lift the per-sender flood limit
        limiter = RateLimiter(limit=10 * messages + 100)
        hotline = Hotline(lambda: router, store, escalations=desk, limiter=limiter)
        twilio_sender = TwilioSender(config)
        senders = ChannelSenders(
            {
                Channel.SMS: twilio_sender,
                Channel.TELEGRAM: DeskSender(desk, bot, TelegramSender(bot)),
            }
        )
        policy = OutboxPolicy(pacing_s={Channel.SMS: 0.0, Channel.TELEGRAM: 0.0})
        worker = OutboxWorker(store, senders, policy=policy)
        stop, wake = asyncio.Event(), asyncio.Event()
        desk.bind(bot=bot, wake=wake.set)
        loop_task = asyncio.create_task(run_outbox(worker, stop, wake))
        updates = iter(range(940000000, 950000000))

        async def member(sender: str, channel: Channel, text: str, n: int) -> None:
            msg = Inbound(channel, sender, text, lang_hint=Lang.EN, provider_id=f"b{n}-{sender}")
            handled = await run_in_threadpool(hotline.handle, msg, via_outbox=True)
            if handled.replies:
                wake.set()  # what the Telegram channel does after queueing replies

        async def volunteer(thread: int, text: str) -> None:
            data = load_update(
                "volunteer_message", thread=thread, text=text, update_id=next(updates)
            )
            await desk.volunteer_update(Update.de_json(data, bot))

        # two open cases, claimed: one SMS member, one Telegram member
        topics = []
        for n, (sender, channel) in enumerate(
            ((SMS_MEMBER, Channel.SMS), (TG_MEMBER, Channel.TELEGRAM))
        ):
            await member(sender, channel, "I want to talk to a person", n)
            case_id = n + 1
            await _arrival(telegram, lambda p, c=case_id: f"Case #{c}:" in str(p.get("text")))
            topic = await asyncio.to_thread(_topic_of, store, case_id)  # never block the loop
            topics.append(topic)
            await volunteer(topic, "Hi, I'm a volunteer.")
        await asyncio.sleep(0.2)

        results: dict[str, list[float]] = {
            "member -> topic": [],
            "volunteer -> SMS": [],
            "volunteer -> TG": [],
        }
        for i in range(messages):
            text = f"member message {i}"
            start = time.monotonic()
            await member(SMS_MEMBER, Channel.SMS, text, 100 + i)
            at = await _arrival(telegram, lambda p, t=text: p.get("text") == f"👤 {t}")
            results["member -> topic"].append((at - start) * 1000)

            reply = f"volunteer reply {i}"
            start = time.monotonic()
            await volunteer(topics[0], reply)
            at = await _arrival(twilio, lambda p, t=reply: p.get("Body") == t)
            results["volunteer -> SMS"].append((at - start) * 1000)

            reply = f"volunteer reply to telegram {i}"
            start = time.monotonic()
            await volunteer(topics[1], reply)
            at = await _arrival(telegram, lambda p, t=reply: p.get("text") == t)
            results["volunteer -> TG"].append((at - start) * 1000)

        stop.set()
        wake.set()
        await loop_task
        await twilio_sender.aclose()
        await bot.shutdown()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store: Store
        if args.store == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            store = open_store(Config(database_url=url, secret_keys=(KEY,)))
        else:
            store = MemoryStore()
        results = asyncio.run(run(args.messages, store))
        store.close()
    print(f"handoff latency, {args.store} store, fake Bot API and Twilio on localhost")
    for name, ms in results.items():
        print(_line(name, ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
