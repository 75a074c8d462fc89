"""A CRM's webhook receiver for tests: a small ASGI app on a free loopback port that keeps every request.

`/ok` (and `/ok/…`) answers 204, `/fail` 500, `/redirect` 302 (to `/ok`), `/flaky` 503 until `flaky_ok` is set."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from tests.live import serve


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    flaky_ok: bool = False

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        self.received.append(Received(path, {k.decode(): v.decode() for k, v in scope["headers"]}, body))
        status = 204 if path.startswith("/ok") else {"/fail": 500, "/redirect": 302}.get(path, 404)
        if path == "/flaky":
            status = 204 if self.flaky_ok else 503
        headers = [(b"location", f"{self.url}/ok".encode())] if status == 302 else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = b"" if status == 204 else b"internal details that must not be shown"
        await send({"type": "http.response.body", "body": body})


async def start_receiver() -> tuple[Receiver, Any]:
    receiver = Receiver()
    server, task, url = await serve(receiver)
    receiver.url = url

    async def stop() -> None:
        server.should_exit = True
        await task

    return receiver, stop
