"""Load test: two `hotline serve` processes sharing one PostgreSQL database, with the
volunteer desk on, under many senders over /sms and /telegram, a share of them urgent.

Creates a fresh PostgreSQL schema (dropped at the end), runs `hotline db upgrade` into it,
starts two servers on different ports (both run the outbox worker), a fake Telegram Bot API
with forum topics and a fake Twilio API (loopback only), and spreads signed requests across
both servers (scripts/bench_serve.py's load generator). Then it checks:

- every message got exactly its replies, once and in order: each SMS's TwiML, each Telegram
  chat's sendMessage sequence and each phone's outbox SMS equal what the same conversation
  gives in-process (router + desk + in-memory store); missing ones are "lost", extra
  "duplicated", a recipient with all of them in another order "out of sequence";
- every case got exactly one forum topic: createForumTopic calls = cases, no topic name
  twice, every case row points at its own topic.

Prints throughput, p50/p99 latency, lost/duplicated/out-of-sequence counts; exits 1 on
any failure.

    .venv/bin/python scripts/loadtest.py [--short] [--requests 3000] [--concurrency 32]
        [--senders 500] [--urgent 0.05] [--rate 0] [--pg-url URL]

--short: 300 requests from 100 senders (well under a minute), for CI.
--rate R sends at a fixed R requests/s (open loop; latency counted from the scheduled send
time, so a server that falls behind shows it) instead of as fast as the concurrency allows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_serve import (  # noqa: E402
    KEY,
    SECRET,
    Connection,
    Driver,
    Result,
    Sender,
    cpu_seconds,
    free_port,
    pct,
    pg_schema,
    start_server,
    wait_healthy,
    workload,
)

from bot.channels.sms import split_sms  # noqa: E402
from bot.channels.telegram import keyboard, split_text  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.handoff import Desk  # noqa: E402
from bot.models import Channel, ContactState, EventKind, Inbound, Lang  # noqa: E402
from bot.router import Router  # noqa: E402
from bot.service import Hotline  # noqa: E402
from bot.storage import MemoryDatabase, MemoryStore  # noqa: E402
from tests.fakes import TOKEN, TWILIO_SID, TWILIO_TOKEN, FakeTwilio, serve  # noqa: E402
from tests.handoff.fakes import FakeForum  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VOLUNTEER_CHAT_ID = -1005550000001
FROM_NUMBER = "+15550001111"
URGENT = {Lang.EN: "ICE is at my door right now", Lang.ES: "la migra está en mi puerta ahorita"}


@dataclass
class Expected:
    twiml: dict[str, list[list[str]]]  # SMS sender -> messages per request
    telegram: dict[str, list[str]]  # chat -> sendMessage texts
    sms_out: dict[str, list[str]]  # phone -> SMS sent through the outbox (desk notices)
    cases: int


def telegram_texts(text: str, payload: dict[str, object]) -> list[str]:
    """The sendMessage texts one outbox item becomes (a menu sends its body above buttons)."""
    options = payload.get("options")
    markup = keyboard(options) if isinstance(options, list) else None
    body = payload.get("body")
    return split_text(str(body) if markup is not None and body else text)


def expected(
    senders: list[Sender], plans: dict[str, list[tuple[str, str]]], content: Path
) -> Expected:
    """What the same conversations give in-process, with the desk, one small store each."""
    config = Config(volunteer_chat_id=VOLUNTEER_CHAT_ID, secret_keys=(KEY,))
    router = Router.from_dirs(content / "faq", content / "locales", handoff_available=lambda: True)
    out = Expected(defaultdict(list), defaultdict(list), defaultdict(list), 0)
    for s in senders:
        store = MemoryStore(MemoryDatabase())
        desk = Desk(config, lambda: router, store)
        hotline = Hotline(lambda: router, store, escalations=desk)
        for provider_id, text in plans[s.address]:
            hint = s.lang if s.channel is Channel.TELEGRAM else None
            msg = Inbound(s.channel, s.address, text, lang_hint=hint, provider_id=provider_id)
            handled = hotline.handle(msg, via_outbox=s.channel is Channel.TELEGRAM)
            if s.channel is Channel.SMS:
                out.twiml[s.address].append([p for r in handled.replies for p in split_sms(r.text)])
        far = datetime.now(UTC) + timedelta(days=1)
        for item in store.claim_outbox(far, limit=10_000):
            if item.payload.get("op") or item.address != s.address:
                continue  # desk operations go to the volunteer group
            if item.channel is Channel.TELEGRAM:
                out.telegram[s.address].extend(telegram_texts(item.text, item.payload))
            else:
                out.sms_out[s.address].extend(split_sms(item.text))
        out.cases += len(store.cases_opened(far - timedelta(days=30)))
    return out


def make_urgent(senders: list[Sender], share: float, content: Path) -> int:
    """Make every n-th sender (both channels) send one urgent message only, and the others
    nothing that asks for a person, so the share decides how many cases open. Every case
    posts into the one volunteer group, which Telegram (and python-telegram-bot's limiter)
    holds to 20 messages a minute: the share is kept small enough to drain."""
    router = Router.from_dirs(content / "faq", content / "locales", handoff_available=lambda: True)
    now = datetime.now(UTC)

    def escalates(s: Sender, text: str) -> bool:
        msg = Inbound(s.channel, s.address, text, lang_hint=s.lang)
        events = router.handle(msg, ContactState(), now).events
        return any(e.kind is EventKind.ESCALATED for e in events)

    step = max(1, round(1 / share)) if share > 0 else len(senders) + 1
    count = 0
    for i, s in enumerate(senders):
        if i % step == step - 1:
            s.messages = deque([URGENT[s.lang]])
            count += 1
        else:
            s.messages = deque("menu" if escalates(s, m) else m for m in s.messages)
    return count


def case_topics(url: str) -> list[tuple[int, int | None]]:
    from sqlalchemy import create_engine, select

    from bot.storage.schema import cases

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [(r.id, r.topic_id) for r in conn.execute(select(cases.c.id, cases.c.topic_id))]
    finally:
        engine.dispose()


def diff(want: dict[str, list[str]], got: dict[str, list[str]]) -> tuple[int, int, int]:
    """(lost, duplicated, recipients whose sequence differs) between two per-recipient lists."""
    lost = dup = wrong = 0
    for key in set(want) | set(got):
        w, g = Counter(want.get(key, [])), Counter(got.get(key, []))
        lost += sum((w - g).values())
        dup += sum((g - w).values())
        wrong += want.get(key, []) != got.get(key, [])
    return lost, dup, wrong


async def run(args: argparse.Namespace) -> bool:
    forum, twilio = FakeForum(), FakeTwilio()
    with (
        serve(forum.app) as tg_url,
        serve(twilio.app) as twilio_url,
        tempfile.TemporaryDirectory(prefix="loadtest-") as tmp,
        pg_schema(args.pg_url) as database_url,
    ):
        ports = [free_port(), free_port()]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        content = Path(tmp)
        shutil.copytree(ROOT / "faq", content / "faq")
        shutil.copytree(ROOT / "locales", content / "locales")
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("TWILIO_", "TELEGRAM_", "ONCALL_", "VOLUNTEER_"))
            },
            "DATABASE_URL": database_url,
            "HOTLINE_SECRET_KEY": KEY,
            "PUBLIC_URL": bases[0],  # what Twilio signs: the same public URL for both
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_URL": twilio_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_URL": tg_url,
            "TELEGRAM_RATE_LIMIT": "2000",
            "VOLUNTEER_CHAT_ID": str(VOLUNTEER_CHAT_ID),
            "FAQ_DIR": str(content / "faq"),
            "LOCALES_DIR": str(content / "locales"),
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        logs = [content / f"server{i}.log" for i in range(2)]
        procs = [
            start_server(port, {**env, "PORT": str(port)}, log)
            for port, log in zip(ports, logs, strict=True)
        ]
        try:
            for base, proc in zip(bases, procs, strict=True):
                await wait_healthy(base, proc)
            senders = workload(args.requests, args.senders, args.seed, content / "faq")
            urgent = make_urgent(senders, args.urgent, content)
            driver = Driver(bases[0], bases[0], args.concurrency)
            driver.close()  # spread the connections over both servers instead
            for i in range(args.concurrency):
                driver.pool.put_nowait(Connection("127.0.0.1", ports[i % 2]))
            result = Result()
            cpu0 = sum(cpu_seconds(p.pid) for p in procs)
            result.started = time.perf_counter()
            if args.rate:
                await driver.open_loop(senders, args.concurrency, args.rate, result)
            else:
                await driver.closed_loop(senders, args.concurrency, result)
            result.finished = time.perf_counter()
            driver.close()
            want = expected(senders, driver.plans, content)

            def member_texts() -> dict[str, list[str]]:
                sent: dict[str, list[str]] = defaultdict(list)
                for call in forum.delivered:
                    chat = call.params.get("chat_id")
                    if call.method == "sendMessage" and chat != VOLUNTEER_CHAT_ID:
                        sent[str(chat)].append(str(call.params.get("text")))
                return sent

            def sms_texts() -> dict[str, list[str]]:
                sent: dict[str, list[str]] = defaultdict(list)
                for call in twilio.calls_to("Messages"):
                    sent[str(call.params.get("To"))].append(str(call.params.get("Body")))
                return sent

            n_tg = sum(len(v) for v in want.telegram.values())
            n_sms = sum(len(v) for v in want.sms_out.values())
            drain_start = time.perf_counter()
            deadline = drain_start + args.drain_timeout
            while time.perf_counter() < deadline and not (
                sum(len(v) for v in member_texts().values()) >= n_tg
                and sum(len(v) for v in sms_texts().values()) >= n_sms
                and len(forum.topics) >= want.cases
                and all(t is not None for _, t in case_topics(database_url))
            ):
                await asyncio.sleep(0.1)
            drained = time.perf_counter() - drain_start
            if drained >= args.drain_timeout:
                print(
                    f"   drain timed out: telegram {sum(len(v) for v in member_texts().values())}"
                    f"/{n_tg}, sms {sum(len(v) for v in sms_texts().values())}/{n_sms}, "
                    f"topics {len(forum.topics)}/{want.cases}, "
                    f"cases without topic {sum(t is None for _, t in case_topics(database_url))}"
                )
            cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
            rows = case_topics(database_url)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)

        # -- report ------------------------------------------------------------------------
        elapsed = result.finished - result.started
        ms = [x * 1000 for x in result.latencies]
        n = len(ms)
        mode = f"open loop at {args.rate:g}/s" if args.rate else "closed loop"
        print(
            f"\n== 2 servers, PostgreSQL, volunteer desk: {n} requests, {args.concurrency} "
            f"concurrent, {len(senders)} senders ({urgent} urgent), {mode}"
        )
        print(f"   {n / elapsed if elapsed else 0:7.1f} requests/s over {elapsed:.2f}s")
        print(f"   latency ms: p50 {pct(ms, 0.5):.1f}  p99 {pct(ms, 0.99):.1f}  max {max(ms):.1f}")
        print(
            f"   server CPU (both): {cpu:.1f}s, {1000 * cpu / n if n else 0:.2f} ms per request "
            f"incl. the outbox and the desk; outbox drained {drained:.2f}s after the load"
        )
        twiml_got = {k: ["\x1e".join(m) for m in v] for k, v in result.twiml.items()}
        twiml_want = {k: ["\x1e".join(m) for m in v] for k, v in want.twiml.items()}
        checks = {
            "SMS TwiML": diff(twiml_want, twiml_got),
            "Telegram replies": diff(want.telegram, member_texts()),
            "SMS via outbox": diff(want.sms_out, sms_texts()),
        }
        lost = dup = wrong = 0
        for name, (a, b, c) in checks.items():
            print(f"   {name}: lost {a}, duplicated {b}, recipients out of sequence {c}")
            lost, dup, wrong = lost + a, dup + b, wrong + c
        creates = forum.calls_to("createForumTopic")
        names = Counter(str(c.params.get("name")) for c in creates)
        twice = sum(1 for count in names.values() if count > 1)
        topic_ids = [t for _, t in rows]
        rows_ok = None not in topic_ids and len(set(topic_ids)) == len(topic_ids)
        print(
            f"   cases: {len(rows)} opened (expected {want.cases}); createForumTopic calls "
            f"{len(creates)}; topic names used twice {twice}; every case its own topic: "
            f"{'yes' if rows_ok else 'NO'}"
        )
        if result.errors:
            print(f"   request errors: {len(result.errors)} e.g. {result.errors[:3]}")
        ok = (
            not result.errors
            and lost == dup == wrong == 0
            and len(rows) == want.cases
            and len(creates) == len(rows)
            and twice == 0
            and rows_ok
        )
        print(f"   exactly once: {'yes' if ok else 'NO'}")
        if not ok:
            for log in logs:
                print(f"   {log.name} tail:\n" + "\n".join(log.read_text().splitlines()[-15:]))
        return ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--short", action="store_true", help="300 requests, 100 senders (CI)")
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--senders", type=int, default=500)
    p.add_argument("--urgent", type=float, default=0.05, help="share of senders that are urgent")
    p.add_argument("--rate", type=float, default=0.0, help="requests/s, open loop (0: closed)")
    p.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    # Every case posts into the one volunteer group, which python-telegram-bot's limiter holds
    # to 20 messages a minute per process: a topic, a card and, outside volunteer hours, the
    # on-call page for each urgent case. 25 cases on two servers take about two minutes.
    p.add_argument("--drain-timeout", type=float, default=240.0)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.short:
        args.requests, args.senders, args.concurrency = 300, 100, 16
    args.pg_url = Config.from_env(
        {"DATABASE_URL": args.pg_url, "HOTLINE_SECRET_KEY": KEY}
    ).database_url
    started = time.monotonic()
    ok = asyncio.run(run(args))
    print(f"\n(loadtest finished in {time.monotonic() - started:.0f}s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
