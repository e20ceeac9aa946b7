"""The terminal channel: `hotline chat` talks to the real core and the local default storage."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot.config import Config
from bot.models import Channel, Inbound, Lang
from bot.router import Router
from bot.service import Hotline
from bot.storage import open_store

logger = logging.getLogger(__name__)
CONSOLE_SENDER = "console:local"


def run_console(
    config: Config,
    lang: Lang | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Read a line, print the bot's replies, until end of input or Ctrl-D."""
    inp = stdin or sys.stdin
    out = stdout or sys.stdout
    router = Router.from_config(config)
    store = open_store(config)
    hotline = Hotline(lambda: router, store)
    interactive = inp.isatty()
    try:
        while True:
            if interactive:
                out.write("\n> ")
                out.flush()
            line = inp.readline()
            if not line:
                break
            handled = hotline.handle(
                Inbound(Channel.CONSOLE, CONSOLE_SENDER, line.strip(), lang_hint=lang)
            )
            for reply in handled.replies:
                out.write(reply.text + "\n\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0
