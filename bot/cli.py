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
