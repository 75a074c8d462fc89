"""Tenant scoping that fails closed.

Every tenant-owned table carries `tenant_id` (and `organization_id` when it belongs
to an organization). Repositories of such tables derive from `ScopedRepository`:
they cannot be built without a `Scope`, and every query they make starts from
`scoped_select()`. A row outside the scope is indistinguishable from a missing one
(404), so ids of other tenants leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ForeignKey, Select, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from leadcall.core.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """Whose rows a caller may see: one tenant, and one organization or all of them."""

    tenant_id: str
    organization_id: str | None = None  # None: tenant-wide (admins, system jobs)

    def __post_init__(self) -> None:
        if not self.tenant_id:
            raise ValueError("a scope needs a tenant id")


class TenantOwned:
    @declared_attr
    def tenant_id(cls) -> Mapped[str]:  # noqa: N805 - SQLAlchemy declared_attr idiom
        return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class OrgOwned(TenantOwned):
    @declared_attr
    def organization_id(cls) -> Mapped[str]:  # noqa: N805
        return mapped_column(String(36), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)


M = TypeVar("M", bound=Any)


class ScopedRepository(Generic[M]):
    model: ClassVar[type[Any]]
    label: ClassVar[str] = "record"

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        if not isinstance(scope, Scope):
            raise TypeError("a scoped repository needs a Scope")
        self.session = session
        self.scope = scope

    def scoped_select(self) -> Select[M]:
        stmt: Select[M] = select(self.model).where(self.model.tenant_id == self.scope.tenant_id)
        if self.scope.organization_id is not None and hasattr(self.model, "organization_id"):
            stmt = stmt.where(self.model.organization_id == self.scope.organization_id)
        return stmt

    async def find(self, row_id: str) -> M | None:
        result = await self.session.execute(self.scoped_select().where(self.model.id == row_id))
        row: M | None = result.scalar_one_or_none()
        return row

    async def get(self, row_id: str) -> M:
        row = await self.find(row_id)
        if row is None:
            raise NotFound(f"{self.label} not found", code="not_found", params={"what": self.label})
        return row

    def add(self, row: M) -> M:
        if row.tenant_id != self.scope.tenant_id:
            raise ValueError("row does not belong to this scope's tenant")
        self.session.add(row)
        return row
