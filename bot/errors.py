"""The one small exception family the bot raises."""

from __future__ import annotations


class HotlineError(Exception):
    """Base class: every error the bot raises on purpose has a readable message."""


class ConfigError(HotlineError):
    """A setting in the environment is missing or wrong; the message names the variable."""


class ContentError(HotlineError):
    """The FAQ, settings or locales could not be loaded; the message has file:line."""


class StorageUnavailable(HotlineError):
    """The database cannot be reached; webhooks answer 503 so the provider retries."""


class DeliveryError(HotlineError):
    """Sending to Telegram or Twilio failed.

    `retry_after` is set when the provider said how long to wait; `permanent` when retrying
    cannot help (blocked bot, invalid number).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
