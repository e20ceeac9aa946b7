"""open_store, migrations, keys on disk and unavailable databases."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from bot.config import Config
from bot.errors import ConfigError, StorageUnavailable
from bot.models import Channel
from bot.storage import open_store, upgrade_database
from bot.storage.crypto import Keyring, load_secrets
from bot.storage.migrate import current_revision, head_revision
from bot.storage.schema import metadata

from .support import KEY_A, KEY_B, NOW, PHONE


def test_default_sqlite_is_created_migrated_and_keyed_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    config = Config.from_env({})
    assert config.database_url == "sqlite:///hotline.db"
    with caplog.at_level(logging.WARNING):
        store = open_store(config)
    key_file = tmp_path / ".hotline-secret-key"
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "hotline.db").stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "generated a new key" in warnings[0].getMessage()
    assert key not in caplog.text
    with store.transaction() as tx:
        tx.get_or_create_contact(Channel.SMS, PHONE, NOW)
    assert current_revision(store.engine) == head_revision()
    pragmas = store.engine.connect()
    try:
        assert pragmas.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert pragmas.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert pragmas.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        pragmas.close()
    store.close()

    # The second start reuses the key silently and finds the contact again.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = open_store(config)
    assert caplog.records == []
    with again.transaction() as tx:
        assert tx.find_contact(Channel.SMS, PHONE) is not None
    again.close()


def test_key_file_with_loose_permissions_is_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_A)
    key_file.chmod(0o644)
    config = Config(database_url="sqlite://", key_file=key_file)
    with caplog.at_level(logging.WARNING):
        assert load_secrets(config) == (KEY_A,)
    assert "chmod 600" in caplog.text
    assert KEY_A not in caplog.text


def test_short_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("short\n")
    with pytest.raises(ConfigError, match="HOTLINE_KEY_FILE"):
        load_secrets(Config(key_file=key_file))


def test_configured_keys_win_and_postgres_needs_one(tmp_path: Path) -> None:
    assert load_secrets(Config(secret_keys=(KEY_B, KEY_A), key_file=tmp_path / "k")) == (
        KEY_B,
        KEY_A,
    )
    assert not (tmp_path / "k").exists()
    with pytest.raises(ConfigError, match="HOTLINE_SECRET_KEY"):
        load_secrets(Config(database_url="postgresql+psycopg://x@localhost/db"))


def test_keyring_labels_are_distinct_and_rotation_decrypts() -> None:
    a = Keyring((KEY_A,))
    ba = Keyring((KEY_B, KEY_A))
    token = a.encrypt("hola")
    assert ba.decrypt(token) == "hola"
    assert not ba.is_current(token)
    assert ba.is_current(ba.rotate(token))
    assert ba.address_hashes(Channel.SMS, PHONE)[1] == a.address_hash(Channel.SMS, PHONE)
    # Address and inbound hashes use distinct derived keys, so they are not comparable.
    assert a.address_hash(Channel.SMS, PHONE) != a.inbound_hashes(f"sms:{PHONE}")[0]
    assert a.address_hash(Channel.SMS, PHONE) != a.address_hash(Channel.TELEGRAM, PHONE)
    with pytest.raises(ConfigError):
        Keyring(("too short",))
    with pytest.raises(Exception, match="cannot be decrypted"):
        Keyring((KEY_B,)).decrypt(token)


def test_unreachable_postgres_is_storage_unavailable() -> None:
    config = Config(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", secret_keys=(KEY_A,)
    )
    with pytest.raises(StorageUnavailable, match="unavailable"):
        open_store(config)
    with pytest.raises(StorageUnavailable):
        upgrade_database(config)


def test_unwritable_sqlite_is_storage_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'hotline.db'}"
    with pytest.raises(StorageUnavailable):
        open_store(Config(database_url=url, secret_keys=(KEY_A,)))


def test_store_maps_lost_database_to_storage_unavailable(tmp_path: Path) -> None:
    db = tmp_path / "hotline.db"
    store = open_store(Config(database_url=f"sqlite:///{db}", secret_keys=(KEY_A,)))
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE transcripts"))
    # Not an outage: a programming/schema error stays what it is.
    with pytest.raises(Exception, match="no such table"), store.transaction() as tx:
        tx.transcript(1)
    store.close()


def test_migrations_match_the_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade_database(Config(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_keys=(KEY_A,)))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.postgres
def test_postgres_migrations_match_and_open_store_requires_upgrade(
    pg_empty: tuple[str, str],
) -> None:
    url, schema = pg_empty
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    fresh = f"{schema}_fresh"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{fresh}"'))
    try:
        config = Config(database_url=url, secret_keys=(KEY_A,))
        with pytest.raises(StorageUnavailable, match="hotline db upgrade"):
            open_store(config, search_path=fresh)
        assert upgrade_database(config, search_path=fresh) == head_revision()
        store = open_store(config, search_path=fresh)
        assert store.ping()
        store.close()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{fresh}" CASCADE'))
        engine.dispose()


def test_lost_server_is_storage_unavailable_and_ping_false() -> None:
    from bot.storage.sql import SqlStore, create_sql_engine

    engine = create_sql_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    store = SqlStore(engine, Keyring((KEY_A,)))
    assert store.ping() is False
    with pytest.raises(StorageUnavailable), store.transaction() as tx:
        tx.claim_inbound("sms:1", NOW)
    with pytest.raises(StorageUnavailable):
        store.claim_outbox(NOW)
    store.close()


def _backend_pid(store: object) -> int:
    from bot.storage.sql import SqlStore

    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@pytest.mark.postgres
def test_a_pooled_connection_idle_for_a_while_is_pinged_and_replaced_if_dead(
    pg_empty: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool keeps the server's threads' connections open (no reconnect per burst), and
    pings one only after it sat idle: a server restart in between costs no request."""
    from bot.storage import sql

    url, schema = pg_empty
    store = open_store(Config(database_url=url, secret_keys=(KEY_A,)), search_path=schema)
    killer = create_engine(url)
    try:
        assert store.engine.pool.size() == sql.PG_POOL_SIZE  # type: ignore[attr-defined]
        pid = _backend_pid(store)
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(sql, "PRE_PING_IDLE_S", 0.0)  # it has been idle long enough
        with store.transaction() as tx:
            assert tx.claim_inbound("sms:SM-after-restart", NOW)
        assert _backend_pid(store) != pid
    finally:
        store.close()
        killer.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_fails_once(
    pg_empty: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping per transaction: a connection lost between two busy requests fails the next
    one as "unavailable" (503, the provider retries), and the one after gets a new one."""
    from bot.storage import sql

    url, schema = pg_empty
    store = open_store(Config(database_url=url, secret_keys=(KEY_A,)), search_path=schema)
    killer = create_engine(url)
    try:
        pid = _backend_pid(store)
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(sql, "PRE_PING_IDLE_S", 3600.0)
        with pytest.raises(StorageUnavailable), store.transaction() as tx:
            tx.claim_inbound("sms:SM-lost", NOW)
        with store.transaction() as tx:
            assert tx.claim_inbound("sms:SM-lost", NOW)  # the failed one kept nothing
    finally:
        store.close()
        killer.dispose()


@pytest.mark.postgres
def test_the_idle_ping_leaves_no_transaction_open(
    pg_empty: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox marks sends in autocommit, on a connection the ping may just have used:
    a ping that left a transaction open made that fail (and the items be sent again)."""
    from bot.storage import sql

    url, schema = pg_empty
    store = open_store(Config(database_url=url, secret_keys=(KEY_A,)), search_path=schema)
    try:
        with store.transaction() as tx:
            item_id = tx.enqueue(Channel.SMS, PHONE, "hola", NOW)
        assert [i.id for i in store.claim_outbox(NOW)] == [item_id]
        monkeypatch.setattr(sql, "PRE_PING_IDLE_S", 0.0)  # every checkout pings
        store.mark_sent_many([item_id], NOW)
        store.mark_retry(item_id, NOW, "x")  # no longer leased: nothing to do, no error
        assert isinstance(store, sql.SqlStore)
        with store.engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM outbox")).scalar_one()
        assert status == "sent"
    finally:
        store.close()
