"""The storage contract: what the bot keeps, as a Protocol every backend implements.

Addresses (phone numbers, Telegram chat ids) and texts cross this boundary in plaintext
and are hashed or encrypted inside the backend; nothing here is ever logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.errors import HotlineError
from bot.models import Channel, ContactState, Lang, Reason, Urgency

# Inbound de-duplication keys are kept this long, whatever the retention setting.
INBOUND_KEY_TTL = timedelta(days=7)

# The names the router service counts with `Transaction.count`.
COUNTER_NAMES = (
    "answered",
    "unknown",
    "escalated",
    "opted_out",
    "opted_in",
    "deleted",
    "offered_choice",
)


# The fields `Transaction.update_case` may change.
UPDATABLE_CASE_FIELDS = frozenset(
    {
        "urgency",
        "reason",
        "lang",
        "status",
        "entry_id",
        "opened_at",  # a reopened case waits for a claim again from then
        "topic_id",
        "card_message_id",
        "claimed_by",
        "claimed_at",
        "closed_at",
        "repaged_at",
    }
)


def counter_hour(at: datetime) -> datetime:
    """Counters are kept per hour: the start of the UTC hour `at` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class CaseNotFound(HotlineError, LookupError):
    """`update_case` was given the number of a case that does not exist (any more)."""


class CaseStatus(StrEnum):
    OPEN = "open"  # waiting for a volunteer
    CLAIMED = "claimed"  # a volunteer has it
    CLOSED = "closed"


class Direction(StrEnum):
    IN = "in"  # member -> hotline
    OUT = "out"  # hotline (bot or volunteer) -> member
    NOTE = "note"  # internal volunteer note, never relayed


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    channel: Channel
    address: str  # decrypted, in memory only
    state: ContactState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Case:
    id: int  # also the case number shown to volunteers
    contact_id: int
    urgency: Urgency
    reason: Reason
    lang: Lang
    status: CaseStatus
    opened_at: datetime
    entry_id: str | None = None
    topic_id: int | None = None  # Telegram forum topic (message_thread_id)
    card_message_id: int | None = None
    claimed_by: str | None = None  # volunteer's display name, for the card only
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    repaged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    direction: Direction
    text: str  # decrypted
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbound message that is not an immediate webhook reply."""

    id: int
    channel: Channel  # SMS or TELEGRAM
    address: str  # decrypted: phone number or chat id
    text: str  # decrypted
    payload: dict[str, Any] = field(default_factory=dict)  # e.g. message_thread_id, reply_markup
    attempts: int = 0  # failed attempts so far


@dataclass(frozen=True, slots=True)
class PurgeResult:
    transcripts: int = 0
    cases: int = 0
    inbound_keys: int = 0
    outbox: int = 0
    unmatched: int = 0


@dataclass(frozen=True, slots=True)
class CounterTotal:
    """The sum of one report counter over a period, per FAQ entry and language."""

    name: str
    entry_id: str | None
    lang: Lang | None
    n: int


@dataclass(frozen=True, slots=True)
class UnmatchedSample:
    text: str  # redacted before it was stored; decrypted
    lang: Lang
    at: datetime


class Transaction(Protocol):
    """Everything done inside one `Store.transaction()` commits or rolls back together."""

    def claim_inbound(self, key: str, now: datetime) -> bool:
        """Record a provider event id ("sms:SM..", "tg:123"); False if it was seen before."""
        ...

    def get_or_create_contact(
        self, channel: Channel, address: str, now: datetime, *, lock: bool = False
    ) -> Contact:
        """The contact, created if new. A new contact that had opted out before erasing its
        data starts opted out (its hashed marker is folded into the new contact).

        With `lock`, concurrent messages of the contact are serialised as by `lock_contact`,
        in the same statement (SELECT ... FOR UPDATE on PostgreSQL), and the state returned
        is the one read under the lock."""
        ...

    def find_contact(self, channel: Channel, address: str) -> Contact | None: ...

    def get_contact(self, contact_id: int) -> Contact | None: ...

    def lock_contact(self, contact_id: int) -> bool:
        """Serialise concurrent messages of one contact (row lock on PostgreSQL).

        True when the row was locked just now, so what was read before may be stale; False
        when the whole transaction was already exclusive (SQLite, memory)."""
        ...

    def save_state(self, contact_id: int, state: ContactState, now: datetime) -> None: ...

    def is_opted_out(self, channel: Channel, address: str) -> bool:
        """True for an opted-out contact, also one that erased itself (hashed marker)."""
        ...

    def idle_contacts(self, older_than: datetime) -> list[int]:
        """Contacts silent since `older_than` with no open case (retention expires them)."""
        ...

    def erase_contact(self, contact_id: int) -> None:
        """Delete-my-data: remove everything about the contact; keep only a hashed opt-out
        marker if it had opted out."""
        ...

    def add_transcript(
        self, contact_id: int, case_id: int | None, direction: Direction, text: str, now: datetime
    ) -> None: ...

    def transcript(self, contact_id: int, limit: int = 10) -> list[TranscriptLine]:
        """The contact's last `limit` lines, oldest first."""
        ...

    def open_case(
        self,
        contact_id: int,
        urgency: Urgency,
        reason: Reason,
        lang: Lang,
        entry_id: str | None,
        now: datetime,
    ) -> Case: ...

    def get_case(self, case_id: int, *, lock: bool = False) -> Case | None: ...

    def find_case_by_topic(self, topic_id: int) -> Case | None: ...

    def latest_case(self, contact_id: int) -> Case | None: ...

    def update_case(self, case_id: int, **changes: Any) -> Case:
        """Change fields of `Case` (status, topic_id, claimed_by, ...) and return it; raise
        CaseNotFound for an unknown case and TypeError for a field `Case` does not have."""
        ...

    def cases_waiting(self, now: datetime) -> list[Case]:
        """Open (unclaimed) cases, oldest first, for the re-page timer."""
        ...

    def enqueue(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> int: ...

    def enqueue_deferred(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """`enqueue` for a caller that does not need the item's id: the SQL store may send
        the insert together with the commit instead of waiting for it."""
        ...

    def count(
        self, name: str, now: datetime, entry_id: str | None = None, lang: Lang | None = None
    ) -> None:
        """Add one to a report counter (answered, escalated, opted_out, deleted, ...)."""
        ...

    def record_unmatched(self, redacted_text: str, lang: Lang, now: datetime) -> None:
        """Keep an unmatched question for reports; the caller has already redacted it."""
        ...


class Store(Protocol):
    """A backend: in-memory twin, SQLite or PostgreSQL."""

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def claim_outbox(self, now: datetime, limit: int = 20, lease_s: float = 60) -> list[OutboxItem]:
        """Lease due outbox items so no other worker takes them (SKIP LOCKED on PostgreSQL)."""
        ...

    def mark_sent(self, item_id: int, now: datetime) -> None:
        """Record delivery; the body, address and payload are wiped at once."""
        ...

    def mark_sent_many(self, item_ids: Sequence[int], now: datetime) -> None:
        """`mark_sent` for several items in one transaction (the worker records the sends
        that finished while the previous recording ran)."""
        ...

    def mark_retry(self, item_id: int, retry_at: datetime, error: str) -> None:
        """Give the item back for a later attempt; `error` is a class name, never a body.

        Only a still-leased item is given back, so a slow worker whose lease ran out
        cannot revive an item another worker has already sent."""
        ...

    def mark_failed(self, item_id: int, error: str) -> None:
        """Give up on an item (permanent provider error); its body is wiped."""
        ...

    def release(self, item_id: int, retry_at: datetime) -> None:
        """Give a leased item back unattempted (the channel is paused); no attempt is counted."""
        ...

    def purge(self, older_than: datetime, *, now: datetime | None = None) -> PurgeResult:
        """Delete transcripts, closed cases and unmatched samples older than `older_than`,
        inbound keys older than `INBOUND_KEY_TTL` before `now`, sent outbox rows and failed
        ones older than `older_than`."""
        ...

    def counter_totals(self, since: datetime) -> list[CounterTotal]:
        """Counter sums since `since` (to the hour), for reports."""
        ...

    def unmatched_samples(self, since: datetime) -> list[UnmatchedSample]:
        """Redacted unmatched questions since `since`, oldest first."""
        ...

    def cases_opened(self, since: datetime) -> list[Case]:
        """Cases opened since `since`, oldest first (escalations and time to claim)."""
        ...

    def ping(self) -> bool:
        """True when the database answers."""
        ...

    def close(self) -> None: ...
