"""Per-sender rate limiting: a flood from one number is throttled, everyone else is not."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(slots=True)
class _Window:
    times: deque[datetime] = field(default_factory=deque)
    noticed: bool = False


class RateLimiter:
    """Sliding window per sender key, in this process's memory.

    `check()` answers "allow", "notice" (first message over the limit: tell the member once)
    or "drop". Keys are kept only while they have recent messages.
    """

    def __init__(self, limit: int = 100, window: timedelta = timedelta(minutes=1)) -> None:
        self.limit = limit
        self.window = window
        self._senders: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: datetime) -> str:
        with self._lock:
            w = self._senders.setdefault(key, _Window())
            cutoff = now - self.window
            while w.times and w.times[0] <= cutoff:
                w.times.popleft()
            if len(w.times) < self.limit:
                w.times.append(now)
                if len(w.times) < self.limit // 2:
                    w.noticed = False
                return "allow"
            if not w.noticed:
                w.noticed = True
                return "notice"
            return "drop"

    def forget_idle(self, now: datetime) -> None:
        with self._lock:
            cutoff = now - self.window
            for key in [
                k for k, w in self._senders.items() if not w.times or w.times[-1] <= cutoff
            ]:
                del self._senders[key]
