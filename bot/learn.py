"""`hotline faq learn`: file labelled members' messages under the FAQ's example lists.

A labelled message is one JSON object per line, the shape `hotline ask --json` prints:
`{"text", "entry" (id or null), "lang" ("en"|"es"), "urgent" (bool, optional)}`. A message
with an entry becomes one more example question of that entry; one without an entry (and
not urgent) a question the bot does not answer; with `urgent` given, it is also an urgent
or calm example of faq/urgency.yaml. The matcher and the urgency model learn from these
lists, so real messages, the way people write them, teach the bot more than any rule.

The files keep their comments and layout: each new item is inserted as one line after the
list's last item. Messages already listed (after accent and case folding) are skipped. The
edit is made on a copy and checked first; when the result would not load, nothing changes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.faq import NOT_ANSWERED_FILE, SPECIAL_FILES, URGENCY_FILE, load_faq
from bot.models import Lang
from bot.text import fold
from bot.yamlsrc import Document, Path_, Problem, load

MIN_LENGTH = 3  # as the FAQ schemas require of an example


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled message and where it was read."""

    text: str
    entry: str | None
    lang: Lang
    urgent: bool | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Learned:
    """What `learn` added (or would add), per list kind, and what it skipped."""

    added: Counter[str]
    skipped: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def read_labelled(path: Path) -> tuple[list[Labelled], list[Problem]]:
    """Parse a JSON Lines file of labelled messages; every bad line is a Problem."""
    rows: list[Labelled] = []
    problems: list[Problem] = []
    name = str(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(name, 1, f"cannot read file: {exc}")]
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(name, n, f"not JSON: {exc.msg}"))
            continue
        row = _row(raw, name, n, problems)
        if row is not None:
            rows.append(row)
    return rows, problems


def _row(raw: Any, name: str, n: int, problems: list[Problem]) -> Labelled | None:
    if not isinstance(raw, dict):
        problems.append(Problem(name, n, "expected an object with text, entry and lang"))
        return None
    text, entry, lang, urgent = raw.get("text"), raw.get("entry"), raw.get("lang"), None
    if not isinstance(text, str) or not text.strip() or "\n" in text:
        problems.append(Problem(name, n, "'text' must be one non-empty line"))
        return None
    if len(text.strip()) < MIN_LENGTH:
        problems.append(Problem(name, n, "skipped: too short to be an example", "warning"))
        return None
    if entry is not None and not isinstance(entry, str):
        problems.append(Problem(name, n, "'entry' must be an entry id or null"))
        return None
    if lang not in {x.value for x in Lang}:
        problems.append(Problem(name, n, f"'lang' must be one of {[x.value for x in Lang]}"))
        return None
    if "urgent" in raw:
        if not isinstance(raw["urgent"], bool):
            problems.append(Problem(name, n, "'urgent' must be true or false"))
            return None
        urgent = raw["urgent"]
    return Labelled(text.strip(), entry, Lang(lang), urgent, name, n)


def learn(
    faq_dir: Path, rows: list[Labelled], *, urgency: bool = True, dry_run: bool = False
) -> Learned:
    """Add the messages to the FAQ in `faq_dir` (see the module docstring)."""
    problems: list[Problem] = []
    docs: dict[Path, Document] = {}
    for path in sorted(faq_dir.glob("*.yaml")):
        doc, found = load(path)
        if doc is None or not isinstance(doc.data, dict):
            problems += found or [Problem(str(path), 1, "not a mapping")]
            continue
        docs[path] = doc
    if problems:
        return Learned(Counter(), 0, tuple(problems))

    # where each kind of example goes: (file, path of the list in it)
    targets: dict[tuple[str, str], tuple[Path, Path_]] = {}
    examples: set[str] = set()  # entries' questions and not-answered share one namespace
    flagged: set[str] = set()
    for path, doc in docs.items():
        data = doc.data
        if path.name == NOT_ANSWERED_FILE:
            for lang in Lang:
                targets[("", lang.value)] = (path, (lang.value,))
                examples.update(fold(str(q)) for q in data.get(lang.value) or [])
        elif path.name == URGENCY_FILE:
            for kind in ("urgent", "calm"):
                targets[(f"@{kind}", "")] = (path, (kind,))
                flagged.update(fold(str(q)) for q in data.get(kind) or [])
        elif path.name not in SPECIAL_FILES:
            for i, raw in enumerate(data.get("entries") or []):
                if not isinstance(raw, dict) or "id" not in raw:
                    continue
                for lang in Lang:
                    text = raw.get(lang.value)
                    if isinstance(text, dict):
                        targets[(str(raw["id"]), lang.value)] = (
                            path,
                            ("entries", i, lang.value, "questions"),
                        )
                        examples.update(fold(str(q)) for q in text.get("questions") or [])

    inserts: dict[Path, dict[Path_, list[str]]] = {}
    added: Counter[str] = Counter()
    skipped = 0
    for row in rows:
        wanted: list[tuple[tuple[str, str], str, set[str]]] = []
        if row.entry is not None:
            wanted.append(((row.entry, row.lang.value), "example", examples))
        elif not row.urgent:
            wanted.append((("", row.lang.value), "not-answered", examples))
        if urgency and row.urgent is not None:
            kind = "urgent" if row.urgent else "calm"
            wanted.append(((f"@{kind}", ""), kind, flagged))
        for key, kind, seen in wanted:
            if key not in targets:
                problems.append(Problem(row.file, row.line, f"no entry '{row.entry}'"))
                continue
            folded = fold(row.text)
            if folded in seen:
                skipped += 1
                continue
            seen.add(folded)
            path, list_path = targets[key]
            inserts.setdefault(path, {}).setdefault(list_path, []).append(row.text)
            added[kind] += 1
    if any(p.severity == "error" for p in problems) or dry_run or not inserts:
        return Learned(added, skipped, tuple(problems))

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / faq_dir.name
        shutil.copytree(faq_dir, copy)
        new_text: dict[Path, str] = {}
        for path, lists in inserts.items():
            try:
                new_text[path] = _insert(docs[path], path.read_text(encoding="utf-8"), lists)
            except ValueError as exc:
                problems.append(Problem(str(path), 1, str(exc)))
                continue
            (copy / path.name).write_text(new_text[path], encoding="utf-8")
        if not problems:
            _, found = load_faq(copy)
            problems += [
                replace(p, file=p.file.replace(str(copy), str(faq_dir)))
                for p in found
                if p.severity == "error"
            ]
        if problems:
            return Learned(added, skipped, tuple(problems))
    for path, text in new_text.items():
        path.write_text(text, encoding="utf-8")
    return Learned(added, skipped, ())


def _insert(doc: Document, text: str, lists: dict[Path_, list[str]]) -> str:
    """`text` with each list's new items inserted as lines after its last item."""
    lines = text.splitlines(keepends=True)
    at: list[tuple[int, list[str]]] = []
    for list_path, items in lists.items():
        node: Any = doc.data
        for key in list_path:
            node = node[key]
        if not isinstance(node, list) or not node:
            raise ValueError(f"{'.'.join(map(str, list_path))}: add one item by hand first")
        start = doc.lines[(*list_path, len(node) - 1)] - 1  # 0-based line of the last item
        first = lines[start]
        indent = len(first) - len(first.lstrip(" "))
        if not first.lstrip().startswith("- "):
            raise ValueError(f"{'.'.join(map(str, list_path))}: a flow list; write it as lines")
        end = start + 1  # past the last item's continuation lines
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped and (len(lines[end]) - len(lines[end].lstrip(" ")) <= indent):
                break
            end += 1
        while end - 1 > start and not lines[end - 1].strip():
            end -= 1  # keep a blank line that separates this list from what follows
        prefix = " " * indent + "- "
        block = [prefix + json.dumps(item, ensure_ascii=False) + "\n" for item in items]
        at.append((end, block))
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for end, block in sorted(at, key=lambda x: x[0], reverse=True):
        lines[end:end] = block
    return "".join(lines)
