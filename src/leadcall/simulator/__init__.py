"""A faithful fake of the ElevenLabs agents API for the demo and the tests.

Same paths, request and response shapes, `xi-api-key` auth, error envelopes and
webhook signatures as api.elevenlabs.io (see ../shared/elevenlabs-api.md), so the
real provider code is what runs against it. Phone numbers +1 202 555 0100…0110
choose scenarios (DESIGN.md §6).
"""

from __future__ import annotations

from leadcall.simulator.app import create_simulator_app
from leadcall.simulator.state import Faults, SimAccount, SimulatorState

# The demo accounts' fixed credentials. They only open this simulator.
DEMO_ACCOUNTS = (
    {"name": "Ventas España", "language": "es", "api_key": "sk_sim_demo_ventas_espana_0001",
     "webhook_secret": "wsec_sim_demo_ventas_espana_0001", "twilio_account_sid": "ACsimdemo00000000000000000000000001",
     "twilio_auth_token": "sim-demo-twilio-token-0001"},
    {"name": "US Sales", "language": "en", "api_key": "sk_sim_demo_us_sales_0002",
     "webhook_secret": "wsec_sim_demo_us_sales_0002", "twilio_account_sid": "ACsimdemo00000000000000000000000002",
     "twilio_auth_token": "sim-demo-twilio-token-0002"},
)


def seed_demo_accounts(state: SimulatorState, webhook_url: str | None = None) -> list[SimAccount]:
    accounts = []
    for spec in DEMO_ACCOUNTS:
        account = state.add_account(name=spec["name"], api_key=spec["api_key"], webhook_secret=spec["webhook_secret"],
                                    webhook_url=webhook_url, concurrency_limit=10,
                                    twilio_account_sid=spec["twilio_account_sid"],
                                    twilio_auth_token=spec["twilio_auth_token"])
        state.seed_account(account, language=spec["language"])
        accounts.append(account)
    return accounts


__all__ = ["DEMO_ACCOUNTS", "Faults", "SimAccount", "SimulatorState", "create_simulator_app", "seed_demo_accounts"]
