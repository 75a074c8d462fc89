"""Schemathesis against the live app (uvicorn, the simulator mounted, a signed-in admin of a test tenant):
every documented operation is sent generated valid and invalid input, and no answer may be a server error
or contradict /openapi.json (status, content type, headers, body schema).

Bounded for a small machine: a fixed number of examples per operation and generation mode, fixed seed (the
same cases every run), no shrinking. Cases are sent from a worker thread, as schemathesis' HTTP calls block
and the server runs in the tests' event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live import CallWorld, LiveServer

EXAMPLES = int(os.environ.get("LEADCALL_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# The event stream never ends (its handshake is tested in tests/calls); /health answers 503 whenever no
# worker swept in the last minute, which on the
# tests' clock (moved hours ahead by earlier tests) is a true answer, not a server error (tests/test_health.py).
SKIPPED = {("GET", "/api/events"), ("GET", "/health")}


def _examples(strategy: SearchStrategy[schemathesis.Case], base_url: str, http: requests.Session,
              headers: dict[str, str], answered: Counter[int]) -> None:
    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=base_url, session=http, headers=headers, checks=CHECKS)
        answered[response.status_code] += 1

    run()


def _fuzz(doc: dict[str, Any], base_url: str, tokens: dict[str, str], known: dict[str, str],
          answered: Counter[int]) -> list[str]:
    schema = schemathesis.openapi.from_dict(doc)
    failures: list[str] = []
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            # A token of its own, so an operation that ends sessions or tokens cannot blind the ones after it.
            headers = {"Authorization": f"Bearer {tokens[label]}"}
            declared = doc["paths"][operation.path][operation.method.lower()].get("parameters", [])
            ids = {p["name"]: known[p["name"]] for p in declared if p["in"] == "path" and p["name"] in known}
            query = {p["name"]: known[p["name"]] for p in declared if p["in"] == "query" and p["name"] in known}
            strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
            if ids or query:  # the same, with ids that exist, to reach past the 404
                strategies.append(operation.as_strategy(path_parameters=ids or None, query=query or None))
            for strategy in strategies:
                try:
                    _examples(strategy, base_url, http, headers, answered)
                except Unsatisfiable:
                    pass  # nothing to make invalid: an operation without parameters or body has no negative case
                except Exception as exc:  # noqa: BLE001 - every failure is collected and shown together
                    failures.append(f"{label}: {exc}")
    return failures


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    doc = (await live_client.get("/openapi.json")).json()
    labels = [f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item]
    tokens = {}
    for label in labels:
        created = await live_client.post("/api/tokens", json={"name": f"fuzz {label}"[:100]}, headers=admin)
        assert created.status_code == 201, created.text
        tokens[label] = created.json()["token"]
    lead = await live_client.post("/api/leads", json={"name": "Fuzz", "phone": "+12025550100"}, headers=admin)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=admin)
    assert placed.status_code == 200, placed.text
    agents = (await live_client.get("/api/voice/agents", headers=admin)).json()
    known = {"lead_id": lead.json()["id"], "call_id": placed.json()["callLog"]["id"], "user_id": cw.world.member.user_id,
             "agent_ref_id": agents[0]["id"], "configId": cw.account_id, "agentId": cw.agent_ids[0]}
    answered: Counter[int] = Counter()
    try:
        failures = await asyncio.to_thread(_fuzz, doc, live.url, tokens, known, answered)
    finally:
        # The generated sign-ins count against this machine's address: let their minute pass for the tests after.
        live.clock.advance(61)
    assert failures == [], "\n\n".join(failures)
    # Cases reached past validation and authorization, not only refusals.
    assert sum(answered.values()) > 40 * EXAMPLES and answered[200] > 5 * EXAMPLES
