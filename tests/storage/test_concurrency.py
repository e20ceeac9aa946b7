"""Several processes on one database: nothing processed twice, nothing sent twice.

Each thread uses its own `Store`, as separate server processes would.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from bot.models import Channel
from bot.storage.base import Store

from .support import NOW, PHONE, StoreFactory

THREADS = 4


def _run(workers: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported in the main thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)


def test_same_inbound_key_delivered_concurrently_is_claimed_once(
    store_factory: StoreFactory,
) -> None:
    stores = [store_factory() for _ in range(THREADS)]
    keys = [f"sms:SM{i}" for i in range(30)]
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(store: Store) -> Callable[[], None]:
        def run() -> None:
            for key in keys:
                barrier.wait()  # every "process" gets the same webhook at the same moment
                with store.transaction() as tx:
                    if tx.claim_inbound(key, NOW):
                        contact = tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
                        tx.lock_contact(contact.id)
                        tx.enqueue(Channel.SMS, PHONE, key, NOW)
                        with lock:
                            claimed.append(key)

        return run

    _run([worker(s) for s in stores])
    assert sorted(claimed) == sorted(keys)
    # The side effects happened once per key, and one contact was created.
    texts = [i.text for i in stores[0].claim_outbox(NOW, limit=1000)]
    assert sorted(texts) == sorted(keys)
    with stores[1].transaction() as tx:
        contact = tx.find_contact(Channel.SMS, PHONE)
    assert contact is not None


def test_outbox_items_are_claimed_by_one_worker_only(store_factory: StoreFactory) -> None:
    stores = [store_factory() for _ in range(THREADS)]
    with stores[0].transaction() as tx:
        ids = [tx.enqueue(Channel.SMS, PHONE, f"m{i}", NOW) for i in range(200)]
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(store: Store) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            while True:
                items = store.claim_outbox(NOW + timedelta(seconds=1), limit=7, lease_s=300)
                if not items:
                    return
                for item in items:
                    store.mark_sent(item.id, NOW)
                with lock:
                    got.extend(i.id for i in items)

        return run

    _run([worker(s) for s in stores])
    duplicates = [i for i, n in Counter(got).items() if n > 1]
    assert duplicates == []
    assert sorted(got) == ids


def test_contact_read_with_lock_sees_the_state_another_process_just_saved(
    store_factory: StoreFactory,
) -> None:
    """Each "process" reads the member's state with `lock=True`, changes it and saves it: no
    change is lost, as none would be if the read came before the lock."""
    stores = [store_factory() for _ in range(THREADS)]
    rounds = 10
    with stores[0].transaction() as tx:
        tx.get_or_create_contact(Channel.TELEGRAM, "4242", NOW)

    def worker(store: Store, n: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(rounds):
                with store.transaction() as tx:
                    contact = tx.get_or_create_contact(Channel.TELEGRAM, "4242", NOW, lock=True)
                    state = contact.state
                    state.options = [*state.options, f"{n}:{i}"]
                    tx.save_state(contact.id, state, NOW)

        return run

    _run([worker(s, n) for n, s in enumerate(stores)])
    with stores[0].transaction() as tx:
        contact = tx.find_contact(Channel.TELEGRAM, "4242")
    assert contact is not None
    assert sorted(contact.state.options) == sorted(
        f"{n}:{i}" for n in range(THREADS) for i in range(rounds)
    )
