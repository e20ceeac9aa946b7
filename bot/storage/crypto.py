"""Keys for storage: keyed hashes for lookup and Fernet encryption, derived from HOTLINE_SECRET_KEY.

Every configured secret yields, through HKDF-SHA256 with a distinct `info` label per
purpose, one HMAC key for address lookup, one HMAC key for inbound de-duplication keys
and one Fernet key. The newest secret (first in the list) hashes and encrypts; all of
them are tried to look up and decrypt, so a key can be rotated without downtime
(see docs/keys.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Config
from bot.errors import ConfigError, HotlineError
from bot.models import Channel

logger = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
# HKDF labels: changing one makes every stored hash or ciphertext unreadable.
HKDF_SALT = b"hotline-bot storage v1"
INFO_ADDRESS_HMAC = b"hotline-bot/v1/address-hmac"
INFO_INBOUND_HMAC = b"hotline-bot/v1/inbound-key-hmac"
INFO_FERNET = b"hotline-bot/v1/fernet"


class DecryptionError(HotlineError):
    """A stored value could not be decrypted with any configured key."""


def _derive(secret: str, info: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=info)
    return hkdf.derive(secret.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class _DerivedKeys:
    address_hmac: bytes
    inbound_hmac: bytes
    fernet: Fernet


class Keyring:
    """Hashes and encrypts with the newest secret; looks up and decrypts with any."""

    __slots__ = ("_keys", "_multi")

    def __init__(self, secrets_newest_first: Sequence[str]) -> None:
        if not secrets_newest_first:
            raise ConfigError("HOTLINE_SECRET_KEY: at least one key is needed")
        for s in secrets_newest_first:
            if len(s) < MIN_SECRET_LENGTH:
                raise ConfigError("HOTLINE_SECRET_KEY: each key must be at least 32 characters")
        self._keys = tuple(
            _DerivedKeys(
                address_hmac=_derive(s, INFO_ADDRESS_HMAC),
                inbound_hmac=_derive(s, INFO_INBOUND_HMAC),
                fernet=Fernet(base64.urlsafe_b64encode(_derive(s, INFO_FERNET))),
            )
            for s in secrets_newest_first
        )
        self._multi = MultiFernet([k.fernet for k in self._keys])

    @property
    def rotated(self) -> bool:
        """True when older keys are configured besides the newest."""
        return len(self._keys) > 1

    # -- keyed hashes -------------------------------------------------------------------

    @staticmethod
    def _mac(key: bytes, message: str) -> str:
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def address_hash(self, channel: Channel, address: str) -> str:
        """The lookup hash of an address under the newest key (hex, 64 chars)."""
        return self._mac(self._keys[0].address_hmac, f"{channel.value}:{address}")

    def address_hashes(self, channel: Channel, address: str) -> list[str]:
        """The lookup hash under every configured key, newest first."""
        return [self._mac(k.address_hmac, f"{channel.value}:{address}") for k in self._keys]

    def inbound_hashes(self, key: str) -> list[str]:
        """The hash of a provider event id under every configured key, newest first."""
        return [self._mac(k.inbound_hmac, key) for k in self._keys]

    # -- encryption ---------------------------------------------------------------------

    def encrypt(self, text: str) -> str:
        return self._keys[0].fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DecryptionError(
                "a stored value cannot be decrypted with any configured HOTLINE_SECRET_KEY"
            ) from None

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def is_current(self, token: str) -> bool:
        """True when `token` was encrypted with the newest key."""
        try:
            self._keys[0].fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DecryptionError(
                "a stored value cannot be decrypted with any configured HOTLINE_SECRET_KEY"
            ) from None


def load_secrets(config: Config) -> tuple[str, ...]:
    """The configured secrets, or for local SQLite without any, the key file's (made once)."""
    if config.secret_keys:
        return config.secret_keys
    if not config.is_sqlite:
        raise ConfigError("HOTLINE_SECRET_KEY is required when DATABASE_URL is PostgreSQL")
    return (_read_or_create_key_file(config.key_file),)


def _read_or_create_key_file(path: Path) -> str:
    if not path.exists():
        key = secrets.token_urlsafe(48)
        # Write a private temporary file, then link it into place: the key file appears
        # complete or not at all, and of two processes starting together only one wins.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(key + "\n")
            os.link(tmp, path)
        except FileExistsError:
            pass
        else:
            logger.warning(
                "HOTLINE_SECRET_KEY is not set: generated a new key into %s (mode 600). Back it "
                "up: without it the database cannot be read. Set HOTLINE_SECRET_KEY in "
                "production.",
                path,
            )
        finally:
            tmp.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "key file %s is readable by other users (mode %o); run chmod 600 on it", path, mode
        )
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"HOTLINE_KEY_FILE {path} holds no valid key (at least 32 characters)")
    return key
