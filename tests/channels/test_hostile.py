"""Hostile input through both webhooks: never a 500, never a reply to the wrong person."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeTelegram

from .conftest import WEBHOOK_SECRET, AppFactory, post_sms, sms_params

HOSTILE = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

bodies = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda s, n: (s or "x") * n, st.text(min_size=1, max_size=20), st.integers(500, 10_000)
    ),
    st.sampled_from(
        ["", "\x00\x07\x1b[2J", "\u202e\u202dSTOP", "🆘🆘🆘", "עזרה", "%00", "A" * 1600]
    ),
)


@HOSTILE
@given(body=bodies, media=st.sampled_from(["0", "1", "-1", "x", ""]))
async def test_any_sms_body_gets_2xx_or_4xx(app_client: AppFactory, body: str, media: str) -> None:
    async with app_client() as app:
        params = sms_params(body, "+15550109999", "SM" + "f" * 32, NumMedia=media)
        r = await post_sms(app, params)
        assert r.status_code < 500
        assert r.status_code in (200, 400, 413)


@HOSTILE
@given(
    drop=st.sets(st.sampled_from(["From", "Body", "MessageSid", "AccountSid", "To"])),
    raw=st.binary(max_size=300),
)
async def test_missing_fields_and_invalid_utf8_are_refused_cleanly(
    app_client: AppFactory, drop: set[str], raw: bytes
) -> None:
    async with app_client() as app:
        params = {
            k: v
            for k, v in sms_params("hola", "+15550109998", "SM" + "e" * 32).items()
            if k not in drop
        }
        r = await post_sms(app, params)
        assert r.status_code < 500
        # raw bytes (invalid UTF-8, duplicated fields) with any signature: refused, no crash
        body = raw + b"&From=%2B1&From=%2B2&Body=%FF%FE"
        r = await app.http.post(
            "/sms",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
        )
        assert r.status_code in (400, 403)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


@HOSTILE
@given(
    update=st.dictionaries(
        st.sampled_from(
            [
                "update_id",
                "message",
                "edited_message",
                "callback_query",
                "channel_post",
                "my_chat_member",
                "poll",
                "extra",
            ]
        ),
        json_values,
        max_size=4,
    )
)
async def test_any_telegram_update_is_acknowledged_and_sends_nothing_wrong(
    app_client: AppFactory, fake_telegram: FakeTelegram, update: dict[str, Any]
) -> None:
    fake_telegram.clear()
    async with app_client() as app:
        r = await app.http.post(
            "/telegram",
            content=json.dumps(update),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        )
        assert r.status_code < 500
    # garbage can't make the bot write to anyone
    assert not [c for c in fake_telegram.calls if c.method == "sendMessage"]


async def test_oversized_payloads_are_refused_before_parsing(app_client: AppFactory) -> None:
    async with app_client() as app:
        big = urlencode({"Body": "x" * 300_000})
        r = await app.http.post(
            "/sms",
            content=big,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
        )
        assert r.status_code == 413
        r = await app.http.post(
            "/telegram",
            content=b"{" + b" " * 300_000 + b"}",
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert r.status_code == 413
