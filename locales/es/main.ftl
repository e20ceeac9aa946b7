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
