"""Frases en español del diálogo (las mismas claves y marcadores que `en.py`; un test lo comprueba)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # input we cannot use
    "bad_not_text": "Solo puedo leer mensajes de texto.",
    "bad_empty": "Ese mensaje parece vacío.",
    "bad_too_long": "Ese mensaje es demasiado largo para mí; envía una respuesta corta, por favor.",
    "bad_no_words": "No encontré palabras ni números en eso.",
    "bad_contact": "Gracias, pero ahora no necesito un número de teléfono.",
    "choose_option": "Elige una de las opciones, por favor.",
    "stale_option": "Ese botón es de una pregunta anterior.",
    "finish_signup_first": "Primero terminemos el registro.",
    "emergency": (
        "En una emergencia (por ejemplo hinchazón de la cara, los labios, la lengua o la garganta, "
        "dificultad para respirar, dolor en el pecho o desmayo), llama enseguida a emergencias."
    ),
    # consent
    "consent": (
        "¡Hola! Soy un servicio de recordatorios para personas en tratamiento con Ocrevus (ocrelizumab). "
        "Puedo recordarte cada cita, preguntarte cómo te encuentras después y compartir información "
        "breve.\n\n"
        "Para eso guardo: el nombre que me des, tu idioma y zona horaria, cómo recibes el tratamiento, las "
        "fechas de tus citas y, si lo añades, tu número de teléfono. Solo los uso para enviarte estos "
        "mensajes, y el personal del servicio puede verlos.\n\n"
        "No doy consejos médicos: tu equipo médico decide sobre tu tratamiento.\n"
        "En una emergencia, llama enseguida a emergencias.\n"
        "Puedes parar cuando quieras con /stop, o borrarlo todo con /delete.\n\n"
        "¿Estás de acuerdo?"
    ),
    "consent_yes": "Sí, acepto",
    "consent_no": "No, gracias",
    "consent_declined": "Sin problema: no he guardado nada. Si cambias de idea, vuelve a escribirme.",
    "language_name": "Español",
    # name
    "ask_name": "¿Cómo quieres que te llame?",
    "name_invalid": "Envíame solo el nombre que quieres que use (letras, hasta 50 caracteres).",
    "name_saved": "¡Encantado de conocerte, {name}!",
    # time zone
    "ask_timezone": (
        "¿En qué ciudad o país estás? Lo necesito para enviarte los mensajes a tu hora local. Escríbelo "
        "(por ejemplo Madrid o Ciudad de México) o elige uno:"
    ),
    "tz_not_found": "No encontré ese lugar. Prueba con una ciudad grande cercana o con tu país.",
    "tz_confirm_one": "En {city} son las {time} del {day}. ¿Es tu hora local?",
    "tz_pick": "¿Cuál de estas es tu hora local ahora?",
    "tz_option": "{city} ({time})",
    "tz_other": "Otro lugar",
    "tz_saved": "Zona horaria guardada: {city}.",
    # horas de silencio (/quiet): los mensajes programados esperan; las respuestas y las emergencias no
    "quiet_is_default": (
        "Horas de silencio: {hours} (hora de {city}), las habituales. Los mensajes programados esperan a "
        "que terminen; mis respuestas nunca esperan. Para cambiarlas: /quiet 22:00-07:00, o /quiet off."
    ),
    "quiet_is_own": (
        "Horas de silencio: {hours} (hora de {city}), las que elegiste. Los mensajes programados esperan a "
        "que terminen. Para cambiarlas: /quiet 22:00-07:00, /quiet off, o /quiet default."
    ),
    "quiet_is_none": (
        "Sin horas de silencio: los mensajes programados pueden llegar a cualquier hora. Para ponerlas: "
        "/quiet 22:00-07:00."
    ),
    "quiet_set_default": "Hecho: vuelven las horas de silencio habituales, {hours} (hora de {city}).",
    "quiet_set_own": (
        "Hecho: tus horas de silencio son ahora {hours} (hora de {city}). He movido tus recordatorios."
    ),
    "quiet_set_none": "Hecho: sin horas de silencio. Los mensajes programados pueden llegar a toda hora.",
    "quiet_bad": "Envía las horas así: /quiet 22:00-07:00 (18 horas como máximo), o /quiet off.",
    # treatment
    "ask_formulation": "¿Cómo recibes Ocrevus?",
    "formulation_iv": "Infusión en la vena (intravenosa)",
    "formulation_sc": "Inyección bajo la piel (Ocrevus Zunovo)",
    "ask_stage": "¿En qué punto de tu tratamiento estás?",
    "stage_iv_not_started": "Aún no he tenido la primera infusión",
    "stage_iv_between": "Tuve la infusión 1; la siguiente es la 2",
    "stage_iv_six_monthly": "Estoy con las infusiones cada 6 meses",
    "stage_sc_not_started": "Será mi primera inyección",
    "stage_sc_six_monthly": "Ya he tenido inyecciones",
    "ask_last_dose_iv_between": "¿Cuándo tuviste la infusión 1? (por ejemplo 3 de noviembre)",
    "ask_last_dose_iv": "¿Cuándo fue tu última infusión? (por ejemplo 3 de junio)",
    "ask_last_dose_sc": "¿Cuándo fue tu última inyección? (por ejemplo 3 de junio)",
    "not_sure": "No estoy seguro/a",
    "last_dose_future": "Esa fecha aún no ha llegado. Envíame la fecha de la dosis que ya recibiste.",
    "last_dose_too_old": "Eso fue hace más de dos años; revisa el año, por favor.",
    # dates
    "date_example": "12 de marzo 9:30",
    "date_unreadable": 'No pude leer una fecha. Prueba algo como "{example}".',
    "date_impossible": "Esa fecha u hora no existe. Revísala y envíala otra vez.",
    "date_no_date": "Tengo la hora, pero no el día. ¿Qué día es?",
    "time_unreadable": "No pude leer la hora. Envíala como 9:30 o 14:00.",
    "dose_iv_1": "infusión 1",
    "dose_iv_2": "infusión 2",
    "dose_iv": "infusión",
    "dose_sc": "inyección",
    "ask_appointment": (
        '¿Cuándo es tu próxima cita ({dose})? Envía la fecha y la hora, como "12 de marzo 9:30" o '
        '"el martes que viene a las 10".'
    ),
    "no_date_yet": "Aún no tengo fecha",
    "ask_appointment_time": "¿A qué hora es el {day}? (por ejemplo 9:30)",
    "error_in_past": "{when} ya pasó. Envíame una fecha que aún no haya llegado.",
    "error_not_after_last_dose": "Esa fecha no es posterior a tu última dosis ({last}). Revísala, por favor.",
    "error_beyond_window": "Eso es dentro de más de un año. Revisa el año, por favor.",
    "warn_under_minimum_interval": (
        "Normalmente las dosis se separan al menos 5 meses, y {when} es menos de 5 meses después de tu "
        "última dosis ({last})."
    ),
    "warn_infusion_2_not_14_days": (
        "La infusión 2 suele ser dos semanas después de la infusión 1 (hacia el {expected}), y esta fecha "
        "es {days} días después."
    ),
    "warn_confirm": "Consúltalo con tu clínica. ¿Es {when} la fecha que te dio tu clínica?",
    "warn_keep": "Sí, mantener esta fecha",
    "warn_change": "No, cambiarla",
    # place and phone
    "ask_place": "¿Dónde es la cita? (por ejemplo el nombre del hospital o la clínica)",
    "place_too_long": "Envía un nombre de lugar más corto (hasta 200 caracteres).",
    "skip": "Omitir",
    "ask_phone": (
        "¿Quieres recibir también los recordatorios por mensaje de texto (SMS)? Comparte tu contacto o "
        "escribe tu número con el prefijo del país (como +34 600 000 000). Por tu privacidad, los SMS "
        "empiezan solo cuando respondas SÍ desde ese teléfono. Puedes pararlos cuando quieras."
    ),
    "phone_no": "No, gracias",
    "phone_share": "Compartir mi número",
    "phone_invalid": (
        "Ese no parece un número de teléfono válido. Incluye el prefijo del país, como +34 600 000 000, "
        'o elige "No, gracias".'
    ),
    "phone_taken": 'Ese número ya está registrado. Envía otro, o elige "No, gracias".',
    # summary
    "summary": (
        "Esto es lo que tengo:\n"
        "Nombre: {name}\n"
        "Zona horaria: {city} (ahora {time})\n"
        "Tratamiento: {formulation}\n"
        "Última dosis: {last}\n"
        "Próxima cita: {appointment}\n"
        "SMS: {phone}\n\n"
        "Próximos recordatorios:\n{reminders}\n\n"
        "¿Es correcto?"
    ),
    "summary_none": "ninguno",
    "summary_no_dose": "ninguna",
    "summary_no_appointment": "sin fecha todavía",
    "summary_at_place": "{when}, en {place}",
    "summary_no_reminders": "ninguno todavía: empezaré cuando tengas fecha de cita",
    "confirm_yes": "Sí, activar mis recordatorios",
    "confirm_restart": "Empezar de nuevo",
    "signup_done": (
        "¡Todo listo, {name}! Te enviaré los recordatorios en esos momentos. Envía /help para ver lo que "
        "puedo hacer."
    ),
    "sms_confirm_sent": (
        "He enviado un SMS al {phone}. Responde SÍ desde ese teléfono para recibir también tus recordatorios "
        "por SMS, como respaldo. Mientras tanto (o si no respondes), llegarán aquí por Telegram."
    ),
    # the text to a number typed at sign-up: no condition, no treatment named (it may be a stranger's)
    "sms_confirm_request": (
        "Recordatorios de tu clínica: responde SÍ para recibir aquí los recordatorios de tus citas. "
        "¿No eres tú? Responde STOP."
    ),
    "sms_already_on": "Los recordatorios por SMS ya están activos en este número. Envía STOP para pararlos.",
    # /phone: el número para SMS, después del alta
    "phone_none": (
        "No tienes número para mensajes de texto (SMS). ¿Quieres añadir uno como respaldo, para cuando "
        "Telegram no te llegue?"
    ),
    "phone_is": "Tu número para mensajes de texto (SMS): {phone}\n{state}",
    "phone_state_on": "Los SMS están activos: si Telegram no te llega, tus recordatorios llegan por SMS.",
    "phone_state_waiting": (
        "Esperando tu SÍ: responde SÍ a nuestro SMS desde ese teléfono para activar los SMS."
    ),
    "phone_state_off": (
        "Los SMS están desactivados: ese teléfono respondió STOP. Envía START desde él para reactivarlos."
    ),
    "phone_state_unreachable": "Ahora mismo los SMS no llegan a ese número.",
    "phone_state_unavailable": "Los SMS no están disponibles en esta clínica: no se le envía nada.",
    "phone_add": "Añadir un número",
    "phone_change": "Cambiar el número",
    "phone_remove": "Quitar el número",
    "phone_keep": "Dejarlo como está",
    "phone_not_now": "Ahora no",
    "phone_cancel": "Cancelar",
    "phone_ask": (
        "Escribe tu número de móvil con el prefijo del país (como +34 600 000 000), o comparte tu contacto. "
        "Le enviaré un SMS: los SMS empiezan solo cuando respondas SÍ desde ese teléfono."
    ),
    "phone_invalid_retry": (
        "Eso no parece un número de teléfono. Escríbelo con el prefijo del país, como +34 600 000 000, "
        'o elige "Cancelar".'
    ),
    "phone_taken_retry": 'Lo siento, no puedo usar ese número. Envía otro, o elige "Cancelar".',
    "phone_same": "Ese ya es tu número para mensajes de texto, así que no ha cambiado nada.",
    "phone_ask_remove": (
        "¿Quitar el {phone}? No le llegarán más SMS; tus recordatorios llegarán aquí por Telegram."
    ),
    "phone_remove_yes": "Sí, quitarlo",
    "phone_remove_no": "No, mantenerlo",
    "phone_removed": (
        "Hecho: el {phone} está quitado y no recibirá más SMS. Tus recordatorios llegarán aquí por Telegram."
    ),
    "phone_unavailable": (
        "Lo siento, los mensajes de texto (SMS) no están disponibles en esta clínica. Los recordatorios "
        "llegan aquí."
    ),
    "phone_resume_first": (
        "Tus recordatorios están en pausa o parados. Envía /resume primero y luego añade tu número."
    ),
    "phone_by_sms": (
        "Para cambiar o quitar este número, envía /phone en Telegram. Para parar los SMS, responde STOP."
    ),
    # reminder labels
    "touch_reminder_7_days": "recordatorio: tu cita es en una semana",
    "touch_reminder_day_before": "recordatorio: tu cita es mañana",
    "touch_reminder_morning_of": "recordatorio: tu cita es hoy",
    "touch_check_in_evening": "¿cómo te encuentras después de tu dosis?",
    "touch_check_in_24_hours": "¿cómo estás, un día después de tu dosis?",
    "touch_dose_confirm": "¿recibiste tu dosis?",
    "kind_reminder": "recordatorio de la cita",
    "kind_check_in": "¿cómo te encuentras?",
    "kind_dose_confirm": "¿recibiste tu dosis?",
    "kind_booking_nudge": "un recordatorio para pedir tu próxima cita",
    "reminder_line": "• {when}: {label}",
    # commands
    "help": "Esto es lo que puedo hacer:\n{commands}\n\n{emergency}",
    "menu": "¿Qué quieres hacer?",
    "menu_next": "Mi próxima cita",
    "menu_done": "Ya recibí mi dosis",
    "menu_reschedule": "Cambiar mi cita",
    "menu_help": "Ayuda",
    "not_understood": (
        "Perdona, no lo entendí. Si no te encuentras bien, contacta con tu equipo médico; en una emergencia, "
        "llama a emergencias."
    ),
    "welcome_back": "¡Hola de nuevo, {name}!",
    "next_appointment": "Tu próxima cita: {when}.",
    "next_none": "No tienes ninguna cita guardada. Cuando tengas la fecha, envía /reschedule.",
    "next_reminders": "Próximamente:\n{lines}",
    "next_no_reminders": "Ahora mismo no hay recordatorios programados.",
    "paused_note": "Tus recordatorios están en pausa (envía /resume para reanudarlos).",
    "learn": (
        "¿Qué quieres saber? Elige un tema o escribe tu pregunta con tus palabras. Para lo que tenga que ver "
        "con tu propio tratamiento, pregunta a tu equipo médico. (Temas, página {page} de {pages})"
    ),
    "learn_more_topics": "Más temas",
    "learn_previous_topics": "Temas anteriores",
    "learn_all_topics": "Todos los temas",
    "learn_sources": (
        "Fuentes: {sources}. Es información general: tu equipo médico decide sobre tu tratamiento."
    ),
    "learn_unknown": (
        "Lo siento, eso no lo sé: solo respondo con una pequeña biblioteca de información revisada. "
        "Pregunta a tu equipo médico. Si te encuentras mal, llama a tu clínica; en una emergencia, llama a "
        "emergencias."
    ),
    "paused": "Recordatorios en pausa. Envía /resume cuando quieras reanudarlos.",
    "already_paused": "Tus recordatorios ya están en pausa. Envía /resume para reanudarlos.",
    "resumed": "Tus recordatorios vuelven a estar activos.",
    "already_active": "Tus recordatorios ya están activos.",
    "idle_paused": "Tus recordatorios están en pausa.",
    "idle_stopped": "Has parado todos los recordatorios.",
    "resume_option": "Reanudar recordatorios",
    "ask_stop": "¿Parar todos los recordatorios y mensajes? Puedes volver más tarde con /resume.",
    "stop_yes": "Sí, parar",
    "stop_no": "No, mantenerlos",
    "stopped": (
        "Hecho: no recibirás más recordatorios. Tus datos siguen guardados; envía /delete para borrarlos, "
        "o /resume para volver."
    ),
    "ask_delete": (
        "¿Borrar todo lo que tengo sobre ti (nombre, datos del tratamiento, citas y mensajes)? No se puede "
        "deshacer."
    ),
    "delete_yes": "Sí, borrarlo todo",
    "delete_no": "No, mantenerlo",
    "deleted": "Todo se ha borrado. Si vuelves a escribir, empezaremos desde el principio.",
    "export_ready": (
        "Aquí tienes una copia de todo lo que guardamos sobre ti, en un archivo. Guárdala en un lugar "
        "seguro: contiene datos sobre tu salud."
    ),
    "export_by_sms": (
        "Un SMS no puede llevar un archivo. Para recibir una copia de todo lo que guardamos sobre ti, "
        "pídesela a tu clínica: ellos te la pueden dar."
    ),
    "nothing_changed": "De acuerdo, no ha cambiado nada.",
    "ask_language": "¿Qué idioma prefieres?",
    "language_set": "A partir de ahora te escribiré en español.",
    "calendar": "Aquí tienes tus próximas citas, con avisos, para añadirlas a tu calendario.",
    "calendar_none": "Todavía no hay próximas citas que añadir.",
    "calendar_event_iv": "Infusión de Ocrevus",
    "calendar_event_sc": "Inyección de Ocrevus",
    "calendar_alarm": "Cita de Ocrevus",
    "ask_done_date": "¡Genial! ¿Cuándo la recibiste?",
    "today": "Hoy",
    "yesterday": "Ayer",
    "done_recorded": "Anotado: recibiste tu dosis el {day}.",
    "done_next": (
        "La siguiente suele tocar hacia el {when}; tu clínica te dará la fecha exacta. Cuando la tengas, "
        "envía /reschedule."
    ),
    "done_not_after_last": "Tu última dosis registrada fue el {last}; envía una fecha posterior.",
    "done_too_old": "Eso fue hace más de un año; revisa la fecha, por favor.",
    "enter_next_appointment": "Añadir mi próxima cita",
    "ask_reschedule": '¿Cuál es la nueva fecha y hora de tu cita? (por ejemplo "{example}")',
    "rescheduled": "Guardado: tu próxima cita es {when}. He actualizado tus recordatorios.",
    "no_treatment": "Todavía no tengo los datos de tu tratamiento.",
    "timezone_updated": "Zona horaria actualizada: {city}. He pasado tus recordatorios a tu hora local.",
    # check-in answers
    "checkin_expired": "Esa pregunta ya caducó.",
    "checkin_details_thanks": (
        "Gracias por contármelo; se lo he pasado a tu equipo de la clínica. Si te sientes peor, llama ahora "
        "a emergencias: {number}."
    ),
    "checkin_dose_known": "¡Gracias! Ya tengo esa dosis anotada.",
    "checkin_dose_moved": (
        "Gracias por avisarme. Si aún no tienes nueva fecha, pídela a tu clínica y dímela luego con "
        "/reschedule."
    ),
    # invites
    "invite_ok": "¡Bienvenido/a! Tu clínica te ha invitado a este servicio de recordatorios.",
    "invite_bad": (
        "Ese código de invitación no funcionó (puede que haya caducado o ya se haya usado). Puedes pedir uno "
        "nuevo a tu clínica, o registrarte aquí por tu cuenta."
    ),
    "invite_other": (
        "Este chat ya está registrado. Para usar una invitación, borra antes tus datos con /delete."
    ),
    "invite_same": "Ya estás vinculado/a con tu clínica.",
    # weekly tips (/tips)
    "tips_state_on": (
        "Los consejos semanales están activados: un consejo breve sobre tu tratamiento cada semana."
    ),
    "tips_state_off": (
        "Los consejos semanales están desactivados. ¿Quieres recibir un consejo breve sobre tu tratamiento "
        "cada semana?"
    ),
    "tips_turn_on": "Sí, envíame consejos",
    "tips_turn_off": "Parar los consejos",
    "tips_started": (
        "Consejos semanales activados. El primero llegará el {date}. Envía /tips para dejar de recibirlos."
    ),
    "tips_already_on": "Los consejos semanales ya están activados. El próximo llegará el {date}.",
    "tips_started_later": (
        "Consejos semanales activados. Llegan una vez por semana mientras tus recordatorios estén activos. "
        "Envía /tips para dejar de recibirlos."
    ),
    "tips_stopped": (
        "Consejos semanales desactivados: no recibirás más. Envía /tips para volver a activarlos."
    ),
    "tips_already_off": "Los consejos semanales ya están desactivados. Envía /tips para activarlos.",
    # command list (Telegram's menu)
    "cmd_next": "Tu próxima cita y recordatorios",
    "cmd_done": "Ya recibí mi dosis",
    "cmd_reschedule": "Cambiar la fecha de tu próxima cita",
    "cmd_calendar": "Tus citas para tu calendario",
    "cmd_learn": "Información sobre tu tratamiento",
    "cmd_tips": "Consejos semanales: sí o no",
    "cmd_pause": "Pausar los recordatorios",
    "cmd_resume": "Reanudar los recordatorios",
    "cmd_timezone": "Cambiar tu zona horaria",
    "cmd_quiet": "Cuándo no deben llegar mensajes",
    "cmd_phone": "Tu número para mensajes de texto (SMS)",
    "cmd_language": "Cambiar idioma / Change language",
    "cmd_stop": "Parar todos los mensajes",
    "cmd_delete": "Borrar todos tus datos",
    "cmd_export": "Una copia de tus datos",
    "cmd_help": "Lo que puedo hacer",
    "yes": "Sí",
    "no": "No",
    "invite_linked": "Listo. Tus recordatorios llegarán aquí a partir de ahora.",
}
