"""Constants and helpers shared by the storage tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.storage.base import Store

KEY_A = "key-A-0123456789-0123456789-0123456789"
KEY_B = "key-B-9876543210-9876543210-9876543210"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PHONE = "+16175550199"

StoreFactory = Callable[..., Store]
