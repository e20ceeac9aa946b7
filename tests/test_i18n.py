"""Interface texts: formatted once per (language, id, arguments), in a bounded cache."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot import i18n
from bot.faq import Faq
from bot.models import Lang
from tests.conftest import ROOT


def test_interface_texts_are_formatted_once_and_the_cache_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = i18n.Messages.load(ROOT / "locales", Faq.load(ROOT / "faq").values)
    calls: list[str] = []
    real = i18n.Messages._format

    def counting(
        self: i18n.Messages, lang: Lang, msg_id: str, args: Mapping[str, str | int]
    ) -> str:
        calls.append(msg_id)
        return real(self, lang, msg_id, args)

    monkeypatch.setattr(i18n.Messages, "_format", counting)
    first = t(Lang.ES, "option-line", key="1", label="Mis derechos")
    assert "Mis derechos" in first
    assert t(Lang.ES, "option-line", label="Mis derechos", key="1") == first
    assert t(Lang.EN, "option-line", key="1", label="Mis derechos")
    assert len(calls) == 2
    with pytest.raises(KeyError):  # a missing message is still an error, every time
        t(Lang.EN, "no-such-message")
    monkeypatch.setattr(i18n, "CACHE_SIZE", 3)
    for n in range(10):
        t(Lang.EN, "option-line", key=str(n), label="x")
    assert len(t._cache) <= 3
