"""Storage benchmark: inbound-path write throughput and size on disk, SQLite and PostgreSQL.

One "inbound message" is what the router service does per webhook, in one transaction:
claim_inbound + get_or_create_contact + lock_contact + save_state + add_transcript +
enqueue + count. Prints the median of several runs, and the bytes on disk per 1,000
conversations (SQLite file size; pg_total_relation_size summed over the tables).

    .venv/bin/python scripts/bench_storage.py [--messages 2000] [--runs 5]

PostgreSQL uses TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
inside a throw-away schema; it is skipped with a note when the server is unreachable.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from bot.config import Config
from bot.models import Channel, ContactState, Lang
from bot.storage import SqlStore, open_store, upgrade_database
from bot.storage.base import Direction
from bot.storage.schema import ALL_TABLES

KEY = "bench-key-0123456789-0123456789-0123456789"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MESSAGES_PER_CONVERSATION = 4
_MSGS = f"{MESSAGES_PER_CONVERSATION} inbound msgs each, incl. transcript, outbox, state"
BODY = "What should I do if ICE comes to my door and asks to come in? ¿Tengo que abrir?"


def inbound(store: SqlStore, n: int, run: int, now: datetime) -> None:
    """Handle `n` inbound messages from n / 4 members (4 messages per conversation)."""
    for i in range(n):
        member = f"+1617{run:02d}{i // MESSAGES_PER_CONVERSATION:05d}"
        at = now + timedelta(seconds=i)
        with store.transaction() as tx:
            if not tx.claim_inbound(f"sms:SM{run}-{i}", at):
                continue
            contact = tx.get_or_create_contact(Channel.SMS, member, at)
            tx.lock_contact(contact.id)
            state = contact.state
            tx.save_state(
                contact.id,
                ContactState(lang=Lang.EN, welcomed=True, options=state.options, last_entry="x"),
                at,
            )
            tx.add_transcript(contact.id, None, Direction.IN, BODY, at)
            tx.enqueue(Channel.SMS, member, BODY, at)
            tx.count("answered", at, "ice-home", Lang.EN)


def measure(store: SqlStore, messages: int, runs: int) -> float:
    rates = []
    now = datetime.now(UTC)
    for run in range(runs):
        start = time.perf_counter()
        inbound(store, messages, run, now)
        rates.append(messages / (time.perf_counter() - start))
    return statistics.median(rates)


def sqlite_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def bench_sqlite(messages: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = open_store(Config(database_url=f"sqlite:///{db}", secret_keys=(KEY,)))
        rate = measure(store, messages, runs)
        store.checkpoint()
        empty = _fresh_sqlite_size(Path(tmp))
        size = sqlite_size(db)
        store.close()
    conversations = messages * runs / MESSAGES_PER_CONVERSATION
    print(f"sqlite     {rate:8.0f} inbound msgs/s (median of {runs} runs of {messages})")
    per_k = (size - empty) / conversations * 1000
    print(f"sqlite     {per_k / 1e6:8.2f} MB per 1,000 conversations ({_MSGS})")


def _fresh_sqlite_size(tmp: Path) -> int:
    db = tmp / "empty.db"
    store = open_store(Config(database_url=f"sqlite:///{db}", secret_keys=(KEY,)))
    store.checkpoint()
    store.close()
    return sqlite_size(db)


def bench_postgres(url: str, messages: int, runs: int) -> None:
    admin = create_engine(url, connect_args={"connect_timeout": 5})
    schema = f"hotline_bench_{secrets.token_hex(4)}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        print(f"postgresql skipped: cannot connect ({type(exc.orig).__name__})")
        return
    try:
        config = Config(database_url=url, secret_keys=(KEY,))
        upgrade_database(config, search_path=schema)
        store = open_store(config, search_path=schema)
        empty = _pg_size(admin, schema)
        rate = measure(store, messages, runs)
        store.close()
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'VACUUM ANALYZE "{schema}".contacts')
            )
        size = _pg_size(admin, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    conversations = messages * runs / MESSAGES_PER_CONVERSATION
    print(f"postgresql {rate:8.0f} inbound msgs/s (median of {runs} runs of {messages})")
    per_k = (size - empty) / conversations * 1000
    print(f"postgresql {per_k / 1e6:8.2f} MB per 1,000 conversations ({_MSGS})")


def _pg_size(engine: Engine, schema: str) -> int:
    names = [t.name for t in ALL_TABLES]
    with engine.connect() as conn:
        return int(
            sum(
                conn.execute(
                    text(f'SELECT pg_total_relation_size(\'"{schema}"."{n}"\')')
                ).scalar_one()
                for n in names
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="inbound messages per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raw = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    pg_url = Config.from_env({"DATABASE_URL": raw, "HOTLINE_SECRET_KEY": KEY}).database_url
    print(f"python {sys.version.split()[0]}; {args.runs} runs x {args.messages} inbound messages")
    bench_sqlite(args.messages, args.runs)
    bench_postgres(pg_url, args.messages, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
