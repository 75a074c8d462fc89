from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from leadcall.billing import schemas, usage
from leadcall.billing.service import AlertRepository, BillingService, BudgetRepository, BudgetStatus
from leadcall.core.deps import DbSession, Now
from leadcall.tenancy.deps import ApiRoute, CanManageBudgets, CanViewReports
from leadcall.tenancy.service import get_tenant

router = APIRouter(tags=["billing"], route_class=ApiRoute)


def _billing(request: Request) -> BillingService:
    service: BillingService = request.app.state.billing
    return service


def _view(status: BudgetStatus, currency: str) -> schemas.Budget:
    b = status.budget
    return schemas.Budget(id=b.id, organization_id=b.organization_id, monthly_limit=b.monthly_limit,
                          thresholds=[int(t) for t in b.thresholds], estimated_call_cost=b.estimated_call_cost,
                          currency=currency, spent=round(status.spent, 4), reserved=round(status.reserved, 4),
                          used_percent=status.used_percent, forecast_month_end=status.forecast,
                          period_start=status.period_start, period_end=status.period_end)


@router.get("/api/usage", response_model=schemas.Usage,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The report: JSON, or CSV with `format=csv`"}})
async def get_usage(principal: CanViewReports, session: DbSession, now: Now,
                    period: Literal["day", "week", "month"] = Query(default="day"),
                    start: date | None = Query(default=None, alias="from"),
                    end: date | None = Query(default=None, alias="to"),
                    format: Literal["json", "csv"] = Query(default="json")) -> Response | schemas.Usage:
    tenant = await get_tenant(session, principal.tenant_scope)
    end = end or now.date()
    start = start or end.replace(day=1)
    report = await usage.usage_report(session, principal.scope, period=period, start=start, end=end,
                                      currency=tenant.currency)
    if format == "csv":
        return Response(usage.usage_csv(report), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="leadcall-usage-{start}-{end}.csv"'})
    return report


@router.get("/api/budgets", response_model=list[schemas.Budget])
async def list_budgets(principal: CanViewReports, session: DbSession, request: Request) -> list[schemas.Budget]:
    billing = _billing(request)
    tenant = await get_tenant(session, principal.tenant_scope)
    return [_view(await billing.status(session, b), tenant.currency)
            for b in await BudgetRepository(session, principal.scope).list()]


@router.put("/api/budgets", response_model=schemas.Budget)
async def put_budget(body: schemas.BudgetPut, principal: CanManageBudgets, session: DbSession, request: Request,
                     now: Now) -> schemas.Budget:
    billing = _billing(request)
    budget = await billing.put_budget(session, principal.tenant_scope, organization_id=body.organization_id,
                                      monthly_limit=body.monthly_limit, thresholds=body.thresholds,
                                      estimated_call_cost=body.estimated_call_cost, now=now)
    tenant = await get_tenant(session, principal.tenant_scope)
    return _view(await billing.status(session, budget), tenant.currency)


@router.delete("/api/budgets/{budget_id}", status_code=204)
async def delete_budget(budget_id: str, principal: CanManageBudgets, session: DbSession, request: Request) -> Response:
    await _billing(request).delete_budget(session, principal.tenant_scope, budget_id)
    return Response(status_code=204)


@router.get("/api/alerts", response_model=list[schemas.Alert])
async def list_alerts(principal: CanViewReports, session: DbSession) -> list[schemas.Alert]:
    return [schemas.Alert.model_validate(a) for a in await AlertRepository(session, principal.scope).recent()]


@router.post("/api/alerts/{alert_id}/acknowledge", response_model=schemas.Alert)
async def acknowledge_alert(alert_id: str, principal: CanViewReports, session: DbSession, now: Now) -> schemas.Alert:
    alert = await AlertRepository(session, principal.scope).get(alert_id)
    alert.acknowledged_at = alert.acknowledged_at or now
    await session.flush()
    return schemas.Alert.model_validate(alert)
