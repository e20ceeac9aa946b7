"""Channel adapters: SMS (Twilio), Telegram and the terminal."""

from __future__ import annotations

import logging
import traceback


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected error with its type and traceback but not its message, which could
    quote a member's text or number."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed (%s); traceback:\n%s", what, type(exc).__name__, frames.rstrip())
