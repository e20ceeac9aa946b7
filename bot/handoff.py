"""The volunteer desk: cases as forum topics in the volunteer group, relays, claims, timers.

Two halves. `Desk` works inside the member's transaction (the `Escalations` protocol: open,
reopen, relay) and on updates from the volunteer group (claim, close, replies, /faq, /note);
it never calls Telegram itself. Everything the group should see is queued in the outbox as
a "desk operation" addressed to the volunteer chat ({"op": "post", "case_id": 12}), in the
same transaction as the state change, so nothing is lost while Telegram is down. `DeskSender`
executes those operations with the Bot API when the outbox worker sends them: it resolves the
case's topic at that moment, creates it (under the case's row lock, so two processes never
open two topics for one case) and creates it again when a volunteer deleted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ForumIconColor
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.channels.telegram import delivery_error, split_text
from bot.config import Config
from bot.errors import ConfigError, DeliveryError
from bot.faq import Hours
from bot.models import Channel, Event, Inbound, Lang, Reason, Urgency
from bot.outbox import Sender
from bot.router import WEEKDAY_KEYS, Router
from bot.storage.base import (
    Case,
    CaseStatus,
    Contact,
    Direction,
    OutboxItem,
    Store,
    Transaction,
)
from bot.triage import triage

logger = logging.getLogger(__name__)

T = TypeVar("T")
Call = Callable[[Coroutine[Any, Any, T]], T]

CARD_LINES = 8  # transcript lines on a case card
CARD_LINE_CHARS = 280  # each cut to this length: the card must stay well under 4096
TOPIC_NAME_CHARS = 128  # Bot API limit
# createForumTopic runs while the case row is locked (on SQLite: the whole database), so it
# gets a short deadline, well under the outbox's send timeout. The lock is held by a worker
# thread while the call runs on the event loop, so code on the loop must never use the store
# synchronously (everywhere in this project it goes through threads).
CALL_TIMEOUT_S = 10.0
# What the member is told when nobody has claimed in time: an honest order of magnitude.
WAIT_ESTIMATE_MIN = {Urgency.URGENT: 15, Urgency.NORMAL: 60}
ICON_COLOR = {Urgency.URGENT: ForumIconColor.RED, Urgency.NORMAL: ForumIconColor.YELLOW}
COMMANDS = frozenset({"claim", "close", "reopen", "faq", "note", "help"})
CALLBACK_PREFIX = "desk"  # callback data "desk:claim:12"
BUTTON_ACTIONS = frozenset({"claim", "close", "reopen"})

# Bot API answers (lower case, "Bad Request: " already stripped by PTB) that say the topic is
# gone, closed, or that an edit changed nothing.
_TOPIC_GONE = ("thread not found", "topic_deleted", "topic_id_invalid", "topic not found")
_TOPIC_CLOSED = ("topic_closed",)
_UNCHANGED = ("message is not modified", "topic_not_modified")
_CARD_GONE = ("message to edit not found", "message can't be edited")
_NO_RIGHTS = ("not enough rights", "chat_admin_required", "administrator rights", "chat not found")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _says(exc: BadRequest, phrases: tuple[str, ...]) -> bool:
    text = exc.message.lower()
    return any(p in text for p in phrases)


def topic_gone(exc: BadRequest) -> bool:
    """True when Telegram says the forum topic no longer exists (a volunteer deleted it)."""
    return _says(exc, _TOPIC_GONE)


def mask(contact: Contact) -> str:
    """The last four digits of a phone number; nothing else of an address is ever shown."""
    digits = "".join(ch for ch in contact.address if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else "····"


@dataclass(frozen=True, slots=True)
class VolunteerAction:
    """One thing a volunteer did in the group: a button press or a message in a case topic."""

    update_id: int
    kind: str  # claim, close, reopen, faq, note, help, say, media, ignore
    name: str = ""  # the volunteer's first name, for the card; never logged
    topic_id: int | None = None
    case_id: int | None = None  # from a button
    arg: str = ""  # the text to relay, the note, the FAQ id
    media: bool = False
    callback_id: str | None = None


def parse_volunteer_update(
    update: Update, chat_id: int, allowed: frozenset[int] = frozenset()
) -> VolunteerAction | None:
    """What a volunteer-group update asks for; None for anything to ignore. Pure: no I/O.

    Only updates from the volunteer chat count; with `allowed` (VOLUNTEER_IDS) only those
    users; never bots, anonymous admins or channels posting as the group."""
    query = update.callback_query
    if query is not None:
        origin = query.message
        user = query.from_user
        if origin is None or origin.chat.id != chat_id or user.is_bot:
            return None
        if allowed and user.id not in allowed:
            logger.info("volunteer button ignored: sender is not in VOLUNTEER_IDS")
            return VolunteerAction(update.update_id, "ignore", callback_id=query.id)
        prefix, _, rest = (query.data or "").partition(":")
        kind, _, number = rest.partition(":")
        if prefix != CALLBACK_PREFIX or kind not in BUTTON_ACTIONS or not number.isdigit():
            return VolunteerAction(update.update_id, "ignore", callback_id=query.id)
        return VolunteerAction(
            update.update_id,
            kind,
            name=user.first_name,
            case_id=int(number),
            callback_id=query.id,
        )
    message = update.message
    if message is None or message.chat.id != chat_id:
        return None  # edits, joins, reactions ...
    author = message.from_user
    if message.sender_chat is not None or author is None or author.is_bot:
        return None
    if allowed and author.id not in allowed:
        logger.info("volunteer message ignored: sender is not in VOLUNTEER_IDS")
        return None
    if not message.is_topic_message or message.message_thread_id is None:
        return None  # the General topic: talk among volunteers
    text = (message.text or message.caption or "").strip()
    media = message.effective_attachment is not None
    base = VolunteerAction(
        update.update_id, "say", name=author.first_name, topic_id=message.message_thread_id
    )
    if text.startswith("/"):
        head, _, arg = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        kind = command if command in COMMANDS else "help"
        return VolunteerAction(
            base.update_id, kind, name=base.name, topic_id=base.topic_id, arg=arg.strip()
        )
    if not text:
        if not media:
            return None  # a service message (topic edited, pinned ...)
        return VolunteerAction(base.update_id, "media", name=base.name, topic_id=base.topic_id)
    return VolunteerAction(
        base.update_id, "say", name=base.name, topic_id=base.topic_id, arg=text, media=media
    )


class Desk:
    """The handoff to volunteers: `Escalations` for the core, `VolunteerDesk` for Telegram.

    Build it with the config and the live router (for texts, FAQ and hours); `bind` it to the
    store, the bot and the outbox's wake-up once the server has them."""

    def __init__(
        self,
        config: Config,
        router: Callable[[], Router],
        store: Store | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if config.volunteer_chat_id is None:
            raise ConfigError("the volunteer desk needs VOLUNTEER_CHAT_ID")
        self.config = config
        self.chat_id: int = config.volunteer_chat_id
        self.lang = config.volunteer_lang
        self._router = router
        self.store = store
        self.clock = clock
        self.bot: Bot | None = None
        self._wake: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(
        self,
        *,
        store: Store | None = None,
        bot: Bot | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """Attach what the server builds after the desk; call it from the event loop (`wake`
        is then called thread-safely whenever the desk queues something)."""
        if store is not None:
            self.store = store
        if bot is not None:
            self.bot = bot
        if wake is not None:
            self._wake = wake
            self._loop = asyncio.get_running_loop()

    # -- helpers ----------------------------------------------------------------------------

    @property
    def router(self) -> Router:
        return self._router()

    @property
    def hours(self) -> Hours:
        return self.router.faq.hours

    def t(self, msg_id: str, **args: str | int) -> str:
        """A volunteer-facing text, in VOLUNTEER_LANG."""
        return self.router.t(self.lang, msg_id, **args)

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("Desk.bind(store=...) was not called")
        return self.store

    def _notify(self) -> None:
        """Wake the outbox worker (from any thread): the desk just queued something."""
        wake, loop = self._wake, self._loop
        if wake is None or loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake)

    def _op(
        self, tx: Transaction, op: str, case_id: int, now: datetime, text: str = "", **extra: Any
    ) -> None:
        payload: dict[str, Any] = {"op": op, "case_id": case_id, **extra}
        tx.enqueue_deferred(Channel.TELEGRAM, str(self.chat_id), text, now, payload=payload)

    def _post(self, tx: Transaction, case_id: int, text: str, now: datetime) -> None:
        self._op(tx, "post", case_id, now, text)

    def _to_member(
        self, tx: Transaction, contact: Contact, case_id: int, text: str, now: datetime
    ) -> None:
        """Queue a message for the member on their own channel, and keep it with the case."""
        if contact.channel is not Channel.CONSOLE:  # the terminal has no outbox sender
            tx.enqueue_deferred(contact.channel, contact.address, text, now)
        tx.add_transcript(contact.id, case_id, Direction.OUT, text, now)

    def member_lang(self, contact: Contact | None, case: Case) -> Lang:
        return (contact.state.lang if contact is not None else None) or case.lang

    def member_text(self, lang: Lang, msg_id: str, **args: str | int) -> str:
        return self.router.t(lang, msg_id, **args)

    def _timeout(self, urgency: Urgency) -> timedelta:
        seconds = (
            self.config.claim_timeout_urgent_s
            if urgency is Urgency.URGENT
            else self.config.claim_timeout_normal_s
        )
        return timedelta(seconds=seconds)

    def _reopenable(self, case: Case, now: datetime) -> bool:
        window = self.config.reopen_window_s
        return (
            case.status is CaseStatus.CLOSED
            and case.closed_at is not None
            and window > 0
            and now - case.closed_at <= timedelta(seconds=window)
        )

    def _urgency_label(self, case: Case) -> str:
        return self.t(f"desk-urgency-{case.urgency.value}")

    def _mentions(self) -> str:
        return " ".join(self.config.oncall_telegram)

    # -- the core's side (Escalations), inside the member's transaction ------------------------

    def available(self) -> bool:
        return True  # a Desk exists only when VOLUNTEER_CHAT_ID is set

    def escalate(
        self, tx: Transaction, contact: Contact, event: Event, msg: Inbound, now: datetime
    ) -> int | None:
        urgency = Urgency.URGENT if event.urgency is Urgency.URGENT else Urgency.NORMAL
        reason = event.reason or Reason.REQUESTED
        lang = event.lang or contact.state.lang or Lang.EN
        latest = tx.latest_case(contact.id)
        if latest is not None:
            latest = tx.get_case(latest.id, lock=True) or latest
        if latest is not None and latest.status is not CaseStatus.CLOSED:
            case = latest  # still waiting or claimed: the same case takes the message
            self._post_member(tx, case, msg, now)
            if urgency is Urgency.URGENT and case.urgency is not Urgency.URGENT:
                case = self._upgrade(tx, case, reason, now)
        elif latest is not None and self._reopenable(latest, now):
            case = self._reopen(
                tx, latest, now, urgency=urgency, reason=reason, lang=lang, entry_id=event.entry_id
            )
            self._post(tx, case.id, self.t("desk-reopened-member"), now)
            self._post_member(tx, case, msg, now)
        else:
            case = tx.open_case(contact.id, urgency, reason, lang, event.entry_id, now)
            self._op(tx, "open", case.id, now)  # topic + card, with this message in it
        if (
            urgency is Urgency.URGENT
            and case.status is CaseStatus.OPEN
            and case.repaged_at is None
            and not self.hours.is_open(now)
        ):
            self._page(tx, case, now, offhours=True)  # nobody on shift: on-call at once
        logger.info("case %d: escalated (%s)", case.id, urgency.value)
        self._notify()
        return case.id

    def relay(self, tx: Transaction, contact: Contact, msg: Inbound, now: datetime) -> bool:
        raw = contact.state.case_id
        case = tx.get_case(int(raw), lock=True) if raw is not None and raw.isdigit() else None
        if case is None or case.contact_id != contact.id:
            return False
        if case.status is CaseStatus.CLOSED:
            if not self._reopenable(case, now):
                return False  # too long ago: the bot answers, a new case opens if needed
            case = self._reopen(tx, case, now)
            self._post(tx, case.id, self.t("desk-reopened-member"), now)
            lang = self.member_lang(contact, case)
            self._to_member(tx, contact, case.id, self.waiting_line(lang, now), now)
        self._post_member(tx, case, msg, now)
        found = triage(msg.text)
        if (
            found.urgency is Urgency.URGENT
            and found.reason is not None
            and case.urgency is not Urgency.URGENT
        ):
            case = self._upgrade(tx, case, found.reason, now)
        self._notify()
        return True

    def _upgrade(self, tx: Transaction, case: Case, reason: Reason, now: datetime) -> Case:
        """A waiting or claimed request turned urgent: red topic, urgent timers, on-call
        paged at once outside hours."""
        case = tx.update_case(case.id, urgency=Urgency.URGENT, reason=reason)
        self._op(tx, "card", case.id, now)
        self._op(tx, "rename", case.id, now)  # 🟡 -> 🔴 in the topic list
        if case.status is CaseStatus.OPEN and not self.hours.is_open(now):
            case = self._page(tx, case, now, offhours=True)
        logger.info("case %d: now urgent", case.id)
        return case

    def forget(self, tx: Transaction, contact: Contact, now: datetime) -> None:
        case = tx.latest_case(contact.id)
        if case is not None and case.topic_id is not None:
            # the topic holds the member's words: delete-my-data deletes it
            self._op(tx, "delete_topic", case.id, now, topic_id=case.topic_id)
            logger.info("case %d: member erased their data; deleting the topic", case.id)
            self._notify()

    def _post_member(self, tx: Transaction, case: Case, msg: Inbound, now: datetime) -> None:
        lines = []
        if msg.text.strip():
            lines.append(self.t("desk-member-says", text=msg.text.strip()))
        if msg.media_count:
            lines.append(self.t("desk-member-media", count=msg.media_count))
        if lines:
            self._post(tx, case.id, "\n".join(lines), now)

    def _reopen(self, tx: Transaction, case: Case, now: datetime, **changes: Any) -> Case:
        case = tx.update_case(
            case.id,
            status=CaseStatus.OPEN,
            opened_at=now,
            claimed_by=None,
            claimed_at=None,
            closed_at=None,
            repaged_at=None,
            **changes,
        )
        self._op(tx, "reopen_topic", case.id, now)
        self._op(tx, "card", case.id, now)
        logger.info("case %d: reopened by the member", case.id)
        return case

    def waiting_line(self, lang: Lang, now: datetime) -> str:
        """What a member is told when their message goes to volunteers again."""
        hours = self.hours
        if hours.is_open(now):
            return self.member_text(lang, "handoff-requested")
        nxt = hours.next_open(now)
        if nxt is None:
            return self.member_text(lang, "handoff-unavailable")
        days = (nxt.date() - now.astimezone(hours.timezone).date()).days
        day = "today" if days == 0 else "tomorrow" if days == 1 else WEEKDAY_KEYS[nxt.weekday()]
        return self.member_text(lang, "handoff-offhours", day=day, time=nxt.strftime("%H:%M"))

    def _page(self, tx: Transaction, case: Case, now: datetime, *, offhours: bool) -> Case:
        """Mention the on-call volunteers in the topic and page ONCALL_SMS (no member details)."""
        number = str(case.id)
        if offhours:
            text = self.t("desk-page-offhours", case=number, mentions=self._mentions())
        else:
            minutes = int((now - case.opened_at).total_seconds() // 60)
            text = self.t(
                "desk-repage",
                case=number,
                urgency=self._urgency_label(case),
                minutes=str(minutes),
                mentions=self._mentions(),
            )
        self._post(tx, case.id, " ".join(text.split()), now)  # no gap without mentions
        page_id = "desk-page-sms" if case.urgency is Urgency.URGENT else "desk-page-sms-normal"
        for phone in self.config.oncall_sms:
            tx.enqueue_deferred(Channel.SMS, phone, self.t(page_id, case=number), now)
        logger.info("case %d: paged on-call (%d by SMS)", case.id, len(self.config.oncall_sms))
        return tx.update_case(case.id, repaged_at=now)

    # -- claim timers ---------------------------------------------------------------------------

    def _due(self, case: Case, now: datetime) -> bool:
        """Unclaimed past its timeout and not re-paged yet; a normal case only in hours (the
        member was told when volunteers are back; the re-page comes when the shift starts)."""
        return (
            case.status is CaseStatus.OPEN
            and case.repaged_at is None
            and now - case.opened_at >= self._timeout(case.urgency)
            and (case.urgency is Urgency.URGENT or self.hours.is_open(now))
        )

    async def check_timers(self, now: datetime) -> None:
        """Re-page cases nobody claimed in time (the server calls this every few seconds)."""
        if await asyncio.to_thread(self.repage_due, now):
            self._notify()

    def repage_due(self, now: datetime) -> int:
        store = self._store()
        with store.transaction() as tx:
            due = [c.id for c in tx.cases_waiting(now) if self._due(c, now)]
        for case_id in due:
            with store.transaction() as tx:
                case = tx.get_case(case_id, lock=True)
                if case is None or not self._due(case, now):
                    continue  # claimed, or re-paged by another process meanwhile
                case = self._page(tx, case, now, offhours=False)
                contact = tx.get_contact(case.contact_id)
                if contact is not None and not contact.state.opted_out:
                    lang = self.member_lang(contact, case)
                    minutes = WAIT_ESTIMATE_MIN[case.urgency]
                    text = self.member_text(lang, "handoff-waiting", minutes=str(minutes))
                    self._to_member(tx, contact, case.id, text, now)
        return len(due)

    # -- the volunteers' side (VolunteerDesk) -------------------------------------------------

    async def volunteer_update(self, update: Update) -> None:
        """A message or button press from the volunteer group."""
        action = parse_volunteer_update(update, self.chat_id, self.config.volunteer_ids)
        if action is None:
            logger.debug("volunteer chat update %d ignored", update.update_id)
            return
        toast = None
        if action.kind != "ignore":
            toast = await asyncio.to_thread(self.act, action, self.clock())
            self._notify()
        if action.callback_id is not None and self.bot is not None:
            try:
                await self.bot.answer_callback_query(action.callback_id, text=toast)
            except TelegramError as exc:  # only the button's spinner is at stake
                logger.info("answer_callback_query failed (%s)", type(exc).__name__)

    def act(self, action: VolunteerAction, now: datetime) -> str | None:
        """Carry out one volunteer action in one transaction; return a short notice for the
        volunteer who pressed a button (messages get their notices in the topic instead)."""
        with self._store().transaction() as tx:
            if not tx.claim_inbound(f"telegram:{action.update_id}", now):
                return None  # Telegram delivered this update twice
            case: Case | None = None
            if action.case_id is not None:
                case = tx.get_case(action.case_id, lock=True)
            elif action.topic_id is not None:
                found = tx.find_case_by_topic(action.topic_id)
                case = tx.get_case(found.id, lock=True) if found is not None else None
            if case is None:
                # a topic volunteers made themselves, or an erased case (its topic is deleted
                # too): not ours to answer
                return None
            contact = tx.get_contact(case.contact_id)
            notice = _Act(self, tx, case, contact, action, now).run()
            if notice is not None and action.callback_id is None:
                self._post(tx, case.id, notice, now)
            return notice

    # -- the card ---------------------------------------------------------------------------------

    def card(self, tx: Transaction, case: Case) -> tuple[str, InlineKeyboardMarkup]:
        """The case card's text and buttons, in VOLUNTEER_LANG, from the case as it is now."""
        contact = tx.get_contact(case.contact_id)
        faq = self.router.faq
        if case.entry_id and case.entry_id in faq.entries:
            title = faq.entries[case.entry_id].text[self.lang].title
            entry = f"{title} ({case.entry_id})"
        else:
            entry = self.t("desk-no-entry")
        if case.status is CaseStatus.CLAIMED:
            at = case.claimed_at.astimezone(self.hours.timezone) if case.claimed_at else None
            status = self.t(
                "desk-status-claimed",
                name=case.claimed_by or "?",
                time=at.strftime("%H:%M") if at else "?",
            )
        else:
            status = self.t(f"desk-status-{case.status.value}")
        lines = []
        if contact is not None:
            labels = {
                Direction.IN: "desk-line-in",
                Direction.OUT: "desk-line-out",
                Direction.NOTE: "desk-line-note",
            }
            for line in tx.transcript(contact.id, CARD_LINES):
                text = " ".join(line.text.split())
                if len(text) > CARD_LINE_CHARS:
                    text = text[: CARD_LINE_CHARS - 1] + "…"
                lines.append(f"{self.t(labels[line.direction])}: {text}")
        text = self.t(
            "desk-card",
            icon=self.t(f"desk-icon-{case.urgency.value}"),
            case=str(case.id),
            urgency=self._urgency_label(case),
            reason=self.t(f"desk-reason-{case.reason.value}"),
            language=self.t(f"desk-lang-{case.lang.value}"),
            contact=self._contact_label(contact),
            entry=entry,
            status=status,
            lines="\n".join(lines) or self.t("desk-no-lines"),
        )
        return split_text(text)[0], self._buttons(case)

    def _contact_label(self, contact: Contact | None) -> str:
        if contact is None:
            return "-"
        if contact.channel is Channel.SMS:
            return self.t("desk-contact-sms", last4=mask(contact))
        return self.t(f"desk-contact-{contact.channel.value}")

    def _buttons(self, case: Case) -> InlineKeyboardMarkup:
        def button(kind: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                self.t(f"desk-button-{kind}"), callback_data=f"{CALLBACK_PREFIX}:{kind}:{case.id}"
            )

        if case.status is CaseStatus.OPEN:
            return InlineKeyboardMarkup([[button("claim"), button("close")]])
        if case.status is CaseStatus.CLAIMED:
            return InlineKeyboardMarkup([[button("close")]])
        return InlineKeyboardMarkup([[button("reopen")]])

    def topic_name(self, tx: Transaction, case: Case) -> str:
        contact = tx.get_contact(case.contact_id)
        channel = contact.channel.value if contact is not None else "sms"
        name = self.t(
            "desk-topic-name",
            icon=self.t(f"desk-icon-{case.urgency.value}"),
            case=str(case.id),
            channel=self.t(f"desk-channel-{channel}"),
            language=case.lang.value.upper(),
        )
        return name[:TOPIC_NAME_CHARS]


class _Act:
    """One volunteer action on one locked case (a helper of `Desk.act`)."""

    def __init__(
        self,
        desk: Desk,
        tx: Transaction,
        case: Case,
        contact: Contact | None,
        action: VolunteerAction,
        now: datetime,
    ) -> None:
        self.d = desk
        self.tx = tx
        self.case = case
        self.contact = contact
        self.a = action
        self.now = now

    def run(self) -> str | None:
        handler: Callable[[], str | None] = getattr(self, f"do_{self.a.kind}", self.do_help)
        return handler()

    def do_help(self) -> str | None:
        return self.d.t("desk-help")

    def claim(self) -> None:
        d, case = self.d, self.case
        self.case = self.tx.update_case(
            case.id, status=CaseStatus.CLAIMED, claimed_by=self.a.name, claimed_at=self.now
        )
        d._post(self.tx, case.id, d.t("desk-claimed", name=self.a.name), self.now)
        d._op(self.tx, "card", case.id, self.now)
        if self.contact is not None and not self.contact.state.opted_out:
            lang = d.member_lang(self.contact, case)
            d._to_member(
                self.tx, self.contact, case.id, d.member_text(lang, "volunteer-joined"), self.now
            )
        logger.info("case %d: claimed", case.id)

    def do_claim(self) -> str | None:
        case = self.case
        if case.status is CaseStatus.CLOSED:
            return self.d.t("desk-not-open")
        if case.status is CaseStatus.CLAIMED:
            if case.claimed_by == self.a.name:
                return self.d.t("desk-claim-ok", case=str(case.id))
            return self.d.t("desk-claim-taken", name=case.claimed_by or "?")
        self.claim()
        return self.d.t("desk-claim-ok", case=str(case.id)) if self.a.callback_id else None

    def do_close(self) -> str | None:
        d, case, tx = self.d, self.case, self.tx
        if case.status is CaseStatus.CLOSED:
            return d.t("desk-already-closed")
        tx.update_case(case.id, status=CaseStatus.CLOSED, closed_at=self.now)
        contact = self.contact
        if contact is not None:
            if not contact.state.opted_out:
                lang = d.member_lang(contact, case)
                d._to_member(tx, contact, case.id, d.member_text(lang, "case-closed"), self.now)
            if d.config.reopen_window_s == 0:
                # no reopen window: the bot answers the member's next message at once
                self._set_member_case(None)
        d._post(tx, case.id, d.t("desk-closed", name=self.a.name), self.now)
        d._op(tx, "card", case.id, self.now)
        d._op(tx, "close_topic", case.id, self.now)
        logger.info("case %d: closed", case.id)
        return None

    def do_reopen(self) -> str | None:
        d, case, tx = self.d, self.case, self.tx
        if case.status is not CaseStatus.CLOSED:
            return None
        if self.contact is None:
            return d.t("desk-case-gone")
        tx.update_case(
            case.id,
            status=CaseStatus.CLAIMED,
            claimed_by=self.a.name,
            claimed_at=self.now,
            closed_at=None,
        )
        self._set_member_case(case.id)
        d._op(tx, "reopen_topic", case.id, self.now)
        d._post(tx, case.id, d.t("desk-reopened", name=self.a.name), self.now)
        d._op(tx, "card", case.id, self.now)
        logger.info("case %d: reopened by a volunteer", case.id)
        return None

    def _set_member_case(self, case_id: int | None) -> None:
        contact = self.contact
        if contact is None:
            return
        self.tx.lock_contact(contact.id)
        fresh = self.tx.get_contact(contact.id) or contact
        state = fresh.state
        if case_id is None and state.case_id != str(self.case.id):
            return  # the member has moved on to another case: leave it
        state.case_id = None if case_id is None else str(case_id)
        self.tx.save_state(contact.id, state, self.now)

    def _can_write(self) -> str | None:
        """Why nothing can be sent to the member now, or None."""
        if self.case.status is CaseStatus.CLOSED:
            return self.d.t("desk-not-open")
        if self.contact is None:
            return self.d.t("desk-case-gone")
        if self.contact.state.opted_out:
            return self.d.t("desk-member-stopped")
        return None

    def do_say(self) -> str | None:
        refused = self._can_write()
        if refused is not None:
            return refused
        assert self.contact is not None
        if self.case.status is CaseStatus.OPEN:
            self.claim()  # replying first claims the case
        self.d._to_member(self.tx, self.contact, self.case.id, self.a.arg, self.now)
        return self.d.t("desk-media-not-sent") if self.a.media else None

    def do_media(self) -> str | None:
        return self.d.t("desk-media-not-sent")

    def do_note(self) -> str | None:
        if not self.a.arg:
            return self.d.t("desk-note-usage")
        self.tx.add_transcript(
            self.case.contact_id, self.case.id, Direction.NOTE, self.a.arg, self.now
        )
        return self.d.t("desk-note-saved")

    def do_faq(self) -> str | None:
        d = self.d
        entry_id = self.a.arg.split()[0].lower() if self.a.arg else ""
        if not entry_id:
            return d.t("desk-faq-usage")
        entry = d.router.faq.entries.get(entry_id)
        if entry is None:
            return d.t("desk-faq-unknown", id=entry_id)
        refused = self._can_write()
        if refused is not None:
            return refused
        contact = self.contact
        assert contact is not None
        if self.case.status is CaseStatus.OPEN:
            self.claim()
        text = entry.text[d.member_lang(contact, self.case)]
        body = text.sms if contact.channel is Channel.SMS else text.full
        d._to_member(self.tx, contact, self.case.id, body, self.now)
        return d.t("desk-faq-sent", title=entry.text[d.lang].title, id=entry_id)


class DeskSender:
    """The outbox `Sender` for Telegram items: desk operations addressed to the volunteer chat
    are carried out here; every other item goes to `fallback` (the channel's TelegramSender)."""

    def __init__(self, desk: Desk, bot: Bot, fallback: Sender) -> None:
        self.desk = desk
        self.bot = bot
        self.fallback = fallback
        self._no_preview = LinkPreviewOptions(is_disabled=True)

    async def send(self, item: OutboxItem) -> None:
        op = (item.payload or {}).get("op")
        if op is None or item.address != str(self.desk.chat_id):
            await self.fallback.send(item)
            return
        try:
            await self._run(str(op), item)
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, Forbidden) or _says(exc, _NO_RIGHTS):
                # a set-up problem the coordinator can fix: keep the item and retry
                logger.error(
                    "the volunteer group refused the bot (%s): is it a member, and an admin "
                    "allowed to manage topics?",
                    type(exc).__name__,
                )
                raise DeliveryError("the volunteer group refused the bot") from exc
            raise delivery_error(exc) from exc
        except TelegramError as exc:
            raise delivery_error(exc) from exc

    async def _run(self, op: str, item: OutboxItem) -> None:
        payload = item.payload
        case_id = int(payload.get("case_id") or 0)
        if op == "open":
            await self._ensure(case_id)
        elif op == "post":
            for part in split_text(item.text):
                await self._in_topic(case_id, part)
        elif op == "card":
            await self._edit_card(case_id)
        elif op == "rename":
            await self._rename(case_id)
        elif op in ("close_topic", "reopen_topic"):
            await self._topic_state(case_id, close=op == "close_topic")
        elif op == "delete_topic":
            with contextlib.suppress(BadRequest):  # already gone
                await self.bot.delete_forum_topic(self.desk.chat_id, int(payload["topic_id"]))
        else:
            logger.error("desk operation %r unknown; dropped", op)

    async def _send(
        self, topic_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        return await self.bot.send_message(
            chat_id=self.desk.chat_id,
            text=text,
            message_thread_id=topic_id,
            reply_markup=markup,
            link_preview_options=self._no_preview,
        )

    def _load(self, case_id: int) -> Case | None:
        with self.desk._store().transaction() as tx:
            return tx.get_case(case_id)

    async def _locked(
        self,
        case_id: int,
        need: Callable[[Case], bool],
        act: Callable[[Transaction, Case, Call[Any]], dict[str, Any]],
    ) -> Case | None:
        """Run `act` (which may call the Bot API through `call`) while holding the case's row
        lock, if `need(case)` still holds once locked; store the changes it returns."""
        loop = asyncio.get_running_loop()

        def call(coro: Coroutine[Any, Any, T]) -> T:
            future = asyncio.run_coroutine_threadsafe(coro, loop)
            try:
                return future.result(timeout=CALL_TIMEOUT_S)
            except FutureTimeout:
                future.cancel()
                raise DeliveryError("Telegram did not answer in time") from None

        def work() -> Case | None:
            with self.desk._store().transaction() as tx:
                case = tx.get_case(case_id, lock=True)
                if case is None or not need(case):
                    return case
                return tx.update_case(case_id, **act(tx, case, call))

        return await asyncio.to_thread(work)

    def _create_topic(self, tx: Transaction, case: Case, call: Call[Any]) -> dict[str, Any]:
        name = self.desk.topic_name(tx, case)
        topic = call(
            self.bot.create_forum_topic(
                self.desk.chat_id, name, icon_color=ICON_COLOR[case.urgency]
            )
        )
        logger.info("case %d: topic created", case.id)
        return {"topic_id": topic.message_thread_id, "card_message_id": None}

    async def _post_card(self, case: Case) -> Case | None:
        """Post the card into the case's topic. Outside any lock (a slow Bot API call must not
        hold up the database); should another process have posted one meanwhile, ours is
        deleted again."""
        topic = case.topic_id
        assert topic is not None

        def read() -> tuple[str, InlineKeyboardMarkup] | None:
            with self.desk._store().transaction() as tx:
                fresh = tx.get_case(case.id)
                return None if fresh is None else self.desk.card(tx, fresh)

        found = await asyncio.to_thread(read)
        if found is None:
            return None
        message = await self._send(topic, *found)

        def save() -> tuple[Case | None, bool]:
            with self.desk._store().transaction() as tx:
                fresh = tx.get_case(case.id, lock=True)
                if fresh is None or fresh.topic_id != topic or fresh.card_message_id is not None:
                    return fresh, True
                return tx.update_case(case.id, card_message_id=message.message_id), False

        saved, extra = await asyncio.to_thread(save)
        if extra:
            with contextlib.suppress(TelegramError):
                await self.bot.delete_message(self.desk.chat_id, message.message_id)
        return saved

    async def _ensure(self, case_id: int, dead: int | None = None) -> Case | None:
        """The case with a live topic and a card: created (again) when missing; None when the
        case no longer exists (erased)."""
        for _ in range(3):
            case = await asyncio.to_thread(self._load, case_id)
            if case is None:
                return None
            if case.topic_id is None or case.topic_id == dead:
                case = await self._locked(case_id, _needs_topic(dead), self._create_topic)
                if case is None:
                    return None
            if case.card_message_id is not None:
                return case
            topic = case.topic_id
            try:
                case = await self._post_card(case)
            except BadRequest as exc:
                if not topic_gone(exc):
                    raise
                logger.warning("case %d: the topic was deleted; creating it again", case_id)
                dead = topic
                continue
            if case is None or case.card_message_id is not None:
                return case
        raise DeliveryError("the case topic could not be created")

    async def _in_topic(self, case_id: int, text: str) -> None:
        """Post `text` in the case's topic, recreating or reopening the topic if needed."""
        case = await self._ensure(case_id)
        if case is None or case.topic_id is None:
            logger.info("case %d is gone; its post is dropped", case_id)
            return
        topic = case.topic_id
        try:
            await self._send(topic, text)
        except BadRequest as exc:
            if topic_gone(exc):
                logger.warning("case %d: the topic was deleted; creating it again", case_id)
                case = await self._ensure(case_id, dead=topic)
            elif _says(exc, _TOPIC_CLOSED):
                await self.bot.reopen_forum_topic(self.desk.chat_id, topic)
            else:
                raise
            if case is not None and case.topic_id is not None:
                await self._send(case.topic_id, text)

    async def _edit_card(self, case_id: int) -> None:
        def read() -> tuple[Case, str, InlineKeyboardMarkup] | None:
            with self.desk._store().transaction() as tx:
                case = tx.get_case(case_id)
                if case is None:
                    return None
                text, markup = self.desk.card(tx, case)
                return case, text, markup

        found = await asyncio.to_thread(read)
        if found is None:
            return
        case, text, markup = found
        if case.topic_id is None or case.card_message_id is None:
            await self._ensure(case_id)  # the new card shows the current state
            return
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=self.desk.chat_id,
                message_id=case.card_message_id,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if _says(exc, _UNCHANGED):
                return
            if not (topic_gone(exc) or _says(exc, _CARD_GONE)):
                raise
            # the card (or its whole topic) was deleted: post a fresh one
            stale = case.card_message_id

            def forget_card(tx: Transaction, c: Case, call: Call[Any]) -> dict[str, Any]:
                return {"card_message_id": None}

            await self._locked(case_id, lambda c: c.card_message_id == stale, forget_card)
            await self._ensure(case_id)
            logger.info("case %d: card posted again", case_id)

    async def _rename(self, case_id: int) -> None:
        def read() -> tuple[int | None, str] | None:
            with self.desk._store().transaction() as tx:
                case = tx.get_case(case_id)
                return None if case is None else (case.topic_id, self.desk.topic_name(tx, case))

        found = await asyncio.to_thread(read)
        if found is None or found[0] is None:
            return  # gone, or not created yet (it will be, with the new name)
        try:
            await self.bot.edit_forum_topic(self.desk.chat_id, found[0], name=found[1])
        except BadRequest as exc:
            if not (_says(exc, _UNCHANGED) or topic_gone(exc)):
                raise

    async def _topic_state(self, case_id: int, *, close: bool) -> None:
        case = await asyncio.to_thread(self._load, case_id)
        if case is None or case.topic_id is None:
            return
        try:
            if close:
                await self.bot.close_forum_topic(self.desk.chat_id, case.topic_id)
            else:
                await self.bot.reopen_forum_topic(self.desk.chat_id, case.topic_id)
        except BadRequest as exc:
            if _says(exc, _UNCHANGED) or topic_gone(exc):
                return  # already so, or gone (it is created again, open, when needed)
            raise


def _needs_topic(dead: int | None) -> Callable[[Case], bool]:
    return lambda case: case.topic_id is None or case.topic_id == dead
