"""The SMS channel end to end through the ASGI app: Twilio signatures, TwiML, dedupe, opt-out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.config import Config
from bot.errors import DeliveryError, StorageUnavailable
from bot.faq import Faq
from bot.i18n import Messages
from bot.models import Channel, Lang
from bot.storage.base import OutboxItem
from bot.storage.schema import contacts, inbound_keys
from bot.storage.sql import SqlStore
from bot.web import SerialStore
from tests.fakes import FakeTwilio

from .conftest import AppFactory, Running, post_sms, sign, sms_params

SPANISH_QUESTION = "¿Qué hago si ICE toca a mi puerta?"


def messages_of(response_text: str) -> list[str]:
    root = ET.fromstring(response_text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def rows(app: Running, table: object) -> int:
    store = app.server.store
    if isinstance(store, SerialStore):
        store = store.inner
    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


async def test_signed_spanish_question_gets_the_spanish_answer_in_twiml(
    app_client: AppFactory, faq: Faq
) -> None:
    async with app_client() as app:
        r = await post_sms(app, sms_params(SPANISH_QUESTION, "+15550100001", "SM" + "1" * 32))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    texts = messages_of(r.text)
    assert faq.entries["ice-home"].text[Lang.ES].sms in texts
    assert any(t.startswith("Hola") for t in texts)  # the Spanish welcome came first


async def test_forged_signature_is_refused_and_nothing_is_stored(app_client: AppFactory) -> None:
    params = sms_params("hola", "+15550100002", "SM" + "2" * 32)
    async with app_client() as app:
        forged = sign(params, token="not-the-auth-token")
        assert (await post_sms(app, params, signature=forged)).status_code == 403
        assert (await post_sms(app, params, signature="")).status_code == 403
        tampered = {**params, "Body": "something else"}
        assert (await post_sms(app, tampered, signature=sign(params))).status_code == 403
        assert rows(app, contacts) == 0
        assert rows(app, inbound_keys) == 0


async def test_signature_is_checked_against_the_public_url_not_the_internal_one(
    app_client: AppFactory,
) -> None:
    params = sms_params("hola", "+15550100003", "SM" + "3" * 32)
    async with app_client() as app:
        internal = sign(params, url="http://testserver/sms")
        assert (await post_sms(app, params, signature=internal)).status_code == 403
        # a query string is part of what Twilio signs
        signed = sign(params, url="https://hotline.example.org/sms?site=a")
        r = await post_sms(app, params, signature=signed, path="/sms?site=a")
        assert r.status_code == 200


async def test_replayed_message_sid_is_processed_once(app_client: AppFactory) -> None:
    params = sms_params("hello", "+15550100004", "SM" + "4" * 32)
    async with app_client() as app:
        first = await post_sms(app, params)
        again = await post_sms(app, params)
        assert rows(app, inbound_keys) == 1
    assert first.status_code == again.status_code == 200
    assert messages_of(first.text)
    assert messages_of(again.text) == []


async def test_media_without_text_gets_a_localized_note(
    app_client: AppFactory, messages: Messages
) -> None:
    async with app_client() as app:
        await post_sms(app, sms_params("menu", "+15550100005", "SM" + "5" * 32))
        r = await post_sms(
            app,
            sms_params(
                "",
                "+15550100005",
                "SM" + "6" * 32,
                NumMedia="1",
                MediaUrl0="https://api.twilio.com/media/1",
                MediaContentType0="image/jpeg",
            ),
        )
    assert messages_of(r.text) == [messages(Lang.EN, "media-only")]


async def test_twilio_opt_out_is_mirrored_without_our_own_reply(app_client: AppFactory) -> None:
    sender = "+15550100007"
    async with app_client() as app:
        await post_sms(app, sms_params("hello", sender, "SM" + "7" * 32))
        stop = await post_sms(app, sms_params("OPTOUT", sender, "SM" + "8" * 32, OptOutType="STOP"))
        assert messages_of(stop.text) == []
        store = app.server.store
        assert store is not None
        with store.transaction() as tx:
            assert tx.is_opted_out(Channel.SMS, sender)
        ignored = await post_sms(app, sms_params("what are my rights", sender, "SM" + "9" * 32))
        assert messages_of(ignored.text) == []
        start = await post_sms(
            app, sms_params("UNSTOP", sender, "SM" + "a" * 32, OptOutType="START")
        )
        assert messages_of(start.text) == []
        with store.transaction() as tx:
            assert not tx.is_opted_out(Channel.SMS, sender)


async def test_own_stop_keyword_is_confirmed_when_twilio_does_not(
    app_client: AppFactory, messages: Messages
) -> None:
    async with app_client() as app:
        r = await post_sms(app, sms_params("STOP", "+15550100008", "SM" + "b" * 32))
    assert messages(Lang.EN, "stopped") in messages_of(r.text)


class DownStore:
    """A store whose database is unreachable."""

    def transaction(self) -> object:
        raise StorageUnavailable("the database is unavailable (OperationalError)")

    def ping(self) -> bool:
        return False

    def claim_outbox(self, now: datetime, limit: int = 20, lease_s: float = 60) -> list[object]:
        raise StorageUnavailable("the database is unavailable (OperationalError)")

    def purge(self, older_than: datetime, *, now: datetime | None = None) -> object:
        raise StorageUnavailable("the database is unavailable (OperationalError)")

    def close(self) -> None:
        pass


async def test_database_outage_answers_503_not_500(app_client: AppFactory) -> None:
    async with app_client(store=DownStore()) as app:
        r = await post_sms(app, sms_params("hola", "+15550100009", "SM" + "c" * 32))
        health = await app.http.get("/healthz")
    assert r.status_code == 503
    assert health.status_code == 503
    assert health.json()["database"] == "unreachable"


async def test_sms_disabled_without_its_variables(app_client: AppFactory) -> None:
    off = {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM_NUMBER": ""}
    async with app_client(off) as app:
        r = await post_sms(app, sms_params("hola", "+15550100010", "SM" + "d" * 32))
        assert (await app.http.get("/healthz")).json()["channels"]["sms"] is False
    assert r.status_code == 404


async def test_outbox_sms_goes_out_through_the_twilio_rest_api(
    app_client: AppFactory, fake_twilio: FakeTwilio
) -> None:
    from tests.fakes import TWILIO_SID, TWILIO_TOKEN

    async with app_client() as app:
        store = app.server.store
        assert store is not None
        with store.transaction() as tx:
            tx.enqueue(Channel.SMS, "+15550100011", "A volunteer wrote: call us", datetime.now(UTC))
        [call] = await fake_twilio.until("Messages", 1, timeout=5)
    assert call.auth == (TWILIO_SID, TWILIO_TOKEN)
    assert call.params == {
        "To": "+15550100011",
        "Body": "A volunteer wrote: call us",
        "From": "+15550001111",
    }


# --- splitting and the REST sender against the fake -----------------------------------------


def test_long_reply_is_split_at_paragraphs_within_ten_segments() -> None:
    from bot import segments
    from bot.channels.sms import split_sms, twiml

    paragraphs = [
        f"Párrafo {i}: " + ("derechos " * 40).strip() for i in range(8)
    ]  # UCS-2, ~370 each
    text = "\n\n".join(paragraphs)
    parts = split_sms(text)
    assert len(parts) > 1
    assert all(segments.count(p).segments <= 10 for p in parts)
    assert "\n\n".join(parts) == text.strip()
    assert len(messages_of(twiml([text, "short"]))) == len(parts) + 1
    assert split_sms("short") == ["short"]


def test_a_paragraph_without_breaks_is_still_split() -> None:
    from bot import segments
    from bot.channels.sms import split_sms

    parts = split_sms("x" * 5000)
    assert all(segments.count(p).segments <= 10 for p in parts)
    assert "".join(parts) == "x" * 5000


def twilio_config(url: str, **extra: str) -> Config:
    from tests.fakes import TWILIO_SID, TWILIO_TOKEN

    return Config.from_env(
        {
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": "+15550001111",
            "TWILIO_API_URL": url,
            "PUBLIC_URL": "https://hotline.example.org",
            **extra,
        }
    )


def sms_item(text: str = "hello") -> OutboxItem:
    return OutboxItem(7, Channel.SMS, "+15550100099", text)


async def test_twilio_sender_uses_the_messaging_service_when_configured(
    _twilio_server: tuple[FakeTwilio, str], fake_twilio: FakeTwilio
) -> None:
    from bot.channels.sms import TwilioSender

    cfg = twilio_config(
        _twilio_server[1], TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32
    )
    sender = TwilioSender(cfg)
    try:
        await sender.send(sms_item())
    finally:
        await sender.aclose()
    [call] = fake_twilio.calls
    assert call.params == {
        "To": "+15550100099",
        "Body": "hello",
        "MessagingServiceSid": "MG" + "1" * 32,
    }


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "expect_retry_after", "permanent"),
    [
        (429, 20429, "3", 3.0, False),
        (429, 20429, None, None, False),
        (500, 20500, None, None, False),
        (503, 20503, "10", 10.0, False),
        (400, 21610, None, None, True),  # the member replied STOP
        (400, 21211, None, None, True),  # invalid number
        (404, 20404, None, None, True),
    ],
)
async def test_twilio_sender_maps_errors(
    _twilio_server: tuple[FakeTwilio, str],
    fake_twilio: FakeTwilio,
    status: int,
    code: int,
    retry_after: str | None,
    expect_retry_after: float | None,
    permanent: bool,
) -> None:
    from bot.channels.sms import TwilioSender

    fake_twilio.fail(status, code=code, retry_after=retry_after)
    sender = TwilioSender(twilio_config(_twilio_server[1]))
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(sms_item())
    finally:
        await sender.aclose()
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == expect_retry_after
    assert "+1555" not in str(caught.value)


async def test_twilio_sender_timeout_is_retryable(
    _twilio_server: tuple[FakeTwilio, str], fake_twilio: FakeTwilio
) -> None:
    from bot.channels.sms import TwilioSender

    fake_twilio.fail(201, delay_s=1.0)
    sender = TwilioSender(twilio_config(_twilio_server[1]), timeout_s=0.2)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(sms_item())
    finally:
        await sender.aclose()
    assert not caught.value.permanent


def test_twiml_is_the_document_twilio_s_messaging_response_writes() -> None:
    from twilio.twiml.messaging_response import MessagingResponse

    from bot.channels.sms import split_sms, twiml

    cases: list[list[str]] = [
        [],
        ["hola"],
        ["a & b <c> \"d\" 'e'", "línea 1\nlínea 2\r\n\tfin", "]]> &amp; 🙂"],
        ["\n\n".join(("derechos " * 60).strip() for _ in range(8))],
    ]
    for texts in cases:
        reference = MessagingResponse()
        for text in texts:
            for part in split_sms(text):
                reference.message(part)
        assert twiml(texts) == str(reference)
