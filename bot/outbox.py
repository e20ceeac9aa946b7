"""The outbox worker: sends queued messages once each, with leases, backoff and pacing.

Messages are enqueued in the same transaction as the state change that produced them
(`Transaction.enqueue`), so a crash never loses one; the worker leases due items
(`Store.claim_outbox`), so several processes never take the same one, and marks each
sent, retried or failed. One recipient's messages keep their order: the store does not
lease a message while an earlier one to the same recipient is leased or waits for a retry,
and when one in a batch fails, the ones after it in the batch wait with it. Delivery is
at-least-once only in one corner: a send that takes longer than the lease may be repeated
by another worker, so sends are bounded by a timeout well under the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from bot.errors import DeliveryError, StorageUnavailable
from bot.models import Channel
from bot.storage.base import OutboxItem, Store

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class Sender(Protocol):
    """Delivers one outbox item; raises DeliveryError (retry_after / permanent) on failure."""

    async def send(self, item: OutboxItem) -> None: ...


def _default_pacing() -> Mapping[Channel, float]:
    # Twilio long codes take about one message per second per number; Telegram allows
    # about 30 per second overall (and one per second per chat, which replies rarely hit).
    return MappingProxyType({Channel.SMS: 1.0, Channel.TELEGRAM: 1 / 30})


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """How the worker retries and paces; the defaults suit one Twilio number."""

    batch: int = 20
    lease_s: float = 60.0
    send_timeout_s: float = 20.0  # well under the lease: see the module docstring
    base_delay_s: float = 2.0
    max_delay_s: float = 600.0  # keep trying every 10 minutes at most...
    jitter: float = 0.25  # +-25 % on computed backoff, so retries of many items spread out
    max_attempts: int = 30  # ...for about 4 hours of provider outage before giving up
    idle_s: float = 1.0  # wait between polls when nothing is due
    pacing_s: Mapping[Channel, float] = field(default_factory=_default_pacing)

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, attempts - 1))
        return delay * (1 + rng.uniform(-self.jitter, self.jitter))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _SentLog:
    """Records sends in the background, so the next send need not wait for the database:
    the items sent while one recording runs are recorded together by the next one (one
    transaction, one commit), and each is recorded as soon as the database allows, which
    keeps the window small in which a crash would have a sent item sent again."""

    def __init__(self, store: Store, clock: Clock, sleep: Sleep) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._waiting: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._failed: StorageUnavailable | None = None

    def add(self, item_id: int) -> None:
        self._waiting.append(item_id)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        try:
            while self._waiting:
                ids, self._waiting = self._waiting, []
                await self._record_now(ids)
        except StorageUnavailable as exc:
            self._failed = exc  # for close(); those items are sent again after their lease
        finally:
            self._task = None

    async def _record_now(self, ids: list[int]) -> None:
        # Sent but not recorded means sent again once the lease runs out: insist a little.
        for attempt in range(3):
            try:
                await asyncio.to_thread(self._store.mark_sent_many, ids, self._clock())
            except StorageUnavailable:
                if attempt == 2:
                    raise
                logger.warning("%d outbox item(s) sent; recording failed, retrying", len(ids))
                await self._sleep(1.0)
            else:
                return

    async def close(self) -> None:
        """Wait until every send so far is recorded; raise StorageUnavailable if one could
        not be."""
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._failed is not None:
            failed, self._failed = self._failed, None
            raise failed


class OutboxWorker:
    """Claims due outbox items and sends them. One per process is enough; many are safe."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Clock = _utcnow,
        *,
        policy: OutboxPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._policy = policy or OutboxPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._next_send: dict[Channel, datetime] = {}  # pacing, per channel
        self._paused_until: dict[Channel, datetime] = {}  # after a provider's retry_after
        self._sent = _SentLog(store, clock, sleep)

    async def run_once(self) -> int:
        """Claim the due items and try each once; return how many were claimed."""
        p = self._policy
        # The store is synchronous (SQLAlchemy): run it in a thread to keep the loop free.
        claimed_at = self._clock()
        items = await asyncio.to_thread(self._store.claim_outbox, claimed_at, p.batch, p.lease_s)
        lease_until = claimed_at + timedelta(seconds=p.lease_s)
        held: dict[tuple[Channel, str], datetime] = {}
        self._sent = _SentLog(self._store, self._clock, self._sleep)
        try:
            for n, item in enumerate(items):
                if self._late(item, lease_until):
                    # The lease could run out during this send (the batch took long: desk
                    # operations waiting for the group's rate limit), and another worker
                    # may take the item meanwhile: leave the rest of the batch to be
                    # claimed again once the lease is over, rather than send it twice.
                    logger.warning(
                        "outbox: %d item(s) left for their lease to run out", len(items) - n
                    )
                    break
                recipient = (item.channel, item.address)
                if recipient in held:
                    # An earlier message to this recipient waits for a retry: this one waits
                    # with it (same due time, so the claim's id order keeps them in sequence),
                    # or a member would get the menu before the greeting it follows.
                    await asyncio.to_thread(self._store.release, item.id, held[recipient])
                    continue
                retry_at = await self._handle(item)
                if retry_at is not None:
                    held[recipient] = retry_at
        finally:
            await self._sent.close()  # every send is recorded before the next claim
        return len(items)

    def _late(self, item: OutboxItem, lease_until: datetime) -> bool:
        """True when pacing plus the longest send could end after the lease."""
        longest = self._policy.pacing_s.get(item.channel, 0.0) + self._policy.send_timeout_s
        return self._clock() + timedelta(seconds=longest) > lease_until

    async def _handle(self, item: OutboxItem) -> datetime | None:
        """Try one item; return when it is due again if it is to be retried."""
        paused = self._paused_until.get(item.channel)
        if paused is not None and paused > self._clock():
            # The provider asked us to wait: give the item back without counting an attempt.
            await asyncio.to_thread(self._store.release, item.id, paused)
            return paused
        await self._pace(item.channel)
        try:
            await asyncio.wait_for(self._sender.send(item), timeout=self._policy.send_timeout_s)
        except DeliveryError as exc:
            return await self._failed(item, exc)
        except Exception as exc:  # any sender bug or network error: retry later
            return await self._failed(item, exc)
        logger.debug("outbox item %d sent over %s", item.id, item.channel.value)
        self._sent.add(item.id)
        return None

    async def _pace(self, channel: Channel) -> None:
        interval = self._policy.pacing_s.get(channel, 0.0)
        now = self._clock()
        slot = self._next_send.get(channel, now)
        if slot > now:
            await self._sleep((slot - now).total_seconds())
            now = self._clock()
        self._next_send[channel] = max(now, slot) + timedelta(seconds=interval)

    async def _failed(self, item: OutboxItem, exc: BaseException) -> datetime | None:
        error = type(exc).__name__  # never str(exc): it could quote a number or a body
        attempts = item.attempts + 1
        now = self._clock()
        if isinstance(exc, DeliveryError) and exc.permanent:
            logger.warning("outbox item %d failed permanently (%s)", item.id, error)
            await asyncio.to_thread(self._store.mark_failed, item.id, error)
            return None
        if attempts >= self._policy.max_attempts:
            logger.error(
                "outbox item %d failed after %d attempts (%s); giving up", item.id, attempts, error
            )
            await asyncio.to_thread(self._store.mark_failed, item.id, error)
            return None
        if isinstance(exc, DeliveryError) and exc.retry_after is not None:
            retry_at = now + timedelta(seconds=max(0.0, exc.retry_after))
            # Rate limits are per account/bot: hold the whole channel, not just this item.
            self._paused_until[item.channel] = retry_at
        else:
            retry_at = now + timedelta(seconds=self._policy.backoff(attempts, self._rng))
        logger.warning(
            "outbox item %d attempt %d failed (%s); retrying in %.1fs",
            item.id,
            attempts,
            error,
            (retry_at - now).total_seconds(),
        )
        await asyncio.to_thread(self._store.mark_retry, item.id, retry_at, error)
        return retry_at

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll and send until `stop` is set; survive database outages."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except StorageUnavailable:
                logger.warning("outbox: the database is unavailable; retrying shortly")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._policy.idle_s)
