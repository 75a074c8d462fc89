"""The call status state machine.

Statuses only move forward: initiating → ringing → in_progress → {completed, failed,
canceled}; a non-terminal status may jump straight to a terminal one. A late or
duplicated event never moves a call backwards and never applies twice (it may still
add data, e.g. a transcript that arrives after `completed`).
"""

from __future__ import annotations

from leadcall.calls.models import TERMINAL, CallStatus

_RANK = {CallStatus.initiating: 0, CallStatus.ringing: 1, CallStatus.in_progress: 2,
         CallStatus.completed: 3, CallStatus.failed: 3, CallStatus.canceled: 3}


def can_move(current: CallStatus, new: CallStatus) -> bool:
    if current in TERMINAL:
        return False
    return _RANK[new] > _RANK[current]


def is_terminal(status: CallStatus) -> bool:
    return status in TERMINAL
