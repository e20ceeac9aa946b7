"""The desk's settings: read from the environment, bad values named."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.errors import ConfigError
from bot.models import Lang


def test_defaults() -> None:
    config = Config.from_env({})
    assert config.volunteer_lang is Lang.EN and config.oncall_telegram == ()
    assert (config.claim_timeout_urgent_s, config.claim_timeout_normal_s) == (180, 1800)
    assert config.reopen_window_s == 86400


def test_desk_settings() -> None:
    config = Config.from_env(
        {
            "VOLUNTEER_LANG": "ES",
            "ONCALL_TELEGRAM": "@rosa_oncall, luis_oncall",
            "ONCALL_SMS": "+16175550001,+16175550002",
            "VOLUNTEER_IDS": "111, 222",
            "CLAIM_TIMEOUT_URGENT": "60",
            "CASE_REOPEN_WINDOW": "0",
        }
    )
    assert config.volunteer_lang is Lang.ES
    assert config.oncall_telegram == ("@rosa_oncall", "@luis_oncall")
    assert config.oncall_sms == ("+16175550001", "+16175550002")
    assert config.volunteer_ids == frozenset({111, 222})
    assert config.claim_timeout_urgent_s == 60 and config.reopen_window_s == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("VOLUNTEER_LANG", "fr"), ("ONCALL_TELEGRAM", "@ab"), ("ONCALL_TELEGRAM", "+1617555")],
)
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})
