"""Helpers shared by the provider tests: a recording mock transport and test secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from leadcall.kit.clock import ManualClock
from leadcall.voice.providers.elevenlabs import ElevenLabsProvider
from leadcall.voice.types import ElevenLabsSettings

API_KEY = "sk_test_4f1d9c2b7e8a0SECRETKEY"
WEBHOOK_SECRET = "wsec_test_0123456789abcdef"
TWILIO_TOKEN = "twilio_token_SECRET_987"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """Answers requests with `handler` and keeps every request it saw."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, [str(r.url) for r in self.requests]
        return self.requests[0]

    def json_body(self, index: int = 0) -> Any:
        return json.loads(self.requests[index].content)


@dataclass
class Rig:
    provider: ElevenLabsProvider
    recorder: Recorder
    clock: ManualClock
    sleeps: list[float]


def make_settings(**overrides: Any) -> ElevenLabsSettings:
    base = ElevenLabsSettings(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, base_url="http://el.test/sim")
    return replace(base, **overrides)




def reply(status: int = 200, body: Any = None, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json=body, **kwargs)
