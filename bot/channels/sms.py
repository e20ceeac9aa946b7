"""The SMS channel (Twilio): signed webhook in, TwiML replies out, later messages by REST API.

Immediate replies travel in the webhook response as TwiML (one <Message> per reply);
messages sent later (volunteer relays, notices) go through the outbox and `TwilioSender`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import httpx
from anyio import CapacityLimiter, to_thread
from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot import segments
from bot.channels import log_failure
from bot.config import Config
from bot.errors import ConfigError, DeliveryError, StorageUnavailable
from bot.models import Channel, Inbound
from bot.service import Hotline
from bot.storage.base import OutboxItem
from bot.text import split_parts

logger = logging.getLogger(__name__)

# Twilio joins up to 10 segments into one message on the phone; longer replies are sent as
# several messages, cut at paragraph boundaries.
MAX_SEGMENTS_PER_MESSAGE = 10
TWIML_TYPE = "application/xml"
TWIML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
SIGNATURE_HEADER = "X-Twilio-Signature"

# With Advanced Opt-Out, Twilio answers STOP/START/HELP itself and says so in OptOutType.
# The member's own word may be any of Twilio's keywords (REVOKE, OPTOUT, UNSTOP...); the
# core is given the canonical one so the contact's state mirrors Twilio's.
OPT_OUT_KEYWORDS = {"STOP": "stop", "START": "start"}

# Twilio REST answers that retrying cannot fix are any 4xx except these.
_RETRYABLE_4XX = frozenset({401, 408, 409, 429})


def split_sms(text: str, max_segments: int = MAX_SEGMENTS_PER_MESSAGE) -> list[str]:
    """`text` as one message, or as several of at most `max_segments` segments each, cut at
    paragraph boundaries (then line, then word boundaries when a paragraph alone is too long)."""
    if segments.count(text).segments <= max_segments:
        return [text]

    def fits(part: str) -> bool:
        return segments.count(part).segments <= max_segments

    return split_parts(text, fits, ("\n\n", "\n", " "))


def twiml(texts: Iterable[str]) -> str:
    """A TwiML document with one <Message> per part (none: Twilio sends nothing): the
    document Twilio's MessagingResponse writes, without building an element tree for it."""
    parts = [part for text in texts for part in split_sms(text)]
    if not parts:
        return TWIML_DECLARATION + "<Response />"
    messages = "".join(f"<Message>{escape(part)}</Message>" for part in parts)
    return f"{TWIML_DECLARATION}<Response>{messages}</Response>"


EMPTY_TWIML = twiml(())


def inbound_from_form(form: Mapping[str, str]) -> tuple[Inbound, str | None] | None:
    """The neutral message in a Twilio webhook form, and its OptOutType; None if not one."""
    sender = form.get("From", "").strip()
    if not sender:
        return None
    text = form.get("Body", "")
    opt_out = form.get("OptOutType", "").strip().upper() or None
    if opt_out in OPT_OUT_KEYWORDS:
        text = OPT_OUT_KEYWORDS[opt_out]
    try:
        media = max(0, int(form.get("NumMedia", "0") or 0))
    except ValueError:
        media = 0
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or None
    return Inbound(Channel.SMS, sender, text, provider_id=sid, media_count=media), opt_out


class SmsChannel:
    """The /sms webhook: verify Twilio's signature, run the core, answer in TwiML."""

    def __init__(
        self, hotline: Hotline, config: Config, *, limiter: CapacityLimiter | None = None
    ) -> None:
        if not (config.sms_enabled and config.twilio_auth_token and config.public_url):
            raise ConfigError("SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and PUBLIC_URL")
        self._hotline = hotline
        self._limiter = limiter  # threads that may run the core at once (None: anyio's 40)
        self._public_url = config.public_url
        self._validator = RequestValidator(config.twilio_auth_token)
        self._shared = (
            RequestValidator(config.twilio_webhook_shared_key)
            if config.twilio_webhook_shared_key
            else None
        )

    def verify(self, url: str, params: Mapping[str, str], signature: str, settings: str) -> bool:
        """True when Twilio signed exactly this URL and these parameters."""
        if not signature:
            return False
        if settings:  # signed with a webhook SharedKey, not the Auth Token
            if self._shared is None:
                logger.warning(
                    "sms webhook signed with a SharedKey; TWILIO_WEBHOOK_SHARED_KEY is not set"
                )
                return False
            return bool(
                self._shared.validate(
                    url, dict(params), signature, get_signature_algorithm(settings)
                )
            )
        return bool(self._validator.validate(url, dict(params), signature))

    def signed_url(self, request: Request) -> str:
        # Twilio signed the public https URL it called, not what we see behind the proxy.
        url = f"{self._public_url}{request.url.path}"
        if request.url.query:
            url += "?" + request.url.query
        return url

    async def webhook(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        params = dict(parse_qsl(body, keep_blank_values=True))
        signature = request.headers.get(SIGNATURE_HEADER, "")
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER, "")
        if not self.verify(self.signed_url(request), params, signature, settings):
            logger.warning("sms webhook: missing or invalid Twilio signature; refused")
            return Response(status_code=403)
        parsed = inbound_from_form(params)
        if parsed is None:
            logger.warning("sms webhook: signed request without a sender; ignored")
            return Response(EMPTY_TWIML, media_type=TWIML_TYPE)
        msg, opt_out = parsed
        try:
            handled = await to_thread.run_sync(self._hotline.handle, msg, limiter=self._limiter)
        except StorageUnavailable:
            logger.warning("sms webhook: database unavailable; answering 503 so Twilio retries")
            return Response(status_code=503, headers={"Retry-After": "5"})
        except Exception as exc:
            log_failure(logger, "sms webhook", exc)
            return Response(status_code=500)  # Twilio shows error 11200 and tries the fallback
        if opt_out is not None:
            # Twilio has already answered STOP/START/HELP; our state mirrors it silently.
            return Response(EMPTY_TWIML, media_type=TWIML_TYPE)
        return Response(twiml(r.text for r in handled.replies), media_type=TWIML_TYPE)


class TwilioSender:
    """Sends outbox items over the Twilio REST API (the `Sender` protocol)."""

    def __init__(
        self,
        config: Config,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        sid, token = config.twilio_account_sid, config.twilio_auth_token
        if not (
            sid and token and (config.twilio_from_number or config.twilio_messaging_service_sid)
        ):
            raise ConfigError(
                "TwilioSender needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
        self._path = f"/2010-04-01/Accounts/{sid}/Messages.json"
        self._origin = (
            {"MessagingServiceSid": config.twilio_messaging_service_sid}
            if config.twilio_messaging_service_sid
            else {"From": config.twilio_from_number or ""}
        )
        self._client = httpx.AsyncClient(
            base_url=config.twilio_api_url,
            auth=(sid, token),
            timeout=timeout_s,
            transport=transport,
        )

    async def send(self, item: OutboxItem) -> None:
        # A part already sent is sent again if a later one fails and the item is retried;
        # outbox texts (relays, notices) rarely need more than one part.
        for part in split_sms(item.text):
            await self._post(item.address, part)

    async def _post(self, to: str, body: str) -> None:
        data = {"To": to, "Body": body, **self._origin}
        try:
            response = await self._client.post(self._path, data=data)
        except httpx.TimeoutException as exc:
            raise DeliveryError("Twilio API timed out") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Twilio API unreachable ({type(exc).__name__})") from exc
        status = response.status_code
        if status < 300:
            return
        code = _error_code(response)
        if status == 429 or status >= 500 or status in _RETRYABLE_4XX:
            if status == 401:
                logger.error("Twilio refused our credentials: check TWILIO_AUTH_TOKEN")
            raise DeliveryError(
                f"Twilio API answered {status} (code {code})",
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        # 21610 unsubscribed, 21211 invalid number, 21614 not a mobile ...: do not retry
        raise DeliveryError(
            f"Twilio API refused the message: {status} (code {code})", permanent=True
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return "none"
    return str(data.get("code", "none")) if isinstance(data, dict) else "none"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the worker's backoff
