"""The Telegram channel: webhook (or polling) updates in, Bot API messages out via the outbox.

Private chats are members: their messages, button presses and /commands become neutral
`Inbound` messages; the core's replies are queued in the outbox in the same transaction
and sent by `TelegramSender`. Updates from the volunteer chat go to the `VolunteerDesk`
hook (the handoff); every other chat is ignored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import warnings
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from anyio import CapacityLimiter, to_thread
from starlette.requests import Request
from starlette.responses import Response
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application
from telegram.warnings import PTBDeprecationWarning

from bot.channels import log_failure
from bot.channels.botapi import AiohttpRequest
from bot.config import Config
from bot.errors import ConfigError, DeliveryError, StorageUnavailable
from bot.models import Channel, Inbound, Lang
from bot.service import Hotline
from bot.storage.base import OutboxItem
from bot.text import split_parts

logger = logging.getLogger(__name__)

# Opt in to python-telegram-bot's future durations (timedelta, not int seconds): PTB reads this
# variable on every access and otherwise warns each time it builds a RetryAfter.
os.environ.setdefault("PTB_TIMEDELTA", "true")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CALLBACK_DATA = 64  # bytes
POLL_TIMEOUT_S = 25

# /command -> (text, action) given to the core. The texts are keywords the router knows.
COMMANDS: dict[str, tuple[str, str | None]] = {
    "start": ("/start", None),
    "help": ("/help", None),
    "menu": ("/menu", None),
    "lang": ("", "lang"),
    "human": ("", "person"),
    "delete": ("", "delete"),
}
# The menu shown by Telegram next to the input field; descriptions from locales/*/main.ftl.
MENU_COMMANDS = ("start", "help", "menu", "lang", "human", "delete")

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


class VolunteerDesk(Protocol):
    """The volunteer side of the handoff (issue 6): what the Telegram channel hands over."""

    async def volunteer_update(self, update: Update) -> None:
        """An update from the volunteer chat (VOLUNTEER_CHAT_ID): messages, button presses."""
        ...

    async def check_timers(self, now: datetime) -> None:
        """Called every few seconds by the server's worker: re-page unclaimed cases."""
        ...


class NoDesk:
    """No handoff yet: volunteer chat updates are acknowledged and dropped."""

    async def volunteer_update(self, update: Update) -> None:
        logger.debug("volunteer chat update %d ignored: no volunteer desk", update.update_id)

    async def check_timers(self, now: datetime) -> None:
        return None


# --- updates in -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Routed:
    """Where one update goes: to the core (`inbound`), to the desk, or nowhere (`ignored`)."""

    inbound: Inbound | None = None
    volunteer: bool = False
    callback_query_id: str | None = None
    ignored: str = ""  # why, for the debug log (a kind, never content)


def lang_hint(language_code: str | None) -> Lang | None:
    """The Telegram client's language as a hint: "es", "es-MX" -> es; "en-US" -> en."""
    code = (language_code or "").lower()
    if code.startswith("es"):
        return Lang.ES
    if code.startswith("en"):
        return Lang.EN
    return None


def command_of(text: str) -> tuple[str, str | None] | None:
    """(text, action) for a known /command ("/help@hotline_bot", "/start payload")."""
    if not text.startswith("/"):
        return None
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return COMMANDS.get(name)


def route_update(update: Update, volunteer_chat_id: int | None) -> Routed:
    """Turn one update into what the hotline should do with it. Pure: no I/O."""
    chat = update.effective_chat
    if chat is not None and volunteer_chat_id is not None and chat.id == volunteer_chat_id:
        return Routed(volunteer=True)
    provider_id = str(update.update_id)
    if update.edited_message is not None:
        return Routed(ignored="edited_message")  # acknowledged; the first version was answered
    message = update.message
    if message is not None:
        if message.chat.type != ChatType.PRIVATE:
            return Routed(ignored=f"message in {message.chat.type}")
        user = message.from_user
        if user is not None and user.is_bot:
            return Routed(ignored="message from a bot")
        text = message.text or message.caption or ""
        media = 1 if message.effective_attachment is not None else 0
        if not text and not media:
            return Routed(ignored="service message")
        action: str | None = None
        mapped = command_of(text)
        if mapped is not None:
            text, action = mapped
        return Routed(
            Inbound(
                Channel.TELEGRAM,
                str(message.chat.id),
                text,
                lang_hint=lang_hint(user.language_code if user else None),
                provider_id=provider_id,
                action=action,
                media_count=media,
            )
        )
    query = update.callback_query
    if query is not None:
        origin = query.message
        if origin is None or origin.chat.type != ChatType.PRIVATE or not query.data:
            return Routed(
                ignored="callback query outside a private chat", callback_query_id=query.id
            )
        return Routed(
            Inbound(
                Channel.TELEGRAM,
                str(origin.chat.id),
                "",
                lang_hint=lang_hint(query.from_user.language_code),
                provider_id=provider_id,
                action=query.data,
            ),
            callback_query_id=query.id,
        )
    return Routed(ignored=_kind(update))


def _kind(update: Update) -> str:
    for name in Update.ALL_TYPES:
        if getattr(update, name, None) is not None:
            return name
    return "unknown update"


class TelegramChannel:
    """The /telegram webhook and the polling loop: both end in `handle_update`."""

    def __init__(
        self,
        hotline: Hotline,
        bot: Bot,
        config: Config,
        *,
        wake: Callable[[], None] = lambda: None,
        desk: VolunteerDesk | None = None,
        limiter: CapacityLimiter | None = None,
    ) -> None:
        if not config.telegram_webhook_secret:
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set")
        self._hotline = hotline
        self.bot = bot
        self._secret = config.telegram_webhook_secret.encode()
        self._volunteer_chat_id = config.volunteer_chat_id
        self._wake = wake
        self.desk: VolunteerDesk = desk or NoDesk()
        self._background: set[asyncio.Task[None]] = set()
        self._limiter = limiter  # threads that may run the core at once (None: anyio's 40)

    async def webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("telegram webhook: missing or wrong secret token; refused")
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.de_json(data, self.bot)
        except Exception as exc:  # malformed: acknowledged, or Telegram would resend it
            logger.warning("telegram webhook: unreadable update ignored (%s)", type(exc).__name__)
            return Response(status_code=200)
        try:
            await self.handle_update(update)
        except StorageUnavailable:
            logger.warning("telegram webhook: database unavailable; answering 503 to get a retry")
            return Response(status_code=503)
        except Exception as exc:  # a bug: acknowledged, so one update cannot block the queue
            log_failure(logger, f"telegram update {update.update_id}", exc)
        return Response(status_code=200)

    async def handle_update(self, update: Update) -> None:
        """Route one update; raises StorageUnavailable so the caller can ask for a retry."""
        routed = route_update(update, self._volunteer_chat_id)
        if routed.volunteer:
            await self.desk.volunteer_update(update)
            return
        if routed.inbound is not None:
            handled = await to_thread.run_sync(
                partial(self._hotline.handle, routed.inbound, via_outbox=True),
                limiter=self._limiter,
            )
            if handled.replies:
                self._wake()  # the replies are committed to the outbox: send them now
        else:
            logger.debug("telegram update %d ignored: %s", update.update_id, routed.ignored)
        if routed.callback_query_id is not None:
            self._spawn(self._answer_callback(routed.callback_query_id))

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # only the button's spinner is at stake
            logger.info("answer_callback_query failed (%s)", type(exc).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def poll(self, stop: asyncio.Event, *, retry_s: float = 5.0) -> None:
        """`hotline serve --polling`: delete the webhook and fetch updates until `stop`."""
        await self.bot.delete_webhook()
        logger.info("telegram: polling for updates (webhook deleted)")
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=list(ALLOWED_UPDATES)
                )
            except TelegramError as exc:
                logger.warning("telegram get_updates failed (%s)", type(exc).__name__)
                await _wait(stop, retry_s)
                continue
            for update in updates:
                try:
                    await self.handle_update(update)
                except StorageUnavailable:
                    logger.warning("telegram polling: database unavailable; will fetch again")
                    await _wait(stop, retry_s)
                    break  # not acknowledged: the same updates come back
                except Exception as exc:
                    log_failure(logger, f"telegram update {update.update_id}", exc)
                offset = update.update_id + 1

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


# --- messages out ---------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into messages of at most `limit` characters at paragraph boundaries
    (then lines, then words)."""
    return split_parts(text, lambda part: len(part) <= limit, ("\n\n", "\n", " ")) or [""]


def keyboard(options: Sequence[Sequence[str]]) -> InlineKeyboardMarkup | None:
    """One button per row from reply payload options [key, label, action]; None when an
    action does not fit in callback data (the numbered text then works instead)."""
    rows = []
    for option in options:
        if len(option) != 3:
            return None
        _, label, action = option
        if not action or len(action.encode()) > MAX_CALLBACK_DATA:
            return None
        rows.append([InlineKeyboardButton(label, callback_data=action)])
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramSender:
    """Sends outbox items with the Bot API (the `Sender` protocol); paced by AIORateLimiter."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._no_preview = LinkPreviewOptions(is_disabled=True)

    async def send(self, item: OutboxItem) -> None:
        payload = item.payload or {}
        markup = keyboard(payload.get("options") or [])
        text = item.text
        if markup is not None and payload.get("body"):
            text = str(payload["body"])  # the options are buttons, not numbered lines
        parts = split_text(text)
        thread = payload.get("message_thread_id")
        # A part already sent is sent again if a later one fails and the item is retried;
        # replies over 4096 characters are rare (answers are capped at that length).
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            try:
                await self._bot.send_message(
                    chat_id=int(item.address),
                    text=part,
                    reply_markup=markup if last else None,
                    message_thread_id=int(thread) if thread is not None else None,
                    link_preview_options=self._no_preview,
                )
            except TelegramError as exc:
                raise delivery_error(exc) from exc


def delivery_error(exc: TelegramError) -> DeliveryError:
    """The outbox's view of a Bot API error."""
    if isinstance(exc, RetryAfter):
        return DeliveryError("Telegram flood limit", retry_after=_seconds(exc))
    if isinstance(exc, Forbidden | BadRequest | ChatMigrated):
        # bot blocked by the member, chat not found, message refused: retrying cannot help
        return DeliveryError(f"Telegram refused the message ({type(exc).__name__})", permanent=True)
    if isinstance(exc, NetworkError):  # includes TimedOut
        return DeliveryError(f"Telegram unreachable ({type(exc).__name__})")
    return DeliveryError(f"Telegram error ({type(exc).__name__})")


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int seconds now, timedelta in a future PTB
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- the Application and set-up -------------------------------------------------------------


def build_application(config: Config) -> TelegramApp:
    """A python-telegram-bot Application without an Updater: updates come from our webhook."""
    if not config.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    api = config.telegram_api_url
    return (
        Application.builder()
        .token(config.telegram_bot_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .updater(None)
        .rate_limiter(AIORateLimiter(overall_max_rate=config.telegram_rate_limit, max_retries=0))
        .request(
            AiohttpRequest(
                connection_pool_size=16,
                pool_timeout=5.0,
                connect_timeout=5.0,
                read_timeout=10.0,
                write_timeout=10.0,
            )
        )
        .build()
    )


def command_descriptions(config: Config) -> dict[Lang, list[BotCommand]]:
    """The command menu in both languages, texts from the locales."""
    from bot.faq import Faq
    from bot.i18n import Messages

    faq = Faq.load(config.faq_dir)
    t = Messages.load(config.locales_dir, faq.values)
    return {
        lang: [BotCommand(name, t(lang, f"command-{name}")) for name in MENU_COMMANDS]
        for lang in Lang
    }


async def set_webhook(config: Config) -> str:
    """Register PUBLIC_URL/telegram with the secret, and the command menu in en and es."""
    if not config.public_url:
        raise ConfigError("PUBLIC_URL is required to register the Telegram webhook")
    if not config.telegram_bot_token or not config.telegram_webhook_secret:
        raise ConfigError("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are required")
    url = f"{config.public_url}/telegram"
    commands = command_descriptions(config)
    api = config.telegram_api_url
    async with Bot(
        config.telegram_bot_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as bot:
        await bot.set_webhook(
            url,
            secret_token=config.telegram_webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=False,
        )
        await bot.set_my_commands(commands[Lang.EN])  # the default, and English
        await bot.set_my_commands(commands[Lang.ES], language_code="es")
    return url


async def delete_webhook(config: Config) -> None:
    if not config.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    api = config.telegram_api_url
    async with Bot(
        config.telegram_bot_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as bot:
        await bot.delete_webhook()


def cmd_set_webhook(args: argparse.Namespace, config: Config) -> int:
    try:
        url = asyncio.run(set_webhook(config))
    except TelegramError as exc:
        print(f"error: Telegram refused: {exc}")
        return 1
    print(f"webhook set to {url}; commands registered in English and Spanish")
    return 0


def cmd_delete_webhook(args: argparse.Namespace, config: Config) -> int:
    try:
        asyncio.run(delete_webhook(config))
    except TelegramError as exc:
        print(f"error: Telegram refused: {exc}")
        return 1
    print("webhook deleted")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `telegram set-webhook` and `telegram delete-webhook` to the `hotline` command."""
    tg = subparsers.add_parser("telegram", help="Telegram bot set-up").add_subparsers(
        dest="telegram_command", required=True
    )
    p = tg.add_parser(
        "set-webhook",
        help="register PUBLIC_URL/telegram with Telegram, and the command menu (en, es)",
    )
    p.set_defaults(handler=cmd_set_webhook)
    p = tg.add_parser("delete-webhook", help="stop webhook delivery (before polling)")
    p.set_defaults(handler=cmd_delete_webhook)
