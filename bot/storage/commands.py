"""`hotline db upgrade`, `hotline purge` and `hotline report`: the storage commands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from bot.config import Config
from bot.report import build_report, format_report, parse_since
from bot.storage import open_store, purge_expired, upgrade_database


def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    revision = upgrade_database(config)
    print(f"database schema at revision {revision}")
    return 0


def cmd_purge(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    try:
        result = purge_expired(store, config.retention_days)
    finally:
        store.close()
    print(
        f"purged (retention {config.retention_days} days): {result.transcripts} transcript "
        f"lines, {result.cases} closed cases, {result.inbound_keys} inbound keys, "
        f"{result.outbox} outbox rows, {result.unmatched} unmatched samples"
    )
    return 0


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    try:
        period = parse_since(args.since)
    except ValueError as exc:
        print(f"error: --since: {exc}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    store = open_store(config)
    try:
        report = build_report(store, now - period, now)
    finally:
        store.close()
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_report(report))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `db upgrade`, `purge` and `report` to the `hotline` command."""
    db = subparsers.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    p = db.add_parser(
        "upgrade",
        help="create or migrate the database schema (run on every PostgreSQL deploy)",
    )
    p.set_defaults(handler=cmd_db_upgrade)

    p = subparsers.add_parser(
        "purge", help="delete transcripts, closed cases and samples older than RETENTION_DAYS"
    )
    p.set_defaults(handler=cmd_purge)

    p = subparsers.add_parser("report", help="questions, unmatched questions, escalations")
    p.add_argument("--since", default="7d", help="period to cover: 24h, 7d, 2w (default 7d)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON")
    p.set_defaults(handler=cmd_report)
