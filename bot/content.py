"""The live content (FAQ + interface texts) as one Router, swapped whole when files change.

`Content.router` is what `Hotline` calls for every message: it returns the current Router,
and a reload replaces that reference in one assignment, so a message is handled either by
the old content or by the new one, never by a mix. An invalid edit is rejected with the
checker's file:line problems in the log, and the last good content stays live.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Set
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import ContentError
from bot.faq import Faq
from bot.i18n import Messages
from bot.router import Router

logger = logging.getLogger(__name__)

# Editors save in bursts (temporary file, rename, chmod): wait for the burst to end.
WATCH_DEBOUNCE_MS = 400


class Content:
    """Holds the current Router; `reload()` builds a new one from the folders."""

    def __init__(
        self,
        faq_dir: Path,
        locales_dir: Path,
        *,
        handoff_available: Callable[[], bool] = lambda: False,
    ) -> None:
        self.faq_dir = Path(faq_dir)
        self.locales_dir = Path(locales_dir)
        self._handoff_available = handoff_available
        self._lock = threading.Lock()  # one reload at a time
        self._router = self._build()  # at start an invalid FAQ is fatal: raise ContentError
        self.loaded_at = datetime.now(UTC)
        self.reloads = 0
        self.last_error: str | None = None

    def _build(self) -> Router:
        faq = Faq.load(self.faq_dir)
        messages = Messages.load(self.locales_dir, faq.values)
        return Router(faq, messages, handoff_available=self._handoff_available)

    def router(self) -> Router:
        """The Router to use for this one message (pass the method itself to Hotline)."""
        return self._router

    @property
    def version(self) -> str:
        return self._router.faq.version

    def reload(self) -> bool:
        """Load the folders again; keep the current content and log why if they are invalid."""
        with self._lock:
            try:
                router = self._build()
            except ContentError as exc:
                self.last_error = str(exc)
                problems = str(exc).splitlines() or ["(no details)"]
                logger.error(
                    "content reload rejected (%d problem(s)); still serving version %s:\n  %s",
                    len(problems),
                    self.version,
                    "\n  ".join(problems),
                )
                return False
            except Exception:  # a loader bug must not take the live content down
                logger.exception("content reload failed; still serving version %s", self.version)
                self.last_error = "internal error"
                return False
            old = self.version
            self._router = router  # the atomic swap
            self.loaded_at = datetime.now(UTC)
            self.reloads += 1
            self.last_error = None
        logger.info("content reloaded: version %s (was %s)", self.version, old)
        return True

    async def reload_async(self) -> bool:
        """`reload` off the event loop (building the matcher takes a fraction of a second)."""
        return await asyncio.to_thread(self.reload)

    async def watch(self, stop: asyncio.Event, *, debounce_ms: int = WATCH_DEBOUNCE_MS) -> None:
        """Reload whenever a file under the FAQ or locales folder changes, until `stop`."""
        from watchfiles import awatch

        paths = [p for p in (self.faq_dir, self.locales_dir) if p.exists()]
        logger.info("watching %d content folder(s) for changes", len(paths))
        try:
            async for changes in awatch(
                *paths, stop_event=stop, debounce=debounce_ms, recursive=True
            ):
                if _relevant(changes):
                    await self.reload_async()
        except Exception:  # the server keeps running without hot reload; SIGHUP still works
            logger.exception("content watcher stopped")


def _relevant(changes: Set[tuple[Any, str]]) -> bool:
    # Editor swap and backup files (.swp, ~) alone do not warrant a reload.
    return any(Path(path).suffix in (".yaml", ".yml", ".ftl", ".json") for _, path in changes)
