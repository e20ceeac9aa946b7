"""Urgency triage, independent of the FAQ match: danger now means a person looks at once.

People in danger rarely use the words a rule-writer expects ("agents in my backyard looking
through the windows", "he's drunk and throwing things", "wrote letters for my kids
tonight"). So instead of exact sentences, the rules look for families of signals anywhere in
the message (folded: lowercase, no accents, common typos corrected):

- a situation: agents (ICE or police), someone taken, violence, self-harm;
- a sign it is happening now: "rn", "ahorita", "siguen afuera", "10 min ago", a verb in the
  progressive, a place at home or work where the agents are;
- and what speaks against it: a hypothetical ("what if ICE comes"), a rumour ("heard there
  are ICE vans"), or something long past ("last year").

Self-harm always counts. Missing an urgent message is the worst failure this product can
have: when signals conflict, the rules lean towards urgent.
"""

from __future__ import annotations

import itertools
import math
import random
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


# --- signal families (folded text) -----------------------------------------------------

ICE_AGENT = (
    r"ice|i c e|migra|la migra|inmigracion|imigracion|inmigrasion|emigracion|migracion|"
    r"immigration|imigration|inmigration|dhs|hsi|ero|federales|feds|federal agents?|"
    r"agentes?|agents?|plain ?clothes|unmarked|sin placas?|chalecos?|vests?|"
    r"(?:unos|dos|tres|cuatro|varios) (?:senores|hombres|tipos|batos)|"
    r"(?:some|two|three|four|several) (?:men|guys|dudes)|guys in vests|"
    r"camionetas? negras?|black (?:suvs?|vans?|trucks?|cars?)|ice vans?|ice trucks?|"
    r"uniformados|oficiales de inmigracion|los de inmigracion|la ice|"
    r"raids?|raiding|redadas?|operativos?|cayo la migra|homeland|badges?|"
    r"someone with a badge|camionetas|vans|chaleco de \w+|(?:una|la|a|the) (?:white |black )?van|"
    r"van (?:blanca|negra)|unos de (?:inmigracion|migracion|la migra)"
)
POLICE = (
    r"police|policias?|poli|polis|cops?|officers?|oficiales?|patrullas?|jura|la jura|"
    r"sheriffs?|chota|troopers?|detectives?|swat|police open up|tomba|tombos|los azules|"
    r"la placa"
)
AGENT = ICE_AGENT + "|" + POLICE
NOW = (
    r"right now|rn|ahorita|ahorita mismo|orita|horita|ahora mismo|en este momento|"
    r"at this moment|estoy en la (?:estacion|comisaria|carcel|corte)|"
    r"i ?m (?:at|in) the (?:police station|station|precinct|jail)|"
    r"as we speak|currently|asap|ya mismo|siguen (?:ahi|aqui|aca|afuera|alli|alla|en la|en el|"
    r"tocando|esperando|parados)|sigue ahi|still (?:here|there|outside|at)|"
    r"todavia (?:estan|esta|siguen)|mientras (?:te )?escribo|while i (?:text|write|type)|"
    r"(?<!can )(?<!to )(?<!we )(?<!you )(?<!i )(?<!they )(?<!could )(?<!would )(?<!will )"
    r"(?<!how )(?<!that )(?<!it )(?<!legal )(?<!any )(?<!some )(?<!get )(?<!group )(?<!free )"
    r"(?<!the )(?<!for )(?<!no )(?<!more )help+(?! (?:with|for|from|paying|finding|me find))|"
    r"ayudaa+|auxilio|socorro|sos|hurry|apurate|rapido|urgente|"
    r"urgent"
)
NOW_WEAK = r"now|ahora|ya"  # "now I have a charge": counts only when nothing is long past
RECENT = (
    r"(?:me|nos) (?:acaba de )?llamo (?:llorando|desde)|called me (?:crying|from)|"
    r"se corto la llamada|call (?:got )?cut off|(?<!have )(?<!can )(?<!could )(?<!should )just"
    r"(?! (?:walk|leave|go|stay|ignore|say|tell|refuse|keep|wondering|curious|asking|want|wanted|"
    r"in case|a question|do|did|didnt|didn t|dont|don t|care|like|because|bc|cause|thought|so))|"
    r"acaba de|acaban de|acabo de|recien|"
    r"hace (?:un rato|ratito|rato|poco|una hora|"
    r"media hora|unos minutos|\d+ ?(?:min|mins|minutos|horas?))|\d+ ?(?:min|mins|minutes|"
    r"hours?|hrs?) ago|an hour ago|half an hour ago|earlier today|today|tonight|this morning|"
    r"this afternoon|last night|hoy|esta manana|esta tarde|esta noche|hoy en la noche|"
    r"anoche|ayer|yesterday|later today|mas tarde|en (?:\d+|unos) (?:min|minutos|horas)|"
    r"in (?:\d+|a few) (?:min|mins|minutes|hours)|"
    r"(?:about |like |como |unos )?(?:five|ten|fifteen|twenty|thirty|forty|cinco|diez|quince|"
    r"veinte|treinta|cuarenta) (?:min|mins|minutes|minutos)(?: ago)?|hace (?:como |unos )?"
    r"(?:\w+ )?minutos"
)
PLACE = (
    r"salida|entrada|exit|entrance|gasolinera|bomba de gasolina|gas station|yipeta|suv|doors?|"
    r"porch|backyard|back yard|front yard|yard|windows?|house|home|apartment|apt|"
    r"unit|building|hallway|pasillo|stairs|downstairs|upstairs|driveway|parking(?: lot)?|parqueo|"
    r"estacionamiento|across the street|enfrente|frente|outside|out front|afuera|job|work|"
    r"workplace|factory|warehouse|plant|restaurant|restaurante|kitchen|cocina|store|tienda|"
    r"shop|site|obra|school|escuela|pickup|court|corte|courthouse|shelter|albergue|car|"
    r"carro|troca|truck|uber|bus|casa|puerta|patio|ventanas?|edificio|cuarto|room|"
    r"trabajo|chamba|jale|fabrica|bodega|granja|farm|laundromat|lavanderia|church|iglesia|"
    r"corner|esquina|block|cuadra|calle|street|lobby|car ?wash|lavado|carwash|mall|plaza|"
    r"market|mercado|supermarket|supermercado|super|park|parque|misa|clinic|clinica|"
    r"hospital|library|biblioteca|bus stop|parada|station|estacion|deli|bodega|laundry|porche|"
    r"garage|garaje|trunk|window"
)
AGENT_ACTION = (
    r"knock\w*|tocan|tocando|tocaron|toca y toca|tocan y tocan|golpeando|banging|pounding|"
    r"yelling|gritando|open up|abran|looking (?:thru|through|for|in|around)|mirando|"
    r"asomando|buscando|buscan|asking for|asking about|preguntando|preguntan|"
    r"taking (?:pics|photos|pictures)|tomando fotos|parked|estacionad[oa]s?|waiting|"
    r"esperando|talking to|hablando con|showing them|ensenandoles|cerraron|closed the|"
    r"blocking|blocked|bloqueando|bloquearon|surround\w*|rodea\w*|enter\w*|entraron|"
    r"se metieron|came in|broke in|went (?:in|into|inside)|came inside|got inside|arrived|"
    r"showed up|llegaron|aparecieron|"
    r"questioning|interrogando|interrogating|se esta acercando|se estan acercando|"
    r"(?:esta|estan|sta|stan|ta|tan|is|are|re|r|s|theyre|theyr) (?:en|at|in|on|inside|outside|"
    r"afuera de|afuera|"
    r"adentro|in front of|frente a|enfrente de|here|aqui|aca|out front|por)(?: \w+){0,3}|"
    r"at (?:my|the|our|mi) (?:door|house|home|apartment|job|work)|"
    r"me tienen? parad[oa]|pulled over|(?:me|nos) tienen? contra|against the wall|"
    r"contra la pared|showing (?:a |his |her )?(?:pic|picture|photo)|"
    r"(?:ensenando|mostrando) (?:una )?foto|cayo|cayeron|happening|acaban de llegar|llegando|"
    r"everybody running|todos corriendo|corriendo|running|"
    r"following|siguiendo|chasing|persiguiendo|have a warrant|traen (?:una )?orden|"
    r"tienen (?:una )?orden|checking|revisando|pidiendo papeles|asking for papers|"
    r"lining (?:us|people|everybody|everyone|workers) up|nos formaron|handcuff\w*|esposando|"
    r"esposaron|(?:with|con) (?:a|una) (?:list|lista)|list of names|lista de (?:nombres|todas|"
    r"todos)|"
    r"(?:asking|preguntando) (?:for|por) (?:her|him|me|ella|el|mi) (?:by|con su|por su) "
    r"(?:name|nombre)"
)
TAKEN = (
    r"(?:lo|la|los|las) esposaron|handcuffed (?:him|her|them|my)|snatched|took (?:my|him|her|"
    r"them|mi|away)|taken|picked up|grabbed|got arrested|(?:they|ice|la migra) got (?:me|him|her|"
    r"them)|"
    r"(?:arrested|detained|arresting|detaining|grabbed|picked up) (?:my|him|her|them|me|mi|us)|"
    r"(?:acaba|acaban) de (?:detener|agarrar|arrestar|llevarse|llevar)|"
    r"se (?:acaba|acaban) de llevar|(?:tiene|tienen|have|has) (?:a )?(?:mi|my) (?:\w+ )?"
    r"(?:hijo|hija|esposo|esposa|marido|son|daughter|husband|wife|dad|mom|papa|mama|hermano|"
    r"hermana|brother|sister|novio|novia|boyfriend|girlfriend)|(?:lo|la|los|las) tienen|"
    r"(?:lo|la|los|las) tiene (?:inmigracion|la migra|ice)|"
    r"me (?:arrestaron|detuvieron|agarraron|llevaron)|kept (?:him|her|them|my)|(?:lo|"
    r"la) dejaron (?:ahi|alli)|"
    r"no (?:lo|la|los|las|me) dejan (?:salir|ir)|won ?t let (?:him|her|them) (?:go|out|leave)|"
    r"was arrested|were arrested|been arrested|being arrested|got detained|was detained|"
    r"been detained|being detained|detaind|caught|locked up|apprehended|transferr\w*|"
    r"handed (?:him |her )?over|turned (?:him |her )?over|"
    r"se (?:lo |la |los |las )?llevaron|se (?:lo |la )?llevo|(?:lo|la|los|las) llevaron|"
    r"agarraron|agarro|detuvieron|detuvo|arrestaron|arresto|levantaron|recogieron|"
    r"pescaron|atraparon|bajaron|lo bajaron|la bajaron|entregan|entregar|lo entregan|"
    r"la entregan|van a entregar|trasladar\w*|lo pasan|la pasan|"
    r"esta detenid[oa]|estan detenid[oa]s|quedo detenid[oa]|dejaron detenid[oa]|"
    r"(?:no|never) (?:came|come) (?:out|back|home)|didn ?t come (?:out|back|home)|"
    r"hasn ?t come (?:out|back|home)|no (?:ha )?(?:salido|salio|regresado|regreso|vuelto|"
    r"volvio)|in custody|ice custody|custodia|questioning (?:him|her|them)|"
    r"interrogando|won ?t let (?:him|her) call|no (?:lo|la) dejan llamar"
)
HOLD = (
    r"hold|detainer|retencion|ice|inmigracion|immigration|migra|entregan|entregar|custody|"
    r"another agency|otra agencia"
)
RELEASE = (
    r"release\w*|sueltan\w*|soltar\w*|liberan|liberar|sale|salga|salir|gets? out|getting out|"
    r"cumple|termina|finishes|done with|bail|fianza|dismissed|desestimaron|recoger|"
    r"pick (?:him|her) up|transferr\w*|trasladar\w*|entregan|entregar|termine|terminar|"
    r"walk out|walks out|pickup|viene (?:la migra|ice|inmigracion) por|"
    r"vienen por (?:el|ella)|come (?:for|get) (?:him|her)|sale libre"
)
SOON = (
    r"tomorrow|manana|today|hoy|tonight|esta noche|later today|mas tarde|now|ahorita|ahora|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lunes|martes|miercoles|"
    r"jueves|viernes|sabado|domingo|this week|esta semana|next week|la proxima semana|"
    r"en \d+ dias|in \d+ days|this weekend|este fin de semana|won ?t release|no lo sueltan|"
    r"no la sueltan|holding (?:my|him|her)|van a (?:soltar\w*|liberar\w*)|"
    r"(?:lo|la) (?:esta )?espera(?:ndo)?|waiting for (?:him|her)|lleva \d+ dias|\d+ days|"
    r"in a few hours|"
    r"en unas horas|en cuanto|won ?t let (?:him|her|them) (?:out|go)|"
    r"not letting (?:him|her|them) (?:out|go)|no (?:lo|la|los|las) dejan salir"
)
VIOLENCE_STRONG = (
    r"knife|cuchillo|navaja|gun|pistola|arma|(?:a|the|baseball) bat|(?:un|el|con) bate|machete|"
    r"chok\w*|ahorc\w*|estrangul\w*|strangl\w*|"
    r"locked (?:me|us) in|locked in|encerrad[oa]s?|me tiene encerrad[oa]|me encerro|"
    r"won ?t let me (?:leave|out|go)|no me deja (?:salir|irme)|"
    r"took my (?:phone|cell)|me quito (?:el|mi) (?:cel|celular|telefono)|"
    r"(?:broke|smashed) my (?:phone|cell)|(?:me )?(?:rompio|quebro) (?:el|mi) (?:cel|celular|"
    r"telefono)|"
    r"(?:me )?agarro del cuello|grabbed (?:me by )?(?:my|the) (?:neck|throat)|"
    r"kicked out (?:with|w)|(?:got|been|was|were) kicked out|locked (?:me|us) out|"
    r"break (?:it|the door) down|"
    r"kill (?:me|us|you)|me va a matar|"
    r"threat\w* to kill|amenaz\w* (?:con|de) matar|"
    r"bruises|moretones|sangre|blood|bleeding|sangrando|"
    r"(?:er|emergency room|hospital|urgencias) (?:bc|because|por|x) (?:of )?(?:him|her|el|ella)|"
    r"raped|rape|me violo|violacion|"
    r"kicked (?:me|us) out|me corrio|nos corrio|me echo de la casa|"
    r"me jalo del pelo|pulled my hair|me arrastro|dragged me|"
    r"me va a (?:machetear|cortar|quemar|apunalar|acuchillar|ahorcar|matar|desaparecer)|"
    r"le esta dando|me esta dando|le esta pegando|is beating (?:my|her|him)"
)
VIOLENCE_ACT = (
    r"(?:dandole|le (?:esta|anda) dando|whipping|hitting)(?: \w+)? (?:con |with )?(?:la |el |a |"
    r"the |his )?"
    r"(?:correa|cinturon|cinto|chancla|palo|belt|cord)|"
    r"hit|hits|hitting|beat|beats|beating|beat me up|punch\w*|slap\w*|cachetad\w*|"
    r"cachete\w*|bofetad\w*|pega|pegando|pego|pegar|pegaba|pegue|golpe\w*|madrazos?|bate|batendo|"
    r"bateu|"
    r"patea\w*|pateo|kick\w*|empuj\w*|push\w*|shov\w*|throw\w*|aventando|avento|"
    r"tirando cosas|rompiendo|breaking|smash\w*|screaming|gritando|yelling|"
    r"drunk|borracho|bolo|pedo|tomado|drogado|high|threat\w*|amenaz\w*|hurt\w*|lastim\w*|"
    r"me va a ir peor|youll regret|vas a ver|abus\w* me|me esta abusando"
)
# fear for one's safety; fear of calling the police or of deportation is a question, not this
FEAR = (
    r"(?:scared|afraid|terrified|miedo|asustad[oa])(?! (?:\w+ ){0,4}(?:call\w*|llamar|report\w*|"
    r"denunci\w*|deport\w*|police|policia|immigration|inmigracion|ice|migra|papers|papeles|"
    r"status|to lose|perder))|help me|ayudame|ayudenme|auxilio|socorro|please help"
)
SELF_HARM = (
    r"me corte (?:otra vez|de nuevo|las venas|los brazos|el brazo|las munecas)|cut myself|"
    r"cutting myself|no para de sangrar|won ?t stop bleeding|"
    r"(?:not|no) (?:gonna|going to) be alive|no voy a (?:estar|seguir) viv[oa]|"
    r"rope (?:is )?ready|(?:soga|cuerda) (?:esta )?lista|tengo (?:la|una) (?:soga|cuerda)|"
    r"(?:i have|i got|got|bought) (?:the |a |some )?rope|"
    r"(?:manana )?ya no voy a estar(?: aqui| mas| manana)?|won ?t be here tomorrow|"
    r"(?:esta noche|tonight) (?:es|is) (?:la|the) (?:ultima|last)|mi ultima noche|my last night|"
    r"took (?:all|the rest of) (?:my |the )?"
    r"(?:pills|meds|medicine)|me tome todas (?:las |mis )?(?:pastillas|pildoras)|"
    r"(?:ya )?me despedi de (?:mis hijos|mi familia|todos)|said (?:my )?goodbyes? to "
    r"(?:my kids|everyone|my family)|(?:im|i am) done with (?:everything|life|it all)|"
    r"(?:this is )?(?:the|my) last message|(?:este es )?mi ultimo mensaje|"
    r"wrote (?:a|my) (?:note|letter) (?:for|to) my|escribi una carta (?:para|a) mis|"
    r"(?:car|engine) running (?:\w+ ){0,4}(?:door|garage) (?:closed|shut)|"
    r"carro prendido (?:\w+ ){0,4}puerta cerrada|"
    r"took (?:like |about )?\d+ (?:of )?(?:my )?(?:\w+ )?pills|"
    r"me tome (?:como )?\d+ (?:de )?(?:mis )?pastillas|tonight is the night|"
    r"(?:not|no|won ?t|wont) (?:gonna |going to )?be (?:around|here|alive) to see|"
    r"(?:id|i d|i would) rather (?:be )?(?:die|dead)|prefiero (?:morir|morirme|estar muert[oa])|"
    r"suicid\w*|kill myself|killing myself|kms|kys|end(?:ing)? (?:my|it) (?:life|all)|ending it|"
    r"end it|take my (?:own )?life|want to die|wanna die|wish i (?:was|were) dead|"
    r"better off dead|(?:dont|don t|do not) want to (?:live|be alive|wake up|be here)|"
    r"not wake up|sleep (?:and not wake|forever|forevr|for ever)|dormir para siempre|"
    r"no quiero (?:vivir|despertar|seguir|estar aqui)|ya no quiero (?:vivir|seguir|estar)|"
    r"quiero morir(?:me)?|me quiero morir|me quiero matar|quiero matarme|me voy a matar|"
    r"quitarme la vida|suicidarme|hacerme dano|cortarme|me corto|cut(?:ting)? myself|"
    r"hurt myself|self harm|overdose|sobredosis|whole bottle|toda la botella|"
    r"(?:the |las |mis |todas las )?(?:pills|pastillas) (?:tonight|en la mano|in my hand|"
    r"right here|aqui|all)|i have the pills|tengo las pastillas|"
    r"no vale la pena vivir|mejor muert[oa]|not worth living|no reason to live|"
    r"no tengo razon para vivir|whats the point|what s the point|no point (?:anymore|in living)|"
    r"no le (?:encuentro|veo) sentido|sin sentido la vida|irme de este mundo|"
    r"dejar este mundo|desaparecer para siempre|goodbye letter|letters? for my (?:kids|family)|"
    r"this is my goodbye|carta de despedida|me despido de (?:todos|ustedes)|"
    r"nadie me (?:va a|iba a) extranar|no one (?:will|would) miss me|nobody (?:will|would) miss me|"
    r"better (?:off )?without me|mejor sin mi|estarian mejor sin mi|"
    r"(?:im|i am) a burden|soy una carga|cant go on|can t go on|no puedo seguir|"
    r"acabar con todo|terminar con todo|hang myself|ahorcarme|jump off|tirarme (?:del|de un|a)|"
    r"cortarme las venas|cut my wrists|mejor me mato|me mato yo|quiero matarme|"
    r"quiero desaparecer|(?:im|i am) a burden|(?:would|will) be better off without me|"
    r"(?:more money|better) without me|sin mi estarian mejor|todo se acabe|que se acabe todo|"
    r"(?:thinking about|pensando en) (?:the |la |una )?(?:rope|soga|cuerda|pills|pastillas|"
    r"bridge|puente|gun|pistola)|gave away (?:my|all my) (?:stuff|things)|regale (?:mis|todas "
    r"mis) cosas|won ?t need (?:it|them|anything) where|wont need it|"
    r"(?:need|take|bring) (?:\w+ ){0,2}where im going|"
    r"disappear (?:for good|forever)|desaparecer para siempre|estoy (?:parad[oa] )?en el puente|"
    r"on the bridge|en las vias|on the tracks|(?:it|nothing) (?:won ?t|wont|will not) matter|"
    r"ya no (?:va a )?importa(?:r)? nada|thanks? (?:you )?for everything|"
    r"gracias por todo (?:y )?adios|goodbye (?:everyone|all|forever)|adios a todos|"
    r"cutting again|me estoy cortando|me volvi a cortar|cortandome|"
    r"took (?:a bunch|a lot|too many|lots|a handful) of (?:pills|meds)|"
    r"me tome (?:un monton de|muchas|un punado de) (?:pastillas|pildoras)|"
    r"no tiene sentido (?:seguir )?(?:vivo|viva|vivir)|(?:gonna|going to|wants? to|va a) jump|"
    r"se va a tirar|va a tirarse|"
    r"se quiere (?:morir|matar)|quiere morirse|quiere matarse|wants? to (?:die|kill (?:herself|"
    r"himself))|end (?:her|his|their) (?:own )?life|take (?:her|his) (?:own )?life|"
    r"quitarse la vida|kill (?:herself|himself)|"
    r"perdon(?:en|enme|ame)? por todo|forgive me for everything|"
    r"(?:diganle|digale|dile|tell) (?:a )?(?:my|mis|mi) (?:\w+ )?(?:que |that )?(?:los|la|lo|"
    r"las)? ?"
    r"(?:quiero|i love)"
)
HYPOTHETICAL = (
    r"what if|what happens if|what should i do if|what do i do if|what would|q hago si|"
    r"que hago si|que debo hacer si|q pasa si|que pasa si|si algun dia|algun dia|in case|"
    r"en caso|if (?:ice|they|the police|cops|immigration|my|he|she|i|someone|somebody)|"
    r"si (?:la migra|ice|llega|llegan|viene|vienen|me|mi|la policia|el|ella|alguien|tocan)|"
    r"if ever|ever|someday|should people|can they|can ice|can police|pueden|puede la|"
    r"suponiendo|supongamos|digamos que|hypothetical\w*|hipoteticamente|scenario|"
    r"let ?s say|say (?:ice|the police|immigration) (?:came|comes)|"
    r"how do|como (?:se|puedo|hago)|is it legal|es legal|allowed|derecho a"
)
RUMOR = (
    r"is it true|es cierto|es verdad|es vdd|rumou?rs?|dicen q hay|dicen que hay|i heard|heard|"
    r"heard that|"
    r"heard theres|heard there s|"
    r"escuche (?:que |q )?(?:hay|andan|anda|va|van|viene|vienen|estan|esta la)|oi que|"
    r"on facebook|en facebook|la gente dice|"
    r"vi en las noticias|news|noticias|supuestamente|apparently|chismes?|sera verdad|"
    r"sera cierto|gossip|posted (?:on|in|that|this|a|about)|someone posted|fb|facebook|"
    r"whatsapp|group chat|tiktok|instagram|"
    r"someone said|alguien dijo|publicaron|dicen (?:que|q) van a|"
    r"(?:someone|somebody|alguien|a lady|a man|una senora|un senor)(?: \w+){1,3} (?:said|dijo)|"
    r"on the radio|en la radio|on tv|en la tele|andan diciendo|anda diciendo|people are saying|"
    r"everyone is saying|word is|viral|un video|a video|"
    r"(?:coworker|friend|neighbor|people|everyone|somebody) said (?:that )?(?:ice|la migra|there)"
)
PAST = (
    r"last (?:week|month|year|summer|winter|spring|fall|autumn|time)|(?:weeks|months|years) ago|"
    r"\d+ (?:weeks|months|years) ago|back in|in 20\d\d|en 20\d\d|el (?:ano|mes) pasado|"
    r"(?:la )?semana pasada|(?:el )?(?:mes|ano) pasado|hace (?:\d+|dos|tres|unos|varios|muchos|"
    r"un par de)? ?"
    r"(?:semanas|meses|anos|ano|mes)|hace \d+ dias|used to|solia|"
    r"lleva \d+ (?:weeks|semanas|meses|months)|for \d+ (?:weeks|months|years)|ya salio|"
    r"got out of jail|was deported|fue deportad[oa]|when i was|cuando yo|in the past|"
    r"antes (?:de venir|de llegar|yo|vivia|tenia|era)|before i left|hace tiempo|"
    r"(?:since|desde|en|in) (?:el |la )?(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    r"septiembre|setiembre|octubre|noviembre|diciembre|january|february|march|april|june|july|"
    r"august|september|october|november|december)|(?:el |la )?(?:lunes|martes|miercoles|jueves|"
    r"viernes|sabado|domingo) pasad[oa]|"
    r"last (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:been|lleva|llevan|has been|have been) (?:\w+ ){0,4}\d+ (?:weeks|months|semanas|meses)|"
    r"in the (?:19|20)?\d0s|en los (?:anos )?(?:19|20)?\d0s|cuando (?:viviamos|vivia|estabamos|"
    r"estaba)|long time ago|se fueron|ya se fueron|they left|"
    r"already left|se marcharon|(?:for|desde hace|hace) (?:several|varias|many|muchas|a few|unas|"
    r"two|three|dos|tres) (?:weeks|months|semanas|meses)|(?:in|over) the (?:summer|fall|winter|"
    r"spring)|en (?:el )?(?:verano|otono|invierno)|(?:it s|its) been (?:a|one|two) (?:month|"
    r"months)|"
    r"pegaba|golpeaba|maltrataba|abusaba|used to (?:hit|beat|abuse)|"
    r"de nin[oa]|de chiquit[oa]|as a (?:kid|child)|when i was (?:a kid|little|young)"
)
# the danger is over: she is safe, he is gone (only quiets the violence rules)
_SAFE_NOW = _rx(
    r"a salvo|(?:ya )?estoy (?:bien|segura|seguro|a salvo)|(?:im|i m|i am|we re|were) safe|"
    r"(?:ya )?estoy en (?:un|el) refugio|ya me fui|ya me separe|ya soltaron|ya lo soltaron|"
    r"(?:ya )?se (?:lo|la) llevo la policia|ya se llevo|took (?:my )?(?:abuser|him) away|"
    r"(?:esta|is) (?:en la carcel|in jail) (?:ahora|now)|ahora esta en la carcel|now (?:hes|"
    r"he is) in jail"
)
# a habit asked about, not an attack now: "me pega a veces", "when he drinks"
_HABIT = _rx(
    r"a veces|sometimes|todo el tiempo|all the time|cuando (?:bebe|toma|se emborracha|"
    r"llega tomado)|"
    r"when (?:he|she) (?:drinks|gets drunk)|every time|cada vez que|siempre"
)

_ICE = _rx(ICE_AGENT)
_AGENT = _rx(AGENT)
_NOW = _rx(NOW)
_NOW_WEAK = _rx(NOW_WEAK)
_RECENT = _rx(RECENT)
_PLACE = _rx(PLACE)
_ACTION = _rx(AGENT_ACTION)
_TAKEN = _rx(TAKEN)
_HOLD = _rx(HOLD)
_RELEASE = _rx(RELEASE)
_SOON = _rx(SOON)
_V_STRONG = _rx(VIOLENCE_STRONG)
_V_ACT = _rx(VIOLENCE_ACT)
_FEAR = _rx(FEAR)
_SELF_HARM = _rx(SELF_HARM)
_HYPO = _rx(HYPOTHETICAL)
_RUMOR = _rx(RUMOR)
_PAST = _rx(PAST)
_PROGRESSIVE = re.compile(
    r"\b(?!(?:nothing|something|anything|thing|morning|evening|"
    r"during|building|parking|king|ring|spring|sing|bring|anything)\b)"
    r"\w{3,}(?:ing|ando|iendo)\b"
)
_FAMILY = _rx(
    r"(?:my|mi|mis|our|nuestr[oa]) (?:\w+ )?(?:husband|wife|son|daughter|dad|father|mom|"
    r"mother|brother|sister|cousin|uncle|aunt|kids?|child|children|boyfriend|girlfriend|"
    r"partner|fiance|fiancee|roommate|friend|neighbor|esposo|esposa|marido|mujer|hij[oa]s?|"
    r"papa|padre|mama|madre|herman[oa]s?|prim[oa]|ti[oa]|novi[oa]|pareja|vecin[oa]|"
    r"amig[oa]|suegr[oa]|cunad[oa]|compa|companer[oa]|sobrin[oa]|nieto|nieta)"
)
_GENERAL_Q = _rx(
    r"how do i find|how can i find|como busco|como encuentro|como puedo encontrar|"
    r"how do people|how do you|someone who|una persona detenida|alguien detenido|"
    r"how long|cuanto tiempo|can i visit|puedo visitar"
)
_CHILD_TAKEN = _rx(
    r"(?:se llevo|se acaba de llevar|se los lleva|se los va a llevar|took|has taken|just took|"
    r"grabbed|agarro|no me (?:devolvio|regreso|ha devuelto)|won ?t (?:give|bring) back|"
    r"didn ?t bring back) (?:a )?(?:mis|my|mi|our|los|las|the) (?:hijos|hijo|hija|ninos|"
    r"nenes|kids|children|child|son|daughter|baby|bebe)"
)

# Words whose misspellings matter; the fuzzy pass maps a typo back to them.
_KEY_WORDS = sorted(
    {
        "inmigracion",
        "immigration",
        "police",
        "policia",
        "patrulla",
        "puerta",
        "knocking",
        "tocando",
        "golpeando",
        "afuera",
        "outside",
        "ahorita",
        "detained",
        "arrested",
        "agarraron",
        "detuvieron",
        "llevaron",
        "arrestaron",
        "pegando",
        "golpea",
        "golpeo",
        "hitting",
        "beating",
        "choked",
        "matar",
        "suicide",
        "suicidio",
        "suicidarme",
        "matarme",
        "amenaza",
        "amenazo",
        "threatened",
        "cuchillo",
        "pistola",
        "knife",
        "trabajo",
        "house",
        "custody",
        "release",
        "released",
        "detenido",
        "detenida",
        "morir",
        "vivir",
        "myself",
        "tomorrow",
        "manana",
        "siguiendo",
        "following",
        "escondida",
        "escondido",
        "hiding",
        "redada",
        "estacionamiento",
        "apartment",
        "building",
        "agentes",
        "borracho",
        "encerrada",
        "pastillas",
        "despedida",
        "backyard",
        "ventanas",
        "windows",
        "snatched",
        "throwing",
    }
)


@lru_cache(maxsize=32768)
def _correct(word: str) -> str:
    if len(word) < 5 or word in _KEY_WORDS:
        return word
    best = process.extractOne(word, _KEY_WORDS, scorer=Levenshtein.distance, score_cutoff=1)
    return str(best[0]) if best else word


_CONTRACTIONS = re.compile(r"\b(i|he|she|they|we|you|it|that|there|what|who) (m|s|re|ll|d|ve)\b")
_NT = re.compile(
    r"\b(don|won|can|didn|doesn|isn|aren|wasn|weren|couldn|shouldn|wouldn|hasn|"
    r"haven|ain) t\b"
)
# Figures of speech that sound like danger: "my boss is gonna kill me", "me muero de hambre".
_IDIOMS = re.compile(
    r"\b(?:asking for a (?:friend|family member)|pregunto por (?:una|un) (?:amig[oa]|conocid[oa])|"
    r"muert[oa] de (?:cansancio|hambre|sueno|frio|risa|miedo|calor)|"
    r"(?:el|la) \w+ (?:me|nos) esta matando|me esta matando (?:el|la) \w+|"
    r"(?:morir|muero|muriendo|mori) de (?:la )?(?:verguenza|risa|hambre|ganas|sueno|calor|frio|"
    r"miedo|nervios)|(?:me|nos) mata (?:la|el|los|las) \w+|(?:ese|esa|el|la) \w+ (?:\w+ )?me mato|"
    r"(?:is|are|was) killing me|(?:gonna|going to) kill (?:me|us) if (?:im|i am|we re|were) late|"
    r"lol|lmao|jaja\w*|jeje\w*|jk|just kidding|es broma|era broma|en serio|"
    r"who am i talking to|am i talking to a|con quien (?:hablo|estoy hablando)|"
    r"pocket ?knife|knife skills|navaja suiza|(?:mis|my) (?:cuchillos|knives)|airsoft|"
    r"(?:rifle|escopeta|gun|pistola|arma)(?=.*\b(?:registered|registrad[ao]|con permiso|"
    r"legally|hunts|hunting|caza|cazar)\b)|hit by a (?:car|truck|bus)|atropell\w*|"
    r"ice cream|ice skating|ice rink|ice pack|ice cubes?|"
    r"ice(?= (?:\w+ ){0,4}(?:freezer|fridge|congelador|refri\w*|defrost\w*)\b)|"
    r"(?:black )?ice (?:on|en) (?:the |la |las |el )?(?:steps|stairs|sidewalk|banqueta|acera|"
    r"escaleras|road|roads|carretera|driveway)(?=.*\b(?:careful|cuidado|slippery|resbal\w*)\b)|"
    r"kill me (?:this|these|that)|(?:this|the) (?:form|paperwork|traffic|job|heat|class|wait) "
    r"is killing me|me mata (?:este|esta|el|la) (?:formulario|tarea|trabajo|calor|trafico)|"
    r"(?:mi|my) (?:suegr[oa]|abuel[oa]|ti[oa]|mother in law|grandma|aunt) (?:me )?(?:va a|will|is "
    r"gonna|is going to) (?:matar|kill)(?: me)?|"
    r"immigration (?:forms?|paperwork|applications?|consultants?|benefits|process|questions?|"
    r"services|fees?)|(?:formularios?|formas|tramites?|consultor[ae]?s?|solicitud|"
    r"proceso|leyes) de (?:inmigracion|migracion)|"
    r"(?:my|mi) (?:mom|mum|mama|mami|dad|papa|papi|boss|jefe|jefa|teacher|maestr[oa]) "
    r"(?:is |va a |me va a |will )?(?:gonna |going to )?(?:kill|matar)(?: me)?|"
    r"(?:mi )?(?:mama|mami|papa|papi|jefe|jefa) me mata si|"
    r"(?:me|te|nos) va a matar si (?:llego|llegas|llegamos) tarde|"
    r"i (?:could|wanna|want to|m gonna|am going to) kill (?:my|him|her|them)|"
    r"(?:never|nunca) (?:been|ha sido|he sido|me han) (?:\w+ )?"
    r"(?:arrested|arrestad[oa]|detenid[oa]))\b"
)


# How people spell in a hurry on a phone, and the Portuguese of Brazilian members, mapped to
# the words the rules know: "se lo yevaron ajente d inmigrasion", "la migra pegou meu esposo"
_SMS_WORDS = {
    "ke": "que",
    "kiero": "quiero",
    "kiere": "quiere",
    "kieren": "quieren",
    "kieres": "quieres",
    "kien": "quien",
    "kita": "quita",
    "kitar": "quitar",
    "kitaron": "quitaron",
    "aki": "aqui",
    "aka": "aca",
    "ajente": "agente",
    "ajentes": "agentes",
    "inmigrasion": "inmigracion",
    "imigrasion": "inmigracion",
    "migrasion": "migracion",
    "imigracao": "inmigracion",
    "migracao": "migracion",
    "polisia": "policia",
    "polisias": "policias",
    "yevaron": "llevaron",
    "yevo": "llevo",
    "yeva": "lleva",
    "yevan": "llevan",
    "dise": "dice",
    "disen": "dicen",
    "d": "de",
    "agora": "ahora",
    "meu": "mi",
    "minha": "mi",
    "ajuda": "ayuda",
    "pegou": "agarro",
    "levou": "llevo",
    "levaram": "llevaron",
    "dey": "they",
    "dem": "them",
    "plz": "please",
    "pls": "please",
}
_SMS_PHRASES = (
    (re.compile(r"\b(?:que|q) ago\b"), "que hago"),
    (
        re.compile(
            r"\b(?:ta|tao|esta|estao) n[oa] (?=(?:mi|trabajo|trabalho|casa|servico|obra)\b)"
        ),
        "esta en ",
    ),
)


def _sms(folded: str) -> str:
    words = folded.split()
    if any(w in _SMS_WORDS for w in words):
        folded = " ".join(_SMS_WORDS.get(w, w) for w in words)
    for rx, to in _SMS_PHRASES:
        folded = rx.sub(to, folded)
    return folded


# a weapon kept legally or a toy one is not a threat: "keeps a rifle, legally registered"
_LICENSED = re.compile(
    r"\b(?:registered|registrad[ao]|con permiso|legally|hunts|hunting|caza|cazar|airsoft|"
    r"(?:he s|hes|he has) never hurt anyone|nunca ha lastimado a nadie)\b"
)
_WEAPON = re.compile(r"\b(?:guns?|pistolas?|armas?|rifles?|escopetas?|cuchillos?|knife|knives)\b")
# "he's never hit me": a denial, not an attack
_NEVER = re.compile(
    r"\b(?:(?:he s|hes|he has|he) never (?:\w+ )?(?:hit|hurt|touched|been violent)(?: me| anyone)?|"
    r"nunca (?:me )?(?:ha|le ha|nos ha) (?:lastimado|pegado|golpeado|tocado)(?: a nadie)?)\b"
)


@lru_cache(maxsize=4)  # the rules, the model and the reason all read the same message
def _variants(text: str) -> tuple[str, ...]:
    folded = _sms(_NT.sub(r"\1t", _CONTRACTIONS.sub(r"\1\2", fold(text))))
    if _LICENSED.search(folded):
        folded = " ".join(_WEAPON.sub(" ", folded).split())
    if _NEVER.search(folded):
        folded = " ".join(_NEVER.sub(" ", folded).split())
    if _IDIOMS.search(folded):
        folded = " ".join(_IDIOMS.sub(" ", folded).split())
    corrected = " ".join(_correct(w) for w in folded.split())
    return (folded, corrected) if corrected != folded else (folded,)


def triage(text: str) -> Triage:
    """Urgency and reason for one message."""
    for t in _variants(text):
        result = _triage(t)
        if result.urgency is Urgency.URGENT:
            return result
    return NOT_URGENT


ICE_STOP = (
    r"(?:" + ICE_AGENT + r")(?: \w+){0,3} (?:just )?(?:stopped|pulled over|pararon|paro|"
    r"detuvieron|estan parando|are stopping|stopping|pulling over)|"
    r"(?:stopped|pararon|paro|detuvieron|agarraron|pulled over) (?:me|us|my|mi|a mi)"
    r"(?: \w+){0,4} (?:" + ICE_AGENT + r")|me (?:pararon|paro|detuvieron|tienen parad[oa])"
    r"(?: \w+){0,4} (?:" + ICE_AGENT + r")"
)
# a stop in progress, in words that are themselves present: urgent without "now"
_STOPPING = _rx(
    r"(?:getting|being) pulled over|pulling me over|me (?:esta|estan) parando|"
    r"me estoy orillando|(?:me|nos) (?:tiene|tienen) parad[oa]s?|"
    r"(?:policia|police|cop|patrulla|polisia)(?: \w+){0,3} (?:se esta acercando|is walking up|"
    r"is coming up|esta atras de (?:mi|nosotros)|is behind (?:me|us))|"
    r"(?:" + AGENT + r")(?: \w+){0,2} (?:atras|detras|behind) (?:de )?(?:mi|me|my|nosotros|us)|"
    r"me (?:tiene|tienen) (?:la |el |una |los )?(?:poli|policia|patrulla|migra|ice|cops?)\b"
)
_POLICE_STOP_NOW = _rx(
    r"pulling (?:me )?over|(?:lights|luces) (?:on|prendidas)|behind me with (?:the )?lights|"
    r"me (?:esta|estan) parando|me esta siguiendo (?:la|una) patrulla|"
    r"(?:cop|police|patrulla|policia)(?: \w+){0,3} (?:behind me|detras de mi|atras de mi)"
)
_ICE_STOP = re.compile(r"\b(?:" + ICE_STOP + r")\b")
KILL = (
    r"kill (?:me|us|you|my)|matar(?:me|nos|te)|me va a matar|me mata|me quiere matar|"
    r"(?:going to|gonna|will|ll|said he d|said hed) (?:\w+ )?kill|threat\w* to kill|"
    r"amenaz\w* (?:con|de) (?:matar|muerte)|(?:me|nos|te) (?:va|iba) a matar|"
    r"knife|cuchillo|navaja|gun|pistola|arma|machete|with a bat|con un bate"
)
_KILL = _rx(KILL)
# violence aimed at someone, not "I hit him" or "police hit me last year"
VICTIM = (
    r"(?:" + VIOLENCE_ACT + r") (?:me|us|my|mi|her|him|the kids|los ninos)|"
    r"(?:me|le|nos|te|la|lo) (?:esta |estan |acaba de |acabo de |va a |quiere |sigue )?"
    r"(?:" + VIOLENCE_ACT + r")|"
    r"(?:is|esta|estan|are|keeps|sigue|hes|shes|he s|she s) (?:\w+ )?(?:" + VIOLENCE_ACT + r")|"
    r"drunk|borracho|tomado|drogado|throwing|aventando|tirando cosas|rompiendo|"
    r"breaking (?:things|stuff|everything|the door)|screaming|gritando|yelling|"
    r"me (?:acaba de |acabo de )?(?:dio|dar|pego|puso) (?:una |un )?(?:cachetada|bofetada|golpe|"
    r"madrazo|patada|punetazo|putazo|chingadazo|pela|paliza|golpiza|madriza|putiza|"
    r"chinga|verguiza|trancazo)|me va a ir peor|"
    r"me (?:quita|va a quitar|quiere quitar|quitara) (?:a )?(?:los|mis) (?:ninos|hijos|nenes)|"
    r"(?:gave|give) me a (?:black eye|"
    r"beating)"
)
_VICTIM = _rx(VICTIM)
DOOR = (
    r"tocan|tocando|tocaron|toca y toca|knock\w*|banging|pounding|golpeando la puerta|"
    r"open up|abran"
)
_DOOR = _rx(DOOR)
_WARRANTISH = _rx(
    r"orden|warrant|escondid[oa]s?|hiding|hidden|police|policia|buscan|"
    r"looking for|preguntan por|asking for"
)
FLEEING = (
    r"nowhere to (?:sleep|go|stay)|no (?:tengo|tenemos) (?:a ?)?donde (?:ir|dormir|quedarme|"
    r"quedarnos)|(?:looking|searching) for (?:me|us)|(?:me|nos) (?:esta|anda|andan) buscando|"
    r"need (?:somewhere|a place|a shelter) (?:to (?:go|stay|sleep) )?tonight|"
    r"can ?t go (?:back )?home tonight|no puedo (?:volver|regresar) a (?:la )?casa|"
    r"(?:a bed|somewhere|a place|a shelter|shelter|refugio|albergue|donde dormir) "
    r"(?:tonight|today|hoy|esta noche|ya|ahorita)|away from him tonight|sali corriendo|"
    r"ran out|escaped|me escape|hui de la casa"
)
_FLEEING = _rx(FLEEING)
EVENT_TAKEN = (
    r"esposaron|handcuffed (?:him|her|them|my)|snatched|took (?:my|him|her|them|mi)|picked up|"
    r"grabbed|got arrested|was arrested|"
    r"got detained|was detained|(?:arrested|detained|grabbed) (?:my|him|her|them|mi)|"
    r"se (?:lo |la |los |las )?llevaron|se (?:lo |la )?llevo|agarraron|agarro|detuvieron|"
    r"detuvo|arrestaron|arresto|levantaron|recogieron|pescaron|atraparon|bajaron|"
    r"(?:didn ?t|did not|never) (?:come|came) (?:out|back|home)|"
    r"no (?:salio|regreso|volvio) de (?:su|la) (?:cita|check)|"
    r"(?:lo|la|los|las) dejaron detenid[oa]s?|(?:kept|held) (?:him|her|them) (?:at|there)|"
    r"(?:hasn ?t|has not|haven ?t) (?:come|came) (?:back|home)|no ha (?:vuelto|regresado)|"
    r"put (?:him|her|them) in (?:a|the) (?:van|car|truck|suv)"
)
# put in a van, gone missing, held at a check-in: taken, even when no one says by whom
_PUT_IN_VAN = _rx(
    r"put (?:him|her|them|my \w+) in(?:to)? (?:a|the) (?:van|car|truck|suv)|"
    r"(?:lo|la|los|las) (?:subieron|metieron|aventaron) (?:a|en) (?:una|la) (?:camioneta|van|"
    r"troca|patrulla)"
)
_MISSING = _rx(
    r"(?:didn ?t|did not|never|hasn ?t|has not) (?:come|came) (?:back|home)|"
    r"no (?:volvio|regreso|ha vuelto|ha regresado|llego) (?:de|del|a casa|a la casa)"
)
_MISSING_SIGN = _rx(
    r"no contesta|not answering|won ?t answer|phone (?:is )?off|celular apagado|"
    r"telefono apagado|(?:celular|telefono|phone|cell) (?:esta |is )?(?:apagado|off)|(?:carro|"
    r"car) (?:abierto|open|was open)|took someone|se llevaron a alguien|"
    r"sus cosas adentro|his stuff (?:inside|in it)"
)
# pressed to sign in custody, being deported now, being arrested, the member in custody
_SIGN = _rx(
    r"quieren? (?:que|q) (?:firme|firmemos)|(?:lo|la|le|me) (?:quieren |estan )?"
    r"(?:hacer|haciendo|obligan a|obligando a) firmar|"
    r"(?:making|forcing|pressuring|want|wants) (?:him|her|me|them) (?:to )?sign|"
    r"firmar (?:su|la|mi) (?:salida|deportacion)"
)
_DEPORTING = _rx(
    r"(?:bus|plane|flight|avion|vuelo|camion) (?:to|al|a|para) (?:the )?(?:airport|aeropuerto|"
    r"border|frontera)|deporting (?:him|her|them|me) (?:now|today|tonight|rn)|"
    r"(?:lo|la|los|las|me) (?:estan|esta) deportando|being deported|"
    r"(?:putting|put|puts) (?:him|her|them|me) on a (?:plane|flight|bus)|on a plane (?:to|tomorrow|"
    r"tonight|today)|(?:lo|la) van a (?:subir|poner|montar) (?:a|en) (?:un|el) avion|"
    r"(?:is|are) being moved out|moved out of (?:massachusetts|the state|state) (?:tonight|today|"
    r"tomorrow)"
)
_ARRESTED_NOW = _rx(
    r"(?:im|i m|i am|he s|hes|she s|shes) (?:being|getting) (?:arrested|detained)|"
    r"me (?:estan|esta) (?:arrestando|deteniendo|esposando)|"
    r"(?:im|i m|i am|estoy) (?:in|en) (?:ice )?(?:custody|detention|detencion)|"
    r"(?:got|only have|tengo) (?:1|one|una) (?:call|llamada)"
)
_FORCING_IN = _rx(
    r"entrar a la fuerza|quieren entrar|(?:trying|try) to (?:get|come|break) in|"
    r"forcing (?:the|their) way|breaking (?:the door|in)|tumbar la puerta|"
    r"(?:ya )?entraron a (?:la|mi|nuestra) casa|(?:they )?(?:got|came|are) (?:in|inside) "
    r"(?:the|my|our) (?:house|home|apartment)"
)
_BY_FORCE = _rx(r"a la fuerza|by force|forcibly")
_PARTNER_ACT = _rx(
    r"(?:husband|boyfriend|bf|partner|ex|esposo|marido|novio|pareja|he|el|him) (?:just )?"
    r"(?:beat|hit|punched|slapped|choked|kicked|pushed|me pego|me golpeo|me empujo|me pateo|"
    r"me cacheteo|me ahorco)"
)
# all clear: "ya se fueron, estamos bien", "he left, im safe now"
_ALL_CLEAR = _rx(
    r"(?:ya )?(?:estamos|estoy) (?:bien|tranquil[oa]s?|a salvo)|ya paso(?: todo)?|"
    r"(?:we re|were|we are|im|i m|i am) (?:ok|okay|fine|safe)(?: now)?|now safe|safe now|"
    r"(?:is|got|came) home(?: now| safe)?|ya (?:llego|esta) (?:a |en )?(?:la )?casa|"
    r"lo deportaron|la deportaron|was deported"
)
# taken by agents named next to the act: "ice grabbed him", "se lo llevo la migra"
_TAKEN_BY = re.compile(
    r"\b(?:" + ICE_AGENT + r")\b(?: \w+){0,3} \b(?:" + EVENT_TAKEN + r")\b|"
    r"\b(?:" + EVENT_TAKEN + r")\b(?: \w+){0,3} \b(?:" + ICE_AGENT + r")\b"
)
# the member arrested, or asking about prints and charges: a case, not an emergency
_OWN_CASE = _rx(
    r"me (?:arrestaron|detuvieron|detuvo|agarraron|llevaron pres[oa])|got arrested|"
    r"i was arrested|se llevaron a mi|nos (?:arresto|arrestaron|detuvieron)|defend\w*|"
    r"self ?defense|pelea|fight|"
    r"arrested me|huellas|fingerprint\w*|prints|cargos|charges|record|antecedentes|condena\w*|"
    r"conviction|dismissed|dropped|sin cargos|orden de arresto|arrest warrant|booking"
)
_BUT = _rx(r"but|pero|still|todavia|sigue|siguen")
_HELD_AT_CHECKIN = _rx(
    r"(?:espere|esperar|wait) (?:en|in) (?:un|otro|otra|a|another|a different|different) "
    r"(?:cuarto|room|sala|oficina)(?: aparte| separate)?|"
    r"(?:me|le|nos) quitaron (?:el|mi|su) pasaporte|took (?:my|his|her) passport|"
    r"no (?:me|lo|la) dejan (?:ir|salir)|(?:not|aren ?t) letting (?:me|him|her) (?:go|leave)|"
    r"(?:le|me) dijeron (?:q|que) no (?:se )?(?:puede|puedo) ir|not coming out|"
    r"(?:hasn ?t|has not|didn ?t) come out|no (?:ha )?(?:sale|salido)"
)
_EVENT_TAKEN = _rx(EVENT_TAKEN)
# a few words that only report agents somewhere: "ICE AQUI", "migra en el trabajo", "help ice"
_ALARM_WORDS = 6
_ALARM_HERE = _rx(
    r"aqui|aki|aca|here|afuera|outside|en la puerta|at the door|at my door|en mi casa|"
    r"at my house|en el trabajo|at work|at my job|in the building|en el edificio"
)
_TOPIC = _rx(
    r"rights?|derechos?|what if|que pasa si|q pasa si|info|informacion|programs?|programa|"
    r"how|como|can|pueden?|que es|what is|whats|policy|politica|ley|law|legal|lawyers?|"
    r"abogad[oa]s?|cost|costo|cuesta|free|gratis|hotline|linea"
)
# agents checking papers at a place, named or not: "estan revisando papeles en la obra"
_PAPERS_CHECK = _rx(
    r"(?:revisando|pidiendo|pidiendoles|checando|chequeando|checking|asking (?:everyone )?for) "
    r"(?:los |las |the |our |everyones? |nuestros )?(?:papeles|documentos|ids?|identificacion|"
    r"papers|licencias?|licenses?|green cards?|micas?)"
)
# someone in custody about to be moved or removed: "lo van a transferir a otro centro"
_MOVING = _rx(
    r"(?:van a|estan por) (?:transferir\w*|trasladar\w*)|"
    r"(?:lo|la|los|las) (?:van a )?(?:transferir|trasladar|transfieren|trasladan)|"
    r"(?:are going to|gonna|going to|about to) transfer (?:him|her|them|my)|"
    r"being transferred|transferring (?:him|her|them|my)|"
    r"(?:lo|la|los|las) (?:estan|van a) (?:pasar|pasando|mover|moviendo|mandar|mandando) a|"
    r"(?:moving|sending|shipping) (?:him|her|them|my \w+) to|"
    r"(?:is|are) being moved"
)
_CUSTODY_PLACE = _rx(
    r"detention|detencion|detenid[oa]s?|centro|center|custody|custodia|jail|carcel|"
    r"burlington|plymouth|bristol|texas|louisiana|luisiana|otro estado|another state"
)
# agents telling the member to do something: urgent only when it's happening
_DEMAND = _rx(
    r"(?:telling|asking|ordering|making) (?:me|us) to|wants? (?:me|us) to|"
    r"me (?:esta |estan )?(?:pide|piden|pidiendo|ordena|ordenan|obliga|obligan)|"
    r"quieren? (?:que|q) (?:salga|salgamos|abra|abramos|firme|firmemos)"
)
_ABUSER_TAKEN = _rx(
    r"(?:took|arrested|picked up) (?:my )?(?:abuser|agresor)|(?:se llevaron|se llevo|arrestaron|"
    r"detuvieron) a (?:mi )?(?:agresor|abusador)"
)
_YESTERDAY = _rx(r"yesterday|ayer|anoche|last night|the other day|el otro dia")
_TODAY = _rx(r"today|hoy|this morning|esta manana|tonight|esta noche|this afternoon|esta tarde")
_SUPPOSING = _rx(
    r"what if|what happens if|if (?:ice|they|the police|cops|immigration|my|he|she|i|someone|"
    r"somebody)|si (?:la migra|ice|llega|llegan|viene|vienen|me|mi|la policia|el|ella|alguien|"
    r"lo|la|sale)|in case|en caso|suponiendo|supongamos|digamos que|hypothetical\w*|"
    r"hipoteticamente|someday|algun dia|si un dia|if one day|let ?s say|si una?|if an?|"
    r"como se si|como sabes si|how do (?:i|you) (?:know|tell) if|how can i tell"
)
_CHECK_IN = _rx(
    r"cita|check ?ins?|appointment|reporte|reportarme|ice office|oficina de (?:inmigracion|ice)|"
    r"burlington|jfk|government center"
)
# a road check the member is in: "reten en la 93, nos estan parando a todos"
_CHECKPOINT = _rx(r"retenes|reten|checkpoints?|road ?blocks?|puntos? de control|revision en la")
_IN_LINE = _rx(
    r"(?:estoy|estamos|i m|im|we re|were) (?:en|in|at|stuck)|en la fila|in line|stuck|"
    r"atorad[oa]s?|(?:me|nos) (?:pararon|paro|tienen)|stopping (?:me|us|everyone|everybody)"
)
_HERE = _rx(r"(?:esta|estan|is|are|re|r) (?:aqui|aca|here)")
_THEY_HERE = _rx(
    r"(?:theyre|they are|theyr|estan|tan|ahi estan|ya estan|llegaron|showed up|"
    r"are here|estan aqui)"
)
_THERE_ARE = _rx(
    r"(?:hay|ay|there (?:is|are|s)|theres)(?: \w+){0,3} (?:ice|migra|agentes?|agents?|"
    r"inmigracion|immigration|policias?|police|cops|operativos?|redadas?|raids?|camionetas?|vans|"
    r"van|officers?|oficiales?)"
)
_PANIC = _rx(r"running|corriendo|hiding|escondid[oa]s?|everybody|todos|vans|camionetas")
_OUTSIDE = _rx(r"afuera|outside|out front|door|puerta|porch|ventana|window")


_AGAIN = _rx(r"again|otra vez|de nuevo|volvieron|regresaron|came back|(?:they|theyre|they re) back")
# someone at the door, named or not: "hay señores en la puerta"
_SOMEONE_AT_DOOR = _rx(
    r"(?:hay|ay|there (?:is|are)|theres|there s)(?: \w+){0,2} (?:senores|hombres|men|guys|"
    r"personas|people|gente|tipos|alguien|someone|somebody)(?: \w+){0,3} (?:en la puerta|"
    r"at the door|at our door|at my door|afuera|outside|tocando|knocking)"
)
_UNDER_DOOR = _rx(
    r"(?:under|debajo de|bajo|por debajo de) (?:the|la|my|mi|our|nuestra) (?:door|puerta)"
)
_BACK_AT = _rx(r"(?:volvieron|regresaron|came back|(?:they|theyre|they re) back)")
_STANDING = _rx(
    r"(?:estan|are|re) (?:parad[oa]s|standing|sitting|waiting|esperando|parked|estacionad[oa]s)"
)
# being followed, by someone unnamed
_FOLLOWED = _rx(
    r"(?:following|siguiendo|persiguiendo|chasing) (?:me|us)|(?:me|nos) (?:vienen|viene|estan|esta|"
    r"andan|anda) (?:siguiendo|persiguiendo)|(?:is|are|s|been) following (?:me|us)|"
    r"(?:still|todavia|sigue) (?:behind me|atras de mi|detras de mi)|being followed|"
    r"(?:me|nos) (?:sigue|siguen)(?= (?:desde|from|since|hace|por|\w+ando)\b|$)"
)
# people being grabbed, by no one named: "estan agarrando gente en el parque"
_FOLLOWED_PAST = _rx(r"(?:me|nos) siguio|followed (?:me|us)")
_JUST = _rx(
    r"acaba de|acaban de|acabo de|hace (?:un rato|ratito|poco|unos minutos)|"
    r"just (?:took|grabbed|picked|arrested|detained|got|came|showed|left|called|texted|told|now)|"
    r"\d+ ?(?:min|mins|minutes|minutos)(?: ago)?|minutes ago|minutos"
)
_GRABBING = _rx(
    r"(?:estan|are) (?:agarrando|levantando|llevandose|grabbing|taking|arresting|deteniendo) "
    r"(?:gente|a la gente|people|personas|everyone|a todos)"
)
# agents (not police) simply reported somewhere: "ice at st. mary's parking lot"
_ICE_AT = re.compile(
    r"\b(?:" + ICE_AGENT + r")\b(?: (?:is|are|esta|estan|anda|andan))? (?:at|en|in|on|outside|"
    r"afuera de|frente a|by|near|cerca de)\b"
)
# the member's act in the if-clause, his threat after it
_IF_I_THREAT = _rx(
    r"(?:says?|said|dice|dijo|told me) (?:que |q )?(?:if i|if we|when i|when we|once i|"
    r"si(?: yo)?(?: me)?|cuando|en cuanto) \w+(?: \w+){0,5} "
    r"(?:hes going to|he s going to|hes gonna|he ll|he will|he would|le (?:va a )?(?:hace|hacer|"
    r"pega|pegar)|me (?:va a )?(?:mata|matar|pega|pegar)|"
    r"(?:lo|la|los|las) (?:va a )?(?:mata|matar))"
)
# "threatens to report me to immigration": coercion the FAQ answers, not violence now
_THREAT_TO_REPORT = re.compile(
    r"(?:\w+ )?(?:threat\w*|amenaz\w*)(?: \w+){0,3} (?:to |con |de )?"
    r"(?:report|call|llamar|reportar|denunciar|echar|deport)\w*"
)


def _by_member(t: str, start: int) -> bool:
    """'I hit him' / 'yo le pegue': the member describing their own act."""
    before = t[max(0, start - 4) : start]
    return before.endswith(("i ", "yo "))


def _triage(t: str) -> Triage:
    if not t:
        return NOT_URGENT
    if _SELF_HARM.search(t):
        return Triage(Urgency.URGENT, Reason.SELF_HARM, "self-harm")

    past = bool(_PAST.search(t))
    strong_now = bool(_NOW.search(t) or _HERE.search(t))
    hypothetical = bool(_HYPO.search(t))
    there = _THERE_ARE.search(t)
    # "there are two officers in the parking lot, can they come in?": a question about the
    # scene, asked while it happens; only an if-clause or a rumour makes it hypothetical
    if (
        there
        and not _SUPPOSING.search(t)
        and not _RUMOR.search(t)
        and not _in_condition(t, there.start() + 1)
        and _PLACE.search(t)
    ):
        strong_now = True  # "hay gente de ICE en el pasillo": present tense, a place
    recent = bool(_RECENT.search(t))
    now = strong_now or (bool(_NOW_WEAK.search(t)) and not past)
    rumor = bool(_RUMOR.search(t))
    progressive = bool(_PROGRESSIVE.search(t))
    happening = now or recent
    again = bool(_AGAIN.search(t))
    long_ago = (
        past
        and not strong_now
        and not _JUST.search(t)  # "last week he threatened to; he just took her from school"
        and not ((progressive or _STANDING.search(t)) and again)
    )
    # a question about a situation, not the situation: "what if", "heard that", "last year"
    calm = ((hypothetical or rumor) and not strong_now and not (recent and not rumor)) or long_ago
    # "if he gets out tomorrow": an if-clause, not "can they keep him" asked about a real case
    supposing = bool(_SUPPOSING.search(t)) and not (strong_now or recent)
    over = (long_ago or bool(_SAFE_NOW.search(t))) and not strong_now  # "ya estoy a salvo"
    if _ALL_CLEAR.search(t) and not (strong_now or recent) and not _BUT.search(t):
        return NOT_URGENT  # "ya se fueron, estamos bien", "he's home now"

    # violence or threats: a question asked around it ("can I call 911 if...") doesn't make
    # it hypothetical; only an act inside an if-clause ("if he hits me again") does
    if _IF_I_THREAT.search(t) and not over:
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "threat-or-weapon")
    kill = _KILL.search(t)
    if kill and not over and not _in_condition(t, kill.start()):
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "threat-or-weapon")
    strong = _V_STRONG.search(t)
    if strong and not over and not _in_condition(t, strong.start()):
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "violence-strong")
    victim = {
        m.group(0)
        for m in _VICTIM.finditer(t)
        if not _by_member(t, m.start())
        and not _in_condition(t, m.start())
        and not _THREAT_TO_REPORT.match(t, m.start())
    }
    habit = bool(_HABIT.search(t)) and not (happening or progressive)
    if (
        victim
        and not over
        and not rumor
        and not habit
        and (happening or progressive or len(victim) >= 2 or _FEAR.search(t))
        and not _only_police_act(t)
    ):
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "violence-now")
    act = _PARTNER_ACT.search(t)
    if act and not (over or habit or rumor or _OWN_CASE.search(t) or _in_condition(t, act.start())):
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "violence-now")  # "husband beat me"
    if _CHILD_TAKEN.search(t) and (happening or progressive) and not _ICE.search(t) and not calm:
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "children-taken")
    if _FLEEING.search(t) and not calm:
        return Triage(Urgency.URGENT, Reason.VIOLENCE, "fleeing")

    # agents at the home or workplace, or stopping the member, now; not when the agents
    # only appear inside an if-clause ("si los de ICE llegan a la obra, tengo que hablar?")
    agent = _AGENT.search(t)
    acting = _ACTION.search(t)
    if (
        agent
        and not strong_now
        and (_in_condition(t, agent.start()) or (acting and _in_condition(t, acting.start())))
    ):
        calm = True
    if _PUT_IN_VAN.search(t) and not long_ago and not supposing and not rumor:
        return Triage(Urgency.URGENT, Reason.DETAINED, "just-taken")
    # agents seen yesterday are gone, unless they are back or still there
    gone = bool(_YESTERDAY.search(t)) and not (strong_now or _TODAY.search(t) or again)
    if not calm and not gone:
        if _STOPPING.search(t):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "stopped-by-police-now")
        if _FORCING_IN.search(t):
            partner = re.search(r"\b(?:he|el|ex|husband|esposo|marido|novio|boyfriend)\b", t)
            reason = Reason.VIOLENCE if partner and not agent else Reason.ICE_PRESENT
            return Triage(Urgency.URGENT, reason, "forcing-in")
        if _BY_FORCE.search(t) and strong_now:
            return Triage(Urgency.URGENT, Reason.VIOLENCE, "force-now")
        if _ICE_STOP.search(t) and (happening or progressive):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "stopped-by-ice")
        if _POLICE_STOP_NOW.search(t) and now:
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "stopped-by-police-now")
        action = bool(acting)
        place = bool(_PLACE.search(t))
        if agent and action and (happening or progressive or place):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-acting-now")
        demand = _DEMAND.search(t)
        if agent and demand and (happening or (place and not demand.group(0).startswith("me "))):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-acting-now")
        if _SOMEONE_AT_DOOR.search(t) or _UNDER_DOOR.search(t):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "knocking-now")
        if _BACK_AT.search(t) and (place or _STANDING.search(t)):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "they-are-back")
        if _GRABBING.search(t) and (place or _PANIC.search(t)):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "raid-now")
        if _ICE_AT.search(t) and place and not _TOPIC.search(t):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-at-place")
        if _FOLLOWED.search(t) or (_FOLLOWED_PAST.search(t) and happening):
            stalker = _VICTIM.search(t) or re.search(r"\b(?:my|mi) ex\b|\b(?:he|el)\b", t)
            reason = Reason.VIOLENCE if stalker and not agent else Reason.ICE_PRESENT
            return Triage(Urgency.URGENT, reason, "being-followed")
        doing = any(not _in_condition(t, m.start()) for m in _PROGRESSIVE.finditer(t))
        if agent and place and (strong_now or (doing and _ICE.search(t))):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "agents-here-now")
        if strong_now and _THEY_HERE.search(t) and (place or _PANIC.search(t)):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "they-are-here-now")
        if (_DOOR.search(t) or (_OUTSIDE.search(t) and strong_now)) and (
            _WARRANTISH.search(t) or strong_now
        ):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "knocking-now")
        if (
            len(t.split()) <= _ALARM_WORDS
            and agent
            and (place or _ALARM_HERE.search(t) or (strong_now and len(t.split()) <= 3))
            and not _TOPIC.search(t)
        ):
            taken = _EVENT_TAKEN.search(t) or _TAKEN.search(t)
            return Triage(Urgency.URGENT, Reason.DETAINED if taken else Reason.ICE_PRESENT, "alarm")
        if _PAPERS_CHECK.search(t) and place and (now or progressive):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "papers-checked-now")
        if _CHECKPOINT.search(t) and (strong_now or progressive or _IN_LINE.search(t)):
            return Triage(Urgency.URGENT, Reason.ICE_PRESENT, "checkpoint-now")
        moving = _MOVING.search(t)
        if moving and _CUSTODY_PLACE.search(t) and not _in_condition(t, moving.start()):
            return Triage(Urgency.URGENT, Reason.DETAINED, "being-moved")

    # someone about to be released or handed to ICE
    if (
        _HOLD.search(t)
        and _RELEASE.search(t)
        and (_SOON.search(t) or recent)
        and not long_ago
        and not supposing
    ):
        return Triage(Urgency.URGENT, Reason.DETAINED, "release-to-ice")
    # taken, held or missing, even when no one says by whom
    if not long_ago and not supposing and not rumor:
        if _SIGN.search(t) and (agent or _CUSTODY_PLACE.search(t)):
            return Triage(Urgency.URGENT, Reason.DETAINED, "pressed-to-sign")
        if _DEPORTING.search(t):
            return Triage(Urgency.URGENT, Reason.DETAINED, "being-deported")
        if _ARRESTED_NOW.search(t):
            return Triage(Urgency.URGENT, Reason.DETAINED, "being-arrested")
        if (
            (
                _TAKEN_BY.search(t)
                or (_EVENT_TAKEN.search(t) and _FAMILY.search(t) and _PLACE.search(t))
            )
            and not _GENERAL_Q.search(t)
            and not _ABUSER_TAKEN.search(t)
            and not _OWN_CASE.search(t)
        ):
            return Triage(Urgency.URGENT, Reason.DETAINED, "family-taken")
        if _TAKEN.search(t) and len(t.split()) <= 5 and not _ABUSER_TAKEN.search(t):
            return Triage(Urgency.URGENT, Reason.DETAINED, "just-taken")  # "they took him"
        if _MISSING.search(t) and (agent or _MISSING_SIGN.search(t)):
            return Triage(Urgency.URGENT, Reason.DETAINED, "missing")
        if _HELD_AT_CHECKIN.search(t) and (_ICE.search(t) or _CHECK_IN.search(t)):
            return Triage(Urgency.URGENT, Reason.DETAINED, "held-at-check-in")

    # someone just taken (not the abuser, taken away by the police she called)
    if (
        _TAKEN.search(t)
        and not long_ago
        and not (hypothetical and not (recent or strong_now))
        and not _ABUSER_TAKEN.search(t)
    ):
        if strong_now or recent:
            return Triage(Urgency.URGENT, Reason.DETAINED, "just-taken")
        if (
            _EVENT_TAKEN.search(t)
            and _FAMILY.search(t)
            and _ICE.search(t)
            and not _GENERAL_Q.search(t)
        ):
            return Triage(Urgency.URGENT, Reason.DETAINED, "family-taken")
    return NOT_URGENT


def _in_condition(t: str, start: int) -> bool:
    """'if he hits me again' / 'si me vuelve a pegar': the act is inside a hypothetical."""
    before = t[max(0, start - 45) : start].split()[-7:]
    for i, w in enumerate(before):
        if w in {"if", "si", "cuando", "when", "whenever", "caso", "suponiendo", "supongamos"}:
            # "no se si es la migra" / "not sure if it's ICE" asks whether, not what if
            lead = " ".join(before[max(0, i - 2) : i])
            if not _WHETHER.search(lead):
                return True
    return False


_WHETHER = _rx(
    r"no se|not sure|dont know|don t know|idk|wonder|no estoy segur[oa]|unsure|"
    r"asks?|asked|asking|pregunta|preguntan|pregunto|preguntando"
)


def _only_police_act(t: str) -> bool:
    """'police hit me during an arrest last year' is a complaint, not violence now."""
    return bool(re.search(r"\b(?:police|policia|cops?|officers?|oficial)\b", t)) and not bool(
        _FAMILY.search(t) or re.search(r"\b(?:he|hes|she|shes|el|ella|him)\b", t)
    )


# --- the learned part ----------------------------------------------------------------------


def _features(folded: str) -> set[str]:
    words = folded.split()
    out = set(words)
    out.update(w[:5] for w in words if len(w) > 5)  # a crude stem that works in both languages
    out.update(f"{a}_{b}" for a, b in itertools.pairwise(words))
    return out


class UrgencyModel:
    """Logistic regression over words, word starts and word pairs, trained at start-up on
    faq/urgency.yaml. The rules above know the shapes of danger; this learns the words
    members actually use. A message is urgent when either says so."""

    threshold = 1.0  # chosen for recall: see scripts/bench_router.py figures in the notes
    epochs = 20

    def __init__(self, urgent: tuple[str, ...], calm: tuple[str, ...], seed: int = 0) -> None:
        self.weights: dict[str, float] = {}
        self.bias = 0.0
        if not urgent or not calm:
            return
        data = [(_features(_variants(t)[0]), 1) for t in urgent]
        data += [(_features(_variants(t)[0]), 0) for t in calm]
        balance = len(calm) / len(urgent)  # missing an urgent example costs more
        rate, l2 = 0.3, 1e-4
        rng = random.Random(seed)
        w = self.weights
        for _ in range(self.epochs):
            rng.shuffle(data)
            for feats, y in data:
                z = self.bias + sum(w.get(f, 0.0) for f in feats)
                p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
                g = (p - y) * (balance if y else 1.0)
                self.bias -= rate * g * 0.1
                for f in feats:
                    w[f] = w.get(f, 0.0) * (1 - rate * l2) - rate * g

    def score(self, text: str) -> float:
        if not self.weights:
            return -math.inf
        feats = _features(_variants(text)[0])
        return self.bias + sum(self.weights.get(f, 0.0) for f in feats)

    def urgent(self, text: str) -> bool:
        return self.score(text) > self.threshold


@lru_cache(maxsize=4)
def urgency_model(urgent: tuple[str, ...], calm: tuple[str, ...]) -> UrgencyModel:
    """One trained model per set of examples in this process (see `matcher_for`)."""
    return UrgencyModel(urgent, calm)


def guess_reason(text: str) -> Reason:
    """The likely reason for a message the model (not a rule) found urgent."""
    t = _variants(text)[0]
    if re.search(
        r"\b(?:die|dead|morir|muerte|vida|life|live|vivir|pills|pastillas|end|acabar|rope|"
        r"soga|cuerda|goodbye|despedi|despido|done with|sentido|point|burden|carga|forever|"
        r"para siempre)\b",
        t,
    ) and not _AGENT.search(t):
        return Reason.SELF_HARM
    if _TAKEN.search(t) or (_HOLD.search(t) and _RELEASE.search(t)):
        return Reason.DETAINED
    if _AGENT.search(t) and not (_VICTIM.search(t) or _V_ACT.search(t)):
        return Reason.ICE_PRESENT
    return Reason.VIOLENCE


def assess(text: str, model: UrgencyModel | None = None) -> Triage:
    """Rules first; then the learned model, which only ever adds urgency."""
    result = triage(text)
    if result.urgency is Urgency.URGENT or model is None:
        return result
    if model.urgent(text):
        t = _variants(text)[0]
        now = bool(_NOW.search(t) or _HERE.search(t) or _RECENT.search(t))
        reason = guess_reason(text)
        if (_PAST.search(t) or _RUMOR.search(t)) and not now:
            return result  # "last year", "I heard that": the model doesn't overrule these
        if _ALL_CLEAR.search(t) and not _BUT.search(t) and not _NOW.search(t):
            return result  # "he left, I'm safe now"
        if _HYPO.search(t) and not now and reason is not Reason.SELF_HARM:
            return result  # "what if he hits me again" (but "if they deport me I'd rather die")
        return Triage(Urgency.URGENT, reason, "learned")
    return result
