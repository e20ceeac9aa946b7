"""Fixtures for the storage contract suite: one store factory per backend.

PostgreSQL runs when TEST_DATABASE_URL is set (and fails, not skips, when that server
cannot be reached): each test session works in its own schema, dropped at the end, and
tables are emptied between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.storage import MemoryDatabase, MemoryStore, SqlStore, open_store
from bot.storage.base import Store
from tests.conftest import pg_test_url  # noqa: F401  (pg_schema lives there too)

from .support import KEY_A, StoreFactory


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
        pg = request.getfixturevalue("pg_empty")

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
