"""Regional calling rules shipped with leadcall. They only narrow a tenant's own rules, and apply by
the region of the called number (not the lead's address).

Sources, read 2026-12:
- United States, federal: 47 CFR § 64.1200(c)(1) (TCPA rules) — no telephone solicitation before
  8:00 or after 21:00 local time at the called party's location.
- Florida: Fla. Stat. § 501.059(8)(a) and (b) (Florida Telephone Solicitation Act, as amended 2021) —
  no calls before 8:00 or after 20:00 local time of the called person, and no more than 3 calls
  from any number to the same person in 24 hours on the same subject. Florida numbers are told by
  their area codes (NANPA's assignments for Florida, overlays included).
- Spain: Real Decreto Legislativo 1/2007 (TRLGDCU) art. 96.2, as amended by Ley 4/2022 — commercial
  calls not before 9:00 nor after 21:00, nor on weekends or public holidays. (Public holidays vary by
  region and year and are not modelled: a tenant narrows its own windows for them.)
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from leadcall.rules.hours import EVERY_DAY, WEEKDAYS, Window, window

FLORIDA_AREA_CODES = frozenset({
    "239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689", "727", "728",
    "754", "772", "786", "813", "850", "863", "904", "941", "954",
})


@dataclass(frozen=True)
class RegionRule:
    id: str
    name: str
    source: str
    windows: tuple[Window, ...]
    max_attempts_per_24h: int | None = None

    def applies(self, number: phonenumbers.PhoneNumber) -> bool:
        region = phonenumbers.region_code_for_number(number)
        if self.id == "us_federal":
            return region == "US"
        if self.id == "us_florida":
            national = str(number.national_number)
            return region == "US" and national[:3] in FLORIDA_AREA_CODES
        if self.id == "es":
            return region == "ES"
        return False

    def to_wire(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "source": self.source,
                "windows": [w.to_wire() for w in self.windows], "maxAttemptsPer24h": self.max_attempts_per_24h}


REGION_RULES: tuple[RegionRule, ...] = (
    RegionRule("us_federal", "United States (federal)", "47 CFR § 64.1200(c)(1)",
               (window(EVERY_DAY, "08:00", "21:00"),)),
    RegionRule("us_florida", "Florida", "Fla. Stat. § 501.059(8)",
               (window(EVERY_DAY, "08:00", "20:00"),), max_attempts_per_24h=3),
    RegionRule("es", "Spain", "RDL 1/2007 art. 96.2 (Ley 4/2022)", (window(WEEKDAYS, "09:00", "21:00"),)),
)


def rules_for(e164: str) -> list[RegionRule]:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    return [rule for rule in REGION_RULES if rule.applies(number)]
