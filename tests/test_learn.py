"""`hotline faq learn`: labelled messages become examples; the files keep their layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq import Faq
from bot.learn import learn, read_labelled
from bot.models import Lang
from tests.conftest import ROOT


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", target)
    return target


def _write(tmp_path: Path, *rows: dict[str, object], name: str = "labelled.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _snapshot(faq_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(faq_dir.glob("*.yaml"))}


def test_a_labelled_message_becomes_an_example_of_its_entry(faq_dir: Path, tmp_path: Path) -> None:
    before = (faq_dir / "police-and-ice.yaml").read_text("utf-8")
    path = _write(
        tmp_path,
        {"text": "la migra en la puerta con un papel, abro?", "entry": "ice-home", "lang": "es"},
        {
            "text": "no papers, do i show my id card to ice at the bus stop",
            "entry": "ice-public",
            "lang": "en",
        },
    )
    rows, problems = read_labelled(path)
    assert problems == []
    result = learn(faq_dir, rows)
    assert result.ok and result.added == {"example": 2}
    faq = Faq.load(faq_dir)
    assert (
        "la migra en la puerta con un papel, abro?"
        in faq.entries["ice-home"].text[Lang.ES].questions
    )
    assert (
        "no papers, do i show my id card to ice at the bus stop"
        in faq.entries["ice-public"].text[Lang.EN].questions
    )
    # every line that was there is still there, in order: comments and layout kept
    after = (faq_dir / "police-and-ice.yaml").read_text("utf-8").splitlines()
    old = before.splitlines()
    assert len(after) == len(old) + 2
    it = iter(after)
    assert all(any(line == a for a in it) for line in old)


def test_no_entry_goes_to_not_answered_and_urgency_labels_to_urgency(
    faq_dir: Path, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        {
            "text": "where do i renew my matricula consular",
            "entry": None,
            "lang": "en",
            "urgent": False,
        },
        {
            "text": "ya no aguanto, me despido de todos ustedes",
            "entry": None,
            "lang": "es",
            "urgent": True,
        },
    )
    rows, _ = read_labelled(path)
    result = learn(faq_dir, rows)
    assert result.added == {"not-answered": 1, "calm": 1, "urgent": 1}
    faq = Faq.load(faq_dir)
    assert "where do i renew my matricula consular" in faq.not_answered[Lang.EN]
    assert "ya no aguanto, me despido de todos ustedes" in faq.urgent_examples
    assert "where do i renew my matricula consular" in faq.calm_examples
    # --no-urgency leaves faq/urgency.yaml alone
    urgency = (faq_dir / "urgency.yaml").read_bytes()
    more = _write(
        tmp_path,
        {
            "text": "ice at the laundromat on elm st",
            "entry": "ice-public",
            "lang": "en",
            "urgent": True,
        },
        name="more.jsonl",
    )
    rows, _ = read_labelled(more)
    assert learn(faq_dir, rows, urgency=False).added == {"example": 1}
    assert (faq_dir / "urgency.yaml").read_bytes() == urgency


def test_a_message_already_listed_is_skipped_after_folding_accents_and_case(
    faq_dir: Path, tmp_path: Path
) -> None:
    faq = Faq.load(faq_dir)
    existing = faq.entries["ice-home"].text[Lang.ES].questions[0]
    path = _write(tmp_path, {"text": existing.upper() + " ", "entry": "ice-home", "lang": "es"})
    before = _snapshot(faq_dir)
    rows, _ = read_labelled(path)
    result = learn(faq_dir, rows)
    assert result.ok and result.skipped == 1 and not result.added
    assert _snapshot(faq_dir) == before


def test_an_unknown_entry_is_reported_with_its_line_and_nothing_changes(
    faq_dir: Path, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        {"text": "ice at my door", "entry": "ice-home", "lang": "en"},
        {"text": "how do i renew daca", "entry": "daca-renewal", "lang": "en"},
    )
    before = _snapshot(faq_dir)
    rows, _ = read_labelled(path)
    result = learn(faq_dir, rows)
    assert not result.ok
    assert [(p.line, p.message) for p in result.problems] == [(2, "no entry 'daca-renewal'")]
    assert _snapshot(faq_dir) == before


def test_an_edit_that_would_not_load_changes_nothing(faq_dir: Path, tmp_path: Path) -> None:
    # the result is loaded and checked on a copy first: here an entry elsewhere already
    # fails the schema, and the problem is reported against the real file
    hotline = faq_dir / "hotline.yaml"
    hotline.write_text(hotline.read_text("utf-8").replace("title:", "titel:", 1), "utf-8")
    before = _snapshot(faq_dir)
    path = _write(
        tmp_path,
        {"text": "two ice agents knocking on the blue door", "entry": "ice-home", "lang": "en"},
    )
    rows, _ = read_labelled(path)
    result = learn(faq_dir, rows)
    assert not result.ok
    assert any(p.file == str(hotline) for p in result.problems), result.problems
    assert _snapshot(faq_dir) == before


def test_bad_lines_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "ice at my door", "entry": "ice-home", "lang": "en"}\n'
        "not json\n"
        '{"text": "ice", "entry": "ice-home", "lang": "fr"}\n'
        '{"text": "ok", "entry": null, "lang": "en"}\n'
        '{"text": "ice at work", "entry": "ice-public", "lang": "en", "urgent": "yes"}\n',
        "utf-8",
    )
    rows, problems = read_labelled(path)
    assert [r.text for r in rows] == ["ice at my door"]
    assert [(p.line, p.severity) for p in problems] == [
        (2, "error"),
        (3, "error"),
        (4, "warning"),
        (5, "error"),
    ]


def test_cli_learns_reports_and_refuses(
    faq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(
        tmp_path,
        {
            "text": "tocan la puerta y dicen policia, abro?",
            "entry": "ice-home",
            "lang": "es",
            "urgent": True,
        },
    )
    assert main(["faq", "learn", "--dir", str(faq_dir), "--dry-run", str(good)]) == 0
    assert "would add 1 example, 1 urgent" in capsys.readouterr().out
    assert main(["faq", "learn", "--dir", str(faq_dir), str(good)]) == 0
    assert "added 1 example, 1 urgent" in capsys.readouterr().out
    assert main(["faq", "learn", "--dir", str(faq_dir), str(good)]) == 0
    assert "2 already listed" in capsys.readouterr().out
    bad = _write(tmp_path, {"text": "hola", "entry": "nope", "lang": "es"}, name="bad.jsonl")
    assert main(["faq", "learn", "--dir", str(faq_dir), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "bad.jsonl:1: error: no entry 'nope'" in captured.err
    assert "nothing changed" in captured.out
