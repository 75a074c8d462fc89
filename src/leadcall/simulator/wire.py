"""The simulator's resources in ElevenLabs' JSON shapes (components of the official OpenAPI
document: GetAgentResponseModel, GetConversationResponseModel, VoiceResponseModel, …).

Every required key is present; optional keys the product reads are filled in with
plausible values. Costs: `cost` in integer credits, `cost_fiat` in USD.
"""

from __future__ import annotations

from typing import Any

from leadcall.simulator.analysis import analysis_json
from leadcall.simulator.scenarios import Kind
from leadcall.simulator.world import SimAccount, SimAgent, SimConversation, SimPhone, SimVoice, SimWebhook

CREDITS_PER_MINUTE = 400
USD_PER_MINUTE = 0.10
SUBSCRIPTION_TIER = "pro"

_ACCESS_INFO = {"is_creator": True, "creator_name": "leadcall simulator", "creator_email": "simulator@leadcall.invalid",
                "role": "admin"}

TERMINATION_AGENT_ENDED = "end_call tool was called."
TERMINATION_REMOTE_ENDED = "Call ended by remote party"
TERMINATION_CANCELED = "Call canceled before it was answered"
TERMINATION_NO_ANSWER = "Call not answered (no-answer)"
TERMINATION_BUSY = "Line busy (busy)"
TERMINATION_DROPPED = "Call dropped: connection to the phone network lost"
TERMINATION_VOICEMAIL = "Voicemail detected: the agent left a message"


def cost_credits(talk_seconds: int) -> int:
    return round(talk_seconds * CREDITS_PER_MINUTE / 60)


def cost_usd(talk_seconds: int) -> float:
    return round(talk_seconds * USD_PER_MINUTE / 60, 6)


# -- agents, voices, phone numbers ----------------------------------------------------------


def phone_json(phone: SimPhone, account: SimAccount) -> dict[str, Any]:
    """GetPhoneNumberTwilioResponseModel or GetPhoneNumberSIPTrunkResponseModel, by `provider`."""
    agent = account.agents.get(phone.agent_id) if phone.agent_id else None
    out: dict[str, Any] = {
        "phone_number": phone.number, "label": phone.label, "supports_inbound": True, "supports_outbound": True,
        "phone_number_id": phone.phone_number_id,
        "assigned_agent": {"agent_id": agent.agent_id, "agent_name": agent.name} if agent else None,
        "provider": phone.provider}
    if phone.provider == "sip_trunk":
        trunk = {"address": "sip.simulator.invalid", "transport": "tcp", "media_encryption": "allowed", "headers": {},
                 "has_auth_credentials": True, "username": "leadcall", "has_outbound_trunk": True}
        out |= {"provider_config": trunk, "outbound_trunk": trunk, "inbound_trunk": None, "livekit_stack": "standard",
                "store_sip_messages": False}
    return out


def agent_summary_json(agent: SimAgent, last_call_at: int | None) -> dict[str, Any]:
    """AgentSummaryResponseModel (an item of GET /v1/convai/agents)."""
    return {"agent_id": agent.agent_id, "name": agent.name, "tags": list(agent.tags),
            "created_at_unix_secs": agent.created_at, "access_info": dict(_ACCESS_INFO),
            "last_call_time_unix_secs": last_call_at, "archived": False}


def agent_json(agent: SimAgent, account: SimAccount) -> dict[str, Any]:
    """GetAgentResponseModel."""
    return {
        "agent_id": agent.agent_id, "name": agent.name, "conversation_config": agent.conversation_config,
        "metadata": {"created_at_unix_secs": agent.created_at, "updated_at_unix_secs": agent.updated_at},
        "platform_settings": agent.platform_settings,
        "phone_numbers": [phone_json(p, account) for p in account.phones.values() if p.agent_id == agent.agent_id],
        "whatsapp_accounts": [], "access_info": dict(_ACCESS_INFO), "tags": list(agent.tags),
        "version_id": None, "branch_id": None, "main_branch_id": None,
    }


def voice_json(voice: SimVoice, preview_url: str) -> dict[str, Any]:
    """VoiceResponseModel."""
    return {
        "voice_id": voice.voice_id, "name": voice.name, "samples": None, "category": voice.category,
        "fine_tuning": None, "labels": dict(voice.labels), "description": voice.description, "preview_url": preview_url,
        "available_for_tiers": [], "settings": None, "sharing": None,
        "high_quality_base_model_ids": ["eleven_flash_v2_5", "eleven_multilingual_v2"],
        "verified_languages": [], "collection_ids": [], "is_owner": False, "is_legacy": False, "is_mixed": False,
        "created_at_unix": voice.created_at,
    }


# -- account ------------------------------------------------------------------------------


def subscription_json(now: float) -> dict[str, Any]:
    """ExtendedSubscriptionResponseModel (also the `subscription` of GET /v1/user, a subset)."""
    return {
        "tier": SUBSCRIPTION_TIER, "character_count": 120_000, "character_limit": 1_000_000,
        "max_character_limit_extension": None, "max_credit_limit_extension": 0, "can_extend_character_limit": True,
        "allowed_to_extend_character_limit": True, "next_character_count_reset_unix": int(now) + 20 * 86_400,
        "voice_slots_used": 4, "professional_voice_slots_used": 0, "professional_voice_slots_used_in_workspace": 0,
        "voice_limit": 160, "voice_add_edit_counter": 0, "professional_voice_limit": 1,
        "can_extend_voice_limit": False, "can_use_instant_voice_cloning": True,
        "can_use_professional_voice_cloning": True, "currency": "usd",
        "current_overage": {"amount": "0.00", "currency": "usd"}, "status": "active",
        "billing_period": "monthly_period", "character_refresh_period": "monthly_period",
        "open_invoices": [], "has_open_invoices": False,
    }


def user_json(account: SimAccount, now: float) -> dict[str, Any]:
    """UserResponseModel."""
    return {
        "user_id": account.account_id, "subscription": subscription_json(now), "is_new_user": False,
        "can_use_delayed_payment_methods": False, "is_onboarding_completed": True,
        "is_onboarding_checklist_completed": True, "first_name": account.name,
        "xi_api_key_preview": account.api_key[:4] + "…" + account.api_key[-4:], "created_at": 1_700_000_000,
        "seat_type": "workspace_admin",
    }


# -- conversations ------------------------------------------------------------------------


def _termination(c: SimConversation, now: float) -> tuple[str, dict[str, Any] | None]:
    """`termination_reason` text and `error` of a finished conversation (free text in the API)."""
    if not c.is_over(now):
        return "", None
    if c.canceled:
        return TERMINATION_CANCELED, None
    if c.scenario.kind is Kind.NO_ANSWER:
        return TERMINATION_NO_ANSWER, {"code": 480, "reason": "no-answer"}
    if c.scenario.kind is Kind.BUSY:
        return TERMINATION_BUSY, {"code": 486, "reason": "busy"}
    if c.ended_early:
        return TERMINATION_REMOTE_ENDED, None
    if c.scenario.kind is Kind.DROPPED:
        return TERMINATION_DROPPED, {"code": 1011, "reason": "Connection to the phone network lost"}
    if c.scenario.kind is Kind.VOICEMAIL:
        return TERMINATION_VOICEMAIL, None
    return TERMINATION_AGENT_ENDED, None


def _phone_call(c: SimConversation) -> dict[str, Any]:
    common = {"direction": "outbound", "phone_number_id": c.phone.phone_number_id, "agent_number": c.phone.number,
              "external_number": c.to_number}
    if c.phone.provider == "twilio":
        return common | {"type": "twilio", "stream_sid": "MZ" + c.call_sid[2:], "call_sid": c.call_sid}
    return common | {"type": "sip_trunking", "call_id": c.call_sid, "call_sid": c.call_sid,
                     "sip_header_dynamic_variables": {}}


def client_data_json(client_data: dict[str, Any] | None) -> dict[str, Any]:
    """ConversationInitiationClientDataRequest-Output: what the call was placed with, defaults filled in."""
    given = client_data or {}
    return {"conversation_config_override": given.get("conversation_config_override") or {},
            "custom_llm_extra_body": given.get("custom_llm_extra_body") or {}, "user_id": given.get("user_id"),
            "source_info": given.get("source_info") or {"source": None, "version": None},
            "branch_id": given.get("branch_id"), "environment": given.get("environment"),
            "dynamic_variables": dict(given.get("dynamic_variables") or {})}


def has_audio(c: SimConversation, now: float) -> bool:
    return c.is_over(now) and c.talk_seconds(now) > 0


def conversation_json(c: SimConversation, now: float) -> dict[str, Any]:
    """GetConversationResponseModel as of `now` (also the `data` of `post_call_transcription`)."""
    status = c.status(now)
    talk = c.talk_seconds(now)
    priced = status not in ("initiated", "in-progress")
    credits = cost_credits(talk) if priced else None
    usd = cost_usd(talk) if priced else None
    termination, error = _termination(c, now)
    audio = has_audio(c, now)
    source = "twilio" if c.phone.provider == "twilio" else "sip_trunk"
    return {
        "agent_id": c.agent.agent_id, "agent_name": c.agent.name, "conversation_product": "agent", "status": status,
        "user_id": (c.client_data or {}).get("user_id"), "branch_id": None, "version_id": None,
        "metadata": {
            "start_time_unix_secs": int(c.started_at), "accepted_time_unix_secs": c.accepted_at(now),
            "call_duration_secs": talk, "cost": credits,
            "deletion_settings": {"deletion_time_unix_secs": None, "deleted_logs_at_time_unix_secs": None,
                                  "deleted_audio_at_time_unix_secs": None,
                                  "deleted_transcript_at_time_unix_secs": None,
                                  "delete_transcript_and_pii": False, "delete_audio": False},
            "feedback": {"type": None, "overall_score": None, "likes": 0, "dislikes": 0, "rating": None,
                         "comment": None},
            "authorization_method": "authorization_header",
            "charging": {"dev_discount": False, "is_burst": False, "tier": SUBSCRIPTION_TIER, "llm_price": 0.0,
                         "llm_charge": 0, "call_charge": credits, "platform_charge": credits, "platform_price": usd,
                         "free_minutes_consumed": 0.0, "free_llm_dollars_consumed": 0.0},
            "phone_call": _phone_call(c), "batch_call": None, "termination_reason": termination, "error": error,
            "warnings": [], "main_language": c.agent.language, "text_only": False,
            "conversation_initiation_source": source, "timezone": None, "cost_fiat": usd,
        },
        "analysis": analysis_json(c, now),
        "conversation_initiation_client_data": client_data_json(c.client_data),
        "environment": "production", "conversation_id": c.conversation_id,
        "has_audio": audio, "has_user_audio": audio, "has_response_audio": audio, "has_auxiliary_audio": False,
        "transcript": c.transcript(now),
    }


def conversation_summary_json(c: SimConversation, now: float) -> dict[str, Any]:
    """ConversationSummaryResponseModel (an item of GET /v1/convai/conversations)."""
    full = conversation_json(c, now)
    analysis = full["analysis"] or {}
    return {
        "agent_id": c.agent.agent_id, "branch_id": None, "version_id": None, "agent_name": c.agent.name,
        "conversation_id": c.conversation_id, "start_time_unix_secs": int(c.started_at),
        "call_duration_secs": full["metadata"]["call_duration_secs"], "message_count": len(full["transcript"]),
        "status": full["status"], "termination_reason": full["metadata"]["termination_reason"],
        "call_successful": analysis.get("call_successful", "unknown"),
        "transcript_summary": analysis.get("transcript_summary"),
        "call_summary_title": analysis.get("call_summary_title"), "main_language": c.agent.language,
        "conversation_initiation_source": full["metadata"]["conversation_initiation_source"],
        "direction": "outbound",
    }


def convai_settings_json(account: SimAccount) -> dict[str, Any]:
    """`GetConvAISettingsResponseModel`."""
    return {"conversation_initiation_client_data_webhook": None,
            "webhooks": {"post_call_webhook_id": account.post_call_webhook_id,
                         "events": list(account.post_call_events), "transcript_format": "json", "send_audio": None},
            "can_use_mcp_servers": False, "rag_retention_period_days": 10,
            "conversation_embedding_retention_days": None, "default_livekit_stack": "standard"}


def workspace_webhook_json(hook: SimWebhook, account: SimAccount, include_usages: bool) -> dict[str, Any]:
    """`WorkspaceWebhookResponseModel`; `usage` only when asked for (`include_usages`)."""
    usage = [{"usage_type": "ConvAI Settings"}] if hook.webhook_id == account.post_call_webhook_id else []
    return {"name": hook.name, "webhook_id": hook.webhook_id, "webhook_url": hook.url,
            "is_disabled": hook.disabled, "is_auto_disabled": hook.auto_disabled,
            "created_at_unix": hook.created_at, "auth_type": "hmac", "usage": usage if include_usages else None,
            "events": [] if include_usages else None,
            "most_recent_failure_error_code": hook.last_failure_code,
            "most_recent_failure_timestamp": hook.last_failure_at}
