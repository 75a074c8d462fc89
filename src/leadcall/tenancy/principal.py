"""The authenticated caller, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from leadcall.core.errors import Forbidden
from leadcall.core.scoping import Scope
from leadcall.tenancy.models import Role


class Permission(StrEnum):
    view_leads = "view_leads"
    edit_leads = "edit_leads"
    import_leads = "import_leads"
    archive_leads = "archive_leads"  # and restore them
    erase_leads = "erase_leads"  # privacy requests
    place_calls = "place_calls"
    view_reports = "view_reports"
    manage_accounts = "manage_accounts"
    manage_agents = "manage_agents"
    manage_users = "manage_users"
    manage_budgets = "manage_budgets"
    manage_retention = "manage_retention"
    manage_dnc = "manage_dnc"
    manage_calling_rules = "manage_calling_rules"
    manage_webhooks = "manage_webhooks"  # outgoing webhooks (admins)
    run_campaigns = "run_campaigns"  # create, edit, start, pause and cancel campaigns (their organization's)


_MEMBER = {Permission.view_leads, Permission.edit_leads, Permission.place_calls}
_MANAGER = _MEMBER | {Permission.import_leads, Permission.archive_leads, Permission.view_reports,
                      Permission.manage_dnc, Permission.run_campaigns}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.member: frozenset(_MEMBER),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    organization_id: str
    user_id: str
    role: Role
    email: str
    name: str
    language: str
    via: Literal["session", "token"]
    # The signed-in session this request came with (None for an API token).
    session_id: str | None = None

    @property
    def scope(self) -> Scope:
        """Admins see the whole tenant; everyone else their own organization."""
        return Scope(self.tenant_id, None if self.role is Role.admin else self.organization_id)

    @property
    def tenant_scope(self) -> Scope:
        return Scope(self.tenant_id, None)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"your role ({self.role.value}) does not allow this ({permission.value})",
                            code="role_not_allowed", params={"role": self.role.value, "permission": permission.value})


def principal_from_row(row: Any, via: str, *, session_id: str | None = None) -> Principal:
    """From a row of the user's columns joined with its tenant's default language (repository reads)."""
    return Principal(tenant_id=row.tenant_id, organization_id=row.organization_id, user_id=row.id,
                     role=Role(row.role), email=row.email, name=row.name,
                     language=row.language or row.default_language,
                     via="token" if via == "token" else "session", session_id=session_id)
