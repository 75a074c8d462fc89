"""`leadcall doctor`: read-only checks of an account, with a dry run of the analysis set-up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from leadcall.cli.doctor import place_test_call
from leadcall.core.db import transaction
from leadcall.core.errors import Invalid, NotFound
from leadcall.voice import analysis
from leadcall.voice.doctor import check_account, health_lines
from tests.live import CallWorld, LiveServer

LEADCALL = str(Path(sys.executable).with_name("leadcall"))
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def test_doctor_reports_without_changing_anything(live: LiveServer, cw: CallWorld) -> None:
    agent = next(iter(cw.sim_account.agents.values()))
    del agent.platform_settings["data_collection"][analysis.OBJECTIONS]
    before = {a.agent_id: (a.updated_at, dict(a.platform_settings["data_collection"]))
              for a in cw.sim_account.agents.values()}
    async with transaction(live.app.state.container.sessionmaker) as session:
        report = await check_account(session, live.app.state.voice_manager, cw.account_id,
                                     public_base_url=live.app.state.container.settings.public_base_url, now=NOW)
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
            await check_account(session, live.app.state.voice_manager, "no-such-account", public_base_url="http://x",
                                now=NOW)


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
    assert "health: ok\n  last webhook received: none yet" in done.stdout
    assert "  concurrency: 4 free (0 live of 4)" in done.stdout
    missing = await asyncio.to_thread(subprocess.run, [LEADCALL, "doctor", "--account", "nope"], env=env,
                                      capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 1 and "no ElevenLabs account with id nope" in missing.stderr


async def test_the_doctor_says_where_the_post_call_webhook_points(live: LiveServer, cw: CallWorld) -> None:
    settings = live.app.state.container.settings
    sessionmaker = live.app.state.container.sessionmaker
    async with transaction(sessionmaker) as session:
        report = await check_account(session, live.app.state.voice_manager, cw.account_id,
                                     public_base_url=settings.public_base_url, now=NOW)
    assert report.webhook is not None and report.webhook.state.value == "ok" and report.problems == []
    text = "\n".join(report.lines(show_patch=True))
    assert "post-call webhook: ok (The post-call webhook points at this leadcall account and is enabled.)" in text
    agent_id = next(iter(cw.sim_account.agents))
    assert f"PATCH /v1/convai/agents/{agent_id} (what set-up sends):" in text and '"platform_settings"' in text

    cw.sim_account.post_call_webhook.disabled = True
    async with transaction(sessionmaker) as session:
        report = await check_account(session, live.app.state.voice_manager, cw.account_id,
                                     public_base_url=settings.public_base_url, now=NOW)
    assert report.webhook is not None and report.webhook.state.value == "disabled"
    assert "post-call webhook: DISABLED" in "\n".join(report.lines())
    assert report.problems == ["post-call webhook: The post-call webhook is disabled in the workspace's settings."]
    async with transaction(sessionmaker) as session:
        health = await health_lines(session, live.app.state.voice_manager, cw.account_id, NOW)
    assert health[0] == "health: WARNING (webhook_disabled)"


async def test_asked_with_a_number_the_doctor_places_one_call_and_follows_it(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    said: list[str] = []

    async def pause() -> None:
        await live.simulator.advance(5)

    status = await place_test_call(live.app.state.call_service, live.app.state.worker, account_id=cw.account_id,
                             email=cw.world.member.email, to_number="+12025550100", agent_id=None, say=said.append,
                             pause=pause)
    assert status == "completed"
    assert said[0].startswith("test call ") and "placed with agent" in said[0]
    assert any("ended completed, phone result answered, outcome interested" in line for line in said)
    placed = [c for c in live.simulator.conversations.values() if c.account_id == cw.sim_account.account_id]
    assert len(placed) == 1 and placed[0].to_number == "+12025550100"  # exactly one dial
    again = await place_test_call(live.app.state.call_service, live.app.state.worker, account_id=cw.account_id,
                                  email=cw.world.member.email, to_number="+12025550100", agent_id=None,
                                  say=said.append, pause=pause)
    assert again == "completed"
    leads = (await live_client.get("/api/leads", params={"q": "leadcall doctor"},
                                   headers=cw.world.member.headers)).json()["items"]
    assert len(leads) == 1, "a check run again reuses its test lead"

    with pytest.raises(NotFound):
        await place_test_call(live.app.state.call_service, live.app.state.worker, account_id=cw.account_id,
                        email="nobody@example.com", to_number="+12025550100", agent_id=None, say=said.append,
                        pause=pause)
    with pytest.raises(Invalid):
        await place_test_call(live.app.state.call_service, live.app.state.worker, account_id=cw.account_id,
                        email=cw.world.member.email, to_number="+12025550100", agent_id="agent_nope",
                        say=said.append, pause=pause)


async def test_the_doctor_checks_a_bare_key_without_printing_it(live: LiveServer, cw: CallWorld) -> None:
    """What `./dev test` runs against a real account when LEADCALL_LIVE_ELEVENLABS_API_KEY is set."""
    settings = live.app.state.container.settings
    env = {**os.environ, "LEADCALL_PROVIDER_HOSTS": settings.provider_hosts, "DOCTOR_KEY": cw.sim_account.api_key}
    env.pop("LEADCALL_REDIS_URL", None)
    args = [LEADCALL, "doctor", "--api-key-env", "DOCTOR_KEY", "--base-url", f"{live.url}/sim"]
    done = await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=60,
                                   check=False)
    assert done.returncode == 0, done.stderr
    assert "connection: ok" in done.stdout and "post-call webhook: ok" in done.stdout
    assert f"points at {cw.sim_account.webhook_url.split('?')[0]}" in done.stdout
    assert done.stdout.count("\nagent ") == len(cw.sim_account.agents)
    assert cw.sim_account.api_key not in done.stdout + done.stderr

    env["DOCTOR_KEY"] = "sk_not_a_key_of_this_simulator"
    refused = await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=60,
                                      check=False)
    assert refused.returncode == 1 and "connection: FAILED" in refused.stdout
    env.pop("DOCTOR_KEY")
    unset = await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=60,
                                    check=False)
    assert unset.returncode == 1 and "holds no API key" in unset.stderr
    neither = await asyncio.to_thread(subprocess.run, [LEADCALL, "doctor"], env=env, capture_output=True, text=True,
                                      timeout=60, check=False)
    assert neither.returncode == 1 and "either --account" in neither.stderr
