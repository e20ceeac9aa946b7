"""The SQL backend (SQLAlchemy Core) for SQLite and PostgreSQL.

Locking: on SQLite every transaction starts with BEGIN IMMEDIATE, so writers queue on
the database lock (busy_timeout) instead of failing half-way; on PostgreSQL rows are
locked with SELECT ... FOR UPDATE (contacts, cases) and the outbox is leased with
FOR UPDATE SKIP LOCKED, one claim at a time (a transaction-level advisory lock), so a
claim never takes a recipient's next message while another worker sends the one before.
Inbound keys and new contacts rely on unique constraints with
INSERT ... ON CONFLICT DO NOTHING on both.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Row,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable

from bot.errors import StorageUnavailable
from bot.models import Channel, ContactState, Lang, Reason, Urgency
from bot.storage.base import (
    INBOUND_KEY_TTL,
    UPDATABLE_CASE_FIELDS,
    Case,
    CaseNotFound,
    CaseStatus,
    Contact,
    CounterTotal,
    Direction,
    OutboxItem,
    PurgeResult,
    TranscriptLine,
    UnmatchedSample,
    counter_hour,
)
from bot.storage.crypto import DecryptionError, Keyring
from bot.storage.schema import (
    cases,
    contacts,
    counters,
    inbound_keys,
    optout_markers,
    outbox,
    transcripts,
    unmatched,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
OUTBOX_CLAIM_LOCK = 0x686F746C696E65  # pg_advisory_xact_lock key: "hotline"
# PostgreSQL connections kept open per process: the server's core threads (8), the outbox
# worker's two and /healthz, with room to spare. A smaller pool closed and reopened
# connections all the time under load (a new backend process each, statements prepared
# again), which cost more than the requests did.
PG_POOL_SIZE = 12
PG_MAX_OVERFLOW = 8
# A connection idle for longer than this is pinged before use (a restarted or vanished
# server shows here, not in the middle of a transaction); one in steady use is not: its
# last statement just succeeded, and a ping per transaction was a round trip per request.
PRE_PING_IDLE_S = 1.0


def create_sql_engine(
    url: str, *, search_path: str | None = None, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """An engine with the pragmas/pool settings this backend relies on.

    `search_path` puts every table in one PostgreSQL schema (the tests use one per run);
    `busy_timeout_ms` is how long a SQLite writer waits for the lock before the request is
    refused as "database unavailable" (the fault tests shorten it).
    Statement parameters are hidden from SQLAlchemy's logs and exception messages: they
    are hashes and ciphertexts, but even those stay out of logs.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True)
        event.listen(
            engine, "connect", partial(_sqlite_on_connect, busy_timeout_ms=busy_timeout_ms)
        )
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if search_path:
        connect_args["options"] = f"-csearch_path={search_path}"
    engine = create_engine(
        url,
        hide_parameters=True,
        connect_args=connect_args,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
    )
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", partial(_ping_if_idle, dialect=engine.dialect))
    return engine


def _note_idle(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any, *, dialect: Dialect
) -> None:
    """`pool_pre_ping`, for connections that sat in the pool for a while: raising
    DisconnectionError makes the pool replace the connection (and retry the checkout).
    The dialect's ping runs in autocommit, so it leaves no transaction open behind it."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since <= PRE_PING_IDLE_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError("the pooled connection did not answer a ping") from exc


def _sqlite_on_connect(
    dbapi_connection: Any, _record: ConnectionPoolEntry, *, busy_timeout_ms: int
) -> None:
    # Take transaction control away from the sqlite3 module, so BEGIN IMMEDIATE below
    # is what opens every transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Overwrite deleted rows (erased contacts, purged transcripts) instead of leaving them
    # in free pages of the file.
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# sqlite3 reports schema mistakes as OperationalError too; those are bugs, not outages.
_SQLITE_NOT_OUTAGE = ("no such ", "near ", "duplicate column", "table ")


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached or is busy"."""
    if isinstance(exc, OperationalError) and isinstance(exc.orig, sqlite3.OperationalError):
        return not str(exc.orig).startswith(_SQLITE_NOT_OUTAGE)
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def as_unavailable(exc: BaseException) -> StorageUnavailable:
    orig = getattr(exc, "orig", None) or exc
    return StorageUnavailable(f"the database is unavailable ({type(orig).__name__})")


class SqlStore:
    """`Store` on SQLite or PostgreSQL. Build it with `bot.storage.open_store`."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self._engine = engine
        self._keys = keyring
        self._pg = engine.dialect.name == "postgresql"

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except (DBAPIError, PoolTimeoutError) as exc:
            if is_unavailable(exc):
                raise as_unavailable(exc) from exc
            raise

    @contextmanager
    def _one_statement(self) -> Iterator[Connection]:
        """A connection for a single statement: autocommit on PostgreSQL (one round trip,
        where BEGIN, the statement and COMMIT took three; one statement is atomic by
        itself), a transaction on SQLite (BEGIN IMMEDIATE, as every writer)."""
        if not self._pg:
            with self._begin() as conn:
                yield conn
            return
        try:
            with self._engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                yield conn
        except (DBAPIError, PoolTimeoutError) as exc:
            if is_unavailable(exc):
                raise as_unavailable(exc) from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._begin() as conn:
            tx = SqlTransaction(conn, self._keys, pg=self._pg)
            yield tx
            tx.finish()  # PostgreSQL: the deferred writes and COMMIT in one round trip

    # -- outbox -------------------------------------------------------------------------

    def claim_outbox(self, now: datetime, limit: int = 20, lease_s: float = 60) -> list[OutboxItem]:
        token = secrets.token_hex(16)
        cand, earlier = outbox.alias("cand"), outbox.alias("earlier")
        due = or_(
            and_(cand.c.status == "pending", cand.c.due_at <= now),
            and_(cand.c.status == "leased", cand.c.lease_until <= now),
        )
        # One recipient's messages go in order: not while an earlier one is being sent by
        # someone else or waits for its retry.
        waits = (
            select(earlier.c.id)
            .where(
                earlier.c.channel == cand.c.channel,
                earlier.c.addr_hash == cand.c.addr_hash,
                earlier.c.id < cand.c.id,
                or_(
                    and_(earlier.c.status == "pending", earlier.c.due_at > now),
                    and_(earlier.c.status == "leased", earlier.c.lease_until > now),
                ),
            )
            .correlate(cand)
            .exists()
        )
        ids = select(cand.c.id).where(due, ~waits).order_by(cand.c.due_at, cand.c.id).limit(limit)
        if self._pg:
            ids = ids.with_for_update(skip_locked=True)
        with self._begin() as conn:
            if self._pg:
                # Claims take turns (each is one short UPDATE), so a claim sees the leases
                # of the one before it and never takes a member's second message while
                # another worker sends the first.
                # (BEGIN and the lock in one round trip)
                pipeline(conn, [("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_CLAIM_LOCK,))])
            lease = (
                update(outbox)
                .where(outbox.c.id.in_(ids.scalar_subquery()))
                .values(
                    status="leased",
                    lease_token=token,
                    lease_until=now + timedelta(seconds=lease_s),
                )
            )
            rows: Sequence[Row[Any]]
            if self._engine.dialect.update_returning:  # PostgreSQL, SQLite 3.35+
                rows = sorted(conn.execute(lease.returning(*outbox.c)).all(), key=_row_id)
            else:
                conn.execute(lease)
                rows = conn.execute(
                    select(outbox).where(outbox.c.lease_token == token).order_by(outbox.c.id)
                ).all()
            items: list[OutboxItem] = []
            for row in rows:
                try:
                    items.append(self._outbox_item(row))
                except DecryptionError:
                    logger.error("outbox item %d cannot be decrypted; marking it failed", row.id)
                    conn.execute(
                        update(outbox)
                        .where(outbox.c.id == row.id)
                        .values(**_wiped("failed"), last_error="DecryptionError")
                    )
            return items

    def _outbox_item(self, row: Row[Any]) -> OutboxItem:
        payload = self._keys.decrypt_json(row.payload_enc) if row.payload_enc else {}
        return OutboxItem(
            id=row.id,
            channel=Channel(row.channel),
            address=self._keys.decrypt(row.addr_enc),
            text=self._keys.decrypt(row.text_enc),
            payload=payload,
            attempts=row.attempts,
        )

    def mark_sent(self, item_id: int, now: datetime) -> None:
        self.mark_sent_many([item_id], now)

    def mark_sent_many(self, item_ids: Sequence[int], now: datetime) -> None:
        if not item_ids:
            return
        with self._one_statement() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(item_ids)))
                .values(**_wiped("sent"), sent_at=now, attempts=outbox.c.attempts + 1)
            )

    def mark_retry(self, item_id: int, retry_at: datetime, error: str) -> None:
        with self._one_statement() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id, outbox.c.status == "leased")
                .values(
                    status="pending",
                    due_at=retry_at,
                    lease_token=None,
                    lease_until=None,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:64],
                )
            )

    def release(self, item_id: int, retry_at: datetime) -> None:
        with self._one_statement() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id, outbox.c.status == "leased")
                .values(status="pending", due_at=retry_at, lease_token=None, lease_until=None)
            )

    def mark_failed(self, item_id: int, error: str) -> None:
        with self._one_statement() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id, outbox.c.status == "leased")
                .values(**_wiped("failed"), attempts=outbox.c.attempts + 1, last_error=error[:64])
            )

    # -- retention ----------------------------------------------------------------------

    def purge(self, older_than: datetime, *, now: datetime | None = None) -> PurgeResult:
        now = now or datetime.now(UTC)
        with self._begin() as conn:
            old_cases = select(cases.c.id).where(
                cases.c.status == CaseStatus.CLOSED.value, cases.c.closed_at < older_than
            )
            n_transcripts = conn.execute(
                delete(transcripts).where(
                    or_(transcripts.c.at < older_than, transcripts.c.case_id.in_(old_cases))
                )
            ).rowcount
            n_cases = conn.execute(
                delete(cases).where(
                    cases.c.status == CaseStatus.CLOSED.value, cases.c.closed_at < older_than
                )
            ).rowcount
            n_keys = conn.execute(
                delete(inbound_keys).where(inbound_keys.c.claimed_at < now - INBOUND_KEY_TTL)
            ).rowcount
            n_outbox = conn.execute(
                delete(outbox).where(
                    or_(
                        outbox.c.status == "sent",
                        and_(outbox.c.status == "failed", outbox.c.created_at < older_than),
                    )
                )
            ).rowcount
            n_unmatched = conn.execute(
                delete(unmatched).where(unmatched.c.at < older_than)
            ).rowcount
        self.checkpoint()
        return PurgeResult(
            transcripts=n_transcripts,
            cases=n_cases,
            inbound_keys=n_keys,
            outbox=n_outbox,
            unmatched=n_unmatched,
        )

    # -- reports ------------------------------------------------------------------------

    def counter_totals(self, since: datetime) -> list[CounterTotal]:
        query = (
            select(counters.c.name, counters.c.entry_id, counters.c.lang, func.sum(counters.c.n))
            .where(counters.c.hour >= counter_hour(since))
            .group_by(counters.c.name, counters.c.entry_id, counters.c.lang)
            .order_by(counters.c.name, counters.c.entry_id, counters.c.lang)
        )
        with self._begin() as conn:
            return [
                CounterTotal(
                    name=name, entry_id=entry or None, lang=Lang(lang) if lang else None, n=int(n)
                )
                for name, entry, lang, n in conn.execute(query)
            ]

    def unmatched_samples(self, since: datetime) -> list[UnmatchedSample]:
        query = select(unmatched).where(unmatched.c.at >= since).order_by(unmatched.c.id)
        with self._begin() as conn:
            rows = conn.execute(query).all()
        return [
            UnmatchedSample(text=self._keys.decrypt(r.text_enc), lang=Lang(r.lang), at=r.at)
            for r in rows
        ]

    def cases_opened(self, since: datetime) -> list[Case]:
        query = select(cases).where(cases.c.opened_at >= since).order_by(cases.c.id)
        with self._begin() as conn:
            return [_case(row, self._keys) for row in conn.execute(query)]

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the file and empty it, so deleted rows
        (overwritten there by secure_delete) do not linger in the -wal file. No-op on
        PostgreSQL."""
        if self._pg:
            return
        raw = self._engine.raw_connection()
        try:
            # Outside any transaction: a checkpoint cannot run inside one.
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        except sqlite3.Error as exc:  # busy readers: the next checkpoint will do it
            logger.warning("WAL checkpoint skipped (%s)", type(exc).__name__)
        finally:
            raw.close()

    def ping(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (DBAPIError, PoolTimeoutError):
            logger.warning("database ping failed")
            return False
        return True

    def close(self) -> None:
        self._engine.dispose()


def _row_id(row: Row[Any]) -> int:
    return int(row.id)


def _wiped(status: str) -> dict[str, Any]:
    return {
        "status": status,
        "addr_enc": None,
        "text_enc": None,
        "payload_enc": None,
        "lease_token": None,
        "lease_until": None,
    }


def _case(row: Row[Any], keys: Keyring) -> Case:
    return Case(
        id=row.id,
        contact_id=row.contact_id,
        urgency=Urgency(row.urgency),
        reason=Reason(row.reason),
        lang=Lang(row.lang),
        status=CaseStatus(row.status),
        opened_at=row.opened_at,
        entry_id=row.entry_id,
        topic_id=row.topic_id,
        card_message_id=row.card_message_id,
        claimed_by=keys.decrypt(row.claimed_by_enc) if row.claimed_by_enc else None,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        repaged_at=row.repaged_at,
    )


class _Statements:
    """The statements of every inbound message, built once per dialect and executed with
    parameters: building SQLAlchemy constructs anew for each call cost more CPU than running
    them. (The compiled SQL is cached by SQLAlchemy either way.)"""

    def __init__(self, pg: bool) -> None:
        dialect_insert = postgresql.insert if pg else sqlite.insert
        # rowcount of an INSERT is only kept when asked for (SQLAlchemy 2).
        self.claim_inbound = (
            dialect_insert(inbound_keys)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        by_hashes = select(contacts).where(
            contacts.c.addr_hash.in_(bindparam("hashes", expanding=True))
        )
        self.contact = by_hashes
        self.contact_locked = by_hashes.with_for_update() if pg else by_hashes
        self.save_state = update(contacts).where(contacts.c.id == bindparam("contact_id"))
        self.count = dialect_insert(counters).on_conflict_do_update(
            index_elements=["hour", "name", "entry_id", "lang"],
            set_={"n": counters.c.n + 1},
        )
        self.enqueue = insert(outbox)
        self.add_transcript = insert(transcripts)
        self.record_unmatched = insert(unmatched)


# The same writes as plain SQL for psycopg, sent in a pipeline (SqlTransaction._pipeline).
# Datetimes go in through _utc, as the UTCDateTime column type would send them.
PG_CLAIM_INBOUND = (
    "INSERT INTO inbound_keys (key_hash, claimed_at) VALUES (%(key_hash)s, %(claimed_at)s) "
    "ON CONFLICT DO NOTHING"
)
PG_SAVE_STATE = (
    "UPDATE contacts SET state_enc = %(state_enc)s, opted_out = %(opted_out)s, "
    "updated_at = %(updated_at)s WHERE contacts.id = %(contact_id)s"
)
PG_COUNT = (
    "INSERT INTO counters (hour, name, entry_id, lang, n) "
    "VALUES (%(hour)s, %(name)s, %(entry_id)s, %(lang)s, %(n)s) "
    "ON CONFLICT (hour, name, entry_id, lang) DO UPDATE SET n = counters.n + 1"
)
PG_ENQUEUE = (
    "INSERT INTO outbox (channel, addr_hash, addr_enc, text_enc, payload_enc, status, "
    "attempts, due_at, created_at) VALUES (%(channel)s, %(addr_hash)s, %(addr_enc)s, "
    "%(text_enc)s, %(payload_enc)s, %(status)s, %(attempts)s, %(due_at)s, %(created_at)s)"
)
PG_ADD_TRANSCRIPT = (
    "INSERT INTO transcripts (contact_id, case_id, direction, text_enc, at) "
    "VALUES (%(contact_id)s, %(case_id)s, %(direction)s, %(text_enc)s, %(at)s)"
)
# The contact of an address (its hash under each key), read as the columns of `contacts`
PG_CONTACT = (
    "SELECT id, channel, addr_hash, addr_enc, state_enc, opted_out, created_at, updated_at "
    "FROM contacts WHERE addr_hash = ANY(%(h)s)"
)
PG_CONTACT_LOCKED = PG_CONTACT + " FOR UPDATE"


class _ContactRow(NamedTuple):
    """A `contacts` row read with PG_CONTACT (created_at/updated_at in the session's zone:
    `_to_contact` reads created_at through `_utc`, as UTCDateTime would)."""

    id: int
    channel: str
    addr_hash: str
    addr_enc: str
    state_enc: str
    opted_out: bool
    created_at: datetime
    updated_at: datetime


PG_RECORD_UNMATCHED = (
    "INSERT INTO unmatched (lang, text_enc, at) VALUES (%(lang)s, %(text_enc)s, %(at)s)"
)


def pipeline(
    conn: Connection, statements: Sequence[tuple[str, Any]], *, commit: bool = False
) -> Any:
    """PostgreSQL: run `statements` (psycopg SQL and parameters), then COMMIT if asked, in
    one pipeline: one round trip, BEGIN included when they open the transaction. Return the
    last statement's cursor. Errors surface as SQLAlchemy's (DBAPIError), as if each
    statement had gone through it, and a lost connection is invalidated."""
    raw = conn.connection.driver_connection
    assert raw is not None
    dialect = conn.dialect
    cursor = None
    try:
        with raw.pipeline():
            for sql, params in statements:
                cursor = raw.execute(sql, params)
            if commit:
                raw.commit()
    except dialect.loaded_dbapi.Error as exc:
        invalidated = dialect.is_disconnect(exc, raw, None)
        if invalidated:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from exc
    return cursor


def _utc(value: datetime) -> datetime:
    """What UTCDateTime binds: aware datetimes only, in UTC (SQLite: naive UTC)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: storage needs timezone-aware UTC datetimes")
    return value.astimezone(UTC)


_STATEMENTS = {pg: _Statements(pg) for pg in (False, True)}


class SqlTransaction:
    """`Transaction` on one SQL connection inside BEGIN ... COMMIT."""

    def __init__(self, conn: Connection, keyring: Keyring, *, pg: bool) -> None:
        self._conn = conn
        self._keys = keyring
        self._pg = pg
        self._sql = _STATEMENTS[pg]
        # (channel, address) -> (address hash, encrypted address) of contacts read in this
        # transaction, for the replies queued to them; gone with the transaction
        self._addresses: dict[tuple[Channel, str], tuple[str, str]] = {}
        # PostgreSQL: writes whose result nobody reads (state, counters, queued replies,
        # transcript lines), sent in one pipeline before the next statement or with COMMIT
        self._deferred: list[tuple[str, dict[str, Any]]] = []

    def _execute(self, statement: Executable, params: Any = None) -> CursorResult[Any]:
        """Run a statement now (after the deferred writes, so the order is the program's)."""
        if self._deferred:
            self._pipeline()
        return self._conn.execute(statement, params)

    def _write(self, pg_sql: str, statement: Any, params: dict[str, Any]) -> None:
        """A write whose result is not needed: deferred on PostgreSQL, run now on SQLite."""
        if self._pg:
            self._deferred.append((pg_sql, params))
        else:
            self._conn.execute(statement, params)

    def _pipeline(
        self, last: tuple[str, dict[str, Any]] | None = None, *, commit: bool = False
    ) -> Any:
        """PostgreSQL: send the deferred writes, then `last`, then COMMIT if asked, in one
        round trip; return the cursor of `last`."""
        statements, self._deferred = self._deferred, []
        if last is not None:
            statements.append(last)
        cursor = pipeline(self._conn, statements, commit=commit)
        return cursor if last is not None else None

    def finish(self) -> None:
        """Before the commit: on PostgreSQL, send what is deferred together with COMMIT
        (the commit SQLAlchemy then makes finds nothing left to do)."""
        if self._pg and self._deferred:
            self._pipeline(commit=True)

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._pg else sqlite.insert)(table)

    # -- inbound ------------------------------------------------------------------------

    def claim_inbound(self, key: str, now: datetime) -> bool:
        hashes = self._keys.inbound_hashes(key)
        params = {"key_hash": hashes[0], "claimed_at": _utc(now)}
        if self._pg:
            # usually the transaction's first statement: BEGIN goes in the same round trip
            inserted = bool(self._pipeline((PG_CLAIM_INBOUND, params)).rowcount == 1)
        else:
            inserted = self._execute(self._sql.claim_inbound, params).rowcount == 1
        if inserted and len(hashes) > 1:
            # Seen before the newest key was configured?
            old = self._execute(
                select(inbound_keys.c.key_hash).where(inbound_keys.c.key_hash.in_(hashes[1:]))
            ).first()
            return old is None
        return inserted

    # -- contacts -----------------------------------------------------------------------

    def _contact_row(
        self, channel: Channel, address: str, *, lock: bool = False
    ) -> Row[Any] | _ContactRow | None:
        hashes = self._keys.address_hashes(channel, address)
        if self._pg:
            cursor = self._pipeline((PG_CONTACT_LOCKED if lock else PG_CONTACT, {"h": hashes}))
            found = cursor.fetchone()
            return None if found is None else _ContactRow._make(found)
        query = self._sql.contact_locked if lock else self._sql.contact
        return self._execute(query, {"hashes": hashes}).first()

    def _to_contact(self, row: Row[Any] | _ContactRow, address: str | None = None) -> Contact:
        """The contact of `row`; `address` when the row was looked up by it (its hash), which
        spares decrypting the stored copy."""
        channel = Channel(row.channel)
        if address is None:
            address = self._keys.decrypt(row.addr_enc)
        newest = self._keys.address_hash(channel, address)
        addr_enc = row.addr_enc
        if row.addr_hash != newest:
            # Found under an older key: re-key the contact to the newest one.
            addr_enc = self._keys.rotate(row.addr_enc)
            self._execute(
                update(contacts)
                .where(contacts.c.id == row.id)
                .values(
                    addr_hash=newest,
                    addr_enc=addr_enc,
                    state_enc=self._keys.rotate(row.state_enc),
                )
            )
        # what `enqueue` to this address in the same transaction would compute again
        self._addresses[(channel, address)] = (newest, addr_enc)
        state = ContactState.from_dict(self._keys.decrypt_json(row.state_enc))
        return Contact(
            id=row.id,
            channel=channel,
            address=address,
            state=state,
            created_at=_utc(row.created_at),
        )

    def get_or_create_contact(
        self, channel: Channel, address: str, now: datetime, *, lock: bool = False
    ) -> Contact:
        row = self._contact_row(channel, address, lock=lock)
        if row is not None:
            return self._to_contact(row, address)
        hashes = self._keys.address_hashes(channel, address)
        marked = self._execute(
            delete(optout_markers).where(optout_markers.c.addr_hash.in_(hashes))
        ).rowcount
        state = ContactState(opted_out=bool(marked))
        stmt = self._insert(contacts).values(
            channel=channel.value,
            addr_hash=hashes[0],
            addr_enc=self._keys.encrypt(address),
            state_enc=self._keys.encrypt_json(state.to_dict()),
            opted_out=state.opted_out,
            created_at=now,
            updated_at=now,
        )
        self._execute(stmt.on_conflict_do_nothing())
        # Either ours, or one another process committed a moment ago.
        row = self._contact_row(channel, address, lock=lock)
        assert row is not None
        return self._to_contact(row, address)

    def find_contact(self, channel: Channel, address: str) -> Contact | None:
        row = self._contact_row(channel, address)
        return None if row is None else self._to_contact(row, address)

    def get_contact(self, contact_id: int) -> Contact | None:
        row = self._execute(select(contacts).where(contacts.c.id == contact_id)).first()
        return None if row is None else self._to_contact(row)

    def lock_contact(self, contact_id: int) -> bool:
        if self._pg:
            self._execute(
                select(contacts.c.id).where(contacts.c.id == contact_id).with_for_update()
            )
            return True
        return False  # SQLite: BEGIN IMMEDIATE already serialises every writer.

    def save_state(self, contact_id: int, state: ContactState, now: datetime) -> None:
        self._write(
            PG_SAVE_STATE,
            self._sql.save_state,
            {
                "contact_id": contact_id,
                "state_enc": self._keys.encrypt_json(state.to_dict()),
                "opted_out": state.opted_out,
                "updated_at": _utc(now),
            },
        )

    def is_opted_out(self, channel: Channel, address: str) -> bool:
        hashes = self._keys.address_hashes(channel, address)
        flag = self._execute(
            select(contacts.c.opted_out).where(contacts.c.addr_hash.in_(hashes))
        ).scalar()
        if flag is not None:
            return bool(flag)
        found = self._execute(
            select(optout_markers).where(optout_markers.c.addr_hash.in_(hashes))
        ).first()
        if found is None:
            return False
        if found.addr_hash != hashes[0]:
            # Re-key the marker so it outlives the old key.
            self._execute(
                self._insert(optout_markers)
                .values(addr_hash=hashes[0], created_at=found.created_at)
                .on_conflict_do_nothing()
            )
            self._execute(
                delete(optout_markers).where(optout_markers.c.addr_hash == found.addr_hash)
            )
        return True

    def idle_contacts(self, older_than: datetime) -> list[int]:
        open_case = select(cases.c.id).where(
            cases.c.contact_id == contacts.c.id, cases.c.status != CaseStatus.CLOSED.value
        )
        query = select(contacts.c.id).where(contacts.c.updated_at < older_than, ~open_case.exists())
        return [int(i) for (i,) in self._execute(query)]

    def erase_contact(self, contact_id: int) -> None:
        row = self._execute(select(contacts).where(contacts.c.id == contact_id)).first()
        if row is None:
            return
        hashes = {row.addr_hash}
        newest: str | None = None
        try:
            channel = Channel(row.channel)
            address = self._keys.decrypt(row.addr_enc)
            hashes.update(self._keys.address_hashes(channel, address))
            newest = self._keys.address_hash(channel, address)
        except DecryptionError:
            logger.warning("contact %d: address unreadable with the configured keys", contact_id)
        self._execute(delete(transcripts).where(transcripts.c.contact_id == contact_id))
        self._execute(delete(cases).where(cases.c.contact_id == contact_id))
        self._execute(delete(outbox).where(outbox.c.addr_hash.in_(hashes)))
        self._execute(delete(contacts).where(contacts.c.id == contact_id))
        if row.opted_out:
            self._execute(
                self._insert(optout_markers)
                .values(addr_hash=newest or row.addr_hash, created_at=row.updated_at)
                .on_conflict_do_nothing()
            )

    # -- transcripts --------------------------------------------------------------------

    def add_transcript(
        self, contact_id: int, case_id: int | None, direction: Direction, text: str, now: datetime
    ) -> None:
        self._write(
            PG_ADD_TRANSCRIPT,
            self._sql.add_transcript,
            {
                "contact_id": contact_id,
                "case_id": case_id,
                "direction": direction.value,
                "text_enc": self._keys.encrypt(text),
                "at": _utc(now),
            },
        )

    def transcript(self, contact_id: int, limit: int = 10) -> list[TranscriptLine]:
        rows = self._execute(
            select(transcripts)
            .where(transcripts.c.contact_id == contact_id)
            .order_by(transcripts.c.id.desc())
            .limit(limit)
        ).all()
        return [
            TranscriptLine(
                direction=Direction(r.direction), text=self._keys.decrypt(r.text_enc), at=r.at
            )
            for r in reversed(rows)
        ]

    # -- cases --------------------------------------------------------------------------

    def open_case(
        self,
        contact_id: int,
        urgency: Urgency,
        reason: Reason,
        lang: Lang,
        entry_id: str | None,
        now: datetime,
    ) -> Case:
        result = self._execute(
            insert(cases).values(
                contact_id=contact_id,
                urgency=urgency.value,
                reason=reason.value,
                lang=lang.value,
                status=CaseStatus.OPEN.value,
                entry_id=entry_id,
                opened_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        case = self.get_case(int(key[0]))
        assert case is not None
        return case

    def get_case(self, case_id: int, *, lock: bool = False) -> Case | None:
        query = select(cases).where(cases.c.id == case_id)
        if lock and self._pg:
            query = query.with_for_update()
        row = self._execute(query).first()
        return None if row is None else _case(row, self._keys)

    def find_case_by_topic(self, topic_id: int) -> Case | None:
        row = self._execute(
            select(cases).where(cases.c.topic_id == topic_id).order_by(cases.c.id.desc()).limit(1)
        ).first()
        return None if row is None else _case(row, self._keys)

    def latest_case(self, contact_id: int) -> Case | None:
        row = self._execute(
            select(cases)
            .where(cases.c.contact_id == contact_id)
            .order_by(cases.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _case(row, self._keys)

    def update_case(self, case_id: int, **changes: Any) -> Case:
        values = _case_values(changes)
        if "claimed_by" in values:
            name = values.pop("claimed_by")
            values["claimed_by_enc"] = None if name is None else self._keys.encrypt(str(name))
        if values:
            result = self._execute(update(cases).where(cases.c.id == case_id).values(values))
            found = result.rowcount == 1
        else:
            found = self.get_case(case_id) is not None
        if not found:
            raise CaseNotFound(f"case {case_id} does not exist")
        case = self.get_case(case_id)
        assert case is not None
        return case

    def cases_waiting(self, now: datetime) -> list[Case]:
        rows = self._execute(
            select(cases)
            .where(cases.c.status == CaseStatus.OPEN.value)
            .order_by(cases.c.opened_at, cases.c.id)
        )
        return [_case(r, self._keys) for r in rows]

    # -- outbox, counters, samples ------------------------------------------------------

    def enqueue(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> int:
        result = self._execute(
            self._sql.enqueue, self._outbox_row(channel, address, text, now, payload)
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def enqueue_deferred(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self._write(
            PG_ENQUEUE, self._sql.enqueue, self._outbox_row(channel, address, text, now, payload)
        )

    def _outbox_row(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None,
    ) -> dict[str, Any]:
        known = self._addresses.get((channel, address))
        addr_hash, addr_enc = known or (
            self._keys.address_hash(channel, address),
            self._keys.encrypt(address),
        )
        return {
            "channel": channel.value,
            "addr_hash": addr_hash,
            "addr_enc": addr_enc,
            "text_enc": self._keys.encrypt(text),
            "payload_enc": self._keys.encrypt_json(payload) if payload else None,
            "status": "pending",
            "attempts": 0,
            "due_at": _utc(now),
            "created_at": _utc(now),
        }

    def count(
        self, name: str, now: datetime, entry_id: str | None = None, lang: Lang | None = None
    ) -> None:
        self._write(
            PG_COUNT,
            self._sql.count,
            {
                "hour": _utc(counter_hour(now)),
                "name": name,
                "entry_id": entry_id or "",
                "lang": lang.value if lang else "",
                "n": 1,
            },
        )

    def record_unmatched(self, redacted_text: str, lang: Lang, now: datetime) -> None:
        self._write(
            PG_RECORD_UNMATCHED,
            self._sql.record_unmatched,
            {"lang": lang.value, "text_enc": self._keys.encrypt(redacted_text), "at": _utc(now)},
        )


def _case_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `update_case` changes and turn enums into their stored values."""
    unknown = set(changes) - UPDATABLE_CASE_FIELDS
    if unknown:
        raise TypeError(f"update_case: Case has no field(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "status":
            value = CaseStatus(value).value
        elif name == "urgency":
            value = Urgency(value).value
        elif name == "reason":
            value = Reason(value).value
        elif name == "lang":
            value = Lang(value).value
        values[name] = value
    return values
