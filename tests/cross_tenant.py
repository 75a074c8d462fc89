"""The cross-tenant walker: every API route, called by one tenant with another's ids.

A route that answers anything but 404 to another tenant's id has forgotten its
scope. Routes with ids in the path are found by themselves (from the OpenAPI
document); routes that take ids in the body or query are listed in `body_cases`.
A route whose path names an id kind the walker has no sample for is reported too,
so new routes cannot slip past it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.routes import api_operations, public_operations

# Sample bodies, so a route's body validation (422) does not hide what it does with the id.
SAMPLE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/leads/{lead_id}"): {"name": "Hijacked"},
    ("PATCH", "/api/users/{user_id}"): {"name": "Hijacked"},
    ("POST", "/api/leads/{lead_id}/call"): {"agentId": "any"},
    ("PATCH", "/api/calls/{call_id}"): {"notes": "Hijacked"},
    ("PUT", "/api/voice/agents/{agent_ref_id}"): {"tags": ["hijacked"]},
    ("PUT", "/api/voice/agents/{agent_ref_id}/analysis"): {"optedOut": True},
    ("POST", "/api/leads/{lead_id}/consent"): {"source": "api"},
    ("POST", "/api/leads/{lead_id}/callbacks"): {"at": "2030-01-07T10:00:00Z"},
    ("PATCH", "/api/webhook-endpoints/{endpoint_id}"): {"url": "https://attacker.example/hooks"},
    ("PATCH", "/api/campaigns/{campaign_id}"): {"name": "Hijacked"},
    ("POST", "/api/campaigns/{campaign_id}/cancel"): {"hangUp": True},
}


# Routes whose path id is the caller's own name for a row (a CRM's id, unique per tenant): another tenant's id
# is simply free in the caller's tenant, so the route creates the caller's own row (201) and never touches
# the victim's. Each with the body it is sent.
OWN_NAMESPACE_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/leads/by-external-id/{external_id}"): {"name": "Hijacked"},
}


OWN_NAMESPACE_IDS = {"external_id"}


@dataclass
class Case:
    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None


async def walk(app: FastAPI, client: httpx.AsyncClient, *, victim_ids: dict[str, str], attacker: dict[str, str],
               body_cases: list[Case]) -> tuple[list[str], int]:
    """Returns (problems, number of requests checked)."""
    problems: list[str] = []
    checked = 0
    public = public_operations()
    for method, template in api_operations(app):
        if (method, template) in public or not template.startswith("/api"):
            continue
        names = re.findall(r"{(\w+)}", template)
        if not names:
            continue
        missing = [n for n in names if n not in victim_ids]
        if missing:
            problems.append(f"{method} {template}: the walker has no other-tenant id for {missing}")
            continue
        path = template.format(**{n: victim_ids[n] for n in names})
        if (method, template) in OWN_NAMESPACE_ROUTES:
            r = await client.request(method, path, json=OWN_NAMESPACE_ROUTES[(method, template)], headers=attacker)
            checked += 1
            if r.status_code != 201 or r.json().get("tenantId") == victim_ids["tenant_id"]:
                problems.append(f"{method} {template} answered {r.status_code} to another tenant's id "
                                "instead of creating the caller's own")
            continue
        r = await client.request(method, path, json=SAMPLE_BODIES.get((method, template)), headers=attacker)
        checked += 1
        if r.status_code != 404:
            problems.append(f"{method} {template} answered {r.status_code} to another tenant's id")
    for case in body_cases:
        r = await client.request(case.method, case.path, json=case.json, params=case.params, headers=attacker)
        checked += 1
        if r.status_code != 404:
            problems.append(f"{case.method} {case.path} answered {r.status_code} to another tenant's id in the body")
    return problems, checked


async def list_leaks(app: FastAPI, client: httpx.AsyncClient, *, victim_ids: dict[str, str],
                     attacker: dict[str, str]) -> tuple[list[str], int]:
    """GET routes without ids must not show any of the other tenant's ids."""
    problems: list[str] = []
    checked = 0
    public = public_operations()
    for method, template in api_operations(app):
        if method != "GET" or "{" in template or (method, template) in public or not template.startswith("/api"):
            continue
        if template == "/api/events":
            continue  # a stream; covered by its own isolation test
        r = await client.get(template, headers=attacker)
        checked += 1
        for kind, value in victim_ids.items():
            if kind in OWN_NAMESPACE_IDS:
                continue  # the walk above made the caller a row of its own under this same name
            if value in r.text:
                problems.append(f"GET {template} shows another tenant's {kind}")
    return problems, checked
