"""A `hotline serve` process is killed (SIGKILL) while its replies wait in the outbox for a
failing Telegram API; a new process on the same database sends every one of them, once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.channels.telegram import keyboard, split_text
from bot.models import Channel, Inbound, Reply
from bot.router import Router
from bot.service import Hotline, reply_payload
from bot.storage import MemoryDatabase, MemoryStore
from tests.channels.conftest import KEY, PUBLIC_URL, WEBHOOK_SECRET
from tests.fakes import TOKEN
from tests.handoff.fakes import FakeForum

from .support import eventually, text_update

ROOT = Path(__file__).resolve().parents[2]
CHATS = [555000401 + i for i in range(6)]
TEXTS = ["hola", "hi", "what are my rights if police stop me"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`hotline serve` on 127.0.0.1:`port`; killed on the way out if still running."""
    cmd = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def healthy(http: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the server did not become healthy")


def expected_texts() -> dict[int, list[str]]:
    """What each chat's conversation gives in-process (the same router, no desk)."""
    router = Router.from_dirs(ROOT / "faq", ROOT / "locales")
    out: dict[int, list[str]] = {}
    for chat in CHATS:
        hotline = Hotline(lambda: router, MemoryStore(MemoryDatabase()))
        out[chat] = []
        for text in TEXTS:
            handled = hotline.handle(Inbound(Channel.TELEGRAM, str(chat), text), via_outbox=True)
            for reply in handled.replies:
                out[chat].extend(telegram_texts(reply))
    return out


def telegram_texts(reply: Reply) -> list[str]:
    """The sendMessage texts a reply becomes (a menu sends its body above the buttons)."""
    payload = reply_payload(reply)
    options = payload.get("options")
    markup = keyboard(options) if isinstance(options, list) else None
    body = payload.get("body")
    return split_text(str(body) if markup is not None and body else reply.text)


def outbox_rows(db: Path) -> tuple[int, int, int]:
    """(leased, pending, pending and due within a second) outbox items."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'leased'), "
            "count(*) FILTER (WHERE status = 'pending'), "
            "count(*) FILTER (WHERE status = 'pending' AND "
            "due_at <= strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 seconds')) FROM outbox"
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def quiet(db: Path, queued: int) -> bool:
    """Every reply is queued, none is being sent and none is due for a second: a kill now
    cannot strand an item behind its lease (which would hold it for a minute)."""
    leased, pending, soon = outbox_rows(db)
    return leased == 0 and pending == queued and soon == 0


async def test_killed_server_replies_are_sent_once_by_the_next(
    tmp_path: Path, _forum_server: tuple[FakeForum, str], forum: FakeForum
) -> None:
    db = tmp_path / "hotline.db"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))},
        "DATABASE_URL": f"sqlite:///{db}",
        "HOTLINE_SECRET_KEY": KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_URL": _forum_server[1],
        "LOG_LEVEL": "WARNING",
    }
    env.pop("VOLUNTEER_CHAT_ID", None)
    log = tmp_path / "server.log"
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    expected = expected_texts()
    want = sum(len(v) for v in expected.values())
    # the API refuses every message: a flood limit that keeps the replies in the outbox
    forum.fail("sendMessage", 429, description="Too Many Requests", retry_after=3, times=10_000)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        with serve_process(env, port, log) as first:
            await healthy(http, first)
            update_id = 940000000
            for text in TEXTS:
                for chat in CHATS:
                    update_id += 1
                    update = text_update(chat, text, update_id)
                    r = await http.post("/telegram", json=update, headers=headers)
                    assert r.status_code == 200  # committed, replies queued
            await forum.until("sendMessage", 1)
            await eventually(lambda: quiet(db, want), timeout_s=10)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert forum.sent_texts() == []
        assert outbox_rows(db)[:2] == (0, want), "the kill landed on a send: lease held"

        forum.clear_failures()  # the API is healthy again; a new process takes over
        with serve_process(env, port, log) as second:
            await healthy(http, second)
            await eventually(lambda: len(forum.sent_texts()) >= want, timeout_s=20)
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=15)
    for chat, texts in expected.items():
        assert forum.sent_texts(chat) == texts, (forum.sent_texts(chat), texts)
    assert len(forum.sent_texts()) == want
