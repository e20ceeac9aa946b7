"""The `hotline` command: content tools for coordinators, the terminal chat, the server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import segments
from bot.config import Config
from bot.errors import HotlineError
from bot.faq import Faq, export, load_faq
from bot.i18n import check_locales
from bot.models import Lang
from bot.yamlsrc import Problem

Handler = Callable[[argparse.Namespace, Config], int]


def _faq_dir(args: argparse.Namespace, config: Config) -> Path:
    return Path(args.dir) if getattr(args, "dir", None) else config.faq_dir


def _load(args: argparse.Namespace, config: Config) -> Faq:
    return Faq.load(_faq_dir(args, config))


def cmd_faq_check(args: argparse.Namespace, config: Config) -> int:
    faq_dir = _faq_dir(args, config)
    locales_dir = Path(args.locales) if args.locales else config.locales_dir
    faq, problems = load_faq(faq_dir)
    problems += check_locales(locales_dir)
    if faq is not None and not args.no_routing:
        from bot.check import routing_problems

        problems += routing_problems(faq)
    problems.sort(key=lambda p: (p.severity != "error", p.file, p.line))
    for p in problems:
        print(p)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    entries = len(faq.entries) if faq else 0
    status = "FAILED" if errors else "ok"
    print(f"faq check {status}: {entries} entries, {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def cmd_faq_export(args: argparse.Namespace, config: Config) -> int:
    faq = _load(args, config)
    json.dump(export(faq), sys.stdout, ensure_ascii=False, indent=2 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def cmd_faq_show(args: argparse.Namespace, config: Config) -> int:
    faq = _load(args, config)
    if args.id not in faq.entries:
        print(f"no entry '{args.id}'; ids: {', '.join(sorted(faq.entries))}", file=sys.stderr)
        return 1
    from bot.router import Router  # the same rendering members get

    router = Router.from_config(config, faq=faq)
    lang = Lang(args.lang)
    for reply in router.preview(args.id, lang, sms=args.sms):
        print(reply)
        if args.sms:
            info = segments.count(reply)
            print(f"--- {info.encoding}, {info.units} characters, {info.segments} segment(s)")
    return 0


def cmd_faq_learn(args: argparse.Namespace, config: Config) -> int:
    from bot.learn import Labelled, learn, read_labelled

    faq_dir = _faq_dir(args, config)
    rows: list[Labelled] = []
    problems: list[Problem] = []
    for name in args.files:
        found_rows, found = read_labelled(Path(name))
        rows += found_rows
        problems += found
    _problems_out(problems)
    if any(p.severity == "error" for p in problems):
        print(f"faq learn FAILED: {len(problems)} bad line(s); nothing changed")
        return 1
    result = learn(faq_dir, rows, urgency=not args.no_urgency, dry_run=args.dry_run)
    _problems_out(result.problems)
    if not result.ok:
        print(f"faq learn FAILED: {len(result.problems)} problem(s); nothing changed")
        return 1
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.added.items())) or "nothing"
    verb = "would add" if args.dry_run else "added"
    print(f"faq learn: {verb} {kinds}; {result.skipped} already listed")
    if not args.dry_run and result.added:
        print("now run `hotline faq check`: it routes every example question to its entry")
    return 0


def _problems_out(problems: Sequence[Problem]) -> None:
    for p in problems:
        print(p, file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="hotline-bot: bilingual know-your-rights chat bot"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    faq = sub.add_parser("faq", help="check, export and preview the FAQ").add_subparsers(
        dest="faq_command", required=True
    )
    p = faq.add_parser("check", help="validate FAQ, settings and locales (file:line errors)")
    p.add_argument("--dir", help="FAQ folder (default: FAQ_DIR or ./faq)")
    p.add_argument("--locales", help="locales folder (default: LOCALES_DIR or ./locales)")
    p.add_argument("--no-routing", action="store_true", help="skip the example-routing check")
    p.set_defaults(handler=cmd_faq_check)
    p = faq.add_parser("export", help="print the whole FAQ as JSON")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.add_argument("--dir", help="FAQ folder")
    p.set_defaults(handler=cmd_faq_export)
    p = faq.add_parser("show", help="print one answer as a member would see it")
    p.add_argument("id")
    p.add_argument("--lang", choices=[lang.value for lang in Lang], default="en")
    p.add_argument("--sms", action="store_true", help="the SMS version, with segment count")
    p.add_argument("--dir", help="FAQ folder")
    p.set_defaults(handler=cmd_faq_show)
    p = faq.add_parser(
        "learn",
        help="add labelled messages (JSON lines, as `hotline ask --json` prints) to the "
        "entries' example questions, the not-answered list and the urgency examples",
    )
    p.add_argument("files", nargs="+", metavar="FILE.jsonl")
    p.add_argument("--dir", help="FAQ folder")
    p.add_argument("--no-urgency", action="store_true", help="leave faq/urgency.yaml alone")
    p.add_argument("--dry-run", action="store_true", help="count, change nothing")
    p.set_defaults(handler=cmd_faq_learn)

    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def _command_modules() -> list[Any]:
    import importlib

    found = []
    for name in ("bot.ask", "bot.storage.commands", "bot.web", "bot.channels.telegram"):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:  # a part not built yet
            if exc.name != name:
                raise
    return [m for m in found if hasattr(m, "register")]


_COMMAND_MODULES: list[Any] = []


def main(argv: Sequence[str] | None = None) -> int:
    _COMMAND_MODULES[:] = _command_modules()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = Config.from_env()
        handler: Handler = args.handler
        return handler(args, config)
    except HotlineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
