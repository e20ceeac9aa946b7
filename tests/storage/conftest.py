"""Fixtures for the storage contract suite: one store factory per backend.

PostgreSQL runs when TEST_DATABASE_URL is set (and fails, not skips, when that server
cannot be reached): each test session works in its own schema, dropped at the end, and
tables are emptied between tests.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.config import Config
from bot.storage import MemoryDatabase, MemoryStore, SqlStore, open_store, upgrade_database
from bot.storage.base import Store
from bot.storage.schema import ALL_TABLES

from .support import KEY_A, StoreFactory


def pg_test_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        return None
    return Config.from_env({"DATABASE_URL": raw, "HOTLINE_SECRET_KEY": KEY_A}).database_url


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
        upgrade_database(Config(database_url=url, secret_keys=(KEY_A,)), search_path=schema)
        yield url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _truncate_pg(url: str, schema: str) -> None:
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    names = ", ".join(t.name for t in ALL_TABLES)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreFactory]:
    """`factory(keys=(KEY_A,))`: a new Store on this test's one database (like a process)."""
    opened: list[Store] = []
    memory = MemoryDatabase()
    pg: tuple[str, str] | None = None
    if backend == "postgres":
        pg = request.getfixturevalue("pg_schema")
        _truncate_pg(*pg)

    def factory(keys: tuple[str, ...] = (KEY_A,)) -> Store:
        store: Store
        if backend == "memory":
            store = MemoryStore(memory)
        elif backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'hotline.db'}"
            store = open_store(Config(database_url=url, secret_keys=keys))
        else:
            assert pg is not None
            store = open_store(Config(database_url=pg[0], secret_keys=keys), search_path=pg[1])
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(
        Config(database_url=f"sqlite:///{tmp_path / 'hotline.db'}", secret_keys=(KEY_A,))
    )
    yield store
    store.close()
