"""The database goes away (PostgreSQL restarts, SQLite is locked by someone else): the
webhooks answer 503 so the provider retries, nothing is half-written, and the redelivered
request is handled once the database is back."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.config import Config
from bot.storage import open_store
from bot.web import SerialStore
from tests.channels.conftest import AppFactory, post_sms, post_update, sms_params
from tests.handoff.fakes import FakeForum

from .support import Forwarder, replies_to, text_update

CHAT = 555000201


def messages_in(twiml: str) -> int:
    return twiml.count("<Message>")


@pytest.mark.postgres
async def test_postgres_restart_answers_503_then_resumes(
    pg_empty: tuple[str, str], app_client: AppFactory, forum: FakeForum
) -> None:
    url, schema = pg_empty
    proxy = Forwarder("127.0.0.1", make_url(url).port or 5432)
    await proxy.start()
    via_proxy = (
        make_url(url)
        .set(host="127.0.0.1", port=proxy.port, query={"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    direct = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        async with app_client({"DATABASE_URL": via_proxy}) as app:
            first = await post_sms(app, sms_params("hola", "+15550100201", "SM" + "1" * 32))
            assert first.status_code == 200 and messages_in(first.text) >= 1

            await proxy.cut()  # PostgreSQL goes down
            sms = sms_params("what are my rights", "+15550100202", "SM" + "2" * 32)
            update = text_update(CHAT, "hola", 920000001)
            assert (await post_sms(app, sms)).status_code == 503
            assert (await post_update(app, update)).status_code == 503
            assert (await app.http.get("/healthz")).status_code == 503
            with direct.connect() as conn:  # nothing half-written
                keys = conn.execute(text("SELECT count(*) FROM inbound_keys")).scalar_one()
                queued = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
            assert (keys, queued) == (1, 0)

            await proxy.restore()  # and comes back: the providers redeliver
            again = await post_sms(app, sms)
            assert again.status_code == 200 and messages_in(again.text) >= 1
            assert (await post_update(app, update)).status_code == 200
            sent = await replies_to(forum, CHAT)
            # a third delivery of each is a duplicate: acknowledged, not answered again
            dup = await post_sms(app, sms)
            assert dup.status_code == 200 and messages_in(dup.text) == 0
            assert (await post_update(app, update)).status_code == 200
            await asyncio.sleep(0.5)
            assert forum.sent_texts(CHAT) == sent
            assert (await app.http.get("/healthz")).status_code == 200
    finally:
        await proxy.close()
        direct.dispose()


async def test_sqlite_locked_answers_503_then_the_redelivery_succeeds_once(
    tmp_path: Path, env: dict[str, str], app_client: AppFactory, forum: FakeForum
) -> None:
    config = Config.from_env(env)
    # a short busy timeout, so "locked longer than the timeout" takes a fraction of a second
    store = SerialStore(open_store(config, busy_timeout_ms=200))
    holder = sqlite3.connect(tmp_path / "hotline.db", isolation_level=None, timeout=5)
    try:
        async with app_client(store=store) as app:
            holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            sms = sms_params("hola", "+15550100203", "SM" + "3" * 32)
            update = text_update(CHAT, "hola", 920000002)
            assert (await post_sms(app, sms)).status_code == 503
            assert (await post_update(app, update)).status_code == 503
            holder.execute("COMMIT")

            assert holder.execute("SELECT count(*) FROM inbound_keys").fetchone() == (0,)
            again = await post_sms(app, sms)
            assert again.status_code == 200 and messages_in(again.text) >= 1
            assert (await post_update(app, update)).status_code == 200
            sent = await replies_to(forum, CHAT)
            dup = await post_sms(app, sms)
            assert dup.status_code == 200 and messages_in(dup.text) == 0
            assert (await post_update(app, update)).status_code == 200
            await asyncio.sleep(0.5)
            assert forum.sent_texts(CHAT) == sent
            assert holder.execute("SELECT count(*) FROM inbound_keys").fetchone() == (2,)
    finally:
        holder.close()
        store.close()
