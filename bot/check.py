"""Content checks that need the router: every example question must route to its own entry."""

from __future__ import annotations

from pathlib import Path

from bot.faq import Faq
from bot.matching import matcher_for
from bot.router import Decision, decide
from bot.yamlsrc import Document, Problem, load


def routing_problems(faq: Faq) -> list[Problem]:
    """An example question that lands on another entry confuses members and the matcher."""
    matcher = matcher_for(faq)
    problems: list[Problem] = []
    docs: dict[str, Document | None] = {}
    for entry in faq.entries.values():
        for lang, text in entry.text.items():
            for i, q in enumerate(text.questions):
                match = matcher.rank(q)
                decision = decide(match, matcher)
                top = match.top
                if top is not None and top.entry_id == entry.id and decision != Decision.UNKNOWN:
                    continue
                if top is None or decision == Decision.UNKNOWN:
                    got = "nothing (the bot would say it doesn't know)"
                else:
                    got = f"'{top.entry_id}'"
                if entry.file not in docs:
                    docs[entry.file] = load(Path(entry.file))[0]
                line = _question_line(docs[entry.file], entry.id, lang.value, i) or entry.line
                problems.append(
                    Problem(
                        entry.file,
                        line,
                        f"{entry.id} {lang}: example question {q!r} routes to {got}; "
                        "reword it or the other entry's examples",
                    )
                )
    return problems


def _question_line(doc: Document | None, entry_id: str, lang: str, i: int) -> int | None:
    if doc is None:
        return None
    for j, raw in enumerate(doc.data.get("entries") or []):
        if isinstance(raw, dict) and raw.get("id") == entry_id:
            return doc.lines.get(("entries", j, lang, "questions", i))
    return None
