"""The SQL tables (SQLAlchemy Core) shared by SQLite and PostgreSQL; migrations create them.

Privacy: no column holds an address or a message body in plaintext. `*_hash` columns are
HMAC-SHA256 (hex) under a key derived from HOTLINE_SECRET_KEY; `*_enc` columns are Fernet
tokens. What stays readable is what the bot needs to run SQL on: channels, timestamps,
case status/urgency/reason/language, FAQ entry ids, counters and the opt-out flag.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive storage) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: storage needs timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

HASH = String(64)  # hex HMAC-SHA256

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("addr_hash", HASH, nullable=False, unique=True),  # HMAC of "channel:address"
    Column("addr_enc", Text, nullable=False),
    Column("state_enc", Text, nullable=False),  # ContactState JSON
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("entry_id", String(128)),
    Column("topic_id", BigInteger),
    Column("card_message_id", BigInteger),
    Column("claimed_by_enc", Text),  # a volunteer's name is personal data too
    Column("opened_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("repaged_at", UTCDateTime),
    Index(None, "contact_id"),
    Index(None, "status", "opened_at"),
    Index(None, "topic_id"),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

transcripts = Table(
    "transcripts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE")),
    Column("direction", String(8), nullable=False),
    Column("text_enc", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "contact_id", "id"),
    Index(None, "case_id"),
    Index(None, "at"),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

inbound_keys = Table(
    "inbound_keys",
    metadata,
    Column("key_hash", HASH, primary_key=True),  # HMAC of the provider's event id
    Column("claimed_at", UTCDateTime, nullable=False),
    Index(None, "claimed_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("addr_hash", HASH, nullable=False),  # so delete-my-data finds queued messages
    # Body, address and payload are wiped (NULL) once sent; purge deletes the row.
    Column("addr_enc", Text),
    Column("text_enc", Text),
    Column("payload_enc", Text),
    Column("status", String(16), nullable=False),  # pending, leased, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("lease_token", String(32)),
    Column("lease_until", UTCDateTime),
    Column("last_error", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "status", "due_at"),
    Index(None, "addr_hash"),
    Index(None, "lease_token"),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

counters = Table(
    "counters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hour", UTCDateTime, nullable=False),  # the hour the events happened in
    Column("name", String(32), nullable=False),
    Column("entry_id", String(128), nullable=False, default=""),  # "" = none
    Column("lang", String(8), nullable=False, default=""),  # "" = unknown
    Column("n", Integer, nullable=False, default=0),
    UniqueConstraint("hour", "name", "entry_id", "lang"),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

unmatched = Table(
    "unmatched",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("lang", String(8), nullable=False),
    Column("text_enc", Text, nullable=False),  # redacted by the caller, encrypted all the same
    Column("at", UTCDateTime, nullable=False),
    Index(None, "at"),
    sqlite_autoincrement=True,  # never reuse an id (case numbers are shown)
)

optout_markers = Table(
    "optout_markers",
    metadata,
    # The address hash of a contact that opted out and then erased its data, so its STOP
    # is honoured forever; nothing else about it remains.
    Column("addr_hash", HASH, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

ALL_TABLES = (
    transcripts,
    cases,
    outbox,
    inbound_keys,
    counters,
    unmatched,
    optout_markers,
    contacts,
)
