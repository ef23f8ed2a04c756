"""Shorter sentences for SMS, where every reply must fit in two segments (`bot.sms_text`).

Owns only the keys whose full sentence is too long for a text message; any other key is said as in
`en.py` / `es.py`. Same placeholders as there, or fewer (a list of reminders is left out by SMS). The
consent is the SMS double opt-in: the patient texted JOIN (or a code), and a YES here is their agreement
to get texts. Commands are written as the words to text ("STOP", "DELETE"), not "/stop".
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "consent": (
            "Ocrevus reminders: appointments, check-ins after doses, info. I keep your name, city, "
            "treatment and dates only for this; clinic staff see them. No medical advice. Emergency? Call "
            "emergency services. Msg&data rates may apply. Agree to get texts?"
        ),
        "consent_yes": "Yes",
        "consent_no": "No",
        "language_set": "In English.",
        "summary": (
            "Please check: {name}, {city} (now {time}). {formulation}. Last dose: {last}. Next: "
            "{appointment}. Is this right?"
        ),
        "confirm_yes": "Yes",
        "signup_done": "You're all set, {name}! Reminders will come by text. STOP ends them, HELP for help.",
        "next_reminders": "I'll remind you before it and check on you after.",
        "learn": (
            "Pick a topic or type a question. Your own treatment? Ask your care team. "
            "(page {page} of {pages})"
        ),
        "learn_unknown": (
            "Sorry, I don't know that one. Unwell? Call your clinic. Emergency? Call emergency services."
        ),
        "tips_state_on": "Weekly tips are on: one short tip a week. Text TIPS OFF to stop them.",
        "tips_state_off": "Weekly tips are off. Text TIPS to get one short tip about your treatment a week.",
        "tips_started": "Weekly tips are on. The first comes on {date}. Text TIPS OFF to stop them.",
        "tips_already_on": (
            "Weekly tips are already on. The next comes on {date}. Text TIPS OFF to stop them."
        ),
        "tips_started_later": (
            "Weekly tips are on. They come once a week while your reminders are on. Text TIPS OFF to stop "
            "them."
        ),
        "tips_stopped": "Weekly tips are off. Text TIPS to turn them back on.",
        "tips_already_off": "Weekly tips are already off. Text TIPS to turn them on.",
    },
    "es": {
        "consent": (
            "Recordatorios de Ocrevus: citas, seguimiento e info. Guardo tu nombre, ciudad, tratamiento y "
            "fechas solo para esto; la clínica los ve. Sin consejos médicos. ¿Emergencia? Llama a "
            "emergencias. Pueden aplicarse tarifas. ¿Aceptas?"
        ),
        "consent_yes": "Sí",
        "consent_no": "No",
        "language_set": "En español.",
        "summary": (
            "Revisa: {name}, {city} (ahora {time}). {formulation}. Última dosis: {last}. Próxima cita: "
            "{appointment}. ¿Es correcto?"
        ),
        "confirm_yes": "Sí",
        "signup_done": (
            "¡Todo listo, {name}! Los recordatorios llegarán por SMS. STOP para parar, HELP para ayuda."
        ),
        "next_reminders": "Te lo recordaré antes y te preguntaré cómo estás después.",
        "learn": (
            "Elige un tema o escribe tu pregunta. ¿Tu tratamiento? Pregunta a tu equipo médico. "
            "(página {page} de {pages})"
        ),
        "learn_unknown": (
            "Lo siento, no lo sé. ¿Estás mal? Llama a tu clínica. ¿Emergencia? Llama a emergencias."
        ),
        "tips_state_on": "Los consejos semanales están activados. Envía CONSEJOS NO para pararlos.",
        "tips_state_off": (
            "Los consejos semanales están desactivados. Envía CONSEJOS para recibir uno breve cada semana."
        ),
        "tips_started": (
            "Consejos semanales activados. El primero llegará el {date}. Envía CONSEJOS NO para pararlos."
        ),
        "tips_already_on": (
            "Los consejos semanales ya están activados. El próximo llegará el {date}. Envía CONSEJOS NO para "
            "pararlos."
        ),
        "tips_started_later": (
            "Consejos semanales activados: llegan cada semana mientras tus recordatorios estén activos. "
            "Envía CONSEJOS NO para pararlos."
        ),
        "tips_stopped": "Consejos semanales desactivados. Envía CONSEJOS para volver a activarlos.",
        "tips_already_off": "Los consejos semanales ya están desactivados. Envía CONSEJOS para activarlos.",
    },
}
