"""The event types an endpoint can subscribe to. Adding one is one line here (its name and what it says),
then a call of `outbox.record` with that type where the change commits; the API, the settings page and the
subscriptions all read this table."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "call.created": "A call was placed (its log, status initiating).",
    "call.updated": "Anything of a call changed: status, outcome, transcript, recording, cost, notes.",
    "call.completed": "A call ended (completed, failed or canceled), once: outcome, summary, transcript, cost, "
                      "recording URL.",
    "lead.updated": "A lead was edited, or its status moved on after a call.",
    "lead.opted_out": "A lead asked not to be called again (its number is on the do-not-call list).",
    "callback.scheduled": "A callback was scheduled (asked for on a call, or by a seller).",
    "budget.alert": "A budget threshold was crossed this month.",
    "campaign.started": "A campaign was started (running now, or scheduled until its start time).",
    "campaign.paused": "A campaign was paused: no new dials; its live calls finish.",
    "campaign.resumed": "A paused campaign was resumed.",
    "campaign.completed": "A campaign ended: every lead called, its end time or spending cap reached; with its counts.",
    "campaign.canceled": "A campaign was canceled.",
}

# Sent by "test send" only; nobody subscribes to it.
TEST_EVENT = "webhook.test"
