"""The seller's working words (the live card, editing leads, the day's work), merged into the catalog."""

from __future__ import annotations

WORK_MESSAGES: dict[str, dict[str, str]] = {
    "js.card_offline": {"es": "Sin conexión con el servidor: este estado puede no estar al día. Reintentando…",
                        "en": "The server cannot be reached: this status may be out of date. Trying again…"},
}
