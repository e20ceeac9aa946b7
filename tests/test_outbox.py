"""The outbox worker with a fake sender and an injected clock: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import DeliveryError, StorageUnavailable
from bot.models import Channel
from bot.outbox import OutboxPolicy, OutboxWorker
from bot.storage import MemoryDatabase, MemoryStore
from bot.storage.base import OutboxItem, Store

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the worker sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeSender:
    """Records what was delivered; fails as told per message text."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delivered: list[tuple[str, str, datetime]] = []
        self.fail_times: dict[str, int] = {}  # text -> transient failures left
        self.rate_limit: dict[str, float] = {}  # text -> retry_after, once
        self.permanent: set[str] = set()
        self.crash: set[str] = set()
        self.calls = 0

    async def send(self, item: OutboxItem) -> None:
        self.calls += 1
        if item.text in self.permanent:
            raise DeliveryError("blocked", permanent=True)
        if item.text in self.rate_limit:
            raise DeliveryError("429", retry_after=self.rate_limit.pop(item.text))
        if self.fail_times.get(item.text, 0) > 0:
            self.fail_times[item.text] -= 1
            raise DeliveryError("503")
        if item.text in self.crash:
            self.crash.discard(item.text)
            raise ConnectionResetError("network")
        self.delivered.append((item.address, item.text, self.clock()))


def _enqueue(
    store: Store, *texts: str, channel: Channel = Channel.SMS, to: str = "+16175550199"
) -> list[int]:
    with store.transaction() as tx:
        return [tx.enqueue(channel, to, t, START) for t in texts]


def _worker(store: Store, sender: FakeSender, clock: FakeClock, **policy: object) -> OutboxWorker:
    defaults: dict[str, object] = {"pacing_s": {Channel.SMS: 1.0, Channel.TELEGRAM: 0.0}}
    defaults.update(policy)
    return OutboxWorker(
        store,
        sender,
        clock,
        policy=OutboxPolicy(**defaults),  # type: ignore[arg-type]
        sleep=clock.sleep,
        rng=random.Random(4),
    )


async def _drain(worker: OutboxWorker, clock: FakeClock, rounds: int = 200) -> None:
    for _ in range(rounds):
        await worker.run_once()
        clock.advance(5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def test_sends_each_once_and_paces_sms(store: MemoryStore, clock: FakeClock) -> None:
    sender = FakeSender(clock)
    _enqueue(store, "a", "b", "c")
    worker = _worker(store, sender, clock)
    assert await worker.run_once() == 3
    assert [t for _, t, _ in sender.delivered] == ["a", "b", "c"]
    times = [at for _, _, at in sender.delivered]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [1, 1]
    assert await worker.run_once() == 0
    assert store.claim_outbox(clock() + timedelta(days=1)) == []


async def test_transient_failures_back_off_then_deliver(
    store: MemoryStore, clock: FakeClock
) -> None:
    sender = FakeSender(clock)
    sender.fail_times["flaky"] = 3
    _enqueue(store, "flaky")
    _enqueue(store, "fine", to="+16175550198")  # another member's message is not held up
    worker = _worker(store, sender, clock, base_delay_s=10.0, jitter=0.25)
    await worker.run_once()
    assert [t for _, t, _ in sender.delivered] == ["fine"]
    # Retried after ~10s, ~20s, ~40s (+-25 %): not before.
    retry_gaps = []
    last_fail = clock()
    while len(sender.delivered) < 2:
        clock.advance(1)
        before = sender.calls
        await worker.run_once()
        if sender.calls > before:
            retry_gaps.append((clock() - last_fail).total_seconds())
            last_fail = clock()
    assert len(retry_gaps) == 3
    for gap, base in zip(retry_gaps, (10, 20, 40), strict=True):
        assert base * 0.75 <= gap <= base * 1.25 + 1
    assert Counter(t for _, t, _ in sender.delivered) == {"flaky": 1, "fine": 1}


async def test_a_retry_keeps_one_recipients_messages_in_order(
    store: MemoryStore, clock: FakeClock
) -> None:
    sender = FakeSender(clock)
    sender.fail_times["greeting"] = 2
    _enqueue(store, "greeting", "menu")
    _enqueue(store, "other", to="+16175550198")
    worker = _worker(store, sender, clock, base_delay_s=10.0)
    await _drain(worker, clock)
    assert [t for a, t, _ in sender.delivered if a == "+16175550199"] == ["greeting", "menu"]
    assert sender.delivered[0][1] == "other"  # sent while the greeting waited
    assert sender.calls == 5  # the menu was not tried while the greeting waited


async def test_rate_limit_honours_retry_after_and_pauses_the_channel(
    store: MemoryStore, clock: FakeClock
) -> None:
    sender = FakeSender(clock)
    sender.rate_limit["first"] = 30.0
    _enqueue(store, "first", "second", "third")
    _enqueue(store, "tg", channel=Channel.TELEGRAM)
    worker = _worker(store, sender, clock)
    await worker.run_once()
    # SMS held for 30 s; Telegram is not affected.
    assert [t for _, t, _ in sender.delivered] == ["tg"]
    clock.advance(29)
    await worker.run_once()
    assert [t for _, t, _ in sender.delivered] == ["tg"]
    clock.advance(1)
    await worker.run_once()
    assert sorted(t for _, t, _ in sender.delivered) == ["first", "second", "tg", "third"]
    assert all(at >= START + timedelta(seconds=30) for _, t, at in sender.delivered if t != "tg")
    # The items held back unattempted were not charged an attempt.
    assert sender.calls == 5


async def test_permanent_failure_and_max_attempts_give_up(
    store: MemoryStore, clock: FakeClock
) -> None:
    sender = FakeSender(clock)
    sender.permanent.add("blocked")
    sender.fail_times["hopeless"] = 1000
    _enqueue(store, "blocked", "hopeless", "ok")
    worker = _worker(store, sender, clock, max_attempts=4, base_delay_s=1.0, max_delay_s=4.0)
    await _drain(worker, clock)
    assert [t for _, t, _ in sender.delivered] == ["ok"]
    assert sender.calls == 1 + 4 + 1  # blocked once, hopeless four times, ok once
    assert store.claim_outbox(clock() + timedelta(days=1)) == []


async def test_unexpected_sender_error_is_retried(store: MemoryStore, clock: FakeClock) -> None:
    sender = FakeSender(clock)
    sender.crash.add("x")
    _enqueue(store, "x")
    worker = _worker(store, sender, clock)
    await _drain(worker, clock, rounds=5)
    assert [t for _, t, _ in sender.delivered] == ["x"]


class SlowSender(FakeSender):
    async def send(self, item: OutboxItem) -> None:
        await asyncio.sleep(10)


async def test_hung_send_times_out_and_is_retried(store: MemoryStore, clock: FakeClock) -> None:
    _enqueue(store, "slow")
    worker = _worker(store, SlowSender(clock), clock, send_timeout_s=0.01)
    assert await worker.run_once() == 1
    items = store.claim_outbox(clock() + timedelta(hours=1))
    assert [(i.text, i.attempts) for i in items] == [("slow", 1)]


async def test_many_workers_many_failures_nothing_lost_or_doubled(clock: FakeClock) -> None:
    database = MemoryDatabase()
    texts = [f"m{i}" for i in range(60)]
    _enqueue(MemoryStore(database), *texts)
    sender = FakeSender(clock)
    rng = random.Random(7)
    for t in texts:
        roll = rng.random()
        if roll < 0.3:
            sender.fail_times[t] = rng.randint(1, 3)
        elif roll < 0.4:
            sender.rate_limit[t] = rng.choice([1.0, 5.0, 20.0])
    workers = [
        _worker(MemoryStore(database), sender, clock, batch=5, base_delay_s=1.0, max_attempts=10)
        for _ in range(3)
    ]
    for _ in range(300):
        await asyncio.gather(*(w.run_once() for w in workers))
        clock.advance(2)
    assert Counter(t for _, t, _ in sender.delivered) == Counter(texts)


async def test_run_forever_stops_and_survives_outages(clock: FakeClock) -> None:
    class FlakyStore(MemoryStore):
        down = 2

        def claim_outbox(
            self, now: datetime, limit: int = 20, lease_s: float = 60
        ) -> list[OutboxItem]:
            if self.down:
                self.down -= 1
                raise StorageUnavailable("the database is unavailable (OperationalError)")
            return super().claim_outbox(now, limit, lease_s)

    store = FlakyStore()
    sender = FakeSender(clock)
    _enqueue(store, "hello")
    worker = _worker(store, sender, clock, idle_s=0.001)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    for _ in range(500):
        if sender.delivered:
            break
        await asyncio.sleep(0.002)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert [t for _, t, _ in sender.delivered] == ["hello"]


def test_backoff_grows_and_is_capped() -> None:
    policy = OutboxPolicy(base_delay_s=2, max_delay_s=60, jitter=0.0)
    rng = random.Random(1)
    assert [policy.backoff(n, rng) for n in (1, 2, 3, 4, 10)] == [2, 4, 8, 16, 60]


class RecordingStore(MemoryStore):
    """Counts the transactions that record sends; each takes a moment (a commit)."""

    def __init__(self, *, fail: int = 0) -> None:
        super().__init__()
        self.recorded: list[list[int]] = []
        self.fail = fail

    def mark_sent_many(self, item_ids: Sequence[int], now: datetime) -> None:
        if self.fail:
            self.fail -= 1
            raise StorageUnavailable("the database is unavailable (OperationalError)")
        time.sleep(0.02)
        self.recorded.append(list(item_ids))
        super().mark_sent_many(item_ids, now)


async def test_sends_finished_meanwhile_are_recorded_together(clock: FakeClock) -> None:
    store = RecordingStore()
    sender = FakeSender(clock)
    ids = _enqueue(store, *(f"m{i}" for i in range(6)), channel=Channel.TELEGRAM)
    worker = _worker(store, sender, clock)

    async def slow_send(item: OutboxItem) -> None:
        await asyncio.sleep(0.005)  # the next send starts before the last one is recorded
        sender.delivered.append((item.address, item.text, clock()))

    sender.send = slow_send  # type: ignore[method-assign]
    assert await worker.run_once() == 6
    # every send recorded once, before run_once returned, in fewer transactions than sends
    assert sorted(i for batch in store.recorded for i in batch) == ids
    assert len(store.recorded) < len(ids)
    assert store.claim_outbox(clock() + timedelta(days=1)) == []


async def test_a_send_that_cannot_be_recorded_is_retried_then_reported(
    clock: FakeClock,
) -> None:
    store = RecordingStore(fail=3)
    sender = FakeSender(clock)
    _enqueue(store, "hello", channel=Channel.TELEGRAM)
    worker = _worker(store, sender, clock)
    with pytest.raises(StorageUnavailable):
        await worker.run_once()
    assert [t for _, t, _ in sender.delivered] == ["hello"]
    assert store.recorded == []
    # still leased: sent again only once its lease has run out
    assert store.claim_outbox(clock() + timedelta(seconds=30)) == []
    assert len(store.claim_outbox(clock() + timedelta(seconds=61))) == 1


async def test_server_loop_takes_the_replies_of_a_burst_in_one_claim() -> None:
    """Woken by one queued reply, the server's outbox loop waits a moment for the replies
    of the messages handled meanwhile, so one claim takes them all."""
    from bot.web import run_outbox

    class CountingWorker:
        rounds = 0

        async def run_once(self) -> int:
            self.rounds += 1
            return 0

    worker = CountingWorker()
    stop, wake = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_outbox(worker, stop, wake, idle_s=10))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert worker.rounds == 1  # nothing due: waiting for a wake
    for _ in range(3):  # three messages handled within a few milliseconds
        wake.set()
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)
    assert worker.rounds == 2
    stop.set()
    wake.set()
    await asyncio.wait_for(task, timeout=5)


async def test_a_batch_that_runs_long_leaves_the_rest_to_its_lease(clock: FakeClock) -> None:
    """Slow sends (desk operations waiting for the group's rate limit) must not outlast the
    lease: what could still be sending when the lease runs out, and be taken by another
    worker meanwhile, is left for a later claim instead of being sent twice."""
    store = MemoryStore()
    sender = FakeSender(clock)
    _enqueue(store, "a", "b", "c", channel=Channel.TELEGRAM, to="555")
    worker = _worker(store, sender, clock, lease_s=60.0, send_timeout_s=20.0)
    other = _worker(store, FakeSender(clock), clock, lease_s=60.0, send_timeout_s=20.0)

    async def slow_send(item: OutboxItem) -> None:
        clock.advance(25)
        sender.delivered.append((item.address, item.text, clock()))

    sender.send = slow_send  # type: ignore[method-assign]
    assert await worker.run_once() == 3
    # a at 0-25 s, b at 25-50 s; c could end after 60 s: left alone
    assert [t for _, t, _ in sender.delivered] == ["a", "b"]
    assert await other.run_once() == 0  # still leased
    clock.advance(15)  # the lease is over
    await _drain(worker, clock, rounds=3)
    await _drain(other, clock, rounds=3)
    assert [t for _, t, _ in sender.delivered] == ["a", "b", "c"]
