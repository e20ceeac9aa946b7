"""The conversation core: one inbound message and the contact's state in, replies and events
out. It knows no transport; SMS, Telegram and the terminal all go through `Router.handle`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot import language
from bot.config import Config
from bot.faq import Faq
from bot.i18n import Messages
from bot.matching import Match, Matcher, matcher_for
from bot.models import (
    Channel,
    ContactState,
    Event,
    EventKind,
    Inbound,
    Lang,
    Option,
    Outcome,
    Reason,
    Reply,
    Urgency,
)
from bot.text import fold, split_parts
from bot.triage import Triage, assess, urgency_model

DUPLICATE_WINDOW = timedelta(seconds=60)
SMS_PART_CHARS = 420  # a MORE part: at most 3 GSM-7 segments even with a footer

# What members type. Whole-message keywords, compared after folding (no accents, lowercase).
STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "parar",
        "para",
        "baja",
        "alto",
        "detener",
        "cancelar",
        "stop all",
    }
)
START_WORDS = frozenset(
    {"start", "/start", "unstop", "alta", "iniciar", "empezar", "comenzar", "subscribe"}
)
MENU_WORDS = frozenset(
    {"menu", "menus", "temas", "topics", "main menu", "inicio", "0", "/menu", "/start", "volver"}
)
HELP_WORDS = frozenset({"help", "ayuda", "info", "/help", "informacion", "ayuda por favor"})
GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hola",
        "buenas",
        "buenos dias",
        "buenas tardes",
        "buenas noches",
        "hello there",
        "hi there",
        "ola",
        "holaa",
        "good morning",
        "good afternoon",
        "saludos",
    }
)
THANKS = frozenset(
    {
        "thanks",
        "thank you",
        "thx",
        "ty",
        "gracias",
        "muchas gracias",
        "ok gracias",
        "ok thanks",
        "grax",
        "mil gracias",
        "thank u",
    }
)
PERSON_WORDS = frozenset(
    {
        "person",
        "persona",
        "humano",
        "human",
        "agent",
        "agente",
        "volunteer",
        "voluntario",
        "voluntaria",
        "operator",
        "operador",
        "operadora",
        "representative",
        "representante",
        "/human",
        "human please",
        "real person",
        "persona real",
        "una persona",
        "a person",
        "talk to a person",
        "hablar con una persona",
        "hablar con alguien",
        "talk to someone",
        "quiero hablar con una persona",
        "i want to talk to a person",
        "alguien",
        "someone",
    }
)
DELETE_WORDS = frozenset(
    {
        "delete my data",
        "delete",
        "/delete",
        "borrar",
        "borrar mis datos",
        "borra mis datos",
        "borrar datos",
        "eliminar mis datos",
        "delete data",
        "erase my data",
    }
)
YES_WORDS = frozenset(
    {"yes", "y", "si", "s", "yes delete", "si borrar", "confirm", "confirmo", "ok", "dale", "claro"}
)
MORE_WORDS = frozenset({"more", "mas", "more please", "mas por favor", "mas info", "/more"})
LANG_WORDS = {
    "english": Lang.EN,
    "ingles": Lang.EN,
    "en": Lang.EN,
    "/en": Lang.EN,
    "/english": Lang.EN,
    "espanol": Lang.ES,
    "spanish": Lang.ES,
    "es": Lang.ES,
    "/es": Lang.ES,
    "/espanol": Lang.ES,
    "castellano": Lang.ES,
}
TOGGLE_LANG_WORDS = frozenset({"idioma", "language", "/lang", "lang", "/idioma", "lenguaje"})
# Words that are the same in both languages or commands: they don't tell the language.
KEYWORDS = frozenset(
    {
        "menu",
        "menus",
        "0",
        "/menu",
        "/start",
        "/help",
        "/human",
        "/delete",
        "/lang",
        "/more",
        "ok",
        "okay",
        "no",
        "stop",
        "start",
        "info",
        "sms",
    }
)
_NUMBER = re.compile(r"^\s*#?(\d{1,2})\s*[.)]?\s*$")

# The safety answer for each urgent reason: the matched entry when it is one of the fitting
# ones (ICE at work -> ice-public, a hold -> sc-detainer), else the default (first).
SAFETY_ENTRIES = {
    Reason.ICE_PRESENT: (
        "ice-home",
        "ice-public",
        "ice-warrants",
        "police-arrest",
        "police-search",
        "police-street-stop",
        "police-traffic-stop",
        "police-immigration-questions",
        "dv-arrested-victim",
        "detained-family-member",
    ),
    Reason.DETAINED: (
        "detained-family-member",
        "sc-detainer",
        "police-arrest",
        "dv-arrested-victim",
        "ice-public",
    ),
    Reason.VIOLENCE: (
        "dv-call-police",
        "dv-shelter-help",
        "dv-arrested-victim",
        "dv-children-custody",
        "dv-restraining-order",
    ),
}
SAFETY_ENTRY = {reason: entries[0] for reason, entries in SAFETY_ENTRIES.items()}


SAFETY_ANY = frozenset(e for entries in SAFETY_ENTRIES.values() for e in entries)


def safety_entry(
    reason: Reason, match: Match, rule: str = "", confident: bool = False
) -> str | None:
    """The entry to answer an urgent message with: the one the message asks about when the
    matcher is sure of it and it is a safety entry (an ICE hold, a warrant at the door, a
    victim asking about calling the police), else the best fitting one for the reason."""
    fitting = SAFETY_ENTRIES.get(reason)
    if not fitting:
        return None
    top = match.top
    if rule == "threat-or-weapon" and (top is None or top.entry_id not in fitting):
        # a weapon or a threat to kill gets a violence answer, never the ICE-at-the-door one
        # the matcher may be sure of for "he's outside the door with a knife"
        return fitting[0]
    if confident and top is not None and top.entry_id in SAFETY_ANY:
        return top.entry_id
    for cand in match.candidates[:2]:
        if cand.entry_id in fitting and cand.score >= 0.2:
            return cand.entry_id
    if rule == "release-to-ice":
        return "sc-detainer"
    return fitting[0]


SAFETY_LINE = {
    Reason.ICE_PRESENT: "urgent-ice",
    Reason.DETAINED: "urgent-detained",
    Reason.VIOLENCE: "urgent-violence",
    Reason.SELF_HARM: "urgent-self-harm",
}
PERSON_ENTRY = "hotline-human"  # offered as the "talk to a volunteer" action instead
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Decision:
    ANSWER = "answer"
    CHOICE = "choice"
    UNKNOWN = "unknown"


def decide(match: Match, matcher: Matcher) -> str:
    """Answer when confident, offer two close entries, or admit not knowing."""
    top = match.top
    if (
        top is not None
        and top.example >= matcher.example_match
        and (len(match.candidates) < 2 or match.candidates[1].example < matcher.example_match)
    ):
        return Decision.ANSWER  # (nearly) word for word one of this entry's examples
    if (
        top is None
        or top.score < matcher.reject_threshold
        or match.coverage < matcher.min_coverage
        or match.not_answered >= top.score * matcher.not_answered_ratio
    ):
        return Decision.UNKNOWN
    second = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    if top.score - second < matcher.choice_margin and second >= matcher.reject_threshold:
        return Decision.CHOICE
    if top.score < matcher.answer_threshold:
        return Decision.CHOICE if second >= matcher.reject_threshold else Decision.UNKNOWN
    return Decision.ANSWER


@dataclass(frozen=True, slots=True)
class Classification:
    """What `hotline ask` prints: the entry the router would answer with, and why."""

    text: str
    entry: str | None
    lang: Lang
    urgent: bool
    score: float
    decision: str
    match: Match
    triage: Triage


class Router:
    """Decides what to say. Pure apart from the injected clock; safe to share across threads."""

    def __init__(
        self,
        faq: Faq,
        messages: Messages,
        *,
        handoff_available: Callable[[], bool] = lambda: False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.faq = faq
        self.t = messages
        self.matcher = matcher_for(faq)
        self.urgency = urgency_model(faq.urgent_examples, faq.calm_examples)
        self.handoff_available = handoff_available
        self._en_words = frozenset(
            self.matcher.lang_words[Lang.EN] - self.matcher.lang_words[Lang.ES]
        )
        self._es_words = frozenset(
            self.matcher.lang_words[Lang.ES] - self.matcher.lang_words[Lang.EN]
        )

    @classmethod
    def from_dirs(cls, faq_dir: Path, locales_dir: Path, **kwargs: object) -> Router:
        faq = Faq.load(faq_dir)
        return cls(faq, Messages.load(locales_dir, faq.values), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, config: Config, faq: Faq | None = None) -> Router:
        faq = faq or Faq.load(config.faq_dir)
        return cls(faq, Messages.load(config.locales_dir, faq.values))

    # --- classification (no state) ------------------------------------------------------

    def detect_language(self, text: str) -> language.LangGuess:
        return language.guess(text, self._en_words, self._es_words)

    def classify(self, text: str) -> Classification:
        tri = assess(text, self.urgency)
        match = self.matcher.rank(text)
        decision = decide(match, self.matcher)
        g = self.detect_language(text)
        entry = match.top.entry_id if match.top and decision != Decision.UNKNOWN else None
        if tri.urgency is Urgency.URGENT and tri.reason is not None:
            # what the member is sent
            entry = safety_entry(tri.reason, match, tri.rule, decision == Decision.ANSWER)
        return Classification(
            text=text,
            entry=entry,
            lang=g.lang or Lang.EN,
            urgent=tri.urgency is Urgency.URGENT,
            score=match.confidence,
            decision=decision,
            match=match,
            triage=tri,
        )

    # --- conversation -------------------------------------------------------------------

    def handle(self, msg: Inbound, state: ContactState, now: datetime) -> Outcome:
        """Decide the replies for one message. `state` is not modified; the new one is returned."""
        s = replace(state, options=list(state.options), more=list(state.more))
        turn = _Turn(self, msg, s, now)
        turn.run()
        return turn.outcome()

    def preview(self, entry_id: str, lang: Lang, *, sms: bool) -> list[str]:
        """An answer exactly as a member would get it (for `hotline faq show`)."""
        channel = Channel.SMS if sms else Channel.CONSOLE
        state = ContactState(lang=lang, welcomed=True)
        turn = _Turn(self, Inbound(channel, "preview", ""), state, datetime.now())
        turn.lang = lang
        turn.answer(entry_id)
        return [r.text for r in turn.replies]


class _Turn:
    """One message being handled: collects replies and events."""

    def __init__(self, router: Router, msg: Inbound, state: ContactState, now: datetime) -> None:
        self.r = router
        self.t = router.t
        self.faq = router.faq
        self.msg = msg
        self.s = state
        self.now = now
        self.replies: list[Reply] = []
        self.events: list[Event] = []
        self.erase = False
        self.folded = fold(msg.text)
        self.lang: Lang = state.lang or msg.lang_hint or Lang.EN
        self.sms = msg.channel is Channel.SMS
        self._reply_key: str | None = None

    # helpers ------------------------------------------------------------------------------

    def say(self, msg_id: str, **args: str | int) -> str:
        return self.t(self.lang, msg_id, **args)

    def event(self, kind: EventKind, **kw: object) -> None:
        self.events.append(Event(kind, lang=self.lang, **kw))  # type: ignore[arg-type]

    def reply(
        self,
        body: str,
        options: list[tuple[str, str]] | None = None,
        header: str = "",
        footer: str = "",
        entry_id: str | None = None,
        sources: tuple[str, ...] = (),
    ) -> None:
        """Queue a reply; `options` are (label, action) pairs numbered from 1."""
        opts = tuple(
            Option(str(i), label, action) for i, (label, action) in enumerate(options or [], 1)
        )
        if opts:
            self.s.options = [o.action for o in opts]
        lines = [body] if body else []
        if opts:
            block = [header] if header else []
            block += [self.say("option-line", key=o.key, label=o.label) for o in opts]
            lines.append("\n".join(block))
        if footer:
            lines.append(footer)
        body_only = "\n\n".join(x for x in (body, header if opts else "", footer) if x)
        self.replies.append(
            Reply("\n\n".join(lines), opts, body=body_only, entry_id=entry_id, sources=sources)
        )

    def key(self, key: str) -> None:
        self._reply_key = f"{key}:{self.lang}"

    # the flow -----------------------------------------------------------------------------

    def run(self) -> None:
        f = self.folded
        s = self.s
        if s.opted_out:
            if f in START_WORDS:
                s.opted_out = False
                self.pick_language()
                self.event(EventKind.OPTED_IN)
                self.reply(self.say("started"))
            else:
                self.event(EventKind.IGNORED)
            return
        if f in STOP_WORDS:
            s.opted_out = True
            s.pending_delete = False
            self.event(EventKind.OPTED_OUT)
            self.reply(self.say("stopped"))
            return
        if s.pending_delete:
            s.pending_delete = False
            if f in YES_WORDS:
                self.erase = True
                self.event(EventKind.DELETED)
                self.reply(self.say("delete-done"))
                return
            self.reply(self.say("delete-cancelled"))
            if f in {"no", "n", "cancel", "cancelar", "nada"}:
                return
        if f in DELETE_WORDS or self.msg.action == "delete":
            s.pending_delete = True
            self.event(EventKind.DELETE_REQUESTED)
            self.reply(self.say("delete-ask"))
            return
        if s.case_id is not None:  # a volunteer has this conversation: the bot stays quiet
            self.event(EventKind.RELAYED)
            return
        if f in START_WORDS and s.welcomed:
            self.menu()
            return
        if self.language_command():
            return
        self.pick_language()
        if not f and not self.msg.action:
            if self.msg.media_count:
                self.reply(self.say("media-only"))
            elif not s.welcomed:
                self.welcome()
                self.menu()
            else:
                self.reply(self.say("empty-message"))
            self.event(EventKind.IGNORED)
            return
        tri = assess(self.msg.text, self.r.urgency)
        if tri.urgency is Urgency.URGENT and tri.reason is not None:
            s.welcomed = True
            self.urgent(tri.reason, tri.rule)
            return
        first = not s.welcomed
        if first:
            self.welcome()
        if self.msg.action:
            self.action(self.msg.action)
        elif f in PERSON_WORDS:
            self.escalate_requested()
        elif f in MENU_WORDS or f in GREETINGS or f in START_WORDS:
            self.key("menu")
            self.menu()
        elif f in HELP_WORDS:
            self.key("help")
            self.reply(self.say("help"))
            self.menu()
            self.event(EventKind.HELP)
        elif f in THANKS:
            self.key("thanks")
            self.reply(self.say("thanks-reply"))
        elif f in MORE_WORDS:
            self.more()
        elif (m := _NUMBER.match(f)) is not None:
            self.number(int(m.group(1)))
        else:
            self.question(first)

    def pick_language(self) -> None:
        g = self.r.detect_language(self.msg.text) if self.folded else language.LangGuess(None, 0, 0)
        if self.folded in KEYWORDS or _NUMBER.match(self.folded):
            g = language.LangGuess(None, 0, 0)  # a keyword or number says nothing of language
        new = language.choose(g, self.s.lang, self.msg.lang_hint)
        if self.s.lang is not None and new is not self.s.lang:
            self.events.append(Event(EventKind.LANGUAGE_CHANGED, lang=new))
        self.lang = new
        self.s.lang = new

    def language_command(self) -> bool:
        f = self.folded
        target: Lang | None = None
        if f in LANG_WORDS:
            target = LANG_WORDS[f]
        elif f in TOGGLE_LANG_WORDS or self.msg.action == "lang":
            current = self.s.lang or self.msg.lang_hint or Lang.EN
            target = Lang.ES if current is Lang.EN else Lang.EN
        elif self.msg.action and self.msg.action.startswith("lang:"):
            target = Lang(self.msg.action.split(":", 1)[1])
        if target is None:
            return False
        changed = self.s.lang is not None and target is not self.s.lang
        self.lang = target
        self.s.lang = target
        if changed:
            self.events.append(Event(EventKind.LANGUAGE_CHANGED, lang=target))
        if not self.s.welcomed:
            self.welcome()
        else:
            self.reply(self.say("language-switched"))
        self.menu()
        return True

    def welcome(self) -> None:
        self.s.welcomed = True
        self.event(EventKind.WELCOMED)
        self.reply(self.say("welcome"))

    def menu(self) -> None:
        options = [(a.title[self.lang], f"area:{a.id}") for a in self.faq.areas]
        self.reply("", options, header=self.say("menu-header"), footer=self.say("menu-footer"))
        self.event(EventKind.MENU)

    def area(self, area_id: str) -> None:
        area = next((a for a in self.faq.areas if a.id == area_id), None)
        if area is None:
            self.menu()
            return
        options = [(self.faq.entries[e].text[self.lang].title, f"entry:{e}") for e in area.entries]
        self.reply(
            "",
            options,
            header=self.say("area-header", area=area.title[self.lang]),
            footer=self.say("area-footer"),
        )
        self.event(EventKind.MENU)

    def action(self, action: str) -> None:
        kind, _, arg = action.partition(":")
        if kind == "area":
            self.area(arg)
        elif kind == "entry" and arg in self.faq.entries:
            self.answer(arg)
        elif kind == "person":
            self.escalate_requested()
        elif kind == "more":
            self.more()
        else:
            self.menu()

    def number(self, n: int) -> None:
        if 1 <= n <= len(self.s.options):
            self.action(self.s.options[n - 1])
        elif not self.s.options and 1 <= n <= len(self.faq.areas):
            self.area(self.faq.areas[n - 1].id)
        else:
            self.reply(self.say("bad-number", number=n))
            self.menu()

    def answer(self, entry_id: str, score: float | None = None, lead: str = "") -> None:
        entry = self.faq.entries[entry_id]
        text = entry.text[self.lang]
        self.s.last_entry = entry_id
        self.key(f"entry:{entry_id}")
        options = [
            (self.faq.entries[r].text[self.lang].title, f"entry:{r}")
            for r in entry.related
            if r in self.faq.entries and r != PERSON_ENTRY
        ]
        options.append((self.say("option-person"), "person"))
        if lead:
            lead += "\n\n"
        if self.sms:
            # The answer and the follow-ups travel as two SMS: each keeps its own encoding,
            # so an accented menu line can't turn a GSM-7 answer into UCS-2.
            self.s.more = [f"{entry_id}:{self.lang}:0"]
            self.reply(lead + text.sms, entry_id=entry_id)
            self.reply(self.say("more-details"), options, header=self.say("followups-header"))
        else:
            self.s.more = []
            footer = self.say("sources-label") + "\n" + "\n".join(entry.sources)
            self.reply(
                lead + text.full,
                options,
                header=self.say("followups-header"),
                footer=footer,
                entry_id=entry_id,
                sources=entry.sources,
            )
        self.event(EventKind.ANSWERED, entry_id=entry_id, score=score)

    def more(self) -> None:
        """Over SMS, MORE sends the full answer in parts of about three segments."""
        if not self.s.more:
            self.reply(self.say("nothing-more"))
            return
        entry_id, lang, index = self.s.more[0].rsplit(":", 2)
        entry = self.faq.entries.get(entry_id)
        if entry is None:
            self.s.more = []
            self.menu()
            return
        parts = split_for_sms(entry.text[Lang(lang)].full, SMS_PART_CHARS)
        i = int(index)
        if i >= len(parts):
            self.s.more = []
            self.reply(self.say("nothing-more"))
            return
        text = parts[i]
        if len(parts) > 1:
            text = self.say("more-part", part=i + 1, total=len(parts)) + " " + text
        if i + 1 < len(parts):
            self.s.more = [f"{entry_id}:{lang}:{i + 1}"]
            text += "\n" + self.say("more-hint")
        else:
            self.s.more = []
        self.reply(text, entry_id=entry_id)

    def question(self, first: bool) -> None:
        match = self.r.matcher.rank(self.msg.text)
        decision = decide(match, self.r.matcher)
        top = match.top
        if decision == Decision.ANSWER and top is not None:
            self.answer(top.entry_id, match.confidence)
        elif decision == Decision.CHOICE and top is not None:
            ids = [c.entry_id for c in match.candidates[:2]]
            options = [(self.faq.entries[e].text[self.lang].title, f"entry:{e}") for e in ids]
            options.append((self.say("option-person"), "person"))
            self.key("choice:" + ",".join(ids))
            self.reply("", options, header=self.say("choice-header"))
            self.event(EventKind.OFFERED_CHOICE, candidates=tuple(ids), score=match.confidence)
        else:
            self.key("unknown")
            if first:  # the welcome already explains; just offer the menu and a person
                self.reply(self.say("unknown-offer"))
            else:
                self.reply(self.say("unknown") + "\n" + self.say("unknown-offer"))
            options = [(a.title[self.lang], f"area:{a.id}") for a in self.faq.areas]
            options.append((self.say("option-person"), "person"))
            self.reply("", options, header=self.say("menu-header"))
            self.event(EventKind.UNKNOWN, score=match.confidence)

    def urgent(self, reason: Reason, rule: str) -> None:
        lines = [self.say(SAFETY_LINE[reason])]
        match = self.r.matcher.rank(self.msg.text)
        confident = decide(match, self.r.matcher) == Decision.ANSWER
        entry_id = safety_entry(reason, match, rule, confident)
        if entry_id in self.faq.entries:
            entry = self.faq.entries[entry_id]
            lines.append(entry.text[self.lang].sms if self.sms else entry.text[self.lang].full)
        lines.append(self.handoff_line(urgent=True))
        self.reply("\n\n".join(lines), entry_id=entry_id)
        self.events.append(
            Event(
                EventKind.ESCALATED,
                entry_id=entry_id,
                urgency=Urgency.URGENT,
                reason=reason,
                lang=self.lang,
            )
        )

    def escalate_requested(self) -> None:
        self.key("person")
        self.reply(self.handoff_line(urgent=False))
        self.events.append(
            Event(
                EventKind.ESCALATED,
                entry_id=self.s.last_entry,
                urgency=Urgency.NORMAL,
                reason=Reason.REQUESTED,
                lang=self.lang,
            )
        )

    def handoff_line(self, *, urgent: bool) -> str:
        if not self.r.handoff_available():
            return self.say("handoff-unavailable")
        hours = self.faq.hours
        if hours.is_open(self.now):
            return self.say("handoff-urgent" if urgent else "handoff-requested")
        if urgent:
            return self.say("handoff-offhours-urgent")
        nxt = hours.next_open(self.now)
        if nxt is None:
            return self.say("handoff-unavailable")
        local_now = self.now.astimezone(hours.timezone)
        days = (nxt.date() - local_now.date()).days
        day = "today" if days == 0 else "tomorrow" if days == 1 else WEEKDAY_KEYS[nxt.weekday()]
        return self.say("handoff-offhours", day=day, time=nxt.strftime("%H:%M"))

    def outcome(self) -> Outcome:
        replies = tuple(self.replies)
        if self._reply_key is not None and replies:
            last_at = self.s.last_reply_at
            if (
                self.s.last_reply_key == self._reply_key
                and last_at is not None
                and self.now - last_at < DUPLICATE_WINDOW
            ):
                # the same menu or answer again within a minute: say nothing twice
                replies = ()
                self.events.append(Event(EventKind.IGNORED, lang=self.lang))
            self.s.last_reply_key = self._reply_key
            self.s.last_reply_at = self.now
        elif replies:
            self.s.last_reply_key = None
        return Outcome(replies, tuple(self.events), self.s, self.erase)


def split_for_sms(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut at paragraphs, lines, sentences, words."""
    return split_parts(text, lambda part: len(part) <= limit)
