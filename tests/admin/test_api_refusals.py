"""The JSON API's refusals answer as they always have: the status code and the `detail` text, for a patient
or alert that does not exist (404) and for an action that does not apply to it now (409). Runs on SQLite and
PostgreSQL; the table is the contract the exception handlers keep."""

from __future__ import annotations

from datetime import timedelta

from storage.models import OperatorRole
from tests.admin.console import NOW, Console, add_operator, add_sandbox, add_token, seed
from tests.jobs.builders import add_patient

MISSING = 999
LATER = (NOW.replace(tzinfo=None) + timedelta(days=200)).isoformat()
EARLIER = (NOW.replace(tzinfo=None) - timedelta(days=2)).isoformat()


async def test_every_missing_patient_or_alert_is_a_404_naming_it(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(console.sessions, 'nurse@clinic.example')}"}
    base = f"/api/patients/{MISSING}"
    calls = {
        "pause": ("POST", f"{base}/pause", None),
        "resume": ("POST", f"{base}/resume", None),
        "unsubscribe": ("POST", f"{base}/unsubscribe", None),
        "tips_read": ("GET", f"{base}/tips", None),
        "tips_off": ("PUT", f"{base}/tips", {"on": False}),
        "quiet_read": ("GET", f"{base}/quiet-hours", None),
        "quiet_set": ("PUT", f"{base}/quiet-hours", {"start": "22:00", "end": "07:00"}),
        "invite": ("POST", f"{base}/invites", {}),
        "appointment": ("PUT", f"{base}/appointment", {"starts_at": LATER}),
        "dose": ("POST", f"{base}/doses", {"given_at": EARLIER}),
        "message": ("POST", f"{base}/messages", {"text": "hello"}),
        "erase": ("POST", f"{base}/erase", {"confirm": str(MISSING)}),
        "ack": ("POST", f"/api/alerts/{MISSING}/ack", {"note": "called her"}),
    }
    answers = {}
    for name, (method, url, body) in calls.items():
        answer = await console.client.request(method, url, json=body, headers=auth)
        answers[name] = (answer.status_code, answer.json())
    gone = (404, {"detail": f"patient {MISSING} does not exist"})
    assert answers == dict.fromkeys(calls, gone) | {
        "ack": (404, {"detail": f"no flagged check-in {MISSING}"})
    }


async def test_every_action_that_does_not_apply_now_is_a_409_saying_why(console: Console) -> None:
    seeded = await seed(console.sessions)  # Ana active (IV, Telegram), Bea paused (SMS), Carl stopped
    sandbox = await add_sandbox(console.sessions)
    async with console.sessions() as session, session.begin():
        dana = (await add_patient(session, display_name="Dana")).id  # active, no channel, no formulation
    await add_operator(console.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(console.sessions, 'nurse@clinic.example')}"}
    ana, carl = f"/api/patients/{seeded.active}", f"/api/patients/{seeded.stopped}"
    calls = {
        "pause_stopped": ("POST", f"{carl}/pause", None),
        "resume_active": ("POST", f"{ana}/resume", None),
        "unsubscribe_stopped": ("POST", f"{carl}/unsubscribe", None),
        "tips_on": ("PUT", f"{ana}/tips", {"on": True}),
        "invite_stopped": ("POST", f"{carl}/invites", {}),
        "invite_active_texted": ("POST", f"{ana}/invites", {"phone": "+34600111222"}),
        "invite_sandbox": ("POST", f"/api/patients/{sandbox.id}/invites", {}),
        "appointment_stopped": ("PUT", f"{carl}/appointment", {"starts_at": LATER}),
        "appointment_no_formulation": ("PUT", f"/api/patients/{dana}/appointment", {"starts_at": LATER}),
        "dose_stopped": ("POST", f"{carl}/doses", {"given_at": EARLIER}),
        "message_stopped": ("POST", f"{carl}/messages", {"text": "hello"}),
        "message_no_channel": ("POST", f"/api/patients/{dana}/messages", {"text": "hello"}),
        "ack": ("POST", f"/api/alerts/{seeded.check_in}/ack", {"note": "called her"}),
        "ack_again": ("POST", f"/api/alerts/{seeded.check_in}/ack", {"note": "called her"}),
    }
    answers = {}
    for name, (method, url, body) in calls.items():
        answer = await console.client.request(method, url, json=body, headers=auth)
        answers[name] = (answer.status_code, answer.json() if answer.status_code != 200 else None)
    assert answers == {
        "pause_stopped": (409, {"detail": "cannot pause a patient who is stopped"}),
        "resume_active": (409, {"detail": "cannot resume a patient who is active"}),
        "unsubscribe_stopped": (409, {"detail": "cannot unsubscribe a patient who is stopped"}),
        "tips_on": (
            409,
            {
                "detail": "weekly tips are the patient's own choice: they turn them on with /tips "
                "(TIPS by SMS); the console can only turn them off"
            },
        ),
        "invite_stopped": (
            409,
            {
                "detail": "the patient is stopped: invites are for patients signing up, and Telegram links "
                "for active or paused ones"
            },
        ),
        "invite_active_texted": (
            409,
            {
                "detail": "the patient is active: their phone is already known, and a Telegram link invite "
                "is not texted (leave the phone out)"
            },
        ),
        "invite_sandbox": (
            409,
            {"detail": "a sandbox patient is reached only through the simulator: no invites"},
        ),
        "appointment_stopped": (409, {"detail": "the patient is stopped: their course cannot change"}),
        "appointment_no_formulation": (
            409,
            {"detail": "the patient's formulation (IV or SC) is not known yet"},
        ),
        "dose_stopped": (409, {"detail": "the patient is stopped: their course cannot change"}),
        "message_stopped": (409, {"detail": "the patient is stopped: only active patients get messages"}),
        "message_no_channel": (409, {"detail": "the patient has no channel that can receive a message"}),
        "ack": (200, None),
        "ack_again": (409, {"detail": "this alert was already acknowledged"}),
    }
