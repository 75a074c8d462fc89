"""A faithful fake of the ElevenLabs agents API for the demo and the tests.

Same paths, request and response shapes, `xi-api-key` auth, error envelopes and
webhook signatures as api.elevenlabs.io (ElevenLabs' public API reference), so the
real provider code is what runs against it. Test phone numbers +1 202 555 0100…0110
choose scenarios (DESIGN.md §6; `leadcall.simulator.scenarios`).

    state = SimulatorState(clock=ManualClock(), speed=1.0)
    account = state.add_account(name="Acme", api_key="sk_…", webhook_secret="wsec_…")
    state.seed_account(account, language="es")
    app = create_simulator_app(state)      # or host.mount("/sim", app) + state.start()/stop()
    await state.advance(60)                # calls move on; due webhooks are delivered and awaited
"""

from __future__ import annotations

from typing import TypedDict

from leadcall.simulator.app import create_simulator_app
from leadcall.simulator.state import SimulatorState
from leadcall.simulator.webhooks import Delivery, sign
from leadcall.simulator.world import Faults, SimAccount, SimAgent, SimConversation, SimPhone, SimVoice, SimWebhook


class DemoAccount(TypedDict):
    name: str
    language: str
    api_key: str
    webhook_secret: str
    twilio_account_sid: str
    twilio_auth_token: str
    concurrency_limit: int


# The demo accounts' fixed credentials. They open only this simulator, never ElevenLabs or Twilio.
DEMO_ES_API_KEY = "sk_sim_demo_ventas_espana_0001"
DEMO_ES_WEBHOOK_SECRET = "wsec_sim_demo_ventas_espana_0001"
DEMO_ES_TWILIO_ACCOUNT_SID = "ACsimdemo00000000000000000000000001"
DEMO_ES_TWILIO_AUTH_TOKEN = "sim-demo-twilio-token-0001"
DEMO_EN_API_KEY = "sk_sim_demo_us_sales_0002"
DEMO_EN_WEBHOOK_SECRET = "wsec_sim_demo_us_sales_0002"
DEMO_EN_TWILIO_ACCOUNT_SID = "ACsimdemo00000000000000000000000002"
DEMO_EN_TWILIO_AUTH_TOKEN = "sim-demo-twilio-token-0002"
DEMO_CONCURRENCY_LIMIT = 10

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(name="Ventas España", language="es", api_key=DEMO_ES_API_KEY, webhook_secret=DEMO_ES_WEBHOOK_SECRET,
                twilio_account_sid=DEMO_ES_TWILIO_ACCOUNT_SID, twilio_auth_token=DEMO_ES_TWILIO_AUTH_TOKEN,
                concurrency_limit=DEMO_CONCURRENCY_LIMIT),
    DemoAccount(name="US Sales", language="en", api_key=DEMO_EN_API_KEY, webhook_secret=DEMO_EN_WEBHOOK_SECRET,
                twilio_account_sid=DEMO_EN_TWILIO_ACCOUNT_SID, twilio_auth_token=DEMO_EN_TWILIO_AUTH_TOKEN,
                concurrency_limit=DEMO_CONCURRENCY_LIMIT),
)


def seed_demo_accounts(state: SimulatorState, webhook_url: str | None = None) -> list[SimAccount]:
    """Adds and seeds the two demo accounts (Spanish, then English) with their fixed credentials."""
    accounts = []
    for spec in DEMO_ACCOUNTS:
        account = state.add_account(name=spec["name"], api_key=spec["api_key"], webhook_secret=spec["webhook_secret"],
                                    webhook_url=webhook_url, concurrency_limit=spec["concurrency_limit"],
                                    twilio_account_sid=spec["twilio_account_sid"],
                                    twilio_auth_token=spec["twilio_auth_token"])
        state.seed_account(account, language=spec["language"])
        accounts.append(account)
    return accounts


__all__ = ["DEMO_ACCOUNTS", "DEMO_CONCURRENCY_LIMIT", "DEMO_EN_API_KEY", "DEMO_EN_TWILIO_ACCOUNT_SID",
           "DEMO_EN_TWILIO_AUTH_TOKEN", "DEMO_EN_WEBHOOK_SECRET", "DEMO_ES_API_KEY", "DEMO_ES_TWILIO_ACCOUNT_SID",
           "DEMO_ES_TWILIO_AUTH_TOKEN", "DEMO_ES_WEBHOOK_SECRET", "Delivery", "DemoAccount", "Faults", "SimAccount",
           "SimAgent", "SimConversation", "SimPhone", "SimVoice", "SimWebhook", "SimulatorState", "create_simulator_app",
           "seed_demo_accounts", "sign"]
