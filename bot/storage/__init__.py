"""Storage backends behind one contract: in-memory twin, SQLite, PostgreSQL.

`open_store(config)` is the one way in. SQLite (the default, `sqlite:///hotline.db`) is
created and migrated on first use. PostgreSQL is migrated only by `hotline db upgrade`
(run it on every deploy, before starting the servers): several servers starting at once
must not race to change the schema, so `open_store` only checks that the schema is
current and says what to run when it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import make_url

from bot.config import Config
from bot.errors import StorageUnavailable
from bot.storage.base import (
    Case,
    CaseNotFound,
    CaseStatus,
    Contact,
    CounterTotal,
    Direction,
    OutboxItem,
    PurgeResult,
    Store,
    Transaction,
    TranscriptLine,
    UnmatchedSample,
)
from bot.storage.crypto import Keyring, load_secrets
from bot.storage.memory import MemoryDatabase, MemoryStore
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.sql import (
    SQLITE_BUSY_TIMEOUT_MS,
    SqlStore,
    as_unavailable,
    create_sql_engine,
    is_unavailable,
)

__all__ = [
    "Case",
    "CaseNotFound",
    "CaseStatus",
    "Contact",
    "CounterTotal",
    "Direction",
    "MemoryDatabase",
    "MemoryStore",
    "OutboxItem",
    "PurgeResult",
    "SqlStore",
    "Store",
    "Transaction",
    "TranscriptLine",
    "UnmatchedSample",
    "open_store",
    "purge_expired",
    "purge_periodically",
    "upgrade_database",
]

logger = logging.getLogger(__name__)

PURGE_INTERVAL_S = 6 * 3600


def open_store(
    config: Config,
    *,
    search_path: str | None = None,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> SqlStore:
    """The configured SQL store, ready to use.

    SQLite is migrated here; PostgreSQL must already be at the latest revision (raise
    StorageUnavailable naming `hotline db upgrade` otherwise). `search_path` selects a
    PostgreSQL schema (tests, or several bots on one server); `busy_timeout_ms` how long a
    SQLite writer waits for the lock.
    """
    keyring = Keyring(load_secrets(config))
    if config.is_sqlite:
        _create_private_sqlite_file(config.database_url)
    engine = create_sql_engine(
        config.database_url, search_path=search_path, busy_timeout_ms=busy_timeout_ms
    )
    store = SqlStore(engine, keyring)
    try:
        if config.is_sqlite:
            upgrade(engine)
        else:
            current = current_revision(engine)
            if current != head_revision():
                raise StorageUnavailable(
                    f"the database schema is at revision {current or 'none'}, this version "
                    f"needs {head_revision()}: run `hotline db upgrade`"
                )
    except Exception as exc:
        store.close()
        if is_unavailable(exc):
            raise as_unavailable(exc) from exc
        raise
    return store


def _create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (its -wal/-shm inherit that)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageUnavailable(f"cannot create the SQLite database ({exc.strerror})") from exc


def upgrade_database(config: Config, *, search_path: str | None = None) -> str:
    """`hotline db upgrade`: migrate the configured database; return the revision."""
    if config.is_sqlite:
        _create_private_sqlite_file(config.database_url)
    engine = create_sql_engine(config.database_url, search_path=search_path)
    try:
        upgrade(engine)
        return head_revision()
    except Exception as exc:
        if is_unavailable(exc):
            raise as_unavailable(exc) from exc
        raise
    finally:
        engine.dispose()


def purge_expired(store: Store, retention_days: int, now: datetime | None = None) -> PurgeResult:
    """Delete what is older than the retention period (`hotline purge`, and the server)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    # contacts silent for the whole retention period are forgotten too (an opt-out stays
    # as a hashed marker), so the database doesn't keep a list of everyone who ever wrote
    with store.transaction() as tx:
        idle = tx.idle_contacts(cutoff)
        for contact_id in idle:
            tx.erase_contact(contact_id)
    result = store.purge(cutoff, now=now)
    logger.info("purged %d idle contacts", len(idle))
    logger.info(
        "purged %d transcript lines, %d cases, %d inbound keys, %d outbox rows, "
        "%d unmatched samples",
        result.transcripts,
        result.cases,
        result.inbound_keys,
        result.outbox,
        result.unmatched,
    )
    return result


async def purge_periodically(
    store: Store,
    retention_days: int,
    stop: asyncio.Event,
    *,
    interval_s: float = PURGE_INTERVAL_S,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run `purge_expired` now and every `interval_s` until `stop` is set (server task)."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(purge_expired, store, retention_days, clock())
        except StorageUnavailable:
            logger.warning("purge skipped: the database is unavailable")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
