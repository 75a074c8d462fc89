"""The leads search (`?q=` on GET /api/leads, its export and the leads page) finds what it always found.

On SQLite a query of three characters or more goes through the FTS5 trigram index of migration 0019; each
case here is compared with the search's own predicate (a case-insensitive substring of name, company, phone
or email, LIKE's way) evaluated over the table without any index, so the index can narrow but never change
the results. The same tests run on PostgreSQL, whose trigram indexes serve the predicate itself."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, or_, select, text

from leadcall.core.db import fold, transaction
from leadcall.core.migrate import upgrade_async
from leadcall.core.scoping import Scope
from leadcall.kit.clock import ManualClock
from leadcall.leads import service as leads
from leadcall.leads.models import Lead
from tests.factories import PASSWORD, Actor, TenantWorld

PEOPLE: list[dict[str, Any]] = [
    {"name": "José Pérez", "company": "Árbol Ltd", "phone": "+34 600 111 222", "email": "jose.perez@example.com"},
    {"name": "JOSÉ PÉREZ GARCÍA", "company": "ÁRBOL LTD", "phone": "+34600111333"},
    {"name": "Zoë O'Brien", "company": 'Deals "R" Us * - NEAR (x) 100% _ok_', "phone": "(202) 555-0199",
     "email": "zoe@deals.example"},
    {"name": "Ana María"},
    {"name": "Ünal Öztürk", "company": "Straße GmbH", "email": "UNAL@EXAMPLE.COM"},
]

QUERIES = [
    # names, accents and case
    "josé", "JOSÉ", "José Pérez", "pérez", "PÉREZ", "perez", "jos", "garcía", "zoë", "ZOË", "öztürk", "ana maría",
    "  ana  ", "ANA",
    # phone fragments (stored as E.164)
    "600111", "+34600", "34600111222", "+1202", "5550199", "0199", "600 111",
    # company and email
    "árbol", "ÁRBOL", "ltd", "straße", "strasse", "gmbh", "example.com", "@deals", "unal@", "PEREZ@",
    # short queries (no trigram): the plain path
    "jo", "JO", "é", "60", "a",
    # FTS5 syntax and LIKE's wildcards are text to the search
    '"r"', '"', '""', "'", "o'brien", "*", "* -", "- near", "NEAR", "NEAR (x)", "near(x y)", "a OR b", "AND", "NOT",
    "ana AND maría", ":", "name:ana", "^jos", "{name}:x", "(x)", "\\", "100%", "%", "_", "_ok_", "a_a", "j%p",
    "jos*", "🙂", "x" * 200, "nadie-tiene-esto",
]


async def _make(client: httpx.AsyncClient, actor: Actor, people: list[dict[str, Any]]) -> list[str]:
    ids = []
    for person in people:
        r = await client.post("/api/leads", json=person, headers=actor.headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def _expected(app: FastAPI, world: TenantWorld, q: str, *, organization_id: str | None) -> set[str]:
    """The search's predicate over the scope's leads, with no index involved (a plain scan of the rows)."""
    like = f"%{q.strip().lower()}%"
    stmt = select(Lead.id).where(Lead.tenant_id == world.tenant_id, Lead.archived_at.is_(None),
                                 or_(fold(Lead.name).like(like), fold(Lead.company).like(like),
                                     Lead.phone.like(like), fold(Lead.email).like(like)))
    if organization_id is not None:
        stmt = stmt.where(Lead.organization_id == organization_id)
    async with transaction(app.state.container.sessionmaker) as session:
        return set((await session.execute(stmt)).scalars())


async def _search(client: httpx.AsyncClient, actor: Actor, q: str, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/leads", params={"q": q, "limit": 200, **params}, headers=actor.headers)
    assert r.status_code == 200, (q, r.text)
    page: dict[str, Any] = r.json()
    return page


def _names(page: dict[str, Any]) -> set[str]:
    return {item["name"] for item in page["items"]}


async def test_every_query_finds_what_the_plain_predicate_finds(app: FastAPI, client: httpx.AsyncClient,
                                                                world: TenantWorld) -> None:
    await _make(client, world.member, PEOPLE)
    await _make(client, world.other_org_member, [{"name": "José Soporte", "company": "Árbol Ltd"}])
    for actor, organization in ((world.member, world.org_id), (world.admin, None),
                                (world.other_org_member, world.other_org_id)):
        for q in QUERIES:
            page = await _search(client, actor, q)
            expected = await _expected(app, world, q, organization_id=organization)
            assert {item["id"] for item in page["items"]} == expected, (actor.role, q)
            assert page["total"] == len(expected), (actor.role, q)


async def test_what_a_user_finds(client: httpx.AsyncClient, world: TenantWorld) -> None:
    """Case is ignored for every letter on both databases ('josé' finds 'JOSÉ'; SQLite's own lower() would
    fold ASCII letters only); accents are not ('perez' finds no 'Pérez' by name)."""
    await _make(client, world.member, PEOPLE)
    member = world.member
    assert _names(await _search(client, member, "jos")) == {"José Pérez", "JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "josé pérez")) == {"José Pérez", "JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "GARCÍA")) == {"JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "ünal")) == {"Ünal Öztürk"}
    assert _names(await _search(client, member, "perez")) == {"José Pérez"}  # its email, not its name
    assert _names(await _search(client, member, "600111")) == {"José Pérez", "JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "5550199")) == {"Zoë O'Brien"}
    assert _names(await _search(client, member, "+34600111222")) == {"José Pérez"}
    assert _names(await _search(client, member, "ltd")) == {"José Pérez", "JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "unal@example")) == {"Ünal Öztürk"}
    assert _names(await _search(client, member, '"r" us *')) == {"Zoë O'Brien"}
    assert _names(await _search(client, member, "NEAR (x)")) == {"Zoë O'Brien"}
    assert _names(await _search(client, member, "o'b")) == {"Zoë O'Brien"}
    assert _names(await _search(client, member, "Zo")) == {"Zoë O'Brien"}
    assert _names(await _search(client, member, "ana maría")) == {"Ana María"}
    assert _names(await _search(client, member, "100% _ok")) == {"Zoë O'Brien"}
    # LIKE's wildcards keep their meaning: '_' is any one character, '%' any run of them.
    assert _names(await _search(client, member, "jos_ p")) == {"José Pérez", "JOSÉ PÉREZ GARCÍA"}
    assert _names(await _search(client, member, "ana%ría")) == {"Ana María"}
    assert _names(await _search(client, member, "nadie-tiene-esto")) == set()


async def test_nul_and_control_characters_are_refused_not_a_server_error(client: httpx.AsyncClient,
                                                                        world: TenantWorld) -> None:
    for q in ("jos\x00é", "\x00", "ab\x1bc", "abc\x7f"):
        r = await client.get("/api/leads", params={"q": q}, headers=world.member.headers)
        assert r.status_code == 422, (q, r.text)
        assert [problem["code"] for problem in r.json()["fields"]] == ["forbidden_character"]


async def test_another_tenants_leads_never_appear(client: httpx.AsyncClient, world: TenantWorld,
                                                  other_world: TenantWorld) -> None:
    mine = await _make(client, world.member, [{"name": "Quiteria Alcázar", "phone": "+34911222333"}])
    theirs = await _make(client, other_world.member, [{"name": "Quiteria Alcázar", "phone": "+34911222333"}])
    for q in ("quiteria", "alcázar", "911222", "Qu"):
        assert [i["id"] for i in (await _search(client, world.admin, q))["items"]] == mine
        assert [i["id"] for i in (await _search(client, other_world.admin, q))["items"]] == theirs
        assert (await _search(client, world.other_org_member, q))["items"] == []  # the other team of the tenant


async def test_an_updated_lead_is_found_by_its_new_words_only(client: httpx.AsyncClient, world: TenantWorld) -> None:
    [lead_id] = await _make(client, world.member, [{"name": "Remedios Quintana", "company": "Olivar SA",
                                                    "phone": "+34955000111", "email": "remedios@olivar.example"}])
    r = await client.patch(f"/api/leads/{lead_id}", json={"name": "Remedios Zubiaurre", "company": "Viñedo SL",
                                                          "phone": "+34955999888", "email": "rz@vinedo.example"},
                           headers=world.member.headers)
    assert r.status_code == 200, r.text
    for gone in ("quintana", "olivar", "955000", "remedios@"):
        assert (await _search(client, world.member, gone))["items"] == [], gone
    for found in ("zubiaurre", "viñedo", "955999", "rz@vinedo", "remedios"):
        assert [i["id"] for i in (await _search(client, world.member, found))["items"]] == [lead_id], found
    # A change of another column (its status) leaves it found as it was.
    r = await client.patch(f"/api/leads/{lead_id}", json={"status": "qualified"}, headers=world.member.headers)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in (await _search(client, world.member, "zubiaurre"))["items"]] == [lead_id]


async def test_archived_and_erased_leads_leave_the_search(client: httpx.AsyncClient, world: TenantWorld) -> None:
    archived, erased = await _make(client, world.member, [
        {"name": "Eustaquio Archivado", "phone": "+34977000111"},
        {"name": "Eustaquio Borrado", "phone": "+34977000222", "email": "eustaquio@borrado.example"}])
    assert (await client.delete(f"/api/leads/{archived}", headers=world.manager.headers)).status_code == 204
    assert (await client.post(f"/api/leads/{erased}/erase", headers=world.admin.headers)).status_code == 200
    assert (await _search(client, world.admin, "eustaquio"))["items"] == []
    assert [i["id"] for i in (await _search(client, world.admin, "eustaquio", archived="true"))["items"]] == [archived]
    for q in ("borrado", "977000222", "eustaquio@"):
        assert (await _search(client, world.admin, q, archived="true"))["items"] == [], q


async def test_a_deleted_row_leaves_the_index(app: FastAPI, client: httpx.AsyncClient, world: TenantWorld) -> None:
    """Leads are archived, not deleted, but their tenant's or organization's deletion removes them (cascade)."""
    [gone, kept] = await _make(client, world.member, [{"name": "Filomena Suprimida"}, {"name": "Filomena Queda"}])
    async with transaction(app.state.container.sessionmaker) as session:
        await session.execute(text("DELETE FROM leads WHERE id = :id"), {"id": gone})
    assert [i["id"] for i in (await _search(client, world.member, "filomena"))["items"]] == [kept]
    if app.state.container.engine.dialect.name == "sqlite":
        async with app.state.container.engine.connect() as conn:
            # FTS5 compares its index with the leads it was built from; it raises if they disagree.
            await conn.exec_driver_sql("INSERT INTO leads_search(leads_search, rank) VALUES ('integrity-check', 1)")


async def test_search_pages_by_cursor_and_exports_the_same_leads(client: httpx.AsyncClient, world: TenantWorld,
                                                                 clock: ManualClock) -> None:
    ids = []
    for i in range(7):  # two of them created at the same moment (the id then orders them)
        ids += await _make(client, world.member, [{"name": f"Needle Paginada {i}"}])
        if i != 3:
            clock.advance(1)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "paginada", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/leads", params=params, headers=world.member.headers)).json()
        assert page["total"] == 7
        seen.extend(item["id"] for item in page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    whole = (await client.get("/api/leads", params={"q": "paginada"}, headers=world.member.headers)).json()
    assert seen == [item["id"] for item in whole["items"]]  # the single page's order, each lead once
    # Newest first; the two of one moment by id, descending.
    assert seen == [ids[6], ids[5], *sorted(ids[3:5], reverse=True), ids[2], ids[1], ids[0]]
    export = await client.get("/api/leads/export", params={"q": "paginada"}, headers=world.member.headers)
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted(row["name"] for row in rows) == sorted(f"Needle Paginada {i}" for i in range(7))


async def test_the_leads_page_searches(client: httpx.AsyncClient, world: TenantWorld) -> None:
    await _make(client, world.member, [{"name": "Gumersinda Página"}, {"name": "Otra Persona"}])
    login = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf is not None
    signed_in = await client.post("/login", data={"email": world.member.email, "password": PASSWORD,
                                                  "csrf_token": csrf.group(1)})
    assert signed_in.status_code == 303, signed_in.text
    page = await client.get("/", params={"q": "gumersinda"})
    assert page.status_code == 200
    assert "Gumersinda Página" in page.text and "Otra Persona" not in page.text
    odd = await client.get("/", params={"q": 'NEAR "x" * -'})
    assert odd.status_code == 200


@pytest.mark.parametrize("q, indexed", [("abc", True), ("José", True), ('a"b', True), ("ab", False),
                                        ("a%bc", False), ("ab_cd", False), ("   ab   ", False)])
async def test_sqlite_search_goes_through_the_index_when_it_can(app: FastAPI, client: httpx.AsyncClient,
                                                                 world: TenantWorld, q: str, indexed: bool) -> None:
    """From three characters on, a search's statements (its count and its page) read the FTS5 table, and with
    few matches they read the leads by the rowids it gives rather than walking the tenant's leads."""
    engine = app.state.container.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 index (PostgreSQL's plans are pinned in tests/test_query_plans.py)")
    await _make(client, world.member, [{"name": 'abc José a"b a%bc ab_cd'}])
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if " leads" in statement and "leadcall_fold(leads.name)" in statement:
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with transaction(app.state.container.sessionmaker) as session:
            page = await leads.list_leads(session, Scope(world.tenant_id), limit=50, cursor=None, search=q,
                                          status=None, owner_id=None, organization_id=None)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert page.total == 1 and len(seen) == 2  # the count and the page
    async with engine.connect() as conn:
        for statement, parameters in seen:
            plan = "\n".join(str(row[3]) for row in
                             (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all())
            assert ("leads_search VIRTUAL TABLE" in plan) is indexed, plan
            assert ("rowid=?" in plan) is indexed, plan


async def test_the_migration_indexes_the_leads_already_there(tmp_path: Path) -> None:
    """Leads written before migration 0019 are found through the index it builds (SQLite; a no-op on PostgreSQL)."""
    path = tmp_path / "before.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url, "0018")
    now = datetime.now(UTC).isoformat()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO tenants (id, name, slug, default_language, default_country, currency, created_at) "
                   "VALUES ('t1', 'Antes', 'antes', 'es', 'ES', 'EUR', ?)", (now,))
        db.execute("INSERT INTO organizations (id, tenant_id, name, created_at) VALUES ('o1', 't1', 'Ventas', ?)",
                   (now,))
        db.execute("INSERT INTO leads (id, tenant_id, organization_id, name, company, phone, status, do_not_call, "
                   "created_at, updated_at) VALUES ('l1', 't1', 'o1', 'Anterior Migración', 'Viejo SA', "
                   "'+34600123456', 'new', 0, ?, ?)", (now, now))
    await upgrade_async(url)
    with closing(sqlite3.connect(path)) as db:
        for phrase in ('"anterior"', '"viejo sa"', '"600123"'):
            assert db.execute("SELECT l.id FROM leads_search s JOIN leads l ON l.rowid = s.rowid "
                              "WHERE leads_search MATCH ?", (phrase,)).fetchall() == [("l1",)], phrase
        db.execute("INSERT INTO leads_search(leads_search, rank) VALUES ('integrity-check', 1)")
