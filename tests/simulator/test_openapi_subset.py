"""The vendored OpenAPI subset covers every ElevenLabs endpoint leadcall calls or simulates, and the
tests never read a document from outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from tests.simulator.harness import Sim
from tests.simulator.openapi_check import spec
from tests.simulator.openapi_subset import SUBSET_PATH

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "src" / "leadcall" / "voice" / "providers" / "elevenlabs"


def _template(path: str) -> str:
    """`f"/v1/convai/agents/{path_segment(agent_id)}"` → `/v1/convai/agents/{}`: a path with its holes unnamed."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_simulated_endpoint_is_in_the_vendored_document(sim: Sim) -> None:
    documented = spec()["paths"]
    served = [(method, path) for path, item in sim.app.openapi()["paths"].items() if path.startswith("/v1/")
              for method in item]
    assert served
    missing = [f"{m.upper()} {p}" for m, p in served if m not in documented.get(p, {})]
    assert not missing, f"vendor these into {SUBSET_PATH.name} (openapi_subset.PATHS): {missing}"


def test_every_path_the_provider_calls_is_in_the_vendored_document() -> None:
    called = {_template(p) for source in PROVIDER.glob("*.py")
              for p in re.findall(r'f?"(/v1/[^"?]*)"', source.read_text())}
    assert "/v1/convai/agents/{}" in called
    documented = {_template(p) for p in spec()["paths"]}
    assert called <= documented, sorted(called - documented)


def test_the_vendored_document_says_where_it_comes_from() -> None:
    vendored = spec()["x-leadcall-vendored"]
    assert vendored["source"] == "https://api.elevenlabs.io/openapi.json"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", vendored["taken"]) and len(vendored["sourceSha256"]) == 64


def test_tests_read_no_document_outside_the_repository() -> None:
    outside = [str(f.relative_to(ROOT)) for f in (ROOT / "tests").rglob("*.py")
               if f != Path(__file__) and re.search(r"/work/shared|\.\./shared", f.read_text())]
    assert not outside
