"""Configuration read once from the environment into a frozen object, with errors that name
the variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError
from bot.models import Lang

DEFAULT_DATABASE_URL = "sqlite:///hotline.db"
DEFAULT_KEY_FILE = ".hotline-secret-key"
TWILIO_API_URL = "https://api.twilio.com"
TELEGRAM_API_URL = "https://api.telegram.org"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_USERNAME = re.compile(r"@[A-Za-z0-9_]{5,32}")


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting the bot reads. Build it with `Config.from_env()`; tests pass a mapping."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_keys: tuple[str, ...] = ()  # newest first; empty = generate/read the local key file
    key_file: Path = Path(DEFAULT_KEY_FILE)
    public_url: str | None = None
    port: int = 8000
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: str = TWILIO_API_URL
    twilio_webhook_shared_key: str | None = None  # webhooks signed with a SharedKey
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = TELEGRAM_API_URL
    telegram_rate_limit: int = 30  # messages per second, all chats together (Bot API limit)
    volunteer_chat_id: int | None = None
    volunteer_ids: frozenset[int] = field(default_factory=frozenset)
    oncall_sms: tuple[str, ...] = ()
    oncall_telegram: tuple[str, ...] = ()  # "@username"s mentioned when a case waits too long
    volunteer_lang: Lang = Lang.EN  # the language of the volunteer group (cards, notices)
    retention_days: int = 30
    claim_timeout_urgent_s: int = 180
    claim_timeout_normal_s: int = 1800
    reopen_window_s: int = 86400
    faq_dir: Path = PACKAGE_ROOT / "faq"
    locales_dir: Path = PACKAGE_ROOT / "locales"
    log_level: str = "INFO"
    web_concurrency: int = 1  # `hotline serve` processes on one port (PostgreSQL only)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sms_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def handoff_enabled(self) -> bool:
        return self.telegram_enabled and self.volunteer_chat_id is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read and validate the environment (or `env`); raise ConfigError naming the variable."""
        e = dict(os.environ if env is None else env)

        def get(name: str) -> str | None:
            value = e.get(name, "").strip()
            return value or None

        def integer(name: str, default: int, minimum: int = 0) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(f"{name} must be at least {minimum}, got {value}")
            return value

        database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
        # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver.
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        if not database_url.startswith(("sqlite", "postgresql")):
            raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")

        keys = tuple(k.strip() for k in (get("HOTLINE_SECRET_KEY") or "").split(",") if k.strip())
        for k in keys:
            if len(k) < 32:
                raise ConfigError("HOTLINE_SECRET_KEY: each key must be at least 32 characters")
        if not keys and not database_url.startswith("sqlite"):
            raise ConfigError("HOTLINE_SECRET_KEY is required when DATABASE_URL is PostgreSQL")

        public_url = get("PUBLIC_URL")
        if public_url is not None:
            if not public_url.startswith(("https://", "http://")):
                raise ConfigError("PUBLIC_URL must start with https://")
            public_url = public_url.rstrip("/")

        chat = get("VOLUNTEER_CHAT_ID")
        try:
            volunteer_chat_id = int(chat) if chat else None
        except ValueError:
            raise ConfigError("VOLUNTEER_CHAT_ID must be a numeric Telegram chat id") from None
        try:
            volunteer_ids = frozenset(
                int(v) for v in (get("VOLUNTEER_IDS") or "").split(",") if v.strip()
            )
        except ValueError:
            raise ConfigError("VOLUNTEER_IDS must be comma-separated Telegram user ids") from None
        oncall = tuple(v.strip() for v in (get("ONCALL_SMS") or "").split(",") if v.strip())
        oncall_telegram = tuple(
            "@" + v.strip().lstrip("@")
            for v in (get("ONCALL_TELEGRAM") or "").split(",")
            if v.strip()
        )
        for name in oncall_telegram:
            if not _USERNAME.fullmatch(name):
                raise ConfigError(
                    "ONCALL_TELEGRAM must be comma-separated Telegram @usernames "
                    "(5-32 letters, digits or _)"
                )
        volunteer_lang = (get("VOLUNTEER_LANG") or "en").lower()
        if volunteer_lang not in {lang.value for lang in Lang}:
            raise ConfigError("VOLUNTEER_LANG must be en or es")

        cfg = cls(
            database_url=database_url,
            secret_keys=keys,
            key_file=Path(get("HOTLINE_KEY_FILE") or DEFAULT_KEY_FILE),
            public_url=public_url,
            port=integer("PORT", 8000, 1),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from_number=get("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_url=(get("TWILIO_API_URL") or TWILIO_API_URL).rstrip("/"),
            twilio_webhook_shared_key=get("TWILIO_WEBHOOK_SHARED_KEY"),
            telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_url=(get("TELEGRAM_API_URL") or TELEGRAM_API_URL).rstrip("/"),
            telegram_rate_limit=integer("TELEGRAM_RATE_LIMIT", 30, 1),
            volunteer_chat_id=volunteer_chat_id,
            volunteer_ids=volunteer_ids,
            oncall_sms=oncall,
            oncall_telegram=oncall_telegram,
            volunteer_lang=Lang(volunteer_lang),
            retention_days=integer("RETENTION_DAYS", 30, 1),
            claim_timeout_urgent_s=integer("CLAIM_TIMEOUT_URGENT", 180, 10),
            claim_timeout_normal_s=integer("CLAIM_TIMEOUT_NORMAL", 1800, 10),
            reopen_window_s=integer("CASE_REOPEN_WINDOW", 86400, 0),
            faq_dir=Path(get("FAQ_DIR") or PACKAGE_ROOT / "faq"),
            locales_dir=Path(get("LOCALES_DIR") or PACKAGE_ROOT / "locales"),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            web_concurrency=integer("WEB_CONCURRENCY", 1, 1),
        )
        cfg._check_channels()
        return cfg

    def _check_channels(self) -> None:
        twilio_any = any(
            (
                self.twilio_account_sid,
                self.twilio_auth_token,
                self.twilio_from_number,
                self.twilio_messaging_service_sid,
            )
        )
        if twilio_any and not self.sms_enabled:
            missing = [
                n
                for n, v in (
                    ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                    (
                        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
                        self.twilio_from_number or self.twilio_messaging_service_sid,
                    ),
                )
                if not v
            ]
            raise ConfigError("SMS is half configured: missing " + ", ".join(missing))
        if self.sms_enabled and not self.public_url:
            raise ConfigError("PUBLIC_URL is required for SMS: Twilio signs the public URL")
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set")
        secret = self.telegram_webhook_secret
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        for name, url in (
            ("TWILIO_API_URL", self.twilio_api_url),
            ("TELEGRAM_API_URL", self.telegram_api_url),
        ):
            if not url.startswith(("https://", "http://")):
                raise ConfigError(f"{name} must start with https://")
