"""Conversations with the real core, read like conversations: send a text, check the reply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.faq import Faq
from bot.i18n import Messages
from bot.models import Channel, EventKind, Lang, Reason, Urgency
from bot.router import Router
from bot.segments import count
from tests.chat import Chat, Clock


@pytest.fixture(scope="module")
def router(faq: Faq, messages: Messages) -> Router:
    return Router(faq, messages)


@pytest.fixture(scope="module")
def staffed(faq: Faq, messages: Messages) -> Router:
    """A router whose volunteer group is reachable."""
    return Router(faq, messages, handoff_available=lambda: True)


def test_first_contact_welcomes_with_disclaimer_privacy_person_and_stop_then_menu(
    router: Router,
) -> None:
    chat = Chat(router)
    reply = chat.send("hi")
    assert "not legal advice" in reply
    assert "DELETE MY DATA" in reply  # privacy line
    assert "PERSON" in reply and "STOP" in reply
    assert "1 Police and ICE" in reply and "4 About this hotline" in reply
    assert chat.kinds()[:2] == [EventKind.WELCOMED, EventKind.MENU]


def test_first_contact_in_spanish(router: Router) -> None:
    chat = Chat(router)
    reply = chat.send("hola buenas")
    assert "no asesoría legal" in reply
    assert "1 Policía e ICE" in reply
    assert "PERSONA" in reply and "PARAR" in reply


def test_menu_by_number_then_entry_by_number(router: Router) -> None:
    chat = Chat(router)
    chat.send("hello")
    area = chat.send("1")
    assert "Police and ICE - reply a number:" in area
    lines = [line for line in area.splitlines() if line[:2].strip().isdigit()]
    assert len(lines) == 12
    number = next(line.split()[0] for line in lines if "door" in line.lower())
    chat.send(number)
    assert chat.answered() == "ice-home"


def test_sms_answer_fits_three_segments_and_follow_ups_are_numbered(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    chat.send("what do i do if ice knocks on my door")
    assert chat.answered() == "ice-home"
    answer, followups = chat.replies
    assert count(answer.text).segments <= 3
    assert "1 " in followups.text and "Talk to a volunteer" in followups.text
    # follow-up 1 is the first related entry
    chat.send("1")
    assert chat.answered() == router.faq.entries["ice-home"].related[0]


def test_more_sends_the_full_answer_in_parts_over_sms(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    chat.send("what do i do if ice knocks on my door")
    parts = []
    for _ in range(10):
        text = chat.send("MORE")
        if "That was all" in text:
            break
        parts.append(text)
        assert count(text).segments <= 4
    full = router.faq.entries["ice-home"].text[Lang.EN].full
    assert len(parts) >= 2
    assert full.split("\n")[0] in parts[0]


def test_telegram_gets_the_full_answer_with_sources_and_buttons(router: Router) -> None:
    chat = Chat(router, channel=Channel.TELEGRAM, sender="12345")
    chat.send("/start")
    chat.send("my cousin got picked up by ice last year how do i find where he is")
    reply = chat.replies[-1]
    assert reply.entry_id == "detained-family-member"
    assert "https://" in reply.text
    assert reply.options and reply.options[-1].action == "person"
    assert reply.text.startswith(
        router.faq.entries["detained-family-member"].text[Lang.EN].full[:40]
    )


def test_button_press_opens_an_entry(router: Router) -> None:
    chat = Chat(router, channel=Channel.TELEGRAM, sender="12345")
    chat.send("hello")
    chat.send(action="entry:dv-u-visa")
    assert chat.answered() == "dv-u-visa"


def test_two_close_entries_are_offered_as_a_choice(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    reply = chat.send("police")
    assert EventKind.OFFERED_CHOICE in chat.kinds() or EventKind.ANSWERED in chat.kinds()
    chat2 = Chat(router)
    chat2.send("hi")
    reply = chat2.send("ice and police and warrants")
    if EventKind.OFFERED_CHOICE in chat2.kinds():
        assert "Which one did you mean?" in reply
        offered = next(e for e in chat2.events if e.kind is EventKind.OFFERED_CHOICE).candidates
        chat2.send("2")
        assert chat2.answered() == offered[1]


def test_choice_numbers_follow_the_offer(router: Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router.matcher, "answer_threshold", 9.0)  # force a choice
    monkeypatch.setattr(router.matcher, "example_match", 9.0)
    chat = Chat(router)
    chat.send("hi")
    reply = chat.send("can police search my car")
    assert "Which one did you mean?" in reply
    offered = next(e for e in chat.events if e.kind is EventKind.OFFERED_CHOICE).candidates
    assert len(offered) == 2
    chat.send("2")
    assert chat.answered() == offered[1]


def test_unknown_question_says_so_shows_menu_and_offers_a_person(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    reply = chat.send("receta de tamales")
    assert chat.kinds().count(EventKind.UNKNOWN) == 1
    assert chat.answered() is None
    assert "no tengo respuesta" in reply or "don't have an answer" in reply
    assert "PERSONA" in reply or "PERSON" in reply


@pytest.mark.parametrize(
    "text",
    [
        "receta de tamales",
        "what's the weather tomorrow",
        "who won the celtics game",
        "how do i renew my passport",
        "cuanto cuesta renovar el daca",
    ],
)
def test_out_of_scope_never_gets_an_entry(router: Router, text: str) -> None:
    assert router.classify(text).entry is None


def test_language_is_detected_and_kept(router: Router) -> None:
    chat = Chat(router)
    chat.send("hola")
    chat.send("me pararon manejando sin licencia")
    assert chat.answered() == "police-traffic-stop"
    assert "licencia" in chat.replies[0].text.lower()
    chat.send("ok")  # no language signal: stays Spanish
    assert "MENÚ" in chat.send("1") or chat.replies


def test_explicit_language_commands_switch(router: Router) -> None:
    chat = Chat(router)
    chat.send("hello")
    reply = chat.send("ESPAÑOL")
    assert "Listo, te escribo en español." in reply
    assert EventKind.LANGUAGE_CHANGED in chat.kinds()
    reply = chat.send("IDIOMA")
    assert "OK, I'll write in English." in reply


def test_a_clear_switch_in_a_question_follows_the_member(router: Router) -> None:
    chat = Chat(router)
    chat.send("hello")
    chat.send("que hago si la migra toca mi puerta y no tengo papeles")
    assert "puerta" in chat.replies[0].text
    assert EventKind.LANGUAGE_CHANGED in chat.kinds()


def test_telegram_language_code_is_a_hint(router: Router) -> None:
    chat = Chat(router, channel=Channel.TELEGRAM, sender="7", lang_hint=Lang.ES)
    reply = chat.send("/start")
    assert "Hola" in reply


def test_stop_then_silence_then_start(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    reply = chat.send("STOP")
    assert "won't get more messages" in reply
    assert chat.kinds() == [EventKind.OPTED_OUT]
    assert chat.send("hello?") == ""
    assert chat.send("what do i do if ice knocks") == ""
    assert chat.send("ice is at my door right now") == ""  # opted out: nothing, not even urgent
    reply = chat.send("START")
    assert "Welcome back" in reply
    assert chat.send("what do i do if ice knocks on my door") != ""


@pytest.mark.parametrize("word", ["PARAR", "baja", "Stop", "stop "])
def test_stop_words_in_both_languages(router: Router, word: str) -> None:
    chat = Chat(router)
    chat.send("hola")
    chat.send(word)
    assert chat.kinds() == [EventKind.OPTED_OUT]


def test_alta_comes_back_in_spanish(router: Router) -> None:
    chat = Chat(router)
    chat.send("hola")
    chat.send("PARAR")
    assert "Bienvenido de nuevo" in chat.send("ALTA")


def test_urgent_ice_at_the_door_gets_safety_answer_and_escalates(staffed: Router) -> None:
    chat = Chat(staffed)
    reply = chat.send("la migra esta tocando mi puerta ahorita q hago")
    escalated = [e for e in chat.events if e.kind is EventKind.ESCALATED]
    assert len(escalated) == 1
    assert escalated[0].urgency is Urgency.URGENT
    assert escalated[0].reason is Reason.ICE_PRESENT
    assert "no abras" in reply.lower()
    assert "avisando a un voluntario" in reply


def test_urgent_self_harm_gets_988(staffed: Router) -> None:
    chat = Chat(staffed)
    reply = chat.send("i want to end my life")
    assert "988" in reply
    assert [e.reason for e in chat.events if e.kind is EventKind.ESCALATED] == [Reason.SELF_HARM]


def test_urgent_violence_gets_911_and_safelink(staffed: Router) -> None:
    chat = Chat(staffed)
    reply = chat.send("mi esposo me esta pegando")
    assert "911" in reply and "877-785-2020" in reply


def test_a_man_with_a_knife_at_the_door_gets_the_violence_answer_not_the_ice_one(
    staffed: Router,
) -> None:
    chat = Chat(staffed)
    reply = chat.send("el papa de mis hijos esta afuera de la puerta con un cuchillo, dice q abra")
    escalated = [e for e in chat.events if e.kind is EventKind.ESCALATED]
    assert [(e.reason, e.entry_id) for e in escalated] == [(Reason.VIOLENCE, "dv-call-police")]
    assert "911" in reply and "877-785-2020" in reply


def test_urgent_without_volunteers_still_gets_the_safety_answer(router: Router) -> None:
    chat = Chat(router)
    reply = chat.send("ice agents at my door right now")
    assert "door" in reply.lower()
    assert "(617) 555-0123" in reply  # call the hotline instead
    assert any(e.kind is EventKind.ESCALATED for e in chat.events)


def test_hypothetical_is_answered_not_escalated(staffed: Router) -> None:
    chat = Chat(staffed)
    chat.send("hi")
    chat.send("what should i do if ice ever comes to my house")
    assert chat.answered() == "ice-home"
    assert EventKind.ESCALATED not in chat.kinds()


@pytest.mark.parametrize("word", ["PERSON", "humano", "persona", "agent", "volunteer"])
def test_asking_for_a_person_escalates(staffed: Router, word: str) -> None:
    chat = Chat(staffed)
    chat.send("hi")
    reply = chat.send(word)
    event = next(e for e in chat.events if e.kind is EventKind.ESCALATED)
    assert event.reason is Reason.REQUESTED and event.urgency is Urgency.NORMAL
    assert "volunteer" in reply or "voluntario" in reply


def test_person_off_hours_says_when_volunteers_are_back(staffed: Router) -> None:
    sunday_night = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Sunday 22:00 in Boston
    chat = Chat(staffed, clock=Clock(sunday_night))
    chat.send("hi")
    reply = chat.send("PERSON")
    assert "back tomorrow at 09:00" in reply


def test_rapid_repeats_do_not_duplicate_menus(router: Router) -> None:
    chat = Chat(router)
    first = chat.send("hi")
    assert "Topics" in first
    again = chat.send("menu", gap_s=2)
    assert again == ""  # the same menu a moment ago: not sent twice
    later = chat.send("menu", gap_s=120)
    assert "Topics" in later


def test_help_lists_the_keywords(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    reply = chat.send("HELP")
    assert "MENU" in reply and "PERSON" in reply and "DELETE MY DATA" in reply


def test_ayuda_is_help_in_spanish(router: Router) -> None:
    chat = Chat(router)
    chat.send("hola")
    assert "PERSONA: un voluntario" in chat.send("AYUDA")


def test_delete_my_data_asks_then_erases(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    chat.send("what do i do if ice knocks on my door")
    assert "Reply YES" in chat.send("DELETE MY DATA")
    assert "erased" in chat.send("yes")
    assert EventKind.DELETED in chat.kinds()
    with chat.store.transaction() as tx:
        assert tx.find_contact(Channel.SMS, chat.sender) is None
    # writing again starts fresh
    assert "not legal advice" in chat.send("hi")


def test_delete_is_cancelled_by_anything_else(router: Router) -> None:
    chat = Chat(router)
    chat.send("hola")
    chat.send("BORRAR")
    reply = chat.send("no")
    assert "no se borró nada" in reply
    with chat.store.transaction() as tx:
        assert tx.find_contact(Channel.SMS, chat.sender) is not None


def test_photo_without_text_gets_a_note(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    assert "I can only read text" in chat.send(media=1)


def test_duplicate_delivery_is_processed_once(router: Router) -> None:
    chat = Chat(router)
    chat.send("hi")
    from bot.models import Inbound

    msg = Inbound(Channel.SMS, chat.sender, "what do i do if ice knocks", provider_id="SM1")
    first = chat.hotline.handle(msg)
    second = chat.hotline.handle(msg)
    assert first.replies and not second.replies and second.duplicate


def test_a_flood_from_one_sender_is_throttled_with_one_notice(router: Router) -> None:
    flood = Chat(router, sender="+16175550177")
    other = Chat(router, sender="+16175550178", store=flood.store, clock=flood.clock)
    replies = [flood.send(f"what do i do if ice knocks {i}", gap_s=0.3) for i in range(130)]
    notices = [r for r in replies if "many messages" in r]
    assert len(notices) == 1
    assert replies.index(notices[0]) == 100  # the 101st message inside one minute
    assert all(r == "" for r in replies[101:])
    assert "door" in other.send("what do i do if ice knocks on my door", gap_s=0.1).lower()
    flood.clock.advance(120)
    assert flood.send("what do i do if ice knocks on my door") != ""
