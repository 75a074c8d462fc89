"""Calling hours in the called person's local time: weekly windows, checked in every zone a number
may be in, and the next instant at which a call would be allowed.

Windows are local wall-clock times, so a window keeps its meaning across a DST change: 09:00 in
Madrid is 08:00 UTC in winter and 07:00 UTC in summer. A number that spans several zones is allowed
only when every one of them is inside its windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD_DAYS = 15  # far enough for any weekly window; farther means no window at all


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    start: time
    end: time  # after start, same day (an evening-to-morning span is two windows)

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time().replace(tzinfo=None) < self.end

    def to_wire(self) -> dict[str, object]:
        return {"days": [DAYS[d] for d in sorted(self.days)], "start": self.start.strftime("%H:%M"),
                "end": "24:00" if self.end == time.max else self.end.strftime("%H:%M")}


def clock_time(text: str) -> time:
    """HH:MM; "24:00" is the end of the day."""
    return time.max if text == "24:00" else time.fromisoformat(text)


def window(days: Iterable[str], start: str, end: str) -> Window:
    return Window(frozenset(DAYS.index(d) for d in days), clock_time(start), clock_time(end))


EVERY_DAY = DAYS
WEEKDAYS = DAYS[:5]


def allowed_at(at: datetime, zones: Sequence[ZoneInfo], window_sets: Sequence[Sequence[Window]]) -> bool:
    """True when, in every zone, every set has a window holding `at` (each set: the tenant's, a region's)."""
    for zone in zones:
        local = at.astimezone(zone)
        for windows in window_sets:
            if not any(w.contains(local) for w in windows):
                return False
    return True


def _window_starts(at: datetime, zone: ZoneInfo, windows: Sequence[Window]) -> Iterable[datetime]:
    first: date = at.astimezone(zone).date()
    for offset in range(LOOKAHEAD_DAYS):
        day = first + timedelta(days=offset)
        for w in windows:
            if day.weekday() in w.days:
                # A start inside a DST gap (02:30 on the spring-forward night) resolves to the first
                # real instant after it through zoneinfo's fold handling.
                yield datetime.combine(day, w.start, tzinfo=zone).astimezone(UTC)


def next_allowed_at(at: datetime, zones: Sequence[ZoneInfo], window_sets: Sequence[Sequence[Window]],
                    *, not_before: datetime | None = None) -> datetime | None:
    """The first instant from max(at, not_before) that `allowed_at` accepts, or None when no window
    opens within the lookahead. The allowed time is a union of intervals whose left ends are window
    starts, so checking `from` itself and every window start after it finds the earliest one."""
    start = max(at, not_before) if not_before is not None else at
    candidates = {start}
    for zone in zones:
        for windows in window_sets:
            candidates.update(s for s in _window_starts(start, zone, windows) if s > start)
    for candidate in sorted(candidates):
        if allowed_at(candidate, zones, window_sets):
            return candidate
    return None
