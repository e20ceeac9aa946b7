"""`hotline report` and the storage commands, on the real CLI parser."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from bot.models import Channel, Lang, Reason, Urgency
from bot.report import build_report, format_report, group_unmatched, parse_since
from bot.storage import MemoryStore, open_store
from bot.storage.base import CaseStatus, Store, UnmatchedSample
from bot.storage.commands import register

from .support import KEY_A, NOW


def _fill(store: Store, now: datetime) -> None:
    with store.transaction() as tx:
        for _ in range(3):
            tx.count("answered", now, "ice-home", Lang.EN)
        tx.count("answered", now, "ice-home", Lang.ES)
        tx.count("answered", now, "work-permit", Lang.ES)
        tx.count("unknown", now, None, Lang.ES)
        tx.count("opted_out", now, None, Lang.EN)
        tx.count("deleted", now)
        tx.count("escalated", now, "detained", Lang.ES)
        tx.record_unmatched("can i travel to mexico with my [A-NUMBER]", Lang.EN, now)
        tx.record_unmatched("Can I travel to Mexico?", Lang.EN, now)
        tx.record_unmatched("¿puedo sacar licencia de conducir?", Lang.ES, now)
        c = tx.get_or_create_contact(Channel.SMS, "+16175550199", now)
        for wait in (60, 120, 600):
            case = tx.open_case(c.id, Urgency.URGENT, Reason.DETAINED, Lang.ES, None, now)
            tx.update_case(
                case.id, status=CaseStatus.CLAIMED, claimed_at=now + timedelta(seconds=wait)
            )
        tx.open_case(c.id, Urgency.NORMAL, Reason.REQUESTED, Lang.EN, None, now)


def test_parse_since() -> None:
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("24h") == timedelta(hours=24)
    assert parse_since(" 2W ") == timedelta(weeks=2)
    for bad in ("", "7", "0d", "-1d", "7x"):
        with pytest.raises(ValueError):
            parse_since(bad)


def test_group_unmatched_by_similarity() -> None:
    samples = [
        UnmatchedSample("can i travel to mexico with my [A-NUMBER]", Lang.EN, NOW),
        UnmatchedSample("Can I travel to Mexico?", Lang.EN, NOW),
        UnmatchedSample("puedo viajar a mexico", Lang.ES, NOW),
        UnmatchedSample("¿Puedo viajar a México?", Lang.ES, NOW),
        UnmatchedSample("how much does a lawyer cost", Lang.EN, NOW),
    ]
    groups = group_unmatched(samples)
    assert [g.count for g in groups] == [2, 2, 1]
    assert groups[0].langs in ({"en": 2}, {"es": 2})


def test_build_report() -> None:
    store = MemoryStore()
    _fill(store, NOW)
    report = build_report(store, NOW - timedelta(days=7), NOW + timedelta(hours=1))
    assert report.totals["answered"] == 5
    assert report.totals["opted_out"] == 1 and report.totals["deleted"] == 1
    assert [(q.entry_id, q.lang, q.count) for q in report.questions] == [
        ("ice-home", "en", 3),
        ("ice-home", "es", 1),
        ("work-permit", "es", 1),
    ]
    assert [g.count for g in report.unmatched] == [2, 1]
    assert report.escalations == {"urgent/detained": 3, "normal/requested": 1}
    urgent = report.claim_times["urgent"]
    assert (urgent.claimed, urgent.unclaimed, urgent.median_s) == (3, 0, 120)
    assert urgent.p90_s == pytest.approx(504)
    assert report.claim_times["all"].unclaimed == 1
    text = format_report(report)
    assert "ice-home" in text and "median" in text and "2.0min" in text
    data = json.loads(json.dumps(report.to_json()))
    assert data["totals"]["answered"] == 5
    assert data["claim_times"]["urgent"]["median_s"] == 120


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(database_url=f"sqlite:///{tmp_path / 'h.db'}", secret_keys=(KEY_A,))
    parser = _parser()

    args = parser.parse_args(["db", "upgrade"])
    assert args.handler(args, config) == 0
    assert "revision" in capsys.readouterr().out

    now = datetime.now(UTC)
    store = open_store(config)
    _fill(store, now)
    with store.transaction() as tx:
        tx.record_unmatched("old question", Lang.EN, now - timedelta(days=90))
    store.close()

    args = parser.parse_args(["report", "--since", "7d", "--json"])
    assert args.handler(args, config) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["answered"] == 5
    assert sum(g["count"] for g in data["unmatched"]) == 3

    args = parser.parse_args(["report"])
    assert args.handler(args, config) == 0
    assert "Time to claim" in capsys.readouterr().out

    args = parser.parse_args(["report", "--since", "soon"])
    assert args.handler(args, config) == 2

    args = parser.parse_args(["purge"])
    assert args.handler(args, config) == 0
    assert "1 unmatched samples" in capsys.readouterr().out
