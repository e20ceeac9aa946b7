"""`hotline ask` (classify questions, for coordinators and tools) and `hotline chat`
(a terminal conversation with the real core and the default local storage)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.config import Config
from bot.models import Lang
from bot.router import Classification, Router


def classification_json(c: Classification) -> dict[str, Any]:
    """The stable one-line shape other tools rely on."""
    return {
        "text": c.text,
        "entry": c.entry,
        "lang": c.lang.value,
        "urgent": c.urgent,
        "score": c.score,
    }


def _explain(c: Classification) -> str:
    lines = [f"> {c.text}"]
    urgent = f"URGENT ({c.triage.reason}, rule {c.triage.rule})" if c.urgent else "not urgent"
    lines.append(
        f"  language {c.lang.value}; {urgent}; decision {c.decision}; "
        f"confidence {c.match.confidence:.2f}; coverage {c.match.coverage:.2f}"
    )
    for i, cand in enumerate(c.match.candidates, 1):
        why = ", ".join(cand.why) or "-"
        lines.append(f"  {i}. {cand.entry_id:<30} {cand.score:.3f}  matched: {why}")
    if not c.match.candidates:
        lines.append("  no candidates")
    if c.match.unknown:
        lines.append(f"  words the FAQ doesn't know: {', '.join(c.match.unknown)}")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    router = Router.from_config(config)
    texts = [" ".join(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    out = sys.stdout
    for text in texts:
        if not text.strip():
            continue
        c = router.classify(text)
        if args.json:
            out.write(json.dumps(classification_json(c), ensure_ascii=False) + "\n")
        else:
            out.write(_explain(c) + "\n\n")
    out.flush()
    return 0


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from bot.channels.console import run_console

    return run_console(config, Lang(args.lang) if args.lang else None)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="classify questions: which entry, language, urgency")
    p.add_argument("text", nargs="*", help="the question (default: one per line from stdin)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(handler=cmd_ask)
    p = sub.add_parser("chat", help="talk to the bot in the terminal (local SQLite storage)")
    p.add_argument("--lang", choices=[lang.value for lang in Lang], help="start in this language")
    p.set_defaults(handler=cmd_chat)
