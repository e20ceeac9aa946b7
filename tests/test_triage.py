"""Urgency triage on the shapes of message that used to be misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq import Faq
from bot.models import Reason, Urgency
from bot.triage import UrgencyModel, assess, urgency_model


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # "no se si" asks whether, it is not an if-clause
        (
            "no se si es la migra pero hay un señor con gorra tocando y preguntando por mi primo",
            Reason.ICE_PRESENT,
        ),
        ("chamo hay gente de ICE en el pasillo, escuché el número de mi apartamento", None),
        ("if they deport me id rather die", Reason.SELF_HARM),
        ("if my dad gets deported tmrw im not gonna be around to see it", Reason.SELF_HARM),
        ("ICE is at my door right now what do i do", Reason.ICE_PRESENT),
        # self-harm said indirectly
        ("i have the rope ready", Reason.SELF_HARM),
        ("este es mi ultimo mensaje, gracias por todo", Reason.SELF_HARM),
        ("im sitting in the garage with the car running and the door closed", Reason.SELF_HARM),
        ("si me deportan mañana yo no voy a estar viva para eso", Reason.SELF_HARM),
        # a threat whose if-clause is the member's own act
        ("he says if i leave the room hes going to hurt the baby", Reason.VIOLENCE),
        ("dice q si salgo del cuarto le hace algo a la bebe", Reason.VIOLENCE),
        # "last time" doesn't make a scene at the door now long past
        ("hes at the door again screaming and the kids are awake, last time he broke my arm", None),
        ("parce la tomba esta en la puerta preguntando por mi hermano", Reason.ICE_PRESENT),
        # "asks if I'm legal" is a question asked now, not an if-clause
        (
            "la patrulla me tiene parado, el poli pregunta si soy ilegal, mis hijos en el carro",
            None,
        ),
        ("ta borracho dandole con la correa a mi hijo, ayudaa", Reason.VIOLENCE),
        ("mi hijo me llamo desde un carro, dijo q lo esposaron afuera de la escuela", None),
        # a few words that only report agents somewhere, or a cry for help
        ("ICE AQUI", Reason.ICE_PRESENT),
        ("migra aki", Reason.ICE_PRESENT),
        ("help ice", Reason.ICE_PRESENT),
        ("ayudaaa la migra", Reason.ICE_PRESENT),
        ("immigration at school pickup", Reason.ICE_PRESENT),
        # agents not named, their act is enough
        ("estan revisando papeles en la entrada de la obra", Reason.ICE_PRESENT),
        ("my dad didnt come back from his ice check in", Reason.DETAINED),
        ("lo van a transferir a otro centro, sigue detenido en plymouth", Reason.DETAINED),
        ("i took all my pills", Reason.SELF_HARM),
        ("ya me despedi de mis hijos", Reason.SELF_HARM),
        # hiding from someone looking for her; a threat for when she gets home
        ("me escondi en la casa de mi prima, mi marido me anda buscando", Reason.VIOLENCE),
        ("he told me when i get home he will kill me", Reason.VIOLENCE),
        ("me bateu de novo, esta batendo na porta", Reason.VIOLENCE),
        # agents telling the member to do something, now; a road check the member is in
        ("the officer is telling me to get out of the car right now", Reason.ICE_PRESENT),
        ("hay un reten en la 28 y estoy en la fila sin licencia", Reason.ICE_PRESENT),
        ("checkpoint on route 1, they're stopping everyone and im 3 cars back", Reason.ICE_PRESENT),
        # held past bail because of a detainer: "posted" is bail, not a rumour
        ("bail was posted but they wont let him out, the jail says ice has a hold", None),
        # a stop in progress says "now" by itself
        ("me esta parando una patrulla y no traigo licencia", Reason.ICE_PRESENT),
        ("getting pulled over no license", Reason.ICE_PRESENT),
        ("police are questioning my uncle outside the apartment", Reason.ICE_PRESENT),
        ("the cop is telling me to step out of the car and open the trunk", Reason.ICE_PRESENT),
        # someone at the door, a paper under it, men from the vans, they're back
        ("hay unos señores en la puerta y mi mama no puede hablar", Reason.ICE_PRESENT),
        ("they pushed a paper under the door that says homeland security", Reason.ICE_PRESENT),
        ("the guys from the white van are on our porch", Reason.ICE_PRESENT),
        ("volvieron, los de la semana pasada estan parados frente a la casa", Reason.ICE_PRESENT),
        ("estan agarrando gente en la plaza, todos corriendo", Reason.ICE_PRESENT),
        ("ice at the car wash on main st", Reason.ICE_PRESENT),
        ("a gray car has been following me since i left work", None),
        # taken by no one named, missing, held at a check-in, moved
        ("they put my brother in a van outside the deli", Reason.DETAINED),
        ("mi esposo no volvio del trabajo y su celular esta apagado", Reason.DETAINED),
        ("me dijeron que espere en otro cuarto en mi cita de ice", Reason.DETAINED),
        ("lo estan pasando a otro centro en texas", Reason.DETAINED),
        ("his release is tomorrow but ice put a hold on him, can they keep him?", Reason.DETAINED),
        # self-harm of someone else, and farewells
        ("mi hermana dice que se quiere morir", Reason.SELF_HARM),
        ("my patient says she plans to end her life", Reason.SELF_HARM),
        ("perdonenme por todo, diganle a mis hijos que los quiero", Reason.SELF_HARM),
        # phone spelling and Brazilian Portuguese
        ("se lo yevaron ajentes d inmigrasion", Reason.DETAINED),
        ("me kiero matar", Reason.SELF_HARM),
        ("a migra pegou meu marido agora", Reason.DETAINED),
        ("migrasion rodeando las casas", Reason.ICE_PRESENT),
        # in custody: pressed to sign, on the bus to the airport, being arrested, one call
        ("mi tio detenido, kieren ke firme su salida", Reason.DETAINED),
        ("they're making him sign papers at the ice office", Reason.DETAINED),
        ("my wife is on a bus to the airport right now", Reason.DETAINED),
        ("im being arrested", Reason.DETAINED),
        ("van a soltarlo mañana y ice lo espera afuera", Reason.DETAINED),
        ("ice grabbed my son at court", Reason.DETAINED),
        ("levantaron a mi hermano en la obra", Reason.DETAINED),
        ("dey took him", Reason.DETAINED),
        # forcing their way in; violence in few words
        ("quieren entrar a la fuerza", Reason.ICE_PRESENT),
        ("ya entraron a la casa!!!", Reason.ICE_PRESENT),
        ("me agarro del cuello", Reason.VIOLENCE),
        ("husband beat me, says he'll call ice if i call", Reason.VIOLENCE),
        ("he smashed my phone, texting from my neighbor's", Reason.VIOLENCE),
        ("cutting again", Reason.SELF_HARM),
        ("my friend says shes gonna jump", Reason.SELF_HARM),
        ("un agente me sigue desde la parada", None),
        # a question about the scene, asked while it happens
        ("there are two ice officers in the parking lot, can they come into the church?", None),
        ("hay un oficial de inmigracion en el pasillo preguntando por ella, pueden entrar?", None),
        ("agents went into the plant about fifteen minutes ago, can workers refuse to talk", None),
        ("hace diez minutos entraron dos señores al trabajo con una lista de nombres", None),
        ("the men from the van are lining everybody up by the fence", None),
        # something long past is background when the act is just now
        ("la semana pasada me amenazo y ahorita se acaba de llevar a la niña", None),
        ("they're putting my brother on a plane tomorrow morning, he never saw a judge", None),
        ("he locked us out and its snowing, were in the hallway", Reason.VIOLENCE),
        ("im texting bc tomorrow i wont be here tomorrow, bought rope", Reason.SELF_HARM),
    ],
)
def test_urgent(text: str, reason: Reason | None) -> None:
    tri = assess(text)
    assert tri.urgency is Urgency.URGENT, tri
    if reason is not None:
        assert tri.reason is reason


@pytest.mark.parametrize(
    "text",
    [
        # agents only inside an if-clause
        "si los de ICE llegan a la obra y me preguntan de donde soy, tengo que responder?",
        "my mom told me if anyone knocks and says ICE i just dont say anything, is that right",
        "mi audiencia en la corte de chelsea es el martes, si hay agentes de ice afuera qué hago",
        "suponiendo que la migra llega a mi trabajo, tengo que decirles algo?",
        # "help" as a verb, not a cry for help
        "my brother was detained by ice 2 weeks ago, how can we help him",
        # "where im going" is not a farewell on its own
        "cop stopped me walking home from work asking where im going, do i have to answer",
        # a threat to call immigration is the coercion the FAQ answers
        "he keeps threatening to report me to immigration, can he do that",
        # fear of the police, not for one's safety right now
        "my partner hits me but im scared if i call police they will deport me",
        "someone posted on fb that ice is at the market basket today, is that true?",
        "escuche q hay migra en la corte, es verdad?",
        "lol my mom is gonna kill me i lost my green card",
        "he says if i call the cops they will deport me, is that true",
        "mi primo esta detenido desde octubre, le podemos mandar cartas?",
        "a mi compa lo paro la migra el viernes pasado y lo dejaron ir, lo van a buscar otra vez?",
        "im writing a school project about ice raids in the 2000s, where can i find info",
        "no manches el frio me esta matando, donde regalan chamarras pa los niños",
        # few words, but asking about a topic
        "ice at work rights",
        "low cost legal help immigration?",
        "ice warrant?",
        "migra en el trabajo que derechos tengo",
        "si lo van a transferir a otro centro puedo visitarlo?",
        # "me bate" is Portuguese for hitting, not a bat; "when he drinks" is a habit, asked about
        "meu marido me bate quando bebe, si llamo a la policia me deportan?",
        # asking who answers; immigration paperwork; "just" meaning simply
        "is this the migra? who am i talking to",
        "a man at my church is offering to fill out my immigration forms, is that ok",
        "el señor de la tienda hace tramites de inmigracion, es confiable?",
        "a cop stopped me last month, could i have just walked away",
        "can police make me unlock my phone",
        "hay retenes en lawrence esta semana? dicen en facebook",
        "what do i do at a police checkpoint",
        # over: a habit asked about, abuse long past, safe now, agents seen yesterday
        "mi esposo me grita y me pega a veces, puedo pedir una orden?",
        "my dad used to hit me as a kid, does that help my case",
        "el me golpeo el viernes pero ya estoy en un refugio con los niños, que sigue",
        "the police took my abuser away last night and im safe at my moms, what about the order",
        "saw an ice van parked on our street yesterday, should we stay home",
        # rumours, figures of speech, if-clauses
        "someone at work said ice is at the mall, is it true",
        "they said on the radio there are checkpoints in lynn",
        "can i carry a pocket knife for work",
        "mi suegra me va a matar cuando sepa que choque el carro",
        "si un dia no llego a la casa por la migra, que hacen mis hijos",
        "is there a law in mass that stops cops from helping ice",
        # all clear, figures of speech, ice that is frozen water
        "ya se fueron, estamos bien gracias",
        "he left, im at my sisters now, safe",
        "mi primo ya ta en guatemala, lo deportaron",
        "kill me this form is 20 pages lol",
        "ice cream truck outside",
        "cuidado hay ice en la banqueta, resbala",
        "mi mama me mata si no llego temprano jaja",
        # the member's own case: arrested after defending herself, prints, charges
        "got arrested after he hit me, court is next week",
        "me tomaron las huellas cuando me arrestaron, ya lo sabe la migra?",
        "como se si un policia me esta deteniendo o solo hablando",
        # weeks in detention, a gun kept legally, "he's never hit me", help as a noun
        "my uncle has been detained for several weeks, does any group help with bond?",
        "mi hermano esta detenido hace varias semanas, sus hijos siguen viniendo a la iglesia",
        "my husband hunts and keeps a rifle, legally registered, could the gun cause problems",
        "we argue but hes never hit me, last night he yelled he'd have me deported",
        "theres ice building up in my freezer",
        "they took my prints back in 2016, or did they just not care",
    ],
)
def test_calm(text: str) -> None:
    assert assess(text).urgency is Urgency.NONE, assess(text)


def _urgent_messages() -> list[str]:
    path = Path(__file__).parent / "data" / "urgent-messages.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def model(faq: Faq) -> UrgencyModel:
    return urgency_model(faq.urgent_examples, faq.calm_examples)


@pytest.mark.parametrize("text", _urgent_messages())
def test_every_urgent_message_pages_a_volunteer(text: str, model: UrgencyModel) -> None:
    # written by someone who never saw the rules; missing one is the worst failure
    assert assess(text, model).urgency is Urgency.URGENT
