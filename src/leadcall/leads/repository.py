from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, column, func, literal_column, or_, select, table, tuple_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from leadcall.core.db import fold
from leadcall.core.scoping import ScopedRepository
from leadcall.leads.models import SEARCH_TABLE, Lead

# SQLite's index of the searched columns (migration 0019): an FTS5 table of trigrams, external content on leads
# by rowid. Its MATCH finds the rows containing a phrase of three characters or more, whatever their case.
_SEARCH_TABLE = table(SEARCH_TABLE, column("rowid"), column(SEARCH_TABLE))
_TRIGRAM = 3
# Up to this many matches, a page of an indexed search is read from the index's rows (one lookup each, then a
# sort) rather than by walking the tenant's leads newest first until the page is full: the walk costs the
# tenant's size over the matches' share, the lookups the matches (which the count has just paid for anyway).
_LOOKUP_MATCHES = 500


def _fts_phrase(term: str) -> str | None:
    """The FTS5 query finding every lead whose searched columns contain `term`, or None when the index
    cannot serve it: shorter than a trigram, or holding LIKE's wildcards (`%`, `_`), which the search has
    always honoured and a phrase would take literally. As one double-quoted string (inner quotes doubled),
    nothing the user typed is FTS5 syntax: `*`, `-`, `:`, `^`, parentheses, NEAR, AND, OR and NOT are text."""
    if len(term) < _TRIGRAM or "%" in term or "_" in term:
        return None
    return '"' + term.replace('"', '""') + '"'


def _unindexed(element: ColumnElement[datetime]) -> ColumnElement[datetime]:
    """`+element`: the same value, which SQLite's planner cannot read from an index (its documented way to
    keep an index out of a plan)."""
    return UnaryExpression(element, operator=operators.custom_op("+"), type_=element.type)


class LeadRepository(ScopedRepository[Lead]):
    model = Lead
    label = "lead"

    def filtered(self, *, search: str | None, status: str | None, owner_id: str | None,
                  organization_id: str | None, archived: bool = False) -> Select[Lead]:
        """The scope's leads matching a list's filters (the lead list, a campaign's saved filter)."""
        stmt = self.scoped_select()
        stmt = stmt.where(Lead.archived_at.is_not(None) if archived else Lead.archived_at.is_(None))
        if search:
            term = search.strip().lower()
            like = f"%{term}%"
            stmt = stmt.where(or_(fold(Lead.name).like(like), fold(Lead.company).like(like),
                                  Lead.phone.like(like), fold(Lead.email).like(like)))
            if (phrase := self._indexed_phrase(search)) is not None:
                # The index narrows the leads to those containing the phrase in any case (a superset of the
                # LIKE above); the LIKE still decides, so the results are the same as without the index.
                # PostgreSQL's trigram indexes serve the LIKE itself (0017).
                hits = select(_SEARCH_TABLE.c.rowid).where(_SEARCH_TABLE.c.leads_search.op("MATCH")(phrase))
                stmt = stmt.where(literal_column("leads.rowid").in_(hits))
        if status:
            stmt = stmt.where(Lead.status == status)
        if owner_id:
            stmt = stmt.where(Lead.owner_id == owner_id)
        if organization_id:
            stmt = stmt.where(Lead.organization_id == organization_id)
        return stmt

    def _indexed_phrase(self, search: str | None) -> str | None:
        """The FTS5 phrase `filtered` narrows this search with (SQLite), None when it uses no index of its own."""
        if not search or self.session.get_bind().dialect.name != "sqlite":
            return None
        return _fts_phrase(search.strip().lower())

    async def page(self, *, limit: int, after: tuple[datetime, str] | None, search: str | None = None,
                   status: str | None = None, owner_id: str | None = None,
                   organization_id: str | None = None, archived: bool = False) -> tuple[list[Lead], int]:
        """Newest first, keyset-paginated on (created_at, id); archived leads or the others, never both."""
        stmt = self.filtered(search=search, status=status, owner_id=owner_id, organization_id=organization_id,
                              archived=archived)
        total = (await self.session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        if total == 0:
            return [], 0  # nothing matches: no page to read
        created_at = Lead.created_at.expression
        if total <= _LOOKUP_MATCHES and self._indexed_phrase(search) is not None:
            # Neither the order nor the cursor may then come from ix_leads_tenant_created (same values, same
            # order): the planner reads the index's matches by rowid instead of walking the tenant's leads.
            created_at = _unindexed(created_at)
        if after is not None:
            stmt = stmt.where(tuple_(created_at, Lead.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(created_at.desc(), Lead.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars()), total

    async def by_external_ids(self, external_ids: list[str]) -> dict[str, Lead]:
        """The scope's leads with these CRM ids (archived ones too: an id stays taken)."""
        if not external_ids:
            return {}
        stmt = self.scoped_select().where(Lead.external_id.in_(set(external_ids)))
        return {row.external_id: row for row in (await self.session.execute(stmt)).scalars() if row.external_id}

    async def by_phones(self, phones: list[str]) -> dict[str, Lead]:
        """The scope's leads that are not archived, by E.164 number; the oldest lead of a shared number."""
        if not phones:
            return {}
        stmt = (self.scoped_select().where(Lead.phone.in_(set(phones)), Lead.archived_at.is_(None))
                .order_by(Lead.created_at.desc(), Lead.id.desc()))
        return {row.phone: row for row in (await self.session.execute(stmt)).scalars() if row.phone}

    async def chunk(self, *, limit: int, after: tuple[datetime, str] | None, search: str | None = None,
                    status: str | None = None, owner_id: str | None = None, organization_id: str | None = None,
                    archived: bool = False) -> list[Lead]:
        """One keyset chunk of `page`'s rows, without the count (the export reads them all)."""
        stmt = self.filtered(search=search, status=status, owner_id=owner_id, organization_id=organization_id,
                              archived=archived)
        if after is not None:
            stmt = stmt.where(tuple_(Lead.created_at, Lead.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
