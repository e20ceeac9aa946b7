"""The storage contract, run against every backend: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.models import Channel, ContactState, Lang, Reason, Urgency
from bot.storage import SqlStore
from bot.storage.base import (
    CaseNotFound,
    CaseStatus,
    CounterTotal,
    Direction,
    PurgeResult,
    Store,
)

from .support import KEY_A, KEY_B, NOW, PHONE, StoreFactory

# -- contacts and state -----------------------------------------------------------------


def test_get_or_create_contact_is_stable(store: Store) -> None:
    with store.transaction() as tx:
        a = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        again = tx.get_or_create_contact(Channel.SMS, PHONE, NOW + timedelta(minutes=1))
        other = tx.get_or_create_contact(Channel.TELEGRAM, PHONE, NOW)
    assert a.id == again.id != other.id
    assert a.address == PHONE and a.channel is Channel.SMS
    assert a.state == ContactState()
    assert a.created_at == NOW
    with store.transaction() as tx:
        found = tx.find_contact(Channel.SMS, PHONE)
        assert found is not None and found.id == a.id
        assert tx.get_contact(a.id) == found
        assert tx.find_contact(Channel.SMS, "+15550000000") is None
        assert tx.get_contact(999_999) is None


def test_state_round_trip(store: Store) -> None:
    state = ContactState(
        lang=Lang.ES,
        welcomed=True,
        options=["entry:ice-home", "entry:detained"],
        last_entry="ice-home",
        more=["parte 2 ñ ü", "parte 3"],
        last_reply_key="menu",
        last_reply_at=NOW,
        case_id="12",
    )
    with store.transaction() as tx:
        contact = tx.get_or_create_contact(Channel.TELEGRAM, "123456789", NOW)
        tx.lock_contact(contact.id)
        tx.save_state(contact.id, state, NOW)
    with store.transaction() as tx:
        loaded = tx.get_contact(contact.id)
    assert loaded is not None
    assert loaded.state == state


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        tx.claim_inbound("sms:SM1", NOW)
        tx.enqueue(Channel.SMS, PHONE, "hello", NOW)
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert tx.find_contact(Channel.SMS, PHONE) is None
        assert tx.claim_inbound("sms:SM1", NOW)
    assert store.claim_outbox(NOW) == []


# -- inbound de-duplication -------------------------------------------------------------


def test_claim_inbound_once(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.claim_inbound("sms:SM1", NOW)
        assert not tx.claim_inbound("sms:SM1", NOW)
        assert tx.claim_inbound("tg:1", NOW)
    with store.transaction() as tx:
        assert not tx.claim_inbound("sms:SM1", NOW + timedelta(days=1))


# -- opt-out and delete-my-data ---------------------------------------------------------


def _opt_out(store: Store, address: str = PHONE) -> int:
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, address, NOW)
        tx.save_state(c.id, ContactState(lang=Lang.EN, opted_out=True), NOW)
        return c.id


def test_opt_out_flag(store: Store) -> None:
    with store.transaction() as tx:
        assert not tx.is_opted_out(Channel.SMS, PHONE)
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        assert not tx.is_opted_out(Channel.SMS, PHONE)
    _opt_out(store)
    with store.transaction() as tx:
        assert tx.is_opted_out(Channel.SMS, PHONE)
        assert not tx.is_opted_out(Channel.TELEGRAM, PHONE)
        tx.save_state(c.id, ContactState(opted_out=False), NOW)
        assert not tx.is_opted_out(Channel.SMS, PHONE)


def _fill(store: Store, contact_id: int) -> int:
    with store.transaction() as tx:
        case = tx.open_case(contact_id, Urgency.URGENT, Reason.ICE_PRESENT, Lang.ES, None, NOW)
        tx.add_transcript(contact_id, case.id, Direction.IN, "la migra está aquí", NOW)
        tx.add_transcript(contact_id, case.id, Direction.OUT, "no abra la puerta", NOW)
        tx.enqueue(Channel.SMS, PHONE, "un voluntario le escribe", NOW)
        return case.id


def test_erase_removes_everything_but_keeps_opt_out_marker(store_factory: StoreFactory) -> None:
    store = store_factory()
    contact_id = _opt_out(store)
    case_id = _fill(store, contact_id)
    with store.transaction() as tx:
        tx.enqueue(Channel.SMS, "+15550001111", "someone else", NOW)
        tx.erase_contact(contact_id)
    with store.transaction() as tx:
        assert tx.get_contact(contact_id) is None
        assert tx.find_contact(Channel.SMS, PHONE) is None
        assert tx.get_case(case_id) is None
        assert tx.latest_case(contact_id) is None
        assert tx.transcript(contact_id) == []
        assert tx.cases_waiting(NOW) == []
        # The STOP is honoured forever, also by another process.
        assert tx.is_opted_out(Channel.SMS, PHONE)
    with store_factory().transaction() as tx:
        assert tx.is_opted_out(Channel.SMS, PHONE)
    assert [i.text for i in store.claim_outbox(NOW)] == ["someone else"]


def test_contact_back_after_erase_stays_opted_out(store: Store) -> None:
    contact_id = _opt_out(store)
    with store.transaction() as tx:
        tx.erase_contact(contact_id)
    with store.transaction() as tx:
        again = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        assert again.id != contact_id
        assert again.state.opted_out
        assert tx.is_opted_out(Channel.SMS, PHONE)
        # START: the member opts back in; nothing else remembers the old STOP.
        tx.save_state(again.id, ContactState(opted_out=False), NOW)
    with store.transaction() as tx:
        assert not tx.is_opted_out(Channel.SMS, PHONE)
        tx.erase_contact(again.id)
    with store.transaction() as tx:
        assert not tx.is_opted_out(Channel.SMS, PHONE)


def test_erase_without_opt_out_leaves_no_marker(store: Store) -> None:
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
    _fill(store, c.id)
    with store.transaction() as tx:
        tx.erase_contact(c.id)
        tx.erase_contact(c.id)  # twice is harmless
    with store.transaction() as tx:
        assert not tx.is_opted_out(Channel.SMS, PHONE)
        assert tx.get_or_create_contact(Channel.SMS, PHONE, NOW).state == ContactState()
    assert store.claim_outbox(NOW) == []


# -- transcripts and cases --------------------------------------------------------------


def test_transcript_last_lines_oldest_first(store: Store) -> None:
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        for i in range(15):
            tx.add_transcript(c.id, None, Direction.IN, f"line {i}", NOW + timedelta(seconds=i))
        tx.add_transcript(c.id, None, Direction.NOTE, "volunteer note", NOW + timedelta(hours=1))
    with store.transaction() as tx:
        lines = tx.transcript(c.id, limit=3)
    assert [line.text for line in lines] == ["line 13", "line 14", "volunteer note"]
    assert lines[-1].direction is Direction.NOTE
    assert lines[0].at == NOW + timedelta(seconds=13)


def test_cases(store: Store) -> None:
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.TELEGRAM, "42", NOW)
        first = tx.open_case(c.id, Urgency.NORMAL, Reason.REQUESTED, Lang.EN, "work-permit", NOW)
        second = tx.open_case(
            c.id, Urgency.URGENT, Reason.DETAINED, Lang.ES, None, NOW + timedelta(minutes=1)
        )
    assert first.status is CaseStatus.OPEN and first.entry_id == "work-permit"
    assert first.opened_at == NOW and first.claimed_by is None
    with store.transaction() as tx:
        assert [x.id for x in tx.cases_waiting(NOW)] == [first.id, second.id]
        assert tx.latest_case(c.id) == second
        updated = tx.update_case(
            first.id,
            status=CaseStatus.CLAIMED,
            claimed_by="Rosa M.",
            claimed_at=NOW + timedelta(seconds=90),
            topic_id=7001,
            card_message_id=55,
        )
        assert updated.status is CaseStatus.CLAIMED
        assert updated.claimed_by == "Rosa M."
        assert updated.claimed_at == NOW + timedelta(seconds=90)
        assert tx.get_case(first.id, lock=True) == updated
        assert tx.find_case_by_topic(7001) == updated
        assert tx.find_case_by_topic(1) is None
        assert [x.id for x in tx.cases_waiting(NOW)] == [second.id]
        closed = tx.update_case(second.id, status="closed", closed_at=NOW + timedelta(hours=1))
        assert closed.status is CaseStatus.CLOSED
        assert tx.update_case(second.id).closed_at == NOW + timedelta(hours=1)
        with pytest.raises(CaseNotFound):
            tx.update_case(999_999, status=CaseStatus.CLOSED)
        with pytest.raises(TypeError):
            tx.update_case(first.id, contact_id=3)
    assert [x.id for x in store.cases_opened(NOW)] == [first.id, second.id]
    assert store.cases_opened(NOW + timedelta(seconds=1)) == [closed]


def test_reopened_case_waits_again(store: Store) -> None:
    """Reopening a closed case (the volunteer desk) moves opened_at and clears the claim."""
    later = NOW + timedelta(hours=2)
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        case = tx.open_case(c.id, Urgency.NORMAL, Reason.REQUESTED, Lang.ES, None, NOW)
        tx.update_case(
            case.id, status=CaseStatus.CLAIMED, claimed_by="Ana", claimed_at=NOW, repaged_at=NOW
        )
        tx.update_case(case.id, status=CaseStatus.CLOSED, closed_at=NOW + timedelta(hours=1))
    with store.transaction() as tx:
        reopened = tx.update_case(
            case.id,
            status=CaseStatus.OPEN,
            opened_at=later,
            claimed_by=None,
            claimed_at=None,
            closed_at=None,
            repaged_at=None,
        )
        assert reopened.opened_at == later and reopened.claimed_by is None
        assert reopened.closed_at is None and reopened.repaged_at is None
        assert [x.id for x in tx.cases_waiting(later)] == [case.id]
    assert store.cases_opened(later) == [reopened]


# -- counters and samples ---------------------------------------------------------------


def test_counters(store: Store) -> None:
    with store.transaction() as tx:
        tx.count("answered", NOW, "ice-home", Lang.EN)
        tx.count("answered", NOW + timedelta(minutes=5), "ice-home", Lang.EN)
        tx.count("answered", NOW + timedelta(hours=2), "ice-home", Lang.EN)
        tx.count("answered", NOW, "ice-home", Lang.ES)
        tx.count("unknown", NOW, None, Lang.ES)
        tx.count("deleted", NOW)
        tx.count("answered", NOW - timedelta(days=10), "old", Lang.EN)
    totals = store.counter_totals(NOW - timedelta(days=1))
    assert sorted(totals, key=lambda t: (t.name, t.entry_id or "", t.lang or "")) == [
        CounterTotal("answered", "ice-home", Lang.EN, 3),
        CounterTotal("answered", "ice-home", Lang.ES, 1),
        CounterTotal("deleted", None, None, 1),
        CounterTotal("unknown", None, Lang.ES, 1),
    ]


def test_unmatched_samples(store: Store) -> None:
    with store.transaction() as tx:
        tx.record_unmatched("can [PHONE] get a visa", Lang.EN, NOW)
        tx.record_unmatched("¿puedo viajar?", Lang.ES, NOW + timedelta(minutes=1))
    samples = store.unmatched_samples(NOW)
    assert [(s.text, s.lang, s.at) for s in samples] == [
        ("can [PHONE] get a visa", Lang.EN, NOW),
        ("¿puedo viajar?", Lang.ES, NOW + timedelta(minutes=1)),
    ]
    assert store.unmatched_samples(NOW + timedelta(hours=1)) == []


# -- outbox -----------------------------------------------------------------------------


def test_outbox_lifecycle(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.enqueue(Channel.SMS, PHONE, "hola", NOW, {"thread": 5})
        second = tx.enqueue(Channel.TELEGRAM, "42", "hi", NOW + timedelta(seconds=1))
    assert store.claim_outbox(NOW - timedelta(seconds=1)) == []  # nothing due yet
    items = store.claim_outbox(NOW + timedelta(seconds=1), lease_s=30)
    assert [(i.id, i.channel, i.address, i.text, i.payload, i.attempts) for i in items] == [
        (first, Channel.SMS, PHONE, "hola", {"thread": 5}, 0),
        (second, Channel.TELEGRAM, "42", "hi", {}, 0),
    ]
    # Leased: nobody else gets them until the lease runs out.
    assert store.claim_outbox(NOW + timedelta(seconds=20)) == []
    store.mark_sent(first, NOW + timedelta(seconds=2))
    store.mark_retry(second, NOW + timedelta(minutes=5), "DeliveryError")
    assert store.claim_outbox(NOW + timedelta(minutes=4)) == []
    again = store.claim_outbox(NOW + timedelta(minutes=5))
    assert [(i.id, i.attempts) for i in again] == [(second, 1)]
    store.mark_failed(second, "DeliveryError")
    assert store.claim_outbox(NOW + timedelta(days=1)) == []
    # A late retry from a worker whose lease ran out cannot revive a finished item.
    store.mark_retry(first, NOW, "TimeoutError")
    store.mark_retry(second, NOW, "TimeoutError")
    assert store.claim_outbox(NOW + timedelta(days=1)) == []


def test_mark_sent_many_records_several_sends_at_once(store: Store) -> None:
    with store.transaction() as tx:
        ids = [tx.enqueue(Channel.TELEGRAM, str(40 + i), f"m{i}", NOW) for i in range(3)]
    assert [i.id for i in store.claim_outbox(NOW)] == ids
    store.mark_sent_many(ids[:2], NOW)
    store.mark_sent_many([], NOW)
    # the third is still leased; once its lease runs out it comes back, alone
    assert [i.id for i in store.claim_outbox(NOW + timedelta(minutes=2))] == ids[2:]
    store.mark_sent_many(ids[2:], NOW)
    assert store.claim_outbox(NOW + timedelta(days=1)) == []


def test_outbox_expired_lease_is_claimed_again(store: Store) -> None:
    with store.transaction() as tx:
        item_id = tx.enqueue(Channel.SMS, PHONE, "hola", NOW)
    assert [i.id for i in store.claim_outbox(NOW, lease_s=60)] == [item_id]
    assert store.claim_outbox(NOW + timedelta(seconds=59)) == []
    assert [i.id for i in store.claim_outbox(NOW + timedelta(seconds=61))] == [item_id]


def test_outbox_release_counts_no_attempt(store: Store) -> None:
    with store.transaction() as tx:
        item_id = tx.enqueue(Channel.SMS, PHONE, "hola", NOW)
    store.claim_outbox(NOW)
    store.release(item_id, NOW + timedelta(seconds=30))
    assert store.claim_outbox(NOW + timedelta(seconds=29)) == []
    assert [(i.id, i.attempts) for i in store.claim_outbox(NOW + timedelta(seconds=30))] == [
        (item_id, 0)
    ]


def test_outbox_claim_limit_and_order(store: Store) -> None:
    with store.transaction() as tx:
        ids = [
            tx.enqueue(Channel.SMS, f"+1617555020{i}", f"m{i}", NOW + timedelta(seconds=i))
            for i in range(5)
        ]
    got = store.claim_outbox(NOW + timedelta(minutes=1), limit=3)
    assert [i.id for i in got] == ids[:3]
    assert [i.id for i in store.claim_outbox(NOW + timedelta(minutes=1), limit=3)] == ids[3:]


def test_outbox_keeps_one_recipients_messages_in_order(store: Store) -> None:
    """A recipient's later message is not claimed while an earlier one is being sent by
    another worker or waits for its retry; other recipients are not held up."""
    with store.transaction() as tx:
        first, second = (tx.enqueue(Channel.SMS, PHONE, t, NOW) for t in ("m0", "m1"))
        other = tx.enqueue(Channel.SMS, "+16175550299", "x", NOW)
    later = NOW + timedelta(seconds=1)
    assert [i.id for i in store.claim_outbox(later, limit=1)] == [first]
    assert [i.id for i in store.claim_outbox(later)] == [other]  # m1 waits for m0
    store.mark_retry(first, later + timedelta(seconds=30), "DeliveryError")
    assert store.claim_outbox(later) == []  # m0 waits for its retry; m1 behind it
    due = later + timedelta(seconds=31)
    assert [i.id for i in store.claim_outbox(due)] == [first, second]


# -- retention --------------------------------------------------------------------------


def test_purge(store: Store) -> None:
    old = NOW - timedelta(days=40)
    cutoff = NOW - timedelta(days=30)
    with store.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, PHONE, old)
        old_case = tx.open_case(c.id, Urgency.NORMAL, Reason.REQUESTED, Lang.EN, None, old)
        tx.update_case(old_case.id, status=CaseStatus.CLOSED, closed_at=old)
        open_case = tx.open_case(c.id, Urgency.URGENT, Reason.DETAINED, Lang.EN, None, old)
        tx.add_transcript(c.id, old_case.id, Direction.IN, "old", old)
        tx.add_transcript(c.id, None, Direction.IN, "new", NOW)
        # A recent line of the old closed case goes with its case.
        tx.add_transcript(c.id, old_case.id, Direction.NOTE, "late note", NOW)
        tx.claim_inbound("sms:old", NOW - timedelta(days=8))
        tx.claim_inbound("sms:new", NOW - timedelta(days=6))
        sent = tx.enqueue(Channel.SMS, PHONE, "sent", NOW)
        failed_old = tx.enqueue(Channel.SMS, PHONE, "failed old", old)
        failed_new = tx.enqueue(Channel.SMS, PHONE, "failed new", NOW)
        pending = tx.enqueue(Channel.SMS, PHONE, "pending", old)
        tx.record_unmatched("old question", Lang.EN, old)
        tx.record_unmatched("new question", Lang.EN, NOW)
    items = {i.id for i in store.claim_outbox(NOW)}
    assert items == {sent, failed_old, failed_new, pending}
    store.mark_sent(sent, NOW)
    store.mark_failed(failed_old, "DeliveryError")
    store.mark_failed(failed_new, "DeliveryError")
    store.release(pending, NOW)

    result = store.purge(cutoff, now=NOW)
    assert result == PurgeResult(transcripts=2, cases=1, inbound_keys=1, outbox=2, unmatched=1)
    with store.transaction() as tx:
        assert [line.text for line in tx.transcript(c.id)] == ["new"]
        assert tx.get_case(old_case.id) is None
        assert tx.get_case(open_case.id) is not None  # open cases are never purged
        assert tx.get_contact(c.id) is not None
        assert not tx.claim_inbound("sms:new", NOW)
        assert tx.claim_inbound("sms:old", NOW)
    assert [s.text for s in store.unmatched_samples(old)] == ["new question"]
    assert [i.id for i in store.claim_outbox(NOW)] == [pending]
    assert store.purge(cutoff, now=NOW) == PurgeResult()


# -- key rotation -----------------------------------------------------------------------


def test_key_rotation(store_factory: StoreFactory) -> None:
    old = store_factory((KEY_A,))
    contact_id = _opt_out(old, "+15550002222")
    with old.transaction() as tx:
        c = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        tx.save_state(c.id, ContactState(lang=Lang.ES, welcomed=True), NOW)
        tx.add_transcript(c.id, None, Direction.IN, "mensaje", NOW)
        case = tx.open_case(c.id, Urgency.NORMAL, Reason.REQUESTED, Lang.ES, None, NOW)
        tx.update_case(case.id, claimed_by="Rosa")
        tx.enqueue(Channel.SMS, PHONE, "respuesta", NOW, {"k": 1})
        tx.record_unmatched("pregunta", Lang.ES, NOW)
        tx.claim_inbound("sms:SM9", NOW)
        tx.erase_contact(contact_id)

    rotated = store_factory((KEY_B, KEY_A))
    with rotated.transaction() as tx:
        assert not tx.claim_inbound("sms:SM9", NOW)  # still a duplicate
        found = tx.find_contact(Channel.SMS, PHONE)  # found under A, re-keyed to B
        assert found is not None and found.id == c.id
        assert found.state == ContactState(lang=Lang.ES, welcomed=True)
        assert [line.text for line in tx.transcript(c.id)] == ["mensaje"]
        got = tx.get_case(case.id)
        assert got is not None and got.claimed_by == "Rosa"
        assert tx.is_opted_out(Channel.SMS, "+15550002222")  # marker re-keyed too
    assert [s.text for s in rotated.unmatched_samples(NOW)] == ["pregunta"]
    items = rotated.claim_outbox(NOW)
    assert [(i.text, i.payload) for i in items] == [("respuesta", {"k": 1})]

    # Once re-keyed, the contact and the marker are found with the new key alone.
    newest_only = store_factory((KEY_B,))
    with newest_only.transaction() as tx:
        again = tx.find_contact(Channel.SMS, PHONE)
        assert again is not None and again.id == c.id
        assert again.state.lang is Lang.ES
        assert tx.is_opted_out(Channel.SMS, "+15550002222")


def test_ping(store: Store) -> None:
    assert store.ping()


def test_idle_contacts_expire_with_retention_but_opt_outs_stay(store: Store) -> None:
    from bot.storage import purge_expired

    old = NOW - timedelta(days=40)
    with store.transaction() as tx:
        quiet = tx.get_or_create_contact(Channel.SMS, PHONE, old)
        tx.save_state(quiet.id, ContactState(lang=Lang.ES), old)
        gone = tx.get_or_create_contact(Channel.SMS, "+16175550111", old)
        tx.save_state(gone.id, ContactState(opted_out=True), old)
        busy = tx.get_or_create_contact(Channel.SMS, "+16175550112", old)
        tx.save_state(busy.id, ContactState(), old)
        tx.open_case(busy.id, Urgency.URGENT, Reason.VIOLENCE, Lang.ES, None, old)
        fresh = tx.get_or_create_contact(Channel.SMS, "+16175550113", NOW)
        tx.save_state(fresh.id, ContactState(), NOW)
    purge_expired(store, 30, NOW)
    with store.transaction() as tx:
        assert tx.find_contact(Channel.SMS, PHONE) is None
        assert tx.find_contact(Channel.SMS, "+16175550111") is None
        assert tx.is_opted_out(Channel.SMS, "+16175550111")  # the STOP is still honoured
        assert tx.find_contact(Channel.SMS, "+16175550112") is not None  # open case
        assert tx.find_contact(Channel.SMS, "+16175550113") is not None


# -- writes sent with the commit (PostgreSQL) ---------------------------------------------


def test_deferred_writes_are_seen_by_later_statements_of_the_transaction(store: Store) -> None:
    """On PostgreSQL state, counters, queued messages and transcript lines go to the server
    with the next statement that reads, or with COMMIT: a read in the same transaction
    still sees them, in program order."""
    state = ContactState(lang=Lang.ES, welcomed=True)
    with store.transaction() as tx:
        contact = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        tx.save_state(contact.id, state, NOW)
        tx.add_transcript(contact.id, None, Direction.IN, "uno", NOW)
        tx.enqueue_deferred(Channel.SMS, PHONE, "primero", NOW)
        tx.count("answered", NOW, entry_id="ice-home", lang=Lang.ES)
        again = tx.find_contact(Channel.SMS, PHONE)
        assert again is not None and again.state == state
        assert [line.text for line in tx.transcript(contact.id)] == ["uno"]
        second = tx.enqueue(Channel.SMS, PHONE, "segundo", NOW)
        tx.enqueue_deferred(Channel.SMS, PHONE, "tercero", NOW)
    items = store.claim_outbox(NOW + timedelta(seconds=1))
    assert [i.text for i in items] == ["primero", "segundo", "tercero"]
    assert items[1].id == second
    assert store.counter_totals(NOW - timedelta(hours=1)) == [
        CounterTotal(name="answered", entry_id="ice-home", lang=Lang.ES, n=1)
    ]


def test_erase_removes_what_was_queued_earlier_in_the_same_transaction(store: Store) -> None:
    with store.transaction() as tx:
        contact = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
        tx.enqueue_deferred(Channel.SMS, PHONE, "hola", NOW)
        tx.add_transcript(contact.id, None, Direction.OUT, "hola", NOW)
        tx.erase_contact(contact.id)
    assert store.claim_outbox(NOW + timedelta(seconds=1)) == []
    with store.transaction() as tx:
        assert tx.find_contact(Channel.SMS, PHONE) is None


def test_a_deferred_write_that_fails_rolls_the_whole_transaction_back(store: Store) -> None:
    """A write sent with COMMIT fails there: nothing of the transaction is kept."""
    with store.transaction() as tx:
        contact = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
    with pytest.raises((IntegrityError, RuntimeError)), store.transaction() as tx:
        assert tx.claim_inbound("sms:SM-fail", NOW)
        tx.save_state(contact.id, ContactState(lang=Lang.ES), NOW)
        tx.enqueue_deferred(Channel.SMS, PHONE, "lost", NOW)
        tx.add_transcript(contact.id + 1000, None, Direction.IN, "no such contact", NOW)
        if not isinstance(store, SqlStore):  # the memory twin checks no foreign keys
            raise RuntimeError("fails as the database would")
    with store.transaction() as tx:
        assert tx.claim_inbound("sms:SM-fail", NOW)
        kept = tx.get_contact(contact.id)
        assert kept is not None and kept.state == ContactState()
    assert store.claim_outbox(NOW + timedelta(seconds=1)) == []
