"""Urgency triage, independent of the FAQ match: danger now means a person looks at once.

Rules over folded text (lowercase, no accents) in English and Spanish; common typos are
spelled out in the patterns and a fuzzy pass maps the rest back to key words. Each rule
combines a situation (agents at the door, someone taken, violence, self-harm) with a sign
that it is happening now; hypotheticals ("what if ICE comes"), rumours and things long past
don't fire unless something says "now". Missing an urgent message is the worst failure this
product can have: when a rule is unsure, it errs towards urgent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.models import Reason, Urgency
from bot.text import fold


@dataclass(frozen=True, slots=True)
class Triage:
    urgency: Urgency
    reason: Reason | None = None
    rule: str = ""  # which rule fired, for coordinators and tests


NOT_URGENT = Triage(Urgency.NONE)


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


# --- signals --------------------------------------------------------------------------------

AGENT = (
    r"ice|migra|la migra|inmigracion|immigration|imigration|inmigrasion|agentes?|agents?|"
    r"federales|feds|dhs|hsi|police|policias?|poli|cops?|officers?|oficiales?|patrullas?|"
    r"jura|sheriffs?|chota|troopers?|ice vans?|camionetas?(?: de ice)?|los de inmigracion"
)
RAID = r"raids?|raiding|redadas?|operativos?"
PLACE = (
    r"door|doors|house|home|apartment|apt|building|hallway|job|work|workplace|factory|"
    r"restaurant|site|shop|store|parking lot|yard|porch|window|puerta|casa|apartamento|"
    r"depa|edificio|pasillo|trabajo|chamba|jale|fabrica|restaurante|tienda|estacionamiento|"
    r"yarda|ventana|obra|mia|driveway|entrada|esquina|corner|street|calle|block|cuadra|"
    r"warehouse|bodega|almacen|farm|granja|school|escuela|laundromat|lavanderia"
)
NOW = (
    r"right now|rn|ahorita|ahora mismo|en este momento|at this moment|currently|"
    r"asap|ya mismo|todavia estan|still here|still outside|as we speak|este momento"
)
NOW_WEAK = r"now|ahora|ya"  # "now I have a charge": only counts when nothing says "long ago"
JUST = (
    r"just|acaba de|acaban de|acabo de|recien|hace (?:un rato|una hora|unas horas|\d+ horas|"
    r"\d+ minutos|minutos|rato|poco|ratito)|an hour ago|hours ago|minutes ago|today|tonight|"
    r"this morning|this afternoon|last night|yesterday|hoy|esta manana|esta tarde|"
    r"esta noche|anoche|ayer|en la manana|hace media hora|half an hour ago|earlier today"
)
HYPO = (
    r"if|si|what if|in case|en caso|algun dia|un dia|someday|ever|would|could|q pasa si|"
    r"que pasa si|what happens if|what do i do if|q hago si|que hago si|que debo hacer si|"
    r"can they|can ice|can police|pueden|puede la"
)
RUMOR = (
    r"is it true|es cierto|es verdad|rumou?rs?|dicen q hay|dicen que hay|i heard|heard that|"
    r"escuche|oi que|on facebook|en facebook|they say|la gente dice|vi en las noticias|news"
)
PAST = (
    r"last (?:week|month|year|summer|winter|spring|fall|autumn|time)|"
    r"(?:back )?in (?:january|february|march|april|may|june|july|august|september|october|"
    r"november|december)|en (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"octubre|noviembre|diciembre)|(?:weeks|months|years) ago|\d+ (?:weeks|months|"
    r"years) ago|back in \d+|in 20\d\d|en 20\d\d|el (?:ano|mes) pasado|la semana pasada|"
    r"hace (?:\d+|dos|tres|unos|varios|muchos|un par de)? ?(?:semanas|meses|anos|ano|mes)|"
    r"hace \d+ dias|used to|solia|years|anos|lleva \d+ (?:weeks|semanas|meses|months)|"
    r"for \d+ (?:weeks|months|years)|ya salio|got out of jail|was deported|fue deportad[oa]"
)

PRESENCE = (
    # the agents are somewhere now
    r"(?:" + AGENT + r") (?:is|are|r|re|esta|estan|sta|stan|ta|tan)"
    r"(?: \w+){0,2} (?:here|outside|at|in|inside|en|aqui|aca|afuera|adentro|tocando|knocking|"
    r"asking|checking|parked|waiting|rodeando|surrounding|looking|buscando|preguntando|"
    r"pidiendo|entrando|coming|viniendo)|"
    r"(?:" + AGENT + r") (?:in|at|en|outside|afuera de|inside|parked outside)(?: the| my| our| la| mi| el| del| de)?"
    r"(?: \w+){0,3} (?:" + PLACE + r")|"
    r"(?:" + AGENT + r")(?: \w+){0,3} (?:asking for|checking|buscando a|preguntando por|"
    r"siguiendo|following|persiguiendo|chasing|knocking|tocando|golpeando|banging|"
    r"rodeando|surrounding|entrando|entering|going door to door|casa por casa)|"
    r"(?:hay|there is|there are|theres|there s) (?:(?:unos|unas|dos|tres|varios|varias|muchos|"
    r"\d+|a|an|some|like) )?(?:agentes|agents|ice|migra|la migra|policias?|police|cops|"
    r"patrullas?|officers|federales|camionetas|vans|" + RAID + r")|"
    r"(?:" + AGENT + r")(?: \w+){0,2} (?:afuera|outside|aqui|here|aca|out front|en la entrada|"
    r"in the driveway|en la esquina|on the corner|in the hallway|en el pasillo)|"
    r"(?:" + AGENT + r")(?: \w+){0,3} (?:just )?(?:stopped|pulled over|pararon|paro|detuvieron|"
    r"estan parando|are stopping|showed up|llegaron|aparecio|aparecieron|got here|arrived)|"
    r"(?:stopped|pararon|paro|detuvieron|agarraron) (?:me|us)(?: \w+){0,4} (?:" + AGENT + r")|"
    r"me (?:pararon|paro|detuvieron|estan parando)(?: \w+){0,4} (?:" + AGENT + r")|"
    # someone at the door without saying who
    r"(?:knocking|banging|pounding|tocando|golpeando|tocan|estan tocando|knock)"
    r"(?: on| at| en)?(?: la| mi| the| my| our)? (?:puerta|door|doors|ventana|window)|"
    r"(?:estan|esta|they re|theyre|they are|theyr) (?:en|at|outside|afuera de|in front of|"
    r"frente a) (?:la |mi |my |the |our )?(?:puerta|door|casa|house|apartment|building)|"
    r"me (?:esta|estan) siguiendo|following me|"
    r"(?:" + RAID + r") (?:happening|going on|now|right now|ahorita|en este momento|at|en)|"
    r"(?:want|wants|quieren|quiere) (?:to come in|to enter|entrar|pasar|que abra)|"
    r"(?:se metieron|entraron|broke in|came in|forced their way)"
)
HIDING = r"hiding|escondid[oa]s?|me escondi|nos escondimos|estoy escondid[oa]"

TAKEN = (
    r"(?:se|lo|la|los|las|me|nos) (?:acaba de |acaban de )?(?:llevo|llevaron|llevar)|"
    r"(?:agarraron|agarro|detuvieron|detuvo|arrestaron|arresto|levantaron|recogieron|"
    r"pescaron|atraparon|detener|arrestar|agarrar|llevaron|encerraron)|"
    r"(?:dejaron|quedo|esta|estan|quedaron) (?:detenid[oa]s?|arrestad[oa]s?|pres[oa]s?)|"
    r"(?:just|got|was|were|has been|have been|been|being|get|getting) (?:\w+ )?"
    r"(?:taken|picked up|detained|detaind|detianed|arrested|grabbed|caught|locked up|"
    r"apprehended)|"
    r"(?:took|picked up|detained|arrested|grabbed|caught|arresting|detaining) "
    r"(?:my|him|her|them|me|mi|us)|"
    r"(?:tiene|tienen|have|has|got) (?:a )?(?:mi|my) (?:\w+ )?(?:hijo|hija|esposo|esposa|"
    r"son|daughter|husband|wife|dad|mom|papa|mama|hermano|hermana|brother|sister)|"
    r"(?:holding|hold) (?:my|him|her)|(?:won t|wont|will not|no lo|no la|no los) "
    r"(?:release|sueltan|liberan|dejan salir)|in custody|en custodia"
)
FAMILY = (
    r"(?:my|mi|mis|our|nuestro|nuestra) (?:\w+ )?(?:husband|wife|son|daughter|dad|father|mom|"
    r"mother|brother|sister|cousin|uncle|aunt|kid|kids|child|children|boyfriend|girlfriend|"
    r"partner|esposo|esposa|marido|mujer|hijo|hija|hijos|papa|padre|mama|madre|hermano|hermana|"
    r"primo|prima|tio|tia|novio|novia|pareja|vecino|vecina|roommate|friend|amigo|amiga)"
)
GENERAL_Q = (
    r"how do i find|how can i find|como busco|como encuentro|como puedo encontrar|"
    r"how do people|someone who|una persona detenida|alguien detenido"
)
HOLD = r"hold|detainer|retencion|immigration|inmigracion|ice|migra"
RELEASE = (
    r"release|released|releasing|sueltan|soltar|liberan|liberar|sale|salir|gets out|get out|"
    r"getting out|recoger|pick (?:him|her) up|fianza|bail|dismissed|desestimaron|cerraron|"
    r"finishes (?:his|her) (?:sentence|time)|done with (?:his|her) (?:sentence|time)|"
    r"termina su condena|cumple su condena|cumple su sentencia|sale libre"
)
SOON = (
    r"tomorrow|manana|today|hoy|tonight|esta noche|now|ahorita|ahora|an hour ago|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lunes|martes|miercoles|"
    r"jueves|viernes|sabado|domingo|next week|la proxima semana|en \d+ dias|in \d+ days|"
    r"this weekend|este fin de semana|"
    r"hace una hora|hace rato|won t release|wont release|no lo sueltan|no la sueltan|"
    r"holding (?:my|him|her)|lleva \d+ dias|\d+ days|in a few hours|en unas horas|this week|"
    r"esta semana"
)

VICTIM_ACT = (
    r"(?:hit|hitting|hits|beat|beating|beats|beat up|choke|choked|choking|chocked|hurt|"
    r"hurting|punch|punched|punching|kick|kicked|kicking|slap|slapped|slapping|attack|"
    r"attacked|attacking|strangle|strangled|threaten|threatened|threatening|abuse|abusing|"
    r"push|pushed|pushing|rape|raped|grab|grabbed) (?:me|my|us|mi)|"
    r"me (?:esta |estan |acaba de |acabo de )?(?:pega|pegando|pego|pegar|golpea|golpeando|"
    r"golpeo|golpear|ahorca|ahorcando|ahorco|ahorcar|lastima|lastimando|lastimo|lastimar|"
    r"amenaza|amenazando|amenazo|empuja|empujo|empujando|patea|pateo|pateando|cachetea|"
    r"cacheteo|maltrata|maltrato|maltratando|violo|ataco|atacando|jalo|arrastro)|"
    r"(?:is|esta|estan|are|keeps|sigue) (?:\w+ )?(?:hitting|beating|choking|hurting|"
    r"attacking|pegando|golpeando|ahorcando|lastimando|amenazando|atacando|abusando|"
    r"rompiendo|breaking|smashing)|"
    r"le (?:esta )?(?:pegando|pega|pego|golpea|golpeando|golpeo)"
)
KILL_THREAT = (
    r"(?:kill|matar|mate|mataria) (?:me|us|my)|me (?:va a|iba a|quiere|dijo q|dijo que|"
    r"amenazo con|amenaza con) (?:\w+ )?mat(?:ar|arme|a)|"
    r"(?:amenazo|amenaza|amenazando) (?:con|de) (?:matarme|matarnos|muerte|matar)|(?:going to|gonna|will|he ll|she ll|"
    r"hell|shell|threatened to|threatens to|said he d|said hed) (?:\w+ )?kill|"
    r"(?:va a|iba a|quiere) matarme|matarnos|kill (?:me|us)|miedo (?:de )?que me mate|"
    r"scared for my life|afraid for my life|miedo por mi vida"
)
FUTURE_HARM = (
    r"(?:going to|gonna|is going to|will) (?:hurt|hit|beat) (?:me|us)|"
    r"me va a (?:pegar|golpear|lastimar|hacer dano)|nos va a (?:pegar|golpear|lastimar)"
)
WEAPON = r"(?:gun|knife|pistola|arma|cuchillo|navaja|machete|pistol)"
CHILD_TAKEN = (
    r"(?:se llevo|se acaba de llevar|se llevaron|took|has taken|just took|grabbed|agarro) "
    r"(?:a )?(?:mis|my|mi|our) (?:hijos|hijo|hija|kids|children|child|son|daughter|baby|bebe)"
)
SELF_HARM = (
    r"suicid\w*|kill myself|killing myself|kms|kys|end(?:ing)? (?:my|it) (?:life|all)|ending it|"
    r"(?:dont|don t|no) want to wake up|no quiero despertar|cant do this anymore|"
    r"can t do this anymore|no puedo mas con la vida|quitarme de en medio|"
    r"take my (?:own )?life|want to die|wanna die|wish i was dead|wish i were dead|"
    r"better off dead|dont want to live|don t want to live|do not want to live|"
    r"dont want to be alive|no quiero vivir|ya no quiero vivir|no quiero seguir viviendo|"
    r"quiero morir(?:me)?|me quiero morir|quitarme la vida|me quiero matar|quiero matarme|"
    r"me voy a matar|me mato|matarme yo|suicidarme|hacerme dano|cortarme|me corto|"
    r"hurt myself|cut myself|cutting myself|self harm|overdose|sobredosis|"
    r"no vale la pena vivir|mejor muert[oa]|not worth living|no reason to live|"
    r"no tengo razon para vivir|ya no aguanto mas la vida|i have the pills|tengo las pastillas"
)

_AGENT = _rx(AGENT)
_RAID = _rx(RAID)
_NOW = _rx(NOW)
_JUST = _rx(JUST)
_HYPO = _rx(HYPO)
_RUMOR = _rx(RUMOR)
_PAST = _rx(PAST)
_PRESENCE = _rx(PRESENCE)
_HIDING = _rx(HIDING)
_TAKEN = _rx(TAKEN)
_FAMILY = _rx(FAMILY)
_GENERAL_Q = _rx(GENERAL_Q)
_HOLD = _rx(HOLD)
_RELEASE = _rx(RELEASE)
_SOON = _rx(SOON)
_VICTIM_ACT = _rx(VICTIM_ACT)
_KILL = _rx(KILL_THREAT)
_FUTURE_HARM = _rx(FUTURE_HARM)
_WEAPON = _rx(WEAPON)
_CHILD_TAKEN = _rx(CHILD_TAKEN)
_SELF_HARM = _rx(SELF_HARM)
_PROGRESSIVE = _rx(r"\w+(?:ing|ando|iendo)")

# Words whose misspellings matter; the fuzzy pass maps a typo back to them.
_KEY_WORDS = sorted(
    {
        "inmigracion", "immigration", "police", "policia", "patrulla", "puerta", "knocking",
        "tocando", "golpeando", "afuera", "outside", "ahorita", "detained", "arrested",
        "agarraron", "detuvieron", "llevaron", "arrestaron", "pegando", "golpea", "golpeo",
        "hitting", "beating", "choked", "matar", "suicide", "suicidio", "suicidarme", "matarme",
        "amenaza", "amenazo", "threatened", "cuchillo", "pistola", "knife", "trabajo", "house",
        "custody", "release", "released", "detenido", "detenida", "morir", "vivir", "myself",
        "tomorrow", "manana", "siguiendo", "following", "escondida", "escondido", "hiding",
        "redada", "estacionamiento", "apartment", "building", "agentes",
    }
)


@lru_cache(maxsize=32768)
def _correct(word: str) -> str:
    if len(word) < 5 or word in _KEY_WORDS:
        return word
    best = process.extractOne(word, _KEY_WORDS, scorer=Levenshtein.distance, score_cutoff=1)
    return str(best[0]) if best else word


def _variants(text: str) -> tuple[str, ...]:
    folded = fold(text)
    corrected = " ".join(_correct(w) for w in folded.split())
    return (folded, corrected) if corrected != folded else (folded,)


def triage(text: str) -> Triage:
    """Urgency and reason for one message."""
    for t in _variants(text):
        result = _triage(t)
        if result.urgency is Urgency.URGENT:
            return result
    return NOT_URGENT


NEVER_CAME_OUT = (
    r"never came out|didn t come out|didnt come out|hasn t come (?:out|back|home)|"
    r"hasnt come (?:out|back|home)|never came (?:back|home)|no salio|no ha salido|"
    r"no regreso|no ha regresado|no volvio|no ha vuelto|nunca salio"
)
FLEEING = (
    r"nowhere to (?:sleep|go|stay)|no (?:tengo|tenemos) (?:a )?donde (?:ir|dormir|quedarme|"
    r"quedarnos)|(?:looking|searching) for (?:me|us)|(?:me|nos) esta buscando|"
    r"need (?:somewhere|a place) to (?:go|stay|sleep) tonight|"
    r"necesito (?:un )?(?:lugar|refugio|donde) (?:\w+ )?(?:hoy|esta noche|ya|ahorita)"
)
EVENT_TAKEN = (
    r"(?:se|lo|la|los|las|me|nos) (?:acaba de |acaban de )?(?:llevo|llevaron)|"
    r"(?:agarraron|agarro|detuvieron|detuvo|arrestaron|arresto|levantaron|recogieron|pescaron|"
    r"atraparon|llevaron)|(?:took|picked up|detained|arrested|grabbed) (?:my|him|her|them|mi)|"
    r"(?:got|was|were) (?:picked up|detained|arrested|taken|grabbed)"
)
_NOW_WEAK = _rx(NOW_WEAK)
_NEVER_CAME_OUT = _rx(NEVER_CAME_OUT)
_FLEEING = _rx(FLEEING)
_EVENT_TAKEN = _rx(EVENT_TAKEN)
_ACT_NOW_FIRST = frozenset({"is", "esta", "estan", "are", "keeps", "sigue", "acaba", "acabo"})


def _triage(t: str) -> Triage:
    if not t:
        return NOT_URGENT
    if _SELF_HARM.search(t):
        return Triage(Urgency.URGENT, Reason.SELF_HARM, "self-harm")

    past = bool(_PAST.search(t))
    now = bool(_NOW.search(t)) or (bool(_NOW_WEAK.search(t)) and not past)
    just = bool(_JUST.search(t))
    hypothetical = bool(_HYPO.search(t))
    rumor = bool(_RUMOR.search(t))
    hiding = bool(_HIDING.search(t))
    agent = bool(_AGENT.search(t))

    # violence or threats
    if not past or now:
        if _KILL.search(t) or _FUTURE_HARM.search(t):
            return Triage(Urgency.URGENT, Reason.VIOLENCE, "threat-to-kill-or-hurt")
        act = _VICTIM_ACT.search(t)
        if _WEAPON.search(t) and (act or now or just):
            return Triage(Urgency.URGENT, Reason.VIOLENCE, "weapon")
        if act:
            words = act.group(0).split()
            ongoing = any(_PROGRESSIVE.fullmatch(w) for w in words) or words[0] in _ACT_NOW_FIRST
            if (now or just or hiding or ongoing) and not (hypothetical and not (now or just)):
                return Triage(Urgency.URGENT, Reason.VIOLENCE, "violence-now")
        if _CHILD_TAKEN.search(t) and (now or just) and not agent:
            return Triage(Urgency.URGENT, Reason.VIOLENCE, "children-taken")
        if _FLEEING.search(t) and not hypothetical:
            return Triage(Urgency.URGENT, Reason.VIOLENCE, "fleeing")

    # agents at the home, the workplace or with the member now
    presence = _PRESENCE.search(t)
    if presence and (agent or _RAID.search(t) or hiding or "puerta" in t
                     or "door" in t or "orden" in t or "warrant" in t):
        calm = (hypothetical or rumor) and not (now or just)
        if not calm and not (past and not now):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-present")
    if (agent or _RAID.search(t)) and now and not rumor and (
        re.search(r"\b(?:" + PLACE + r")\b", t) or hiding
    ):
        return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-at-place-now")

    # someone about to be released to ICE, or held for it
    if (_HOLD.search(t) and _RELEASE.search(t) and _SOON.search(t)
            and not (past and not now) and not re.search(r"\b(?:if|ever|si)\b", t)):
        return Triage(Urgency.URGENT, Reason.DETAINED, "release-to-ice")

    # someone just detained, or who went in to ICE and didn't come out
    if _NEVER_CAME_OUT.search(t) and (agent or "check" in t or "cita" in t) and not past:
        return Triage(Urgency.URGENT, Reason.DETAINED, "did-not-come-out")
    if _TAKEN.search(t) and not past:
        if now or just:
            return Triage(Urgency.URGENT, Reason.DETAINED, "just-detained")
        if (_EVENT_TAKEN.search(t) and _FAMILY.search(t) and not hypothetical
                and not _GENERAL_Q.search(t) and (agent or "migra" in t)):
            return Triage(Urgency.URGENT, Reason.DETAINED, "family-taken")
    return NOT_URGENT
