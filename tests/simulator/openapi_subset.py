"""Builds `elevenlabs-openapi-subset.json`: the parts of ElevenLabs' official OpenAPI document that
leadcall speaks (the endpoints below, whole, with every schema they reach, plus the named schemas the
tests check bodies against). The tests read only that vendored file.

To refresh it from a newer copy of https://api.elevenlabs.io/openapi.json:

    .venv/bin/python -m tests.simulator.openapi_subset path/to/elevenlabs-openapi.json

The subset keeps the document's own `info` and adds `x-leadcall-vendored` (source, date, digest).
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUBSET_PATH = Path(__file__).with_name("elevenlabs-openapi-subset.json")
SOURCE_URL = "https://api.elevenlabs.io/openapi.json"

# Every ElevenLabs endpoint the provider calls or the simulator serves (each path with all its methods).
PATHS = (
    "/v1/convai/agents",
    "/v1/convai/agents/{agent_id}",
    "/v1/voices",
    "/v1/convai/phone-numbers",
    "/v1/convai/phone-numbers/{phone_number_id}",
    "/v1/user",
    "/v1/user/subscription",
    "/v1/convai/analytics/live-count",
    "/v1/convai/twilio/outbound-call",
    "/v1/convai/sip-trunk/outbound-call",
    "/v1/convai/exotel/outbound-call",
    "/v1/convai/conversations",
    "/v1/convai/conversations/{conversation_id}",
    "/v1/convai/conversations/{conversation_id}/audio",
    "/v1/convai/settings",
    "/v1/workspace/webhooks",
)
# Schemas the tests name directly (most are reached from PATHS anyway).
SCHEMAS = (
    "GetConversationResponseModel",
    "TwilioOutboundCallResponse",
    "SIPTrunkOutboundCallResponse",
    "Body_Handle_an_outbound_call_via_Twilio_v1_convai_twilio_outbound_call_post",
    "Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch",
    "ConversationInitiationClientDataRequest-Input",
    "ConversationalConfigAPIModel-Input",
    "AgentConfigAPIModel-Input",
    "TelephonyCallConfig",
    # The agent PATCH's `platform_settings` (a free object in the body) is this model; leadcall sets its
    # analysis there (data_collection → AnalysisProperty, evaluation.criteria → PromptEvaluationCriteria).
    "AgentPlatformSettingsRequestModel",
    "PromptEvaluationCriteria",
    "AnalysisProperty",
    "GetConvAISettingsResponseModel",
    "WorkspaceWebhookListResponseModel",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def subset(document: dict[str, Any], *, source_digest: str, taken_on: str) -> dict[str, Any]:
    """The document cut down to PATHS and SCHEMAS, closed over `$ref` (a missing one raises KeyError)."""
    paths = {path: document["paths"][path] for path in PATHS}
    all_schemas: dict[str, Any] = document["components"]["schemas"]
    wanted = _refs(paths) | set(SCHEMAS)
    kept: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name in kept:
            continue
        kept[name] = all_schemas[name]
        wanted |= _refs(kept[name]) - kept.keys()
    return {
        "openapi": document["openapi"],
        "info": document["info"],
        "x-leadcall-vendored": {
            "source": SOURCE_URL,
            "taken": taken_on,
            "sourceSha256": source_digest,
            "kept": "the paths leadcall calls or simulates, whole, and every schema they reach; nothing edited",
            "regenerate": "python -m tests.simulator.openapi_subset <elevenlabs-openapi.json>",
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(kept.items()))},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    raw = Path(argv[0]).read_bytes()
    cut = subset(json.loads(raw), source_digest=hashlib.sha256(raw).hexdigest(),
                 taken_on=datetime.now(UTC).date().isoformat())
    SUBSET_PATH.write_text(json.dumps(cut, indent=1, ensure_ascii=False) + "\n")
    print(f"{SUBSET_PATH.name}: {len(cut['paths'])} paths, {len(cut['components']['schemas'])} schemas")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
