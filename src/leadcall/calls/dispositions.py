"""Each call outcome as the dispositions of the CRMs integrators log calls in, so none writes a table of their own.

One table, documented in the README with its sources:
- HubSpot: the default call outcomes' GUIDs (`hs_call_disposition`; listed by GET /calling/v1/dispositions).
- Pipedrive: the call log's `outcome` enum (POST /v1/callLogs).
- Close: the call activity's `disposition` values.
- Salesforce: Task.CallDisposition is free text (an org defines its own call results), so the value is a label.
A call with no outcome yet (live, or refused before dialling) has no dispositions; a failed dial has only the
ones that name a failure (Close `error`, Salesforce `Failed`).
"""

from __future__ import annotations

from typing import NamedTuple


class Dispositions(NamedTuple):
    hubspot: str | None
    pipedrive: str | None
    close: str | None
    salesforce: str | None


HUBSPOT_CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
HUBSPOT_NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
HUBSPOT_LEFT_VOICEMAIL = "b2cf5968-551e-4856-9783-52b3da59a7d0"
HUBSPOT_BUSY = "9d9162e7-6cf3-4944-bf63-4dff82258764"

# leadcall's outcome (DESIGN §4), and `failed` for a dial that failed (phoneResult failed, outcome null).
TABLE: dict[str, Dispositions] = {
    "answered": Dispositions(HUBSPOT_CONNECTED, "connected", "answered", "Connected"),
    "interested": Dispositions(HUBSPOT_CONNECTED, "connected", "answered", "Connected - Interested"),
    "not_interested": Dispositions(HUBSPOT_CONNECTED, "connected", "answered", "Connected - Not Interested"),
    "callback_requested": Dispositions(HUBSPOT_CONNECTED, "connected", "answered", "Connected - Callback Requested"),
    "no_answer": Dispositions(HUBSPOT_NO_ANSWER, "no_answer", "no-answer", "No Answer"),
    "voicemail": Dispositions(HUBSPOT_LEFT_VOICEMAIL, "left_voicemail", "vm-left", "Left Voicemail"),
    "busy": Dispositions(HUBSPOT_BUSY, "busy", "busy", "Busy"),
    "failed": Dispositions(None, None, "error", "Failed"),
}


def dispositions_of(outcome: str | None, phone_result: str | None) -> Dispositions | None:
    if outcome is not None:
        return TABLE.get(outcome)
    if phone_result == "failed":
        return TABLE["failed"]
    return None
