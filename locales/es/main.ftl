# Textos de la interfaz del bot (español).
# Se pueden usar los valores de faq/settings.yaml: { $org_name }, { $hotline_phone } ...
# Las palabras clave (PERSONA, MENÚ, PARAR, ALTA, MÁS, BORRAR, IDIOMA, SÍ) van en mayúsculas:
# la gente las escribe de vuelta.

## Primer contacto

welcome =
    Hola, soy el bot de la { $org_name }. Respondo preguntas sobre tus derechos ante la policía e ICE, Comunidades Seguras y ayuda para víctimas de violencia.
    Es información general, no asesoría legal.
    Privado: nunca guardamos tu número de forma legible y borramos los chats a los { $retention_days } días (escribe BORRAR para borrarlos ya).
    Escribe PERSONA para hablar con un voluntario, PARAR para no recibir más.

## Menús

menu-header = Temas - responde con un número:
menu-footer = Escribe PERSONA para hablar con un voluntario, ENGLISH for English.
area-header = { $area } - responde con un número:
area-footer = Escribe MENÚ para ver todos los temas.
followups-header = Otras preguntas:
followups-footer = MENÚ: todos los temas. PERSONA: un voluntario.
choice-header = ¿Cuál de estas quisiste decir? Responde con un número:
choice-footer = O escribe PERSONA para preguntarle a un voluntario.
# Una línea de opción en una lista numerada: "1 Policía e ICE"
option-line = { $key } { $label }
option-person = Hablar con un voluntario
option-menu = Todos los temas

## No entendido

unknown =
    Perdón, no tengo respuesta para eso. Respondo preguntas sobre la policía e ICE, Comunidades Seguras y ayuda para víctimas de violencia.
unknown-offer = Escribe PERSONA para preguntarle a un voluntario, o elige un tema:
bad-number = Ahora no hay opción { $number }.
empty-message = Escribe tu pregunta en pocas palabras, por favor.
media-only = Solo puedo leer texto. Escribe tu pregunta con palabras, por favor.

## Idioma

language-switched = Listo, te escribo en español.
language-choose = Responde ESPAÑOL o ENGLISH.

## Ayuda

help =
    Cómo funciona: escribe tu pregunta con tus propias palabras.
    MENÚ: temas. PERSONA: un voluntario. ENGLISH: inglés. PARAR: no recibir más mensajes. BORRAR: borrar tus datos.
    Emergencias: { $emergency_phone }.

## Respuestas largas por SMS

more-hint = Para seguir leyendo, escribe MAS.
nothing-more = Eso es todo. Escribe MENÚ para ver los temas.

## Parar, volver y borrar

stopped = Ya no te enviaremos mensajes. Escribe ALTA si quieres volver.
started = Bienvenido de nuevo. Escribe MENÚ para ver los temas.
delete-ask = Esto borra todo lo que guardamos sobre ti, también este chat. Escribe SÍ para confirmar. Cualquier otra cosa lo cancela.
delete-done = Listo: tus datos están borrados. Si escribes de nuevo, empezamos de cero.
delete-cancelled = Está bien, no se borró nada.

## Mensajes urgentes y paso a voluntarios

urgent-ice = Si ICE o la policía están en tu puerta: no abras y mantén la calma.
urgent-detained = Siento mucho lo que está pasando. Esto es lo que puedes hacer ahora.
urgent-violence = Si estás en peligro ahora, llama al { $emergency_phone }. SafeLink, gratis las 24 horas y en español: { $safelink_phone }.
urgent-self-harm = No estás solo. Llama o escribe al { $crisis_line } ahora (hay atención en español), o al { $emergency_phone } si estás en peligro.
handoff-urgent = Estoy avisando a un voluntario ahora mismo. Te escribirá aquí.
handoff-requested = Listo, le pedí a un voluntario que se una a este chat. Te escribirá aquí. No verá tu número.
handoff-offhours = Ahora no hay voluntarios conectados. Vuelven { $day ->
        [today] hoy
        [tomorrow] mañana
        [mon] el lunes
        [tue] el martes
        [wed] el miércoles
        [thu] el jueves
        [fri] el viernes
        [sat] el sábado
       *[sun] el domingo
    } a las { $time }. Tu mensaje queda guardado para ellos. En una emergencia llama al { $emergency_phone }.
handoff-offhours-urgent = Ahora no hay voluntarios conectados, pero avisé al voluntario de guardia. En una emergencia llama al { $emergency_phone }.
handoff-unavailable = Ahora no podemos comunicarte con un voluntario por chat. Llama al { $hotline_phone }, { $hours_text }. En una emergencia llama al { $emergency_phone }.
handoff-waiting = Un voluntario te escribirá lo antes posible; puede tardar { $minutes } minutos o más. Si estás en peligro llama al { $emergency_phone }.
handoff-already = Un voluntario ya tiene tu chat y te responderá aquí.
volunteer-joined = Un voluntario se unió al chat. Puedes escribirle aquí.
case-closed = El voluntario cerró este chat. Escríbenos cuando quieras, o llama al { $hotline_phone }.
rate-limited = Enviaste muchos mensajes en poco tiempo. Espera un minuto, por favor; leemos todo lo que enviaste.

## Conversación breve y fuentes

thanks-reply = De nada. Escribe MENÚ para ver los temas, PERSONA para hablar con un voluntario.
sources-label = Fuentes:
more-details = Para la respuesta completa, escribe MAS.
more-part = ({ $part }/{ $total })

## Menú de comandos de Telegram (descripciones junto a /start, /help ...; 256 caracteres como máximo)

command-start = Empezar: bienvenida y temas
command-help = Cómo funciona este bot
command-menu = Todos los temas
command-lang = Switch to English
command-human = Hablar con un voluntario
command-delete = Borrar mis datos

## Grupo de voluntarios (casos en temas del foro). Solo lo ven los voluntarios, en VOLUNTEER_LANG.
## El número de caso llega como { $case }; nunca pongas aquí el número o el nombre de alguien.

desk-icon-urgent = 🔴
desk-icon-normal = 🟡
desk-topic-name = { $icon } #{ $case } · { $channel } · { $language }
desk-urgency-urgent = URGENTE
desk-urgency-normal = pidió una persona
desk-reason-ice_present = ICE o la policía están ahí ahora
desk-reason-detained = una persona detenida
desk-reason-violence = violencia o amenazas
desk-reason-self_harm = riesgo de hacerse daño
desk-reason-requested = pidió hablar con una persona
desk-channel-sms = SMS
desk-channel-telegram = Telegram
desk-channel-console = Terminal
desk-lang-en = inglés
desk-lang-es = español
desk-contact-sms = SMS ···{ $last4 }
desk-contact-telegram = Telegram (chat privado)
desk-contact-console = prueba en terminal
desk-status-open = Esperando: pulsa Tomar, o responde en este tema.
desk-status-claimed = Con { $name } (desde las { $time }).
desk-status-closed = Cerrado.
desk-no-entry = ninguna
desk-line-in = Persona
desk-line-out = Línea
desk-line-note = Nota
desk-no-lines = (no se guardaron mensajes)
desk-card =
    { $icon } Caso #{ $case }: { $urgency }
    Motivo: { $reason }
    Idioma: { $language } · Contacto: { $contact }
    Respuesta enviada: { $entry }
    Estado: { $status }

    Últimos mensajes:
    { $lines }

    Todo lo que escribas en este tema le llega a la persona, sin tu nombre. /note TEXTO queda interno. /help muestra los comandos.
desk-button-claim = ✋ Tomar
desk-button-close = ✅ Cerrar
desk-button-reopen = ↩️ Reabrir
desk-member-says = 👤 { $text }
desk-member-media = 📎 La persona envió { $count } archivo(s). Los archivos no se reenvían: pídele que lo describa con palabras.
desk-claimed = ✋ { $name } tiene este caso. Se le avisó a la persona que se unió un voluntario.
desk-claim-ok = Tienes el caso #{ $case }.
desk-claim-taken = { $name } ya tiene este caso.
desk-closed = ✅ { $name } cerró el caso. Se le dijo a la persona cómo volver a contactarnos. Envía /reopen para escribirle de nuevo.
desk-already-closed = Este caso ya está cerrado.
desk-reopened = ↩️ { $name } reabrió el caso. Lo que escribas ahora le llega de nuevo a la persona.
desk-reopened-member = ↩️ La persona volvió a escribir y el caso está abierto otra vez. Pulsa Tomar o responde.
desk-not-open = Este caso está cerrado y tu mensaje no se envió. Primero envía /reopen.
desk-note-saved = 📝 Nota guardada con el caso. No se le envió a la persona.
desk-note-usage = Escribe la nota después del comando, así: /note llamé a la familia, vuelvo a llamar a las 5
desk-faq-sent = 📚 Se le envió a la persona la respuesta "{ $title }" ({ $id }).
desk-faq-unknown = No hay una respuesta "{ $id }". Usa el id de los archivos de preguntas, así: /faq ice-home
desk-faq-usage = Escribe el id de la respuesta después del comando, así: /faq ice-home
desk-media-not-sent = Solo el texto le llega a la persona; tu archivo no se envió. Descríbelo con palabras.
desk-member-stopped = La persona respondió STOP, así que ya no se le puede enviar nada.
desk-case-gone = Este caso ya no existe (quizás la persona borró sus datos). No se envió nada.
desk-help =
    Comandos en el tema de un caso:
    /claim: tomar el caso (o simplemente responde)
    /close: cerrarlo; se le dice a la persona cómo volver a contactarnos
    /reopen: reabrir un caso cerrado
    /faq ID: enviar una respuesta en el idioma de la persona
    /note TEXTO: una nota interna, no se le envía a la persona
    Todo lo demás que escribas aquí le llega a la persona.
desk-repage = ⏰ El caso #{ $case } ({ $urgency }) lleva { $minutes } minutos sin nadie. { $mentions } Por favor pulsa Tomar o responde.
desk-page-offhours = 🚨 Caso urgente #{ $case } fuera del horario de voluntarios. { $mentions } Voluntario de guardia, por favor tómalo.
desk-page-sms = { $org_name }: el caso urgente #{ $case } espera a un voluntario. Abre el grupo de voluntarios en Telegram.
desk-page-sms-normal = { $org_name }: el caso #{ $case } espera a un voluntario. Abre el grupo de voluntarios en Telegram.
