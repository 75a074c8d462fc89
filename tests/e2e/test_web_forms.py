"""Mistakes in the web forms read in the page's language, worded from stable codes (pydantic's error
types, the services' error codes), never in pydantic's English. Plain HTTP, no browser needed."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.e2e.conftest import browser_session
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e

CSV_WITHOUT_NAMES = b"empresa,telefono\nAcme,+12025550100\n"
# pydantic's own sentences ("String should have at least 1 character", "Input should be ...") and the
# services' English details, which a Spanish page must not show.
PYDANTIC_WORDS = re.compile(r"should (have|be)|Input should|Value error")
SERVICE_WORDS = re.compile(r"already exists|needs a 'name'|must be|field required", re.IGNORECASE)

EXPECTED = {
    "es": {
        "title": "Revisa los datos",
        "account": ["Nombre: este campo es obligatorio", "API key: necesita al menos 8 caracteres"],
        "budget": ["Alertas al (%): escribe porcentajes enteros separados por comas, p. ej. 50, 80, 100",
                   "Presupuesto mensual: debe ser mayor que 0"],
        "budget_text": ["Presupuesto mensual: debe ser un número"],
        "budget_nan": ["Presupuesto mensual: debe ser un número finito"],
        "budget_huge": ["Presupuesto mensual: debe ser 10.000.000 o menos"],
        "agent": ["Máx. llamadas a la vez: debe ser 1 o más"],
        "user": ["Contraseña: necesita al menos 10 caracteres"],
        "user_taken": ["No es posible ahora mismo", "Ya hay un usuario con el email {email}."],
        "csv": ["Falta la columna «nombre» (también vale «name»)."],
    },
    "en": {
        "title": "Please check the data",
        "account": ["Name: this field is required", "API key: needs at least 8 characters"],
        "budget": ["Alert at (%): write whole percentages separated by commas, e.g. 50, 80, 100",
                   "Monthly budget: must be more than 0"],
        "budget_text": ["Monthly budget: must be a number"],
        "budget_nan": ["Monthly budget: must be a finite number"],
        "budget_huge": ["Monthly budget: must be 10,000,000 or less"],
        "agent": ["Max calls at once: must be 1 or more"],
        "user": ["Password: needs at least 10 characters"],
        "user_taken": ["Not possible right now", "A user with the email {email} already exists."],
        "csv": ["The file needs a 'name' column (also accepted: 'nombre')."],
    },
}


def toast(response: httpx.Response) -> str:
    """The words of the error toast an htmx form gets back."""
    assert response.headers.get("HX-Retarget") == "#toast", response.text
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.text).split()))


async def test_form_mistakes_read_in_the_pages_language(live: LiveServer, cw: CallWorld) -> None:
    admin = await browser_session(live, cw.world.admin)
    agents = await admin.get("/settings/agents", headers={"HX-Request": ""})
    agent_ref = re.search(r'hx-post="/settings/agents/([^"]+)"', agents.text)
    assert agent_ref is not None
    taken = cw.world.member.email
    try:
        for lang in ("es", "en"):
            switched = await admin.post("/lang", data={"lang": lang, "next": "/settings"})
            assert switched.status_code == 303
            words = {key: [w.format(email=taken) for w in value] if isinstance(value, list) else value
                     for key, value in EXPECTED[lang].items()}
            sent = {
                "account": await admin.post("/settings/accounts", data={"name": "", "api_key": "short"}),
                "budget": await admin.post("/settings/budget", data={"monthly_limit": "0", "thresholds": "50, x"}),
                "budget_text": await admin.post("/settings/budget", data={"monthly_limit": "mucho"}),
                "budget_nan": await admin.post("/settings/budget", data={"monthly_limit": "nan"}),
                "budget_huge": await admin.post("/settings/budget", data={"monthly_limit": "1e15"}),
                "agent": await admin.post(f"/settings/agents/{agent_ref.group(1)}",
                                          data={"max_concurrent_calls": "0"}),
                "user": await admin.post("/settings/users", data={
                    "name": "Nueva", "email": "nueva@example.com", "password": "corta",
                    "organization_id": cw.world.org_id}),
                "user_taken": await admin.post("/settings/users", data={
                    "name": "Otra", "email": taken, "password": "una clave larga", "organization_id": cw.world.org_id}),
                "csv": await admin.post("/leads/import", files={"file": ("leads.csv", CSV_WITHOUT_NAMES, "text/csv")}),
            }
            for form, response in sent.items():
                text = toast(response)
                if form != "user_taken":
                    assert response.status_code == 422, (lang, form, text)
                    assert text.startswith(str(words["title"])), (lang, form, text)
                for phrase in words[form]:
                    assert phrase in text, (lang, form, text)
                assert not PYDANTIC_WORDS.search(text), (lang, form, text)
                if lang == "es":
                    assert not SERVICE_WORDS.search(text), (form, text)
    finally:
        await admin.aclose()
