"""The FAQ loader and `hotline faq check`: shipped content passes; each broken edit is
reported with its file and line."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq import Faq, export, load_faq
from bot.models import Lang
from bot.segments import count
from tests.conftest import DATA, ROOT

REQUIRED_IDS = """
sc-what-is sc-fingerprints sc-detainer sc-massachusetts sc-no-conviction sc-wrong-match sc-287g
police-street-stop police-traffic-stop police-immigration-questions police-arrest police-search
ice-home ice-warrants ice-public police-profiling-complaint documents-carry family-plan
detained-family-member dv-call-police dv-arrested-victim dv-u-visa dv-vawa dv-confidentiality
dv-restraining-order dv-shelter-help dv-children-custody hotline-about hotline-human
hotline-lawyer hotline-notario hotline-privacy hotline-hours
""".split()

TODAY = date(2026, 11, 23)


def test_shipped_faq_has_the_33_entries_in_both_languages(faq: Faq) -> None:
    assert sorted(faq.entries) == sorted(REQUIRED_IDS)
    for entry in faq.entries.values():
        for lang in Lang:
            text = entry.text[lang]
            assert len(text.questions) >= 5, (entry.id, lang)
            assert count(text.sms).segments <= 3, (entry.id, lang)
            assert len(text.full) <= 4096
            assert "{" not in text.sms + text.full, "unresolved placeable"
        assert entry.sources and all(s.startswith("https://") for s in entry.sources)


def test_shipped_faq_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "check"]) == 0
    out = capsys.readouterr().out
    assert "faq check ok: 33 entries, 0 error(s)" in out


def test_settings_values_are_filled_in(faq: Faq) -> None:
    phone = str(faq.values[Lang.EN]["hotline_phone"])
    assert any(phone in e.text[Lang.EN].sms for e in faq.entries.values())
    assert any(phone in e.text[Lang.ES].full for e in faq.entries.values())


def test_each_file_references_its_schema() -> None:
    for path in (ROOT / "faq").glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=schema/"), path.name


def test_export_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "export", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"entries"}
    assert len(doc["entries"]) == 33
    for e in doc["entries"]:
        assert set(e) == {
            "id",
            "area",
            "title",
            "questions",
            "answer",
            "related",
            "sources",
            "reviewed",
        }
        assert set(e["title"]) == set(e["questions"]) == set(e["answer"]) == {"en", "es"}
        for lang in ("en", "es"):
            assert set(e["answer"][lang]) == {"sms", "full"}
            assert "$" not in e["answer"][lang]["sms"]
        date.fromisoformat(e["reviewed"])


def test_show_prints_what_a_member_sees(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "show", "ice-home", "--lang", "es", "--sms"]) == 0
    out = capsys.readouterr().out
    assert "puerta" in out
    assert "segment(s)" in out
    assert main(["faq", "show", "no-such-entry"]) == 1


def test_minimal_fixture_loads() -> None:
    faq, problems = load_faq(DATA / "faq_min", TODAY)
    assert problems == []
    assert faq is not None
    assert faq.entries["door-knock"].text[Lang.ES].sms.endswith("(617) 555-0100.")
    assert export(faq)["entries"][0]["id"] == "door-knock"


# --- one broken edit per kind of error -------------------------------------------------------


def _broken(tmp_path: Path, old: str, new: str, file: str = "doors.yaml") -> tuple[Path, int]:
    """A copy of the minimal FAQ with one edit; returns the folder and the edited line."""
    target = tmp_path / "faq"
    shutil.copytree(DATA / "faq_min", target)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    at = text.index(old)
    text = text[:at] + new + text[at + len(old) :]
    path.write_text(text, encoding="utf-8")
    line = text[:at].count("\n") + 1 + (1 if new.startswith("\n") else 0)
    return target, line


def _only_error(folder: Path) -> tuple[str, int, str]:
    _, problems = load_faq(folder, TODAY)
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1, errors
    return errors[0].file, errors[0].line, errors[0].message


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    folder, line = _broken(tmp_path, "      title: Someone knocks", "      title: [Someone knocks")
    file, got, msg = _only_error(folder)
    assert file.endswith("doors.yaml")
    assert "YAML syntax error" in msg
    assert got in (line, line + 1)


def test_schema_violation(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path, "      title: Painting a door", "      tittle: Painting a door"
    )
    _, problems = load_faq(folder, TODAY)
    typo = [p for p in problems if "tittle" in p.message]
    assert len(typo) == 1 and typo[0].line == line
    assert "check the spelling" in typo[0].message
    assert any("missing 'title'" in p.message for p in problems)


def test_missing_language(tmp_path: Path) -> None:
    folder, _ = _broken(tmp_path, "    es:\n      title: Pintar", "    xx:\n      title: Pintar")
    _, problems = load_faq(folder, TODAY)
    messages = [p.message for p in problems]
    assert any("missing language 'es'" in m for m in messages)


def test_duplicate_id(tmp_path: Path) -> None:
    folder, line = _broken(tmp_path, "  - id: door-paint", "  - id: door-knock")
    _, problems = load_faq(folder, TODAY)
    dup = [p for p in problems if "duplicate id 'door-knock'" in p.message]
    assert len(dup) == 1
    assert dup[0].line == line
    assert "doors.yaml:8)" in dup[0].message  # where the first one is


def test_unknown_related_id(tmp_path: Path) -> None:
    folder, line = _broken(tmp_path, "related: [door-paint]", "related: [door-pant]")
    _, got, msg = _only_error(folder)
    assert got == line
    assert "related id 'door-pant' does not exist" in msg


def test_unknown_settings_reference(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path,
        "You don't have to open the door. Call { $hotline_phone }.",
        "You don't have to open the door. Call { $hotline_fone }.",
    )
    _, got, msg = _only_error(folder)
    assert got == line - 1  # the `sms: >-` key line
    assert "unknown settings value { $hotline_fone }" in msg


def test_fluent_syntax_error_in_answer(tmp_path: Path) -> None:
    folder, _line = _broken(
        tmp_path, "Usa pintura de exterior, dos manos.", "Usa pintura { de exterior, dos manos."
    )
    _, _, msg = _only_error(folder)
    assert "Fluent syntax error" in msg


def test_sms_over_three_segments_names_encoding_and_characters(tmp_path: Path) -> None:
    long_es = "Usa pintura de exterior, dos manos. " + "Está bien así. " * 12
    folder, line = _broken(tmp_path, "Usa pintura de exterior, dos manos.", long_es)
    _, got, msg = _only_error(folder)
    assert got == line - 1
    assert "UCS-2" in msg and "segments" in msg
    assert "'á'" in msg and "201" in msg


def test_gsm7_sms_may_be_longer(tmp_path: Path) -> None:
    text = "Usa pintura de exterior. ¿Dónde? " * 1  # ó forces UCS-2
    gsm = "Usa pintura de exterior, dos manos, pregunta en la ferreteria. " * 7  # 441 chars
    assert count(gsm).segments == 3
    folder, _ = _broken(tmp_path, "Usa pintura de exterior, dos manos.", gsm.strip())
    _faq, problems = load_faq(folder, TODAY)
    assert [p for p in problems if p.severity == "error"] == []
    assert count(text).encoding.value == "UCS-2"


def test_full_answer_over_4096(tmp_path: Path) -> None:
    folder, _line = _broken(
        tmp_path,
        "        Usa pintura de exterior y dale dos manos.",
        "        " + ("Usa pintura de exterior y dale dos manos. " * 100),
    )
    _, _got, msg = _only_error(folder)
    assert "4096" in msg


def test_old_review_date_is_a_warning(tmp_path: Path) -> None:
    folder, line = _broken(tmp_path, 'reviewed: "2026-11-01"', 'reviewed: "2024-01-01"')
    faq, problems = load_faq(folder, TODAY)
    assert faq is not None  # warnings don't stop loading
    assert [(p.severity, p.line) for p in problems] == [("warning", line)]
    assert "more than 12 months" in problems[0].message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path,
        "      sms: >-\n        Use outdoor",
        "      sms: x\n      sms: >-\n        Use outdoor",
    )
    _, problems = load_faq(folder, TODAY)
    assert any("duplicate key 'sms'" in p.message and p.line == line + 1 for p in problems)


def test_check_reports_every_problem_at_once_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = _broken(tmp_path, "related: [door-paint]", "related: [nope]")
    text = (folder / "doors.yaml").read_text(encoding="utf-8")
    (folder / "doors.yaml").write_text(text.replace("{ $hotline_phone } for help", "{ $x }"))
    code = main(["faq", "check", "--dir", str(folder), "--no-routing"])
    out = capsys.readouterr().out
    assert code == 1
    assert "related id 'nope'" in out and "{ $x }" in out
    assert "doors.yaml:" in out
    assert "2 error(s)" in out


def test_load_raises_with_all_errors(tmp_path: Path) -> None:
    folder, _ = _broken(tmp_path, "related: [door-paint]", "related: [nope]")
    with pytest.raises(Exception, match="nope"):
        Faq.load(folder)


def test_bad_settings_are_reported(tmp_path: Path) -> None:
    folder, line = _broken(
        tmp_path, "timezone: America/New_York", "timezone: Mars/Olympus", file="settings.yaml"
    )
    _, got, msg = _only_error(folder)
    assert got == line and "Mars/Olympus" in msg
