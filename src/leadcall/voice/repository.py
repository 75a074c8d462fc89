from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.scoping import ScopedRepository
from leadcall.voice.models import AccountHealth, AgentListing, ElevenLabsAccount, VoiceAgent


class AccountRepository(ScopedRepository[ElevenLabsAccount]):
    model = ElevenLabsAccount
    label = "ElevenLabs account"

    async def list(self, *, active_only: bool = False) -> list[ElevenLabsAccount]:
        stmt = self.scoped_select().order_by(ElevenLabsAccount.created_at)
        if active_only:
            stmt = stmt.where(ElevenLabsAccount.is_active.is_(True))
        return list((await self.session.execute(stmt)).scalars())


class AgentRepository(ScopedRepository[VoiceAgent]):
    model = VoiceAgent
    label = "agent"

    async def for_accounts(self, account_ids: list[str]) -> list[VoiceAgent]:
        if not account_ids:
            return []
        stmt = self.scoped_select().where(VoiceAgent.account_id.in_(account_ids))
        return list((await self.session.execute(stmt)).scalars())

    async def list_all(self) -> list[VoiceAgent]:
        stmt = self.scoped_select().order_by(VoiceAgent.created_at, VoiceAgent.id)
        return list((await self.session.execute(stmt)).scalars())

    async def placement_candidates(self, agent_id: str) -> list[tuple[VoiceAgent, ElevenLabsAccount]]:
        """Known references named by `agent_id` (ours or ElevenLabs'), with their active accounts."""
        stmt = (self.scoped_select().add_columns(ElevenLabsAccount)
                .join(ElevenLabsAccount, (ElevenLabsAccount.id == VoiceAgent.account_id)
                      & (ElevenLabsAccount.tenant_id == VoiceAgent.tenant_id))
                .where(ElevenLabsAccount.is_active.is_(True),
                       or_(VoiceAgent.id == agent_id, VoiceAgent.agent_id == agent_id))
                .order_by(ElevenLabsAccount.name, VoiceAgent.agent_id))
        return [(ref, account) for ref, account in (await self.session.execute(stmt)).all()]

    async def find_by_agent_id(self, agent_id: str) -> VoiceAgent | None:
        stmt = self.scoped_select().where(VoiceAgent.agent_id == agent_id)
        return (await self.session.execute(stmt)).scalars().first()


class ListingRepository(ScopedRepository[AgentListing]):
    model = AgentListing

    async def for_account(self, account_id: str, *, for_update: bool = False) -> AgentListing | None:
        stmt = self.scoped_select().where(AgentListing.account_id == account_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()


class HealthRepository(ScopedRepository[AccountHealth]):
    model = AccountHealth

    async def for_account(self, account_id: str, *, for_update: bool = False) -> AccountHealth | None:
        stmt = self.scoped_select().where(AccountHealth.account_id == account_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_accounts(self, account_ids: list[str]) -> dict[str, AccountHealth]:
        if not account_ids:
            return {}
        stmt = self.scoped_select().where(AccountHealth.account_id.in_(account_ids))
        return {row.account_id: row for row in (await self.session.execute(stmt)).scalars()}


async def unscoped_get_account(session: AsyncSession, account_id: str) -> ElevenLabsAccount | None:
    """Webhooks arrive before any principal: the account id in their URL picks the secret."""
    return (await session.execute(select(ElevenLabsAccount).where(ElevenLabsAccount.id == account_id))
            ).scalar_one_or_none()


async def unscoped_accounts_at(session: AsyncSession, base_url: str) -> list[ElevenLabsAccount]:
    """Accounts of every tenant that talk to one API base URL (the embedded simulator links its webhooks)."""
    stmt = select(ElevenLabsAccount).where(ElevenLabsAccount.base_url == base_url.rstrip("/"))
    return list((await session.execute(stmt)).scalars())


async def unscoped_all_accounts(session: AsyncSession) -> list[ElevenLabsAccount]:
    """Every tenant's accounts: only for operator tasks such as key rotation."""
    return list((await session.execute(select(ElevenLabsAccount).order_by(ElevenLabsAccount.id))).scalars())
