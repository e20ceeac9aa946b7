"""A conversation driver for tests: send a text, read the bot's replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import Channel, Event, EventKind, Inbound, Lang, Reply
from bot.router import Router
from bot.service import Hotline
from bot.storage.base import Store
from bot.storage.memory import MemoryStore

# A Tuesday at 11:00 in Boston: volunteers are on.
OPEN_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = OPEN_HOURS) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Chat:
    """One member talking to the real core over one channel."""

    def __init__(
        self,
        router: Router,
        *,
        channel: Channel = Channel.SMS,
        sender: str = "+16175550100",
        store: Store | None = None,
        clock: Clock | None = None,
        lang_hint: Lang | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.store = store or MemoryStore()
        self.hotline = Hotline(lambda: router, self.store, clock=self.clock)
        self.channel = channel
        self.sender = sender
        self.lang_hint = lang_hint
        self.replies: list[Reply] = []
        self.events: list[Event] = []
        self._n = 0

    def send(
        self, text: str = "", *, action: str | None = None, media: int = 0, gap_s: float = 20
    ) -> str:
        """Send one message (`gap_s` seconds after the previous); return all reply texts."""
        self.clock.advance(gap_s)
        self._n += 1
        handled = self.hotline.handle(
            Inbound(
                self.channel,
                self.sender,
                text,
                lang_hint=self.lang_hint,
                provider_id=f"test-{id(self)}-{self._n}",
                action=action,
                media_count=media,
            )
        )
        self.replies = list(handled.replies)
        self.events = list(handled.events)
        return "\n\n".join(r.text for r in handled.replies)

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.events]

    def answered(self) -> str | None:
        return next((e.entry_id for e in self.events if e.kind is EventKind.ANSWERED), None)
