"""Settings page, Webhooks section (admins): endpoints added, edited, deleted; the secret once; rotation, test
send, the delivery log and retries; and the notice an admin gets when leadcall switched an endpoint off."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import check_request
from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.core.errors import Invalid, LeadcallError
from leadcall.integrations import schemas, service
from leadcall.integrations.catalog import EVENT_TYPES
from leadcall.integrations.delivery import ATTEMPT_ERRORS, WebhookDeliveries
from leadcall.integrations.models import OutboxDelivery
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import PagePrincipal, page_principal
from leadcall.web.forms import PageRoute
from leadcall.web.i18n import translate, translate_problem
from leadcall.web.rendering import language_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)
LOG_PAGE = 20
# The refusals this section says in its own words (`webhookproblem.<code>`); others go to the general catalog.
PROBLEMS = ("https_required", "private_target", "url_invalid", "event_type_unknown", "event_types_empty",
            "webhook_endpoints_limit", "webhook_endpoint_disabled", "webhook_delivery_in_progress")


async def webhooks_page(principal: PagePrincipal) -> Principal:
    principal.require(Permission.manage_webhooks)
    return principal


WebhooksPage = Annotated[Principal, Depends(webhooks_page)]


def deliveries_of(request: Request) -> WebhookDeliveries:
    deliveries: WebhookDeliveries = request.app.state.webhooks
    return deliveries


def problem_text(lang: str, exc: LeadcallError) -> str:
    """The refusal in the page's language: the section's own words for its codes, else the catalog's."""
    if exc.code in PROBLEMS:
        return translate(lang, f"webhookproblem.{exc.code}", **exc.params)
    return translate_problem(lang, exc.code or "", exc.detail, exc.params)


def reason_text(lang: str, code: str | None, status: int | None, fallback: str | None) -> str:
    if code in ATTEMPT_ERRORS:
        return translate(lang, f"webhookerror.{code}", status=status or "")
    return fallback or ""


def sent_text(lang: str, delivery: OutboxDelivery, error_code: str | None) -> tuple[str, str]:
    if delivery.state == "succeeded":
        return translate(lang, "webhooks.sent_ok", status=delivery.last_status_code or "",
                         ms=delivery.last_duration_ms or 0), "ok"
    reason = reason_text(lang, error_code, delivery.last_status_code, delivery.last_error)
    return translate(lang, "webhooks.sent_failed", reason=reason), "error"


async def _section(request: Request, principal: Principal, session: AsyncSession, *, message: str | None = None,
                   kind: str = "ok", secret: tuple[str, str] | None = None) -> Response:
    box = request.app.state.container.secret_box
    endpoints = [service.endpoint_view(e, box) for e in await service.list_endpoints(session, principal.tenant_scope)]
    return render(request, "_webhooks.html", principal, endpoints=endpoints, event_types=list(EVENT_TYPES),
                  message=message, kind=kind, secret=secret)


async def _refused(request: Request, principal: Principal, session: AsyncSession, exc: LeadcallError) -> Response:
    """A refusal a person can fix: said in the section, with nothing of the attempt kept. What is not found
    (another tenant's id) stays a 404."""
    if exc.status_code == 404:
        raise exc
    await session.rollback()
    return await _section(request, principal, session, message=problem_text(language_of(request, principal), exc),
                          kind="error")


def _event_types(form: Any) -> list[str] | None:
    if form.get("all_events") == "on":
        return None
    return [str(v) for v in form.getlist("events")]


@router.get("/settings/webhooks")
async def webhooks_section(request: Request, principal: WebhooksPage, session: DbSession) -> Response:
    return await _section(request, principal, session)


@router.post("/settings/webhooks")
async def add_endpoint(request: Request, principal: WebhooksPage, session: DbSession, container: ContainerDep,
                       now: Now) -> Response:
    form = await request.form()
    try:
        data = schemas.WebhookEndpointCreate(url=str(form.get("url") or ""),
                                             description=str(form.get("description") or "") or None,
                                             event_types=_event_types(form))
        endpoint, secret = await service.create_endpoint(session, principal.tenant_scope, container.secret_box,
                                                         deliveries_of(request).targets, data, now, principal.user_id)
    except LeadcallError as exc:
        return await _refused(request, principal, session, exc)
    except ValueError:  # the form's own validation: an empty or overlong URL
        return await _refused(request, principal, session, Invalid("url", code="url_invalid"))
    return await _section(request, principal, session, message=translate(language_of(request, principal),
                                                                         "webhooks.added"), secret=(endpoint.id, secret))


@router.post("/settings/webhooks/{endpoint_id}")
async def edit_endpoint(endpoint_id: str, request: Request, principal: WebhooksPage, session: DbSession,
                        now: Now) -> Response:
    form = await request.form()
    try:
        data = schemas.WebhookEndpointUpdate(url=str(form.get("url") or ""),
                                             description=str(form.get("description") or "") or None,
                                             event_types=_event_types(form), enabled=form.get("enabled") == "on")
        await service.update_endpoint(session, principal.tenant_scope, deliveries_of(request).targets, endpoint_id,
                                      data, now)
    except LeadcallError as exc:
        return await _refused(request, principal, session, exc)
    except ValueError:
        return await _refused(request, principal, session, Invalid("url", code="url_invalid"))
    return await _section(request, principal, session,
                          message=translate(language_of(request, principal), "webhooks.saved"))


@router.post("/settings/webhooks/{endpoint_id}/delete")
async def delete_endpoint(endpoint_id: str, request: Request, principal: WebhooksPage, session: DbSession) -> Response:
    await service.delete_endpoint(session, principal.tenant_scope, endpoint_id)
    return await _section(request, principal, session,
                          message=translate(language_of(request, principal), "webhooks.deleted"))


@router.post("/settings/webhooks/{endpoint_id}/rotate")
async def rotate_secret(endpoint_id: str, request: Request, principal: WebhooksPage, session: DbSession,
                        container: ContainerDep, now: Now) -> Response:
    endpoint, secret = await service.rotate_secret(session, principal.tenant_scope, container.secret_box,
                                                   endpoint_id, now)
    return await _section(request, principal, session, message=translate(language_of(request, principal),
                                                                         "webhooks.rotated"), secret=(endpoint.id, secret))


async def _sent(request: Request, principal: Principal, session: AsyncSession, delivery: OutboxDelivery) -> Response:
    lang = language_of(request, principal)
    shown = await service.delivery(session, principal.tenant_scope, delivery.endpoint_id, delivery.id)
    message, kind = sent_text(lang, delivery, shown.attempts[0].error_code if shown.attempts else None)
    return await _section(request, principal, session, message=message, kind=kind)


@router.post("/settings/webhooks/{endpoint_id}/test")
async def test_endpoint(endpoint_id: str, request: Request, principal: WebhooksPage, session: DbSession) -> Response:
    # Sent before this request's own unit of work reads anything: no transaction is open meanwhile.
    delivery = await deliveries_of(request).test(principal.tenant_scope, endpoint_id)
    return await _sent(request, principal, session, delivery)


@router.post("/settings/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(endpoint_id: str, delivery_id: str, request: Request, principal: WebhooksPage,
                         session: DbSession) -> Response:
    try:
        delivery = await deliveries_of(request).retry(principal.tenant_scope, endpoint_id, delivery_id)
    except LeadcallError as exc:
        return await _refused(request, principal, session, exc)
    return await _sent(request, principal, session, delivery)


@router.get("/settings/webhooks/{endpoint_id}/deliveries")
async def delivery_log(endpoint_id: str, request: Request, principal: WebhooksPage, session: DbSession,
                       cursor: str | None = None) -> Response:
    page = await service.deliveries(session, principal.tenant_scope, endpoint_id, limit=LOG_PAGE, cursor=cursor)
    lang = language_of(request, principal)
    reasons = {d.id: reason_text(lang, d.attempts[0].error_code if d.attempts else None, d.last_status_code,
                                 d.last_error) for d in page.items}
    return render(request, "_webhook_log.html", principal, endpoint_id=endpoint_id, page=page, reasons=reasons,
                  more=bool(cursor))


@router.get("/settings/webhooks/disabled-toast")
async def disabled_toast(request: Request, principal: WebhooksPage, session: DbSession,
                         endpoint_id: str = "") -> Response:
    """The notice of an endpoint leadcall switched off, for the admins who heard of it over SSE."""
    endpoint = await service.get_endpoint(session, principal.tenant_scope, endpoint_id)
    lang = language_of(request, principal)
    return render(request, "_toast.html", principal, title=translate(lang, "webhooks.disabled_toast_title"),
                  message=translate(lang, "webhooks.disabled_toast", url=endpoint.url), kind="warning")
