# Interface texts of the hotline bot (English).
# Settings values from faq/settings.yaml can be used here: { $org_name }, { $hotline_phone } ...
# Keep the keywords (PERSON, MENU, STOP, START, MORE, DELETE MY DATA, LANGUAGE, YES) in capitals:
# members type them back.

## First contact

welcome =
    Hi, this is the { $org_name } bot. I answer questions about your rights with police and ICE, Secure Communities, and help for victims of violence.
    General information, not legal advice.
    Private: we never store your number in readable form and delete chats after { $retention_days } days (reply DELETE MY DATA to erase now).
    Reply PERSON to talk to a volunteer, STOP to stop.

## Menus

menu-header = Topics - reply a number:
menu-footer = Reply PERSON for a volunteer, LANGUAGE for Español.
area-header = { $area } - reply a number:
area-footer = Reply MENU for all topics.
followups-header = More on this:
followups-footer = MENU: all topics. PERSON: a volunteer.
choice-header = Which one did you mean? Reply a number:
choice-footer = Or reply PERSON to ask a volunteer.
# An option line in a numbered list: "1 Police and ICE"
option-line = { $key } { $label }
option-person = Talk to a volunteer
option-menu = All topics

## Not understood

unknown =
    Sorry, I don't have an answer for that. I answer questions about police and ICE, Secure Communities, and help for victims of violence.
unknown-offer = Reply PERSON to ask a volunteer, or pick a topic:
bad-number = There is no option { $number } right now.
empty-message = Please write your question in a few words.
media-only = I can only read text. Please write your question in words.

## Language

language-switched = OK, I'll write in English.
language-choose = Reply ENGLISH or ESPAÑOL.

## Help

help =
    How this works: write your question in your own words.
    MENU: topics. PERSON: a volunteer. ESPAÑOL: Spanish. STOP: no more messages. DELETE MY DATA: erase your data.
    Emergency: { $emergency_phone }.

## Long SMS answers

more-hint = Reply MORE for the rest.
nothing-more = That was all. Reply MENU for topics.

## Stop, start and delete

stopped = You won't get more messages from us. Reply START to come back.
started = Welcome back. Reply MENU for topics.
delete-ask = This erases everything we keep about you, including this chat. Reply YES to confirm. Anything else cancels.
delete-done = Done: your data is erased. If you write again we start fresh.
delete-cancelled = OK, nothing was erased.

## Urgent messages and handoff to volunteers

urgent-ice = If ICE or police are at your door: don't open it and stay calm.
urgent-detained = I'm sorry this is happening. Here is what you can do now.
urgent-violence = If you are in danger now, call { $emergency_phone }. SafeLink, 24/7 and free, in many languages: { $safelink_phone }.
urgent-self-harm = You are not alone. Call or text { $crisis_line } now (Spanish available), or { $emergency_phone } if you are in danger.
handoff-urgent = I'm alerting a volunteer now. They will write to you here.
handoff-requested = OK, I've asked a volunteer to join this chat. They will write to you here. Your number is not shown to them.
handoff-offhours = Our volunteers are off right now. They're back { $day ->
        [today] today
        [tomorrow] tomorrow
        [mon] on Monday
        [tue] on Tuesday
        [wed] on Wednesday
        [thu] on Thursday
        [fri] on Friday
        [sat] on Saturday
       *[sun] on Sunday
    } at { $time }. Your message is saved for them. For an emergency call { $emergency_phone }.
handoff-offhours-urgent = Our volunteers are off right now, but I have alerted the on-call volunteer. For an emergency call { $emergency_phone }.
handoff-unavailable = Volunteers can't be reached by chat right now. Call { $hotline_phone }, { $hours_text }. For an emergency call { $emergency_phone }.
handoff-waiting = A volunteer will write as soon as possible; it may take { $minutes } minutes or more. If you are in danger call { $emergency_phone }.
handoff-already = A volunteer already has your chat and will answer here.
volunteer-joined = A volunteer has joined. You can write to them here.
case-closed = The volunteer closed this chat. Write any time to talk to us again, or call { $hotline_phone }.
rate-limited = You've sent many messages in a short time. Please wait a minute; we read everything you sent.

## Small talk and sources

thanks-reply = You're welcome. Reply MENU for topics, PERSON for a volunteer.
sources-label = Sources:
more-details = Reply MORE for details.
more-part = ({ $part }/{ $total })

## Telegram command menu (descriptions shown next to /start, /help ...; at most 256 characters)

command-start = Start: welcome and topics
command-help = How this bot works
command-menu = All topics
command-lang = Cambiar a español
command-human = Talk to a volunteer
command-delete = Delete my data

## Volunteer group (cases in forum topics). Shown to volunteers only, in VOLUNTEER_LANG.
## A case number is given as { $case }; never put a member's number or name in these.

desk-icon-urgent = 🔴
desk-icon-normal = 🟡
desk-topic-name = { $icon } #{ $case } · { $channel } · { $language }
desk-urgency-urgent = URGENT
desk-urgency-normal = asked for a person
desk-reason-ice_present = ICE or police there now
desk-reason-detained = someone detained
desk-reason-violence = violence or threats
desk-reason-self_harm = risk of self-harm
desk-reason-requested = asked to talk to a person
desk-channel-sms = SMS
desk-channel-telegram = Telegram
desk-channel-console = Terminal
desk-lang-en = English
desk-lang-es = Spanish
desk-contact-sms = SMS ···{ $last4 }
desk-contact-telegram = Telegram (private chat)
desk-contact-console = terminal test
desk-status-open = Waiting: press Claim, or just reply in this topic.
desk-status-claimed = With { $name } (since { $time }).
desk-status-closed = Closed.
desk-no-entry = none
desk-line-in = Member
desk-line-out = Hotline
desk-line-note = Note
desk-no-lines = (no messages kept)
desk-card =
    { $icon } Case #{ $case }: { $urgency }
    Why: { $reason }
    Language: { $language } · Contact: { $contact }
    FAQ answer sent: { $entry }
    Status: { $status }

    Last messages:
    { $lines }

    Everything you write in this topic goes to the member, without your name. /note TEXT stays internal. /help lists the commands.
desk-button-claim = ✋ Claim
desk-button-close = ✅ Close
desk-button-reopen = ↩️ Reopen
desk-member-says = 👤 { $text }
desk-member-media = 📎 The member sent { $count } attachment(s). Attachments are not forwarded: ask them to describe it in words.
desk-claimed = ✋ { $name } has this case. The member was told a volunteer joined.
desk-claim-ok = You have case #{ $case }.
desk-claim-taken = { $name } already has this case.
desk-closed = ✅ Case closed by { $name }. The member was told how to reach us again. Send /reopen to write to them again.
desk-already-closed = This case is already closed.
desk-reopened = ↩️ Case reopened by { $name }. What you write now goes to the member again.
desk-reopened-member = ↩️ The member wrote again, so the case is open again. Press Claim or reply.
desk-not-open = This case is closed, so your message was not sent. Send /reopen first.
desk-note-saved = 📝 Note saved with the case. It was not sent to the member.
desk-note-usage = Write the note after the command, like this: /note called the family, will call back at 5
desk-faq-sent = 📚 Sent the answer "{ $title }" ({ $id }) to the member.
desk-faq-unknown = There is no FAQ answer "{ $id }". Use the id from the FAQ files, like this: /faq ice-home
desk-faq-usage = Write the answer's id after the command, like this: /faq ice-home
desk-media-not-sent = Only text goes to the member; your attachment was not sent. Describe it in words.
desk-member-stopped = The member replied STOP, so nothing more can be sent to them.
desk-case-gone = This case no longer exists (the member may have deleted their data). Nothing was sent.
desk-help =
    Commands in a case topic:
    /claim: take the case (or just reply)
    /close: close it; the member is told how to reach us again
    /reopen: open a closed case again
    /faq ID: send an FAQ answer in the member's language
    /note TEXT: an internal note, not sent to the member
    Anything else you write here goes to the member.
desk-repage = ⏰ Case #{ $case } ({ $urgency }) has waited { $minutes } minutes with nobody on it. { $mentions } Please press Claim or reply.
desk-page-offhours = 🚨 Urgent case #{ $case } outside volunteer hours. { $mentions } On-call volunteer, please take it.
desk-page-sms = { $org_name }: urgent case #{ $case } is waiting for a volunteer. Open the volunteer group in Telegram.
desk-page-sms-normal = { $org_name }: case #{ $case } is waiting for a volunteer. Open the volunteer group in Telegram.
