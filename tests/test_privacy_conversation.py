"""A whole conversation — question, urgent message, person, delete — leaves no phone number
and no message text readable in the database or in any log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.config import Config
from bot.faq import Faq
from bot.i18n import Messages
from bot.models import Channel
from bot.router import Router
from bot.storage import SqlStore, open_store
from tests.chat import Chat
from tests.conftest import TEST_KEY

PHONE = "+16175550199"
PHRASE = "zanahoria morada 7731"
TELEGRAM_ID = "918273645"

CONVERSATION = [
    "hola",
    f"q hago si la migra toca mi puerta {PHRASE}",
    f"{PHRASE} la migra esta afuera de mi casa ahorita",
    "PERSONA",
    f"receta de {PHRASE}",
    "STOP",
    "ALTA",
]


def _needles() -> list[bytes]:
    out = []
    for s in (PHONE, PHONE.lstrip("+"), "6175550199", PHRASE, "zanahoria", TELEGRAM_ID):
        out += [s.encode("utf-8"), s.encode("utf-16-le")]
    return out


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "bot", "alembic"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _talk(router: Router, store: SqlStore) -> None:
    sms = Chat(router, store=store, sender=PHONE)
    for text_ in CONVERSATION:
        sms.send(text_)
    tg = Chat(router, store=store, channel=Channel.TELEGRAM, sender=TELEGRAM_ID)
    tg.send(f"hello {PHRASE}")
    tg.send("ice is knocking on my door right now")


def _assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "the conversation should have logged something"
    for record in caplog.records:
        line = record.getMessage() + " " + repr(record.args)
        for needle in (PHONE, "6175550199", PHRASE, "zanahoria", TELEGRAM_ID):
            assert needle not in line, f"{record.name} logged private data"


def test_sqlite_file_and_logs_hold_no_number_and_no_text(
    tmp_path: Path, faq: Faq, messages: Messages, all_logs: pytest.LogCaptureFixture
) -> None:
    router = Router(faq, messages, handoff_available=lambda: True)
    db = tmp_path / "hotline.db"
    store = open_store(Config(database_url=f"sqlite:///{db}", secret_keys=(TEST_KEY,)))
    try:
        _talk(router, store)
        with store.transaction() as tx:  # the data is there, just unreadable at rest
            contact = tx.find_contact(Channel.SMS, PHONE)
            assert contact is not None
            assert any(PHRASE in line.text for line in tx.transcript(contact.id, 20))
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("hotline.db*"))
        store.checkpoint()
        raw += db.read_bytes()
    finally:
        store.close()
    for needle in _needles():
        assert needle not in raw
    _assert_logs_clean(all_logs)


@pytest.mark.postgres
def test_postgres_tables_and_logs_hold_no_number_and_no_text(
    pg_empty: tuple[str, str],
    faq: Faq,
    messages: Messages,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    url, schema = pg_empty
    router = Router(faq, messages, handoff_available=lambda: True)
    store = open_store(Config(database_url=url, secret_keys=(TEST_KEY,)), search_path=schema)
    try:
        _talk(router, store)
    finally:
        store.close()
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    dump = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names(schema=schema):
            for row in conn.execute(text(f'SELECT * FROM "{schema}"."{table}"')):
                dump.append(" ".join(str(v) for v in row))
    engine.dispose()
    blob = "\n".join(dump)
    assert blob, "the conversation should have written rows"
    for needle in (PHONE, "6175550199", PHRASE, "zanahoria", TELEGRAM_ID):
        assert needle not in blob
    _assert_logs_clean(all_logs)
