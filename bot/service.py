"""The hotline as one operation: take an inbound message, run the core inside one storage
transaction (dedupe, contact, state, counters, escalation), return the replies.

Every channel (SMS, Telegram, terminal) calls `Hotline.handle`; the handoff to volunteers
plugs in through the `Escalations` protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.models import Event, EventKind, Inbound, Lang, Outcome, Reason, Reply, Urgency
from bot.ratelimit import RateLimiter
from bot.redact import redact
from bot.router import Router
from bot.storage.base import Contact, Direction, Store, Transaction

logger = logging.getLogger(__name__)

COUNTED = {
    EventKind.ANSWERED: "answered",
    EventKind.UNKNOWN: "unknown",
    EventKind.OFFERED_CHOICE: "offered_choice",
    EventKind.ESCALATED: "escalated",
    EventKind.OPTED_OUT: "opted_out",
    EventKind.OPTED_IN: "opted_in",
    EventKind.DELETED: "deleted",
}


class Escalations(Protocol):
    """What the volunteer handoff does inside the member's transaction."""

    def available(self) -> bool:
        """Can a volunteer be reached at all (group configured)?"""
        ...

    def escalate(
        self, tx: Transaction, contact: Contact, event: Event, msg: Inbound, now: datetime
    ) -> int | None:
        """Open (or reopen) a case; return its id to put the member in volunteer mode."""
        ...

    def relay(self, tx: Transaction, contact: Contact, msg: Inbound, now: datetime) -> bool:
        """Pass a member message to the volunteer's topic (reopening a case closed within the
        reopen window); False if the case is over: the bot then answers the message itself."""
        ...

    def forget(self, tx: Transaction, contact: Contact, now: datetime) -> None:
        """The member confirmed delete-my-data: remove what the volunteers' side holds (the
        case topic), before the contact's rows are erased in the same transaction."""
        ...


@dataclass(frozen=True, slots=True)
class Handled:
    """The result of one inbound message."""

    replies: tuple[Reply, ...]
    events: tuple[Event, ...] = ()
    duplicate: bool = False


class Hotline:
    """Router + storage (+ handoff). Thread-safe; one per process."""

    def __init__(
        self,
        router: Callable[[], Router],
        store: Store,
        *,
        escalations: Escalations | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
    ) -> None:
        self._router = router  # a callable, so a hot reload swaps the FAQ under running code
        self.store = store
        self.escalations = escalations
        self.clock = clock
        self.limiter = limiter or RateLimiter()

    @property
    def router(self) -> Router:
        return self._router()

    def handle(self, msg: Inbound, *, via_outbox: bool = False) -> Handled:
        """Handle one message. With `via_outbox`, the replies are also queued in the outbox
        in the same transaction as the state change (channels that send by API: nothing is
        lost if the process dies before sending); otherwise the caller sends them (TwiML)."""
        now = self.clock()
        router = self.router
        verdict = self.limiter.check(f"{msg.channel}:{msg.sender}", now)
        if verdict != "allow":
            return self._throttled(msg, verdict, now, router, via_outbox)
        with self.store.transaction() as tx:
            if msg.provider_id and not tx.claim_inbound(f"{msg.channel}:{msg.provider_id}", now):
                logger.info("duplicate %s delivery ignored", msg.channel)
                return Handled((), duplicate=True)
            # read under the contact's lock: its state is fresh even if another process
            # handled the member's previous message a moment ago
            contact = tx.get_or_create_contact(msg.channel, msg.sender, now, lock=True)
            outcome = router.handle(msg, contact.state, now)
            if self._case_over(tx, contact, msg, outcome, now):
                # the case was closed too long ago (or erased): the bot answers this message
                outcome = router.handle(msg, replace(contact.state, case_id=None), now)
            outcome = self._after(tx, contact, msg, outcome, now)
            if via_outbox:  # after an erase too: the confirmation must still go out
                for reply in outcome.replies:
                    tx.enqueue_deferred(
                        msg.channel, msg.sender, reply.text, now, payload=reply_payload(reply)
                    )
        self._log(msg, outcome)
        return Handled(outcome.replies, outcome.events)

    def _case_over(
        self, tx: Transaction, contact: Contact, msg: Inbound, outcome: Outcome, now: datetime
    ) -> bool:
        """Relay a message the router left to the volunteers; True if no case takes it."""
        if not any(e.kind is EventKind.RELAYED for e in outcome.events):
            return False
        return self.escalations is None or not self.escalations.relay(tx, contact, msg, now)

    def _after(
        self, tx: Transaction, contact: Contact, msg: Inbound, outcome: Outcome, now: datetime
    ) -> Outcome:
        state = outcome.state
        replies = outcome.replies
        for event in outcome.events:
            name = COUNTED.get(event.kind)
            if name:
                tx.count(name, now, entry_id=event.entry_id, lang=event.lang)
            if event.kind is EventKind.UNKNOWN and msg.text.strip():
                lang = event.lang or state.lang or Lang.EN
                tx.record_unmatched(redact(msg.text)[:500], lang, now)
        if outcome.erase:
            if self.escalations is not None:
                self.escalations.forget(tx, contact, now)
            tx.erase_contact(contact.id)
            return outcome
        escalation = next((e for e in outcome.events if e.kind is EventKind.ESCALATED), None)
        if escalation is not None:
            if self.escalations is not None and self.escalations.available():
                case_id = self.escalations.escalate(tx, contact, escalation, msg, now)
                if case_id is not None:
                    state.case_id = str(case_id)
            else:
                # no volunteer group: keep the case for reports and follow-up by phone
                tx.open_case(
                    contact.id,
                    escalation.urgency,
                    escalation.reason or Reason.REQUESTED,
                    escalation.lang or state.lang or Lang.EN,
                    escalation.entry_id,
                    now,
                )
        if state.case_id is not None or escalation is not None:
            # the conversation around a case is kept (encrypted) for the volunteer
            if msg.text.strip():
                tx.add_transcript(contact.id, _int(state.case_id), Direction.IN, msg.text, now)
            for reply in replies:
                tx.add_transcript(contact.id, _int(state.case_id), Direction.OUT, reply.text, now)
        tx.save_state(contact.id, state, now)
        return Outcome(replies, outcome.events, state, outcome.erase)

    def _throttled(
        self, msg: Inbound, verdict: str, now: datetime, router: Router, via_outbox: bool
    ) -> Handled:
        """Over the per-sender limit: one polite notice, then silence until it calms down."""
        logger.warning("%s sender over the rate limit: %s", msg.channel.value, verdict)
        if verdict != "notice":
            return Handled((), (Event(EventKind.IGNORED),))
        with self.store.transaction() as tx:
            if msg.provider_id and not tx.claim_inbound(f"{msg.channel}:{msg.provider_id}", now):
                return Handled((), duplicate=True)
            contact = tx.find_contact(msg.channel, msg.sender)
            if contact is not None and contact.state.opted_out:
                return Handled(())
            lang = (contact.state.lang if contact else None) or msg.lang_hint or Lang.EN
            reply = Reply(router.t(lang, "rate-limited"))
            if via_outbox:
                tx.enqueue_deferred(msg.channel, msg.sender, reply.text, now)
        return Handled((reply,), (Event(EventKind.IGNORED),))

    @staticmethod
    def _log(msg: Inbound, outcome: Outcome) -> None:
        # never the text, never the address: only what happened
        kinds = ",".join(e.kind.value for e in outcome.events) or "none"
        urgent = any(e.urgency is Urgency.URGENT for e in outcome.events)
        logger.info(
            "%s message handled: events=%s urgent=%s replies=%d",
            msg.channel.value,
            kinds,
            urgent,
            len(outcome.replies),
        )


def reply_payload(reply: Reply) -> dict[str, object]:
    """What an API channel needs besides the text to render a reply (buttons)."""
    if not reply.options:
        return {}
    return {
        "body": reply.body,
        "options": [[o.key, o.label, o.action] for o in reply.options],
    }


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
