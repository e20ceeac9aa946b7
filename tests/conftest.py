"""Shared fixtures: no real network in any test, the shipped content loaded once."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.config import Config
from bot.faq import Faq
from bot.i18n import Messages
from bot.storage import upgrade_database
from bot.storage.schema import ALL_TABLES
from tests.fakes import serve
from tests.handoff.fakes import FakeForum, FakeSms

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "key-A-0123456789-0123456789-0123456789"
DATA = Path(__file__).resolve().parent / "data"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, str | bytes):  # unix socket
        return True
    host = address[0]
    if host in ("localhost", "testserver"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any connection that leaves this machine (loopback is fine: fakes, PostgreSQL)."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield


@pytest.fixture(scope="session")
def faq() -> Faq:
    return Faq.load(ROOT / "faq")


@pytest.fixture(scope="session")
def messages(faq: Faq) -> Messages:
    return Messages.load(ROOT / "locales", faq.values)


# --- PostgreSQL (TEST_DATABASE_URL) ---------------------------------------------------


def pg_test_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        return None
    return Config.from_env({"DATABASE_URL": raw, "HOTLINE_SECRET_KEY": TEST_KEY}).database_url


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[tuple[str, str]]:
    """(url, schema): a fresh, migrated PostgreSQL schema for this test session."""
    url = pg_test_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    schema = f"hotline_test_{secrets.token_hex(6)}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        engine.dispose()
        pytest.fail(
            f"TEST_DATABASE_URL is set but PostgreSQL cannot be reached ({type(exc.orig).__name__})"
        )
    try:
        upgrade_database(Config(database_url=url, secret_keys=(TEST_KEY,)), search_path=schema)
        yield url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def truncate_pg(url: str, schema: str) -> None:
    """Empty every table of the bot's schema."""
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    names = ", ".join(t.name for t in ALL_TABLES)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def pg_empty(pg_schema: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """The session's PostgreSQL schema, empty at the start of this test and after it (a
    test that counts rows must not see another's, in whatever order they run)."""
    truncate_pg(*pg_schema)
    yield pg_schema
    truncate_pg(*pg_schema)


# --- fake provider APIs with forum topics (handoff and fault suites) ---------------------


@pytest.fixture(scope="session")
def _forum_server() -> Iterator[tuple[FakeForum, str]]:
    fake = FakeForum()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="session")
def _sms_server() -> Iterator[tuple[FakeSms, str]]:
    fake = FakeSms()
    with serve(fake.app) as url:
        yield fake, url
