"""Several processes, a real database, and what never leaks to logs or the volunteer group."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.models import Channel
from bot.storage import MemoryDatabase, MemoryStore, open_store
from bot.storage.base import CaseStatus, Store

from .support import VOLUNTEER_CHAT_ID, Clock, Harness

KEY = "handoff-tests-secret-key-0123456789abcdef"
PHONE = "+16175550100"
TG_MEMBER = "700000123"


def _stores(kind: str, tmp_path: Path, n: int) -> list[Store]:
    if kind == "memory":
        db = MemoryDatabase()
        return [MemoryStore(db) for _ in range(n)]
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    return [open_store(Config(database_url=url, secret_keys=(KEY,))) for _ in range(n)]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_two_processes_open_one_topic(make_harness: Any, tmp_path: Path, kind: str) -> None:
    """Two workers handle the case's first two desk items at the same moment: one topic."""
    stores = _stores(kind, tmp_path, 2)
    clock = Clock()
    a: Harness = await make_harness(store=stores[0], clock=clock)
    b: Harness = await make_harness(store=stores[1], clock=clock)
    a.member("I want to talk to a person")
    b.member("hello, anyone?")  # the second process takes the member's next message
    items = stores[0].claim_outbox(clock())
    assert [i.payload["op"] for i in items] == ["open", "post"]
    a.telegram.create_delay_s = 0.3  # a slow createForumTopic widens the race
    await asyncio.gather(a.sender.send(items[0]), b.sender.send(items[1]))

    assert len(a.telegram.calls_to("createForumTopic")) == 1
    topic = a.case().topic_id
    assert topic is not None and b.case().topic_id == topic
    # both may post a card; the one that loses the race deletes its own again
    cards = [(m, t) for m, t in a.telegram.visible(topic) if t.startswith("🟡 Case #1")]
    assert len(cards) == 1 and cards[0][0] == a.case().card_message_id
    assert "👤 hello, anyone?" in a.telegram.posts(topic)
    for store in stores:
        store.close()


async def test_sqlite_full_conversation(make_harness: Any, tmp_path: Path) -> None:
    (store,) = _stores("sqlite", tmp_path, 1)
    h: Harness = await make_harness(store=store)
    h.member("ICE is at my door right now")
    await h.drain()
    topic = h.case().topic_id
    assert topic is not None
    await h.volunteer(thread=topic, text="Don't open the door. Are you safe?")
    h.member("yes we are inside")
    await h.volunteer(thread=topic, text="/close")
    await h.drain()
    assert h.texts_to(PHONE)[1] == "Don't open the door. Are you safe?"
    assert "👤 yes we are inside" in h.telegram.posts(topic)
    assert h.case().status is CaseStatus.CLOSED and h.case().claimed_by == "Ana"
    store.close()


async def test_no_number_or_id_reaches_the_group_or_the_logs(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h.member("ICE is at my door right now")
    h.member("", sender=TG_MEMBER, channel=Channel.TELEGRAM, action="person")
    await h.drain()
    first, second = h.case(1).topic_id, h.case(2).topic_id
    await h.volunteer(thread=first, text="Secret plan for the member")
    await h.volunteer(thread=second, text="/note private note")
    h.member("my name is Maria Lopez")
    await h.drain()

    to_group = [
        str(c.params) for c in h.telegram.calls if c.params.get("chat_id") == VOLUNTEER_CHAT_ID
    ]
    assert to_group
    for params in to_group:
        assert "6175550100" not in params and "+1617" not in params
        assert TG_MEMBER not in params
    assert any("SMS ···0100" in p for p in to_group)  # only the masked form

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "case 1" in ours  # the desk does log what happened
    for secret in ("0100", TG_MEMBER, "Maria", "Secret plan", "private note", "Ana", "door"):
        assert secret not in ours
