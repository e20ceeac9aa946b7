"""Neutral messages, replies, events and conversation state shared by the core and every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """Where a member writes from."""

    SMS = "sms"
    TELEGRAM = "telegram"
    CONSOLE = "console"


class Lang(StrEnum):
    """The two languages every piece of content exists in."""

    EN = "en"
    ES = "es"


class Urgency(StrEnum):
    """How fast a person must look at a conversation."""

    NONE = "none"
    NORMAL = "normal"  # the member asked for a person
    URGENT = "urgent"  # danger now: a volunteer must look at once


class Reason(StrEnum):
    """Why a conversation was handed to volunteers."""

    ICE_PRESENT = "ice_present"  # ICE or police at the home or workplace now
    DETAINED = "detained"  # someone just detained, or about to be released to ICE
    VIOLENCE = "violence"  # violence or threats
    SELF_HARM = "self_harm"
    REQUESTED = "requested"  # the member asked for a person


class EventKind(StrEnum):
    """What happened while handling one inbound message."""

    WELCOMED = "welcomed"
    ANSWERED = "answered"
    OFFERED_CHOICE = "offered_choice"
    UNKNOWN = "unknown"
    MENU = "menu"
    HELP = "help"
    ESCALATED = "escalated"
    LANGUAGE_CHANGED = "language_changed"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    DELETE_REQUESTED = "delete_requested"
    DELETED = "deleted"
    RELAYED = "relayed"  # passed to the volunteer handling the member's case
    IGNORED = "ignored"  # nothing to say (opted out, duplicate, empty)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a member, as any channel hands it to the core.

    `sender` is the channel address (phone number, Telegram chat id). It lives in
    memory only: storage keeps a keyed hash and an encrypted copy, logs never see it.
    `action` carries a button press (Telegram inline keyboard) such as "entry:ice-home".
    """

    channel: Channel
    sender: str
    text: str
    lang_hint: Lang | None = None
    provider_id: str | None = None
    action: str | None = None
    media_count: int = 0


@dataclass(frozen=True, slots=True)
class Option:
    """A numbered choice offered to the member: reply `key` over SMS, or press a button."""

    key: str
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A message for the member. `text` is complete and localized, options included as
    numbered lines; channels that can show buttons use `body` (the text without those lines)
    and render `options` as buttons."""

    text: str
    options: tuple[Option, ...] = ()
    body: str = ""
    entry_id: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, for storage counters, reports and the handoff."""

    kind: EventKind
    entry_id: str | None = None
    candidates: tuple[str, ...] = ()
    urgency: Urgency = Urgency.NONE
    reason: Reason | None = None
    lang: Lang | None = None
    score: float | None = None


@dataclass(slots=True)
class ContactState:
    """What the conversation remembers about one contact between messages.

    It holds no message body; storage keeps it encrypted all the same.
    """

    lang: Lang | None = None
    welcomed: bool = False
    opted_out: bool = False
    pending_delete: bool = False
    options: list[str] = field(default_factory=list)  # action of choice 1, 2, ...
    last_entry: str | None = None
    more: list[str] = field(default_factory=list)  # SMS continuation parts for MORE
    last_reply_key: str | None = None  # to drop a repeated identical menu/notice
    last_reply_at: datetime | None = None
    case_id: str | None = None  # an open case: volunteers speak, the bot stays quiet

    def to_dict(self) -> dict[str, object]:
        return {
            "lang": self.lang.value if self.lang else None,
            "welcomed": self.welcomed,
            "opted_out": self.opted_out,
            "pending_delete": self.pending_delete,
            "options": list(self.options),
            "last_entry": self.last_entry,
            "more": list(self.more),
            "last_reply_key": self.last_reply_key,
            "last_reply_at": self.last_reply_at.isoformat() if self.last_reply_at else None,
            "case_id": self.case_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ContactState:
        lang = data.get("lang")
        at = data.get("last_reply_at")
        return cls(
            lang=Lang(str(lang)) if lang else None,
            welcomed=bool(data.get("welcomed", False)),
            opted_out=bool(data.get("opted_out", False)),
            pending_delete=bool(data.get("pending_delete", False)),
            options=[str(o) for o in _as_list(data.get("options"))],
            last_entry=_opt_str(data.get("last_entry")),
            more=[str(o) for o in _as_list(data.get("more"))],
            last_reply_key=_opt_str(data.get("last_reply_key")),
            last_reply_at=datetime.fromisoformat(str(at)) if at else None,
            case_id=_opt_str(data.get("case_id")),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the core decided for one inbound message."""

    replies: tuple[Reply, ...]
    events: tuple[Event, ...]
    state: ContactState
    erase: bool = False  # the member confirmed delete-my-data


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
