"""The simulator in-process (httpx over ASGI), with a ManualClock and a webhook receiver
that records each delivery's exact bytes and signature header."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from leadcall.kit.clock import ManualClock
from leadcall.simulator import SimAccount, SimulatorState, create_simulator_app

KEY = "sk_sim_tests_0001"
SECRET = "wsec_sim_tests_0001"
HOOK_URL = "http://receiver.test/hooks/elevenlabs?account=a1"
START = 1_790_000_000.0  # a Monday, 2026-09-21 14:13:20 UTC


@dataclass
class Received:
    body: bytes
    signature: str
    transfer_encoding: str | None

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def type(self) -> str:
        return str(self.event["type"])


@dataclass
class Receiver:
    """Answers `status_code` to every webhook and keeps what arrived."""

    received: list[Received] = field(default_factory=list)
    status_code: int = 200

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/elevenlabs")
        async def hook(request: Request) -> Response:
            self.received.append(Received(await request.body(), request.headers.get("elevenlabs-signature", ""),
                                          request.headers.get("transfer-encoding")))
            return Response(status_code=self.status_code)

        return app

    def types(self) -> list[str]:
        return [r.type for r in self.received]


@dataclass
class Sim:
    state: SimulatorState
    clock: ManualClock
    account: SimAccount
    client: httpx.AsyncClient
    receiver: Receiver
    app: FastAPI

    @property
    def agent_id(self) -> str:
        return next(iter(self.account.agents))

    def phone_id(self, provider: str = "twilio") -> str:
        return next(p.phone_number_id for p in self.account.phones.values() if p.provider == provider)

    async def place(self, to_number: str, *, provider: str = "twilio", variables: dict[str, Any] | None = None,
                    agent_id: str | None = None) -> httpx.Response:
        path = "twilio" if provider == "twilio" else "sip-trunk"
        body: dict[str, Any] = {"agent_id": agent_id or self.agent_id, "agent_phone_number_id": self.phone_id(provider),
                                "to_number": to_number}
        if variables is not None:
            body["conversation_initiation_client_data"] = {"dynamic_variables": variables}
        return await self.client.post(f"/v1/convai/{path}/outbound-call", json=body)

    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/v1/convai/conversations/{conversation_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


async def make_sim(language: str = "en", concurrency_limit: int = 4) -> tuple[Sim, httpx.AsyncClient]:
    clock = ManualClock(START)
    receiver = Receiver()
    state = SimulatorState(clock=clock, webhook_transport=httpx.ASGITransport(app=receiver.app()))
    account = state.add_account(name="Tests", api_key=KEY, webhook_secret=SECRET, webhook_url=HOOK_URL,
                                concurrency_limit=concurrency_limit)
    state.seed_account(account, language=language)
    app = create_simulator_app(state)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test",
                               headers={"xi-api-key": KEY})
    return Sim(state, clock, account, client, receiver, app), client
