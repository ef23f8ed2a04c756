"""English sentences of the dialog (keys and placeholders match `es.py`; a test checks it)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # input we cannot use
    "bad_not_text": "I can only read text messages.",
    "bad_empty": "That message looked empty.",
    "bad_too_long": "That message is too long for me; please send a short answer.",
    "bad_no_words": "I couldn't find any words or numbers in that.",
    "bad_contact": "Thanks, but I don't need a phone number right now.",
    "choose_option": "Please choose one of the options.",
    "stale_option": "That button belongs to an earlier question.",
    "finish_signup_first": "Let's finish signing up first.",
    "emergency": (
        "In an emergency (for example swelling of the face, lips, tongue or throat, trouble breathing, "
        "chest pain or fainting), call emergency services right away."
    ),
    # consent
    "consent": (
        "Hello! I'm a reminder service for people treated with Ocrevus (ocrelizumab). I can remind you of "
        "each appointment, ask how you feel afterwards and share short information.\n\n"
        "To do that I keep: the name you give me, your language and time zone, how you get your treatment, "
        "your appointment dates and, if you add it, your phone number. I use them only to send you these "
        "messages, and the staff of the service can see them.\n\n"
        "I don't give medical advice: your care team decides about your treatment.\n"
        "In an emergency, call emergency services right away.\n"
        "You can stop at any time with /stop, or erase everything with /delete.\n\n"
        "Do you agree?"
    ),
    "consent_yes": "Yes, I agree",
    "consent_no": "No, thanks",
    "consent_declined": "No problem: I've kept nothing. If you change your mind, just write to me again.",
    "language_name": "English",
    # name
    "ask_name": "What name would you like me to use for you?",
    "name_invalid": "Please send just the name you'd like me to use (letters, up to 50 characters).",
    "name_saved": "Nice to meet you, {name}!",
    # time zone
    "ask_timezone": (
        "Which city or country are you in? I need it to send messages at the right local time. Type it "
        "(for example Madrid or New York) or choose one:"
    ),
    "tz_not_found": "I couldn't find that place. Try a big city near you, or your country.",
    "tz_confirm_one": "In {city} it's {time} on {day} now. Is that your local time?",
    "tz_pick": "Which of these is your local time now?",
    "tz_option": "{city} ({time})",
    "tz_other": "Somewhere else",
    "tz_saved": "Time zone set: {city}.",
    # quiet hours (/quiet): scheduled messages wait; replies and emergency guidance never do
    "quiet_is_default": (
        "Quiet hours: {hours} ({city} time), the usual ones. Scheduled messages wait until they end; my "
        "replies never wait. To change: /quiet 22:00-07:00, or /quiet off."
    ),
    "quiet_is_own": (
        "Quiet hours: {hours} ({city} time), as you chose. Scheduled messages wait until they end. To "
        "change: /quiet 22:00-07:00, /quiet off, or /quiet default."
    ),
    "quiet_is_none": "No quiet hours: messages may come at any time. To set some: /quiet 22:00-07:00.",
    "quiet_set_default": "Done: quiet hours are back to the usual {hours} ({city} time).",
    "quiet_set_own": "Done: quiet hours are now {hours} ({city} time). Your reminders were moved to fit.",
    "quiet_set_none": "Done: no quiet hours. Scheduled messages can now come at any time.",
    "quiet_bad": "Please send the hours like this: /quiet 22:00-07:00 (at most 18 hours), or /quiet off.",
    # treatment
    "ask_formulation": "How do you get Ocrevus?",
    "formulation_iv": "Infusion into a vein (IV)",
    "formulation_sc": "Injection under the skin (Ocrevus Zunovo)",
    "ask_stage": "Where are you in your treatment?",
    "stage_iv_not_started": "I haven't had my first infusion yet",
    "stage_iv_between": "I've had Infusion 1; Infusion 2 is next",
    "stage_iv_six_monthly": "I'm on the 6-monthly infusions",
    "stage_sc_not_started": "This will be my first injection",
    "stage_sc_six_monthly": "I've had injections before",
    "ask_last_dose_iv_between": "When did you have Infusion 1? (for example 3 November)",
    "ask_last_dose_iv": "When was your last infusion? (for example 3 June)",
    "ask_last_dose_sc": "When was your last injection? (for example 3 June)",
    "not_sure": "I'm not sure",
    "last_dose_future": "That date hasn't come yet. Please send the date of the dose you've already had.",
    "last_dose_too_old": "That's more than two years ago; please check the year.",
    # dates
    "date_example": "12 March 9:30",
    "date_unreadable": 'I couldn\'t read a date in that. Try something like "{example}".',
    "date_impossible": "That date or time doesn't exist. Please check it and send it again.",
    "date_no_date": "I got a time but no day. Which day is it?",
    "time_unreadable": "I couldn't read a time. Send it like 9:30 or 2pm.",
    "dose_iv_1": "Infusion 1",
    "dose_iv_2": "Infusion 2",
    "dose_iv": "infusion",
    "dose_sc": "injection",
    "ask_appointment": (
        'When is your next appointment ({dose})? Send the date and time, like "12 March 9:30" or '
        '"next Tuesday 10am".'
    ),
    "no_date_yet": "I don't have a date yet",
    "ask_appointment_time": "What time is it on {day}? (for example 9:30)",
    "error_in_past": "{when} has already passed. Please send a date that's still to come.",
    "error_not_after_last_dose": "That's not after your last dose ({last}). Please check the date.",
    "error_beyond_window": "That's more than a year away. Please check the year.",
    "warn_under_minimum_interval": (
        "Doses are usually at least 5 months apart, and {when} is less than 5 months after your last dose "
        "({last})."
    ),
    "warn_infusion_2_not_14_days": (
        "Infusion 2 is usually two weeks after Infusion 1 (around {expected}), and this date is {days} days "
        "after it."
    ),
    "warn_confirm": "Please check with your clinic. Is {when} the date your clinic gave you?",
    "warn_keep": "Yes, keep this date",
    "warn_change": "No, change it",
    # place and phone
    "ask_place": "Where is the appointment? (for example the hospital or clinic name)",
    "place_too_long": "Please send a shorter place name (up to 200 characters).",
    "skip": "Skip",
    "ask_phone": (
        "Would you also like reminders by text message (SMS)? Share your contact, or type your number with "
        "its country code (like +34 600 000 000). To keep your privacy, texts start only once you reply YES "
        "from that phone. You can stop them any time."
    ),
    "phone_no": "No, thanks",
    "phone_share": "Share my number",
    "phone_invalid": (
        "That doesn't look like a valid phone number. Please include the country code, like "
        '+34 600 000 000, or choose "No, thanks".'
    ),
    "phone_taken": 'That number is already registered with us. Send a different one, or choose "No, thanks".',
    # summary
    "summary": (
        "Here's what I have:\n"
        "Name: {name}\n"
        "Time zone: {city} (now {time})\n"
        "Treatment: {formulation}\n"
        "Last dose: {last}\n"
        "Next appointment: {appointment}\n"
        "SMS: {phone}\n\n"
        "Reminders ahead:\n{reminders}\n\n"
        "Is this right?"
    ),
    "summary_none": "none",
    "summary_no_dose": "none",
    "summary_no_appointment": "not booked yet",
    "summary_at_place": "{when}, at {place}",
    "summary_no_reminders": "none yet: I'll start once you have an appointment date",
    "confirm_yes": "Yes, start my reminders",
    "confirm_restart": "Start again",
    "signup_done": (
        "You're all set, {name}! I'll send your reminders at those times. Send /help to see what I can do."
    ),
    "sms_confirm_sent": (
        "I've sent a text to {phone}. Reply YES from that phone to get your reminders by text too, as a "
        "backup. Until then (or if you don't), they come here on Telegram."
    ),
    # the text to a number typed at sign-up: no condition, no treatment named (it may be a stranger's)
    "sms_confirm_request": (
        "Clinic reminders: reply YES to get your appointment reminders here. Not you? Reply STOP."
    ),
    "sms_already_on": "Text reminders are already on for this number. Text STOP to stop them.",
    # /phone: the number for texts, after sign-up
    "phone_none": (
        "You have no number for text messages (SMS). Add one as a backup, for when Telegram can't reach you?"
    ),
    "phone_is": "Your number for text messages (SMS): {phone}\n{state}",
    "phone_state_on": "Texts are on: if Telegram can't reach you, your reminders come by SMS.",
    "phone_state_waiting": "Waiting for your YES: reply YES to our text from that phone to turn texts on.",
    "phone_state_off": "Texts are off: that phone replied STOP. Text START from it to turn them back on.",
    "phone_state_unreachable": "Texts can't reach that number at the moment.",
    "phone_state_unavailable": "Text messages (SMS) aren't available at this clinic: nothing is sent to it.",
    "phone_add": "Add a number",
    "phone_change": "Change the number",
    "phone_remove": "Remove the number",
    "phone_keep": "Keep it as it is",
    "phone_not_now": "Not now",
    "phone_cancel": "Cancel",
    "phone_ask": (
        "Type your mobile number with its country code (like +34 600 000 000), or share your contact. "
        "I'll send it one text: texts start only once you reply YES from that phone."
    ),
    "phone_invalid_retry": (
        "That doesn't look like a phone number. Please type it with the country code, like "
        '+34 600 000 000, or choose "Cancel".'
    ),
    "phone_taken_retry": 'Sorry, I can\'t use that number. Send a different one, or choose "Cancel".',
    "phone_same": "That is already your number for text messages, so nothing has changed.",
    "phone_ask_remove": "Remove {phone}? No more texts will go to it; your reminders come here on Telegram.",
    "phone_remove_yes": "Yes, remove it",
    "phone_remove_no": "No, keep it",
    "phone_removed": "Done: {phone} is removed and gets no more texts. Your reminders come here on Telegram.",
    "phone_unavailable": "Sorry, text messages (SMS) aren't available at this clinic. Reminders come here.",
    "phone_resume_first": "Your reminders are paused or stopped. Send /resume first, then add your number.",
    "phone_by_sms": "To change or remove this number, send /phone in Telegram. To stop texts, reply STOP.",
    # reminder labels
    "touch_reminder_7_days": "reminder: your appointment is in a week",
    "touch_reminder_day_before": "reminder: your appointment is tomorrow",
    "touch_reminder_morning_of": "reminder: your appointment is today",
    "touch_check_in_evening": "how are you feeling after your dose?",
    "touch_check_in_24_hours": "how are you, a day after your dose?",
    "touch_dose_confirm": "did you have your dose?",
    "kind_reminder": "appointment reminder",
    "kind_check_in": "how are you feeling?",
    "kind_dose_confirm": "did you have your dose?",
    "kind_booking_nudge": "a reminder to book your next appointment",
    "reminder_line": "• {when}: {label}",
    # commands
    "help": "Here's what I can do:\n{commands}\n\n{emergency}",
    "menu": "What would you like to do?",
    "menu_next": "My next appointment",
    "menu_done": "I had my dose",
    "menu_reschedule": "Change my appointment",
    "menu_help": "Help",
    "not_understood": (
        "Sorry, I didn't understand that. If you feel unwell, contact your care team; in an emergency, call "
        "emergency services."
    ),
    "welcome_back": "Welcome back, {name}!",
    "next_appointment": "Your next appointment: {when}.",
    "next_none": "You have no appointment saved. When you have the date, send /reschedule.",
    "next_reminders": "Coming up:\n{lines}",
    "next_no_reminders": "No reminders are scheduled right now.",
    "paused_note": "Your reminders are paused (send /resume to restart them).",
    "learn": (
        "What would you like to know? Choose a topic, or type your question in your own words. For anything "
        "about your own treatment, ask your care team. (Topics, page {page} of {pages})"
    ),
    "learn_more_topics": "More topics",
    "learn_previous_topics": "Previous topics",
    "learn_all_topics": "All topics",
    "learn_sources": (
        "Sources: {sources}. General information only: your care team decides about your treatment."
    ),
    "learn_unknown": (
        "I don't know that one, sorry: I only answer from a small library of checked information. Please ask "
        "your care team. If you feel unwell, call your clinic; in an emergency, call emergency services."
    ),
    "paused": "Reminders paused. Send /resume whenever you want them back.",
    "already_paused": "Your reminders are already paused. Send /resume to restart them.",
    "resumed": "Your reminders are back on.",
    "already_active": "Your reminders are already on.",
    "idle_paused": "Your reminders are paused.",
    "idle_stopped": "You've stopped all reminders.",
    "resume_option": "Restart reminders",
    "ask_stop": "Stop all reminders and messages? You can come back later with /resume.",
    "stop_yes": "Yes, stop",
    "stop_no": "No, keep them",
    "stopped": (
        "Done: you won't get any more reminders. Your details stay saved; send /delete to erase them, or "
        "/resume to come back."
    ),
    "ask_delete": (
        "Erase everything I have about you (name, treatment details, appointments and messages)? This "
        "can't be undone."
    ),
    "delete_yes": "Yes, erase everything",
    "delete_no": "No, keep it",
    "deleted": "Everything has been erased. If you write again, we'll start from the beginning.",
    "export_ready": (
        "Here is a copy of everything we store about you, as a file. Keep it somewhere safe: it holds "
        "details about your health."
    ),
    "export_by_sms": (
        "A text message can't carry a file. To get a copy of everything we store about you, please ask "
        "your clinic: they can give it to you."
    ),
    "nothing_changed": "OK, nothing has changed.",
    "ask_language": "Which language would you like?",
    "language_set": "From now on I'll write in English.",
    "calendar": "Here are your coming appointments, with alerts, to add to your calendar.",
    "calendar_none": "There are no coming appointments to add yet.",
    "calendar_event_iv": "Ocrevus infusion",
    "calendar_event_sc": "Ocrevus injection",
    "calendar_alarm": "Ocrevus appointment",
    "ask_done_date": "Great! When did you have it?",
    "today": "Today",
    "yesterday": "Yesterday",
    "done_recorded": "Noted: you had your dose on {day}.",
    "done_next": (
        "The next one is usually due around {when}; your clinic will give you the exact date. When you have "
        "it, send /reschedule."
    ),
    "done_not_after_last": "Your last dose on record was on {last}; please send a later date.",
    "done_too_old": "That's more than a year ago; please check the date.",
    "enter_next_appointment": "Enter my next appointment",
    "ask_reschedule": 'What\'s the new date and time of your appointment? (for example "{example}")',
    "rescheduled": "Saved: your next appointment is {when}. I've updated your reminders.",
    "no_treatment": "I don't have your treatment details yet.",
    "timezone_updated": "Time zone updated: {city}. I've moved your reminders to your local time.",
    # check-in answers
    "checkin_expired": "That question has expired.",
    "checkin_details_thanks": (
        "Thank you for telling me; I've passed it on to your clinic team. If you feel worse, call emergency "
        "services now: {number}."
    ),
    "checkin_dose_known": "Thank you! I already have that dose on record.",
    "checkin_dose_moved": (
        "Thanks for letting me know. If you don't have a new date yet, ask your clinic, and tell me later "
        "with /reschedule."
    ),
    # invites
    "invite_ok": "Welcome! Your clinic invited you to this reminder service.",
    "invite_bad": (
        "That invitation code didn't work (it may have expired or been used already). You can ask your "
        "clinic for a new one, or sign up here yourself."
    ),
    "invite_other": (
        "This chat is already signed up. To use an invitation, first erase your data with /delete."
    ),
    "invite_same": "You're already linked to your clinic.",
    # weekly tips (/tips)
    "tips_state_on": "Weekly tips are on: one short tip about your treatment each week.",
    "tips_state_off": "Weekly tips are off. Would you like one short tip about your treatment each week?",
    "tips_turn_on": "Yes, send me tips",
    "tips_turn_off": "Stop the tips",
    "tips_started": "Weekly tips are on. The first one comes on {date}. Send /tips to stop them.",
    "tips_already_on": "Weekly tips are already on. The next one comes on {date}.",
    "tips_started_later": (
        "Weekly tips are on. They come once a week while your reminders are on. Send /tips to stop them."
    ),
    "tips_stopped": "Weekly tips are off: no more tips. Send /tips to turn them back on.",
    "tips_already_off": "Weekly tips are already off. Send /tips to turn them on.",
    # command list (Telegram's menu)
    "cmd_next": "Your next appointment and reminders",
    "cmd_done": "I've had my dose",
    "cmd_reschedule": "Change the date of your next appointment",
    "cmd_calendar": "Your appointments for your calendar",
    "cmd_learn": "Information about your treatment",
    "cmd_tips": "Weekly tips on or off",
    "cmd_pause": "Pause reminders",
    "cmd_resume": "Restart reminders",
    "cmd_timezone": "Change your time zone",
    "cmd_quiet": "When messages should not come",
    "cmd_phone": "Your number for text messages (SMS)",
    "cmd_language": "Change language / Cambiar idioma",
    "cmd_stop": "Stop all messages",
    "cmd_delete": "Erase all your data",
    "cmd_export": "A copy of your data",
    "cmd_help": "What I can do",
    "yes": "Yes",
    "no": "No",
    "invite_linked": "Linked. Your reminders will come here now.",
}
