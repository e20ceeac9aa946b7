"""The in-memory twin of the SQL store, for fast tests and the terminal chat.

It keeps the contract's semantics (dedupe, leases, purge, erase with opt-out markers,
rollback on error) but holds plaintext in process memory and nothing on disk. Several
`MemoryStore`s may share one `MemoryDatabase`, the way processes share a database.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

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


@dataclass(slots=True)
class _ContactRow:
    channel: Channel
    address: str
    state: dict[str, object]
    created_at: datetime
    updated_at: datetime | None = None


@dataclass(slots=True)
class _TranscriptRow:
    id: int
    contact_id: int
    case_id: int | None
    line: TranscriptLine


@dataclass(slots=True)
class _OutboxRow:
    channel: Channel
    address: str | None
    text: str | None
    payload: dict[str, Any] | None
    status: str
    due_at: datetime
    created_at: datetime
    attempts: int = 0
    lease_token: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None


@dataclass(slots=True)
class _Tables:
    contacts: dict[int, _ContactRow] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)
    transcripts: list[_TranscriptRow] = field(default_factory=list)
    inbound: dict[str, datetime] = field(default_factory=dict)
    outbox: dict[int, _OutboxRow] = field(default_factory=dict)
    counters: dict[tuple[datetime, str, str, str], int] = field(default_factory=dict)
    unmatched: list[UnmatchedSample] = field(default_factory=list)
    markers: dict[tuple[Channel, str], datetime] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        n = self.next_id.get(table, 0) + 1
        self.next_id[table] = n
        return n


class MemoryDatabase:
    """The shared tables; one lock serialises transactions like SQLite's BEGIN IMMEDIATE."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables = _Tables()


class MemoryStore:
    """`Store` in process memory."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.database = database or MemoryDatabase()

    @contextmanager
    def _locked(self) -> Iterator[_Tables]:
        db = self.database
        with db.lock:
            snapshot = copy.deepcopy(db.tables)
            try:
                yield db.tables
            except BaseException:
                db.tables = snapshot
                raise

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        with self._locked() as tables:
            yield MemoryTransaction(tables)

    def claim_outbox(self, now: datetime, limit: int = 20, lease_s: float = 60) -> list[OutboxItem]:
        with self._locked() as t:
            # one recipient's messages go in order: not while an earlier one is being sent
            # by someone else or waits for its retry
            first_waiting: dict[tuple[object, object], int] = {}
            for item_id, row in sorted(t.outbox.items()):
                key = (row.channel, row.address)
                if key not in first_waiting and _unsent_not_due(row, now):
                    first_waiting[key] = item_id
            due = sorted(
                (row.due_at, item_id)
                for item_id, row in t.outbox.items()
                if (
                    (row.status == "pending" and row.due_at <= now)
                    or (
                        row.status == "leased"
                        and row.lease_until is not None
                        and row.lease_until <= now
                    )
                )
                and first_waiting.get((row.channel, row.address), item_id + 1) > item_id
            )[:limit]
            token = secrets.token_hex(16)
            items = []
            for _, item_id in sorted(due, key=lambda d: d[1]):
                row = t.outbox[item_id]
                row.status, row.lease_token = "leased", token
                row.lease_until = now + timedelta(seconds=lease_s)
                assert row.address is not None and row.text is not None
                items.append(
                    OutboxItem(
                        id=item_id,
                        channel=row.channel,
                        address=row.address,
                        text=row.text,
                        payload=copy.deepcopy(row.payload or {}),
                        attempts=row.attempts,
                    )
                )
            return items

    def _finish(self, item_id: int, status: str, *, only_leased: bool = True) -> _OutboxRow | None:
        row = self.database.tables.outbox.get(item_id)
        if row is None or (only_leased and row.status != "leased"):
            return None
        row.status, row.lease_token, row.lease_until = status, None, None
        return row

    def mark_sent(self, item_id: int, now: datetime) -> None:
        self.mark_sent_many([item_id], now)

    def mark_sent_many(self, item_ids: Sequence[int], now: datetime) -> None:
        with self._locked():
            for item_id in item_ids:
                row = self._finish(item_id, "sent", only_leased=False)
                if row is not None:
                    row.address = row.text = row.payload = None
                    row.sent_at, row.attempts = now, row.attempts + 1

    def mark_retry(self, item_id: int, retry_at: datetime, error: str) -> None:
        with self._locked():
            row = self._finish(item_id, "pending")
            if row is not None:
                row.due_at, row.attempts, row.last_error = retry_at, row.attempts + 1, error[:64]

    def release(self, item_id: int, retry_at: datetime) -> None:
        with self._locked():
            row = self._finish(item_id, "pending")
            if row is not None:
                row.due_at = retry_at

    def mark_failed(self, item_id: int, error: str) -> None:
        with self._locked():
            row = self._finish(item_id, "failed")
            if row is not None:
                row.address = row.text = row.payload = None
                row.attempts, row.last_error = row.attempts + 1, error[:64]

    def purge(self, older_than: datetime, *, now: datetime | None = None) -> PurgeResult:
        now = now or datetime.now(UTC)
        with self._locked() as t:
            old_cases = {
                c.id
                for c in t.cases.values()
                if c.status is CaseStatus.CLOSED and c.closed_at and c.closed_at < older_than
            }
            keep = [
                r
                for r in t.transcripts
                if r.line.at >= older_than and (r.case_id is None or r.case_id not in old_cases)
            ]
            n_transcripts = len(t.transcripts) - len(keep)
            t.transcripts = keep
            for case_id in old_cases:
                del t.cases[case_id]
            old_keys = [k for k, at in t.inbound.items() if at < now - INBOUND_KEY_TTL]
            for k in old_keys:
                del t.inbound[k]
            old_out = [
                i
                for i, r in t.outbox.items()
                if r.status == "sent" or (r.status == "failed" and r.created_at < older_than)
            ]
            for i in old_out:
                del t.outbox[i]
            kept = [u for u in t.unmatched if u.at >= older_than]
            n_unmatched = len(t.unmatched) - len(kept)
            t.unmatched = kept
        return PurgeResult(
            transcripts=n_transcripts,
            cases=len(old_cases),
            inbound_keys=len(old_keys),
            outbox=len(old_out),
            unmatched=n_unmatched,
        )

    def counter_totals(self, since: datetime) -> list[CounterTotal]:
        totals: dict[tuple[str, str, str], int] = {}
        with self._locked() as t:
            for (hour, name, entry, lang), n in t.counters.items():
                if hour >= counter_hour(since):
                    totals[(name, entry, lang)] = totals.get((name, entry, lang), 0) + n
        return [
            CounterTotal(name=name, entry_id=entry or None, lang=Lang(lang) if lang else None, n=n)
            for (name, entry, lang), n in sorted(totals.items())
        ]

    def unmatched_samples(self, since: datetime) -> list[UnmatchedSample]:
        with self._locked() as t:
            return [u for u in t.unmatched if u.at >= since]

    def cases_opened(self, since: datetime) -> list[Case]:
        with self._locked() as t:
            return sorted((c for c in t.cases.values() if c.opened_at >= since), key=lambda c: c.id)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


class MemoryTransaction:
    """`Transaction` on the shared tables while the database lock is held."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def claim_inbound(self, key: str, now: datetime) -> bool:
        if key in self._t.inbound:
            return False
        self._t.inbound[key] = now
        return True

    def _contact(self, contact_id: int, row: _ContactRow) -> Contact:
        return Contact(
            id=contact_id,
            channel=row.channel,
            address=row.address,
            state=ContactState.from_dict(copy.deepcopy(row.state)),
            created_at=row.created_at,
        )

    def _find(self, channel: Channel, address: str) -> int | None:
        for contact_id, row in self._t.contacts.items():
            if row.channel == channel and row.address == address:
                return contact_id
        return None

    def get_or_create_contact(
        self, channel: Channel, address: str, now: datetime, *, lock: bool = False
    ) -> Contact:
        # `lock`: the database lock is held for the whole transaction already
        contact_id = self._find(channel, address)
        if contact_id is None:
            marked = self._t.markers.pop((channel, address), None) is not None
            contact_id = self._t.new_id("contacts")
            self._t.contacts[contact_id] = _ContactRow(
                channel, address, ContactState(opted_out=marked).to_dict(), now
            )
        return self._contact(contact_id, self._t.contacts[contact_id])

    def find_contact(self, channel: Channel, address: str) -> Contact | None:
        contact_id = self._find(channel, address)
        return (
            None if contact_id is None else self._contact(contact_id, self._t.contacts[contact_id])
        )

    def get_contact(self, contact_id: int) -> Contact | None:
        row = self._t.contacts.get(contact_id)
        return None if row is None else self._contact(contact_id, row)

    def lock_contact(self, contact_id: int) -> bool:
        return False  # the database lock is held for the whole transaction

    def save_state(self, contact_id: int, state: ContactState, now: datetime) -> None:
        row = self._t.contacts.get(contact_id)
        if row is not None:
            row.state = state.to_dict()
            row.updated_at = now

    def idle_contacts(self, older_than: datetime) -> list[int]:
        busy = {c.contact_id for c in self._t.cases.values() if c.status is not CaseStatus.CLOSED}
        return [
            i
            for i, row in self._t.contacts.items()
            if (row.updated_at or row.created_at) < older_than and i not in busy
        ]

    def is_opted_out(self, channel: Channel, address: str) -> bool:
        contact_id = self._find(channel, address)
        if contact_id is not None:
            return bool(self._t.contacts[contact_id].state.get("opted_out"))
        return (channel, address) in self._t.markers

    def erase_contact(self, contact_id: int) -> None:
        row = self._t.contacts.pop(contact_id, None)
        if row is None:
            return
        self._t.transcripts = [r for r in self._t.transcripts if r.contact_id != contact_id]
        for case_id in [c.id for c in self._t.cases.values() if c.contact_id == contact_id]:
            del self._t.cases[case_id]
        for item_id in [
            i
            for i, o in self._t.outbox.items()
            if o.channel == row.channel and o.address == row.address
        ]:
            del self._t.outbox[item_id]
        if row.state.get("opted_out"):
            self._t.markers[(row.channel, row.address)] = row.created_at

    def add_transcript(
        self, contact_id: int, case_id: int | None, direction: Direction, text: str, now: datetime
    ) -> None:
        self._t.transcripts.append(
            _TranscriptRow(
                self._t.new_id("transcripts"),
                contact_id,
                case_id,
                TranscriptLine(direction, text, now),
            )
        )

    def transcript(self, contact_id: int, limit: int = 10) -> list[TranscriptLine]:
        lines = [r.line for r in self._t.transcripts if r.contact_id == contact_id]
        return lines[-limit:] if limit > 0 else []

    def open_case(
        self,
        contact_id: int,
        urgency: Urgency,
        reason: Reason,
        lang: Lang,
        entry_id: str | None,
        now: datetime,
    ) -> Case:
        case = Case(
            id=self._t.new_id("cases"),
            contact_id=contact_id,
            urgency=urgency,
            reason=reason,
            lang=lang,
            status=CaseStatus.OPEN,
            opened_at=now,
            entry_id=entry_id,
        )
        self._t.cases[case.id] = case
        return case

    def get_case(self, case_id: int, *, lock: bool = False) -> Case | None:
        return self._t.cases.get(case_id)

    def find_case_by_topic(self, topic_id: int) -> Case | None:
        found = [c for c in self._t.cases.values() if c.topic_id == topic_id]
        return max(found, key=lambda c: c.id) if found else None

    def latest_case(self, contact_id: int) -> Case | None:
        found = [c for c in self._t.cases.values() if c.contact_id == contact_id]
        return max(found, key=lambda c: c.id) if found else None

    def update_case(self, case_id: int, **changes: Any) -> Case:
        unknown = set(changes) - UPDATABLE_CASE_FIELDS
        if unknown:
            raise TypeError(f"update_case: Case has no field(s) {', '.join(sorted(unknown))}")
        case = self._t.cases.get(case_id)
        if case is None:
            raise CaseNotFound(f"case {case_id} does not exist")
        enums: dict[str, Any] = {
            "status": CaseStatus,
            "urgency": Urgency,
            "reason": Reason,
            "lang": Lang,
        }
        converted = {k: enums[k](v) if k in enums else v for k, v in changes.items()}
        case = replace(case, **converted)
        self._t.cases[case_id] = case
        return case

    def cases_waiting(self, now: datetime) -> list[Case]:
        return sorted(
            (c for c in self._t.cases.values() if c.status is CaseStatus.OPEN),
            key=lambda c: (c.opened_at, c.id),
        )

    def enqueue(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> int:
        item_id = self._t.new_id("outbox")
        self._t.outbox[item_id] = _OutboxRow(
            channel=channel,
            address=address,
            text=text,
            payload=copy.deepcopy(payload) if payload else None,
            status="pending",
            due_at=now,
            created_at=now,
        )
        return item_id

    def enqueue_deferred(
        self,
        channel: Channel,
        address: str,
        text: str,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.enqueue(channel, address, text, now, payload)

    def count(
        self, name: str, now: datetime, entry_id: str | None = None, lang: Lang | None = None
    ) -> None:
        key = (counter_hour(now), name, entry_id or "", lang.value if lang else "")
        self._t.counters[key] = self._t.counters.get(key, 0) + 1

    def record_unmatched(self, redacted_text: str, lang: Lang, now: datetime) -> None:
        self._t.unmatched.append(UnmatchedSample(redacted_text, lang, now))


def _unsent_not_due(row: Any, now: datetime) -> bool:
    if row.status == "pending":
        return bool(row.due_at > now)
    return row.status == "leased" and row.lease_until is not None and row.lease_until > now
