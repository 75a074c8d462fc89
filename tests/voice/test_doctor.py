"""`leadcall doctor`: read-only checks of an account, with a dry run of the analysis set-up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadcall.core.db import transaction
from leadcall.core.errors import NotFound
from leadcall.voice import analysis
from leadcall.voice.doctor import check_account
from tests.live import CallWorld, LiveServer

LEADCALL = str(Path(sys.executable).with_name("leadcall"))


async def test_doctor_reports_without_changing_anything(live: LiveServer, cw: CallWorld) -> None:
    agent = next(iter(cw.sim_account.agents.values()))
    del agent.platform_settings["data_collection"][analysis.OBJECTIONS]
    before = {a.agent_id: (a.updated_at, dict(a.platform_settings["data_collection"]))
              for a in cw.sim_account.agents.values()}
    async with transaction(live.app.state.container.sessionmaker) as session:
        report = await check_account(session, live.app.state.voice_manager, cw.account_id,
                                     public_base_url=live.app.state.container.settings.public_base_url)
    assert report.connection_ok and report.has_webhook_secret and report.numbers
    assert report.webhook_url.endswith(f"/api/webhooks/elevenlabs/transcription?account={cw.account_id}")
    by_id = {a.agent_id: a for a in report.agents}
    assert set(by_id) == set(cw.sim_account.agents)
    assert by_id[agent.agent_id].would_add == [analysis.OBJECTIONS]
    assert all(a.would_add == [] and a.analysis_state == "ready" for i, a in by_id.items() if i != agent.agent_id)
    assert set(by_id[agent.agent_id].keeps) == {"sales_outcome", "callback_time"}
    text = "\n".join(report.lines())
    assert f"set up would add or update: {analysis.OBJECTIONS}" in text and "connection: ok" in text
    after = {a.agent_id: (a.updated_at, dict(a.platform_settings["data_collection"]))
             for a in cw.sim_account.agents.values()}
    assert after == before, "the doctor only reads"

    async with transaction(live.app.state.container.sessionmaker) as session:
        with pytest.raises(NotFound):
            await check_account(session, live.app.state.voice_manager, "no-such-account", public_base_url="http://x")


async def test_the_doctor_command_prints_the_report(live: LiveServer, cw: CallWorld) -> None:
    settings = live.app.state.container.settings
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url,
           "LEADCALL_SECRET_KEYS": settings.secret_keys.get_secret_value(),
           "LEADCALL_PROVIDER_HOSTS": settings.provider_hosts, "LEADCALL_PUBLIC_BASE_URL": settings.public_base_url}
    env.pop("LEADCALL_REDIS_URL", None)
    done = await asyncio.to_thread(subprocess.run, [LEADCALL, "doctor", "--account", cw.account_id], env=env,
                                   capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "connection: ok" in done.stdout and "leadcall's analysis items are in place" in done.stdout
    missing = await asyncio.to_thread(subprocess.run, [LEADCALL, "doctor", "--account", "nope"], env=env,
                                      capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 1 and "no ElevenLabs account with id nope" in missing.stderr
