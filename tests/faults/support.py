"""Helpers for the fault tests: a TCP forwarder that plays a database restart, updates and
waiting without sleeping blindly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.channels.conftest import load_update
from tests.handoff.fakes import FakeForum


class Forwarder:
    """Forwards 127.0.0.1:`port` to `target`; `cut()` refuses new connections and drops the
    open ones (the database went away), `restore()` listens on the same port again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            dst.close()
            self._writers.discard(dst)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait until `check()` holds (AssertionError after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def text_update(chat_id: int, text: str, update_id: int) -> dict[str, Any]:
    """A private-chat text message from `chat_id` (the recorded update, changed)."""
    update = load_update("private_text")
    update["update_id"] = update_id
    message = update["message"]
    message["text"] = text
    message["chat"]["id"] = chat_id
    message["from"]["id"] = chat_id
    message["message_id"] = update_id % 1_000_000
    return update


async def replies_to(
    forum: FakeForum, chat: int, count: int = 1, timeout_s: float = 10.0
) -> list[str]:
    """The texts delivered to `chat` once there are `count` and the outbox has settled (no
    change for 0.3 s)."""
    await eventually(lambda: len(forum.sent_texts(chat)) >= count, timeout_s)
    settled: list[str] = []
    while settled != forum.sent_texts(chat):  # bounded: a reply is a handful of messages
        settled = forum.sent_texts(chat)
        await asyncio.sleep(0.3)
    return settled
