"""A seized database or a log file must not reveal a member's number or words."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from bot.config import Config
from bot.models import Channel, ContactState, Lang, Reason, Urgency
from bot.storage import open_store
from bot.storage.base import Direction, Store
from bot.storage.schema import ALL_TABLES

from .support import KEY_A, NOW, PHONE

PHRASE = "zebra-quartz-marigold 7731"
NEEDLES = (PHONE, PHONE[1:], PHONE[2:], "617-555-0199", PHRASE, "zebra-quartz")


def _write_everything(store: Store) -> None:
    with store.transaction() as tx:
        tx.claim_inbound(f"sms:{PHONE}", NOW)  # even a provider id made of the number
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        tx.save_state(c.id, ContactState(lang=Lang.ES, more=[PHRASE], last_entry="ice-home"), NOW)
        case = tx.open_case(c.id, Urgency.URGENT, Reason.ICE_PRESENT, Lang.ES, None, NOW)
        tx.update_case(case.id, claimed_by=PHRASE)
        tx.add_transcript(c.id, case.id, Direction.IN, f"{PHRASE} call {PHONE}", NOW)
        tx.enqueue(Channel.SMS, PHONE, PHRASE, NOW, {"note": PHRASE})
        tx.enqueue(Channel.TELEGRAM, PHONE, PHRASE, NOW)
        tx.record_unmatched(PHRASE, Lang.ES, NOW)
        tx.count("answered", NOW, "ice-home", Lang.ES)
        other = tx.get_or_create_contact(Channel.SMS, "+16175550100", NOW)
        tx.save_state(other.id, ContactState(opted_out=True), NOW)
    # Everything is read back (so decryption ran and could have logged) ...
    items = store.claim_outbox(NOW)
    assert {i.text for i in items} == {PHRASE}
    store.mark_retry(items[0].id, NOW, "DeliveryError")
    store.mark_sent(items[1].id, NOW)
    with store.transaction() as tx:
        found = tx.find_contact(Channel.SMS, PHONE)
        assert found is not None and found.state.more == [PHRASE]
        assert tx.transcript(found.id)[0].text.startswith(PHRASE)
        assert tx.is_opted_out(Channel.SMS, "+16175550100")
        marked = tx.find_contact(Channel.SMS, "+16175550100")
        assert marked is not None
        tx.erase_contact(marked.id)  # ... and an erased opt-out leaves only its marker
    store.unmatched_samples(NOW - timedelta(days=1))
    store.cases_opened(NOW - timedelta(days=1))


def _assert_clean(blob: str | bytes, where: str) -> None:
    for needle in NEEDLES:
        if isinstance(blob, bytes):
            for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
                assert encoded not in blob, f"{needle!r} found in {where}"
        else:
            assert needle not in blob, f"{needle!r} found in {where}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_sqlite_file_and_logs_reveal_nothing(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "hotline.db"
    store = open_store(Config(database_url=f"sqlite:///{db}", secret_keys=(KEY_A,)))
    _write_everything(store)
    wal = Path(f"{db}-wal")
    assert wal.exists()
    _assert_clean(wal.read_bytes(), "the -wal file before checkpoint")
    store.checkpoint()
    _assert_clean(db.read_bytes(), "the SQLite file")
    if wal.exists():
        _assert_clean(wal.read_bytes(), "the -wal file")
    store.close()
    _assert_clean(db.read_bytes(), "the SQLite file after close")
    assert debug_logs.records, "DEBUG logging was not captured"
    _assert_clean("\n".join(r.getMessage() for r in debug_logs.records), "the logs")
    _assert_clean(debug_logs.text, "the formatted logs")


@pytest.mark.postgres
def test_postgres_tables_and_logs_reveal_nothing(
    pg_empty: tuple[str, str], debug_logs: pytest.LogCaptureFixture
) -> None:
    url, schema = pg_empty
    store = open_store(Config(database_url=url, secret_keys=(KEY_A,)), search_path=schema)
    try:
        _write_everything(store)
    finally:
        store.close()
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names(schema=schema))
            assert {t.name for t in ALL_TABLES} <= names
            dumped = 0
            for name in sorted(names):
                columns = [c["name"] for c in inspect(conn).get_columns(name, schema=schema)]
                for column in columns:
                    query = text(f'SELECT CAST("{column}" AS TEXT) FROM "{schema}"."{name}"')
                    for (value,) in conn.execute(query):
                        dumped += 1
                        if value is not None:
                            _assert_clean(value, f"{name}.{column}")
            assert dumped > 0
            # The contact we wrote is there, just unreadable.
            assert conn.execute(select(ALL_TABLES[-1])).first() is not None
    finally:
        engine.dispose()
    _assert_clean("\n".join(r.getMessage() for r in debug_logs.records), "the logs")
    _assert_clean(debug_logs.text, "the formatted logs")
