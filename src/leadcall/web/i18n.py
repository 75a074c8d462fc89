"""The web app's words, in Spanish and English.

Every visible string of the pages goes through `translate`. Keys are dotted; families whose last
part is a value of the domain (`status.<call status>`, `outcome.<outcome>`, `calltype.<type>`,
`leadstatus.<lead status>`, `role.<role>`) cover every value the domain defines. Form mistakes are
worded from stable codes, never from the English text of pydantic or a service: `field.<form field>`
labels, `invalid.<pydantic error type>` problems, `problem.<error code>` refusals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from leadcall.web.catalog.analysis import ANALYSIS_MESSAGES
from leadcall.web.catalog.campaigns import CAMPAIGNS_MESSAGES
from leadcall.web.catalog.health import HEALTH_MESSAGES
from leadcall.web.catalog.rules import RULES_MESSAGES
from leadcall.web.catalog.scheduling import SCHEDULING_MESSAGES
from leadcall.web.catalog.webhooks import WEBHOOKS_MESSAGES
from leadcall.web.catalog.work import WORK_MESSAGES

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"

MESSAGES: dict[str, dict[str, str]] = {
    # -- frame ------------------------------------------------------------------------------------
    "app.tagline": {"es": "Llama a tus leads con agentes de voz IA", "en": "Call your leads with AI voice agents"},
    "nav.main": {"es": "Navegación principal", "en": "Main navigation"},
    "nav.leads": {"es": "Leads", "en": "Leads"},
    "nav.usage": {"es": "Consumo", "en": "Usage"},
    "nav.settings": {"es": "Ajustes", "en": "Settings"},
    "nav.logout": {"es": "Salir", "en": "Sign out"},
    "nav.skip": {"es": "Saltar al contenido", "en": "Skip to content"},
    "lang.switch": {"es": "English", "en": "Español"},
    "lang.switch_label": {"es": "Cambiar el idioma a inglés", "en": "Switch the language to Spanish"},
    "loading": {"es": "Cargando…", "en": "Loading…"},
    "close": {"es": "Cerrar", "en": "Close"},
    "js.offline": {"es": "No hay conexión con el servidor. Comprueba tu red e inténtalo de nuevo.",
                   "en": "The server cannot be reached. Check your network and try again."},
    "js.failed": {"es": "La petición ha fallado ({status}). Inténtalo de nuevo.",
                  "en": "The request failed ({status}). Please try again."},
    "notice.saved": {"es": "Guardado.", "en": "Saved."},
    "notice.saved_named": {"es": "Guardado: {name}", "en": "Saved: {name}"},
    # -- sign in ------------------------------------------------------------------------------------
    "login.title": {"es": "Iniciar sesión", "en": "Sign in"},
    "login.email": {"es": "Email", "en": "Email"},
    "login.password": {"es": "Contraseña", "en": "Password"},
    "login.submit": {"es": "Entrar", "en": "Sign in"},
    "login.failed": {"es": "Email o contraseña incorrectos.", "en": "Wrong email or password."},
    "login.expired": {"es": "El formulario ha caducado. Vuelve a intentarlo.",
                      "en": "The form has expired. Please try again."},
    "login.too_many": {"es": "Demasiados intentos. Vuelve a intentarlo en {seconds} s.",
                       "en": "Too many attempts. Try again in {seconds} s."},
    # -- your account, password reset ----------------------------------------------------------------
    "nav.account": {"es": "Tu cuenta: contraseña y sesiones", "en": "Your account: password and sessions"},
    "account.title": {"es": "Tu cuenta", "en": "Your account"},
    "account.profile": {"es": "Perfil", "en": "Profile"},
    "account.password": {"es": "Cambiar la contraseña", "en": "Change your password"},
    "account.password_help": {"es": "Al menos 10 caracteres y no una de las contraseñas más comunes. Al cambiarla se "
                                    "cierran tus otras sesiones; esta sigue abierta.",
                              "en": "At least 10 characters, and not one of the most common passwords. Changing it "
                                    "signs out your other sessions; this one stays signed in."},
    "account.current_password": {"es": "Contraseña actual", "en": "Current password"},
    "account.new_password": {"es": "Contraseña nueva", "en": "New password"},
    "account.new_password_again": {"es": "Repite la contraseña nueva", "en": "New password again"},
    "account.revoke_tokens": {"es": "Revocar también mis tokens de API", "en": "Also revoke my API tokens"},
    "account.change_password": {"es": "Cambiar la contraseña", "en": "Change password"},
    "account.password_changed": {"es": "Contraseña cambiada. Sesiones cerradas: {sessions}; tokens revocados: {tokens}.",
                                 "en": "Password changed. Sessions signed out: {sessions}; tokens revoked: {tokens}."},
    "account.sessions": {"es": "Sesiones abiertas", "en": "Signed-in sessions"},
    "account.sessions_help": {"es": "Los navegadores donde has iniciado sesión. Cierra los que no reconozcas.",
                              "en": "The browsers you are signed in on. End any you do not recognise."},
    "account.device": {"es": "Dispositivo", "en": "Device"},
    "account.address": {"es": "Dirección IP", "en": "IP address"},
    "account.signed_in": {"es": "Inicio de sesión", "en": "Signed in"},
    "account.last_used": {"es": "Último uso", "en": "Last used"},
    "account.this_browser": {"es": "este navegador", "en": "this browser"},
    "account.end_session": {"es": "Cerrar esta sesión", "en": "End this session"},
    "account.session_ended": {"es": "Sesión cerrada.", "en": "Session ended."},
    "account.end_all": {"es": "Cerrar sesión en todas partes", "en": "Sign out everywhere"},
    "reset.title": {"es": "Nueva contraseña", "en": "Set a new password"},
    "reset.for": {"es": "Para {email}.", "en": "For {email}."},
    "reset.submit": {"es": "Guardar la contraseña", "en": "Save the password"},
    "reset.done": {"es": "Contraseña guardada. Inicia sesión con ella.",
                   "en": "Password saved. Sign in with it."},
    # -- leads list -----------------------------------------------------------------------------------
    "leads.title": {"es": "Leads", "en": "Leads"},
    "leads.search": {"es": "Buscar nombre, empresa, teléfono…", "en": "Search name, company, phone…"},
    "leads.search_label": {"es": "Buscar leads", "en": "Search leads"},
    "leads.all_statuses": {"es": "Todos los estados", "en": "All statuses"},
    "leads.all_owners": {"es": "Todos los responsables", "en": "All owners"},
    "leads.all_orgs": {"es": "Todos los equipos", "en": "All teams"},
    "leads.owner": {"es": "Responsable", "en": "Owner"},
    "leads.org": {"es": "Equipo", "en": "Team"},
    "leads.filter": {"es": "Filtrar", "en": "Filter"},
    "leads.name": {"es": "Nombre", "en": "Name"},
    "leads.company": {"es": "Empresa", "en": "Company"},
    "leads.phone": {"es": "Teléfono", "en": "Phone"},
    "leads.status": {"es": "Estado", "en": "Status"},
    "leads.more": {"es": "Cargar más", "en": "Load more"},
    "leads.none": {"es": "No hay leads que coincidan.", "en": "No leads match."},
    "leads.count": {"es": "{n} leads", "en": "{n} leads"},
    "leads.dnc": {"es": "No llamar", "en": "Do not call"},
    "leads.archived_filter": {"es": "Activos o archivados", "en": "Active or archived"},
    "leads.active": {"es": "Leads activos", "en": "Active leads"},
    "leads.archived": {"es": "Archivados", "en": "Archived"},
    "leads.import": {"es": "Importar CSV", "en": "Import CSV"},
    "leads.import_file": {"es": "Archivo CSV", "en": "CSV file"},
    "leads.import_help": {"es": "Columnas: nombre/name, teléfono/phone, empresa/company, email, notas/notes, "
                                "estado/status, owner (email), no llamar/do_not_call.",
                          "en": "Columns: name, phone, company, email, notes, status, owner (email), do_not_call."},
    "leads.import_done": {"es": "{created} importados, {rejected} rechazados.",
                          "en": "{created} imported, {rejected} rejected."},
    "leads.row": {"es": "Fila {row}", "en": "Row {row}"},
    "leadstatus.new": {"es": "Nuevo", "en": "New"},
    "leadstatus.contacted": {"es": "Contactado", "en": "Contacted"},
    "leadstatus.qualified": {"es": "Cualificado", "en": "Qualified"},
    "leadstatus.unqualified": {"es": "Descartado", "en": "Unqualified"},
    "leadstatus.won": {"es": "Ganado", "en": "Won"},
    "leadstatus.lost": {"es": "Perdido", "en": "Lost"},
    # -- lead panel -------------------------------------------------------------------------------------
    "lead.panel": {"es": "Ficha del lead", "en": "Lead details"},
    "lead.close": {"es": "Cerrar la ficha", "en": "Close the lead"},
    "lead.email": {"es": "Email", "en": "Email"},
    "lead.notes": {"es": "Notas", "en": "Notes"},
    "lead.owner": {"es": "Responsable", "en": "Owner"},
    "lead.team": {"es": "Equipo", "en": "Team"},
    "lead.timezone": {"es": "Zona horaria", "en": "Timezone"},
    "lead.last_called": {"es": "Última llamada", "en": "Last called"},
    "lead.no_phone": {"es": "Este lead no tiene teléfono. Añade uno para poder llamar.",
                      "en": "This lead has no phone number. Add one to call."},
    "lead.work": {"es": "Panel de trabajo", "en": "Work panel"},
    "lead.history": {"es": "Historial de llamadas", "en": "Call history"},
    "lead.no_calls": {"es": "Todavía no hay llamadas.", "en": "No calls yet."},
    "lead.older": {"es": "Ver llamadas anteriores", "en": "Show older calls"},
    "lead.view_call": {"es": "Ver detalle", "en": "View details"},
    "lead.archive": {"es": "Archivar", "en": "Archive"},
    "lead.archive_confirm": {"es": "¿Archivar este lead? Sale de la lista; sus llamadas y costes se conservan y "
                                   "puedes restaurarlo.",
                             "en": "Archive this lead? It leaves the list; its calls and costs are kept and you can "
                                   "restore it."},
    "lead.restore": {"es": "Restaurar", "en": "Restore"},
    "lead.erase": {"es": "Borrar datos personales", "en": "Erase personal data"},
    "lead.erase_confirm": {"es": "¿Borrar para siempre los datos personales de este lead y el contenido de sus "
                                 "llamadas (transcripciones, grabaciones, también en ElevenLabs)? Costes y "
                                 "resultados se conservan. No se puede deshacer.",
                           "en": "Erase this lead's personal data and its calls' content for good (transcripts, "
                                 "recordings, at ElevenLabs too)? Costs and outcomes are kept. This cannot be undone."},
    "lead.archived_tag": {"es": "Archivado", "en": "Archived"},
    "lead.erased_tag": {"es": "Datos borrados", "en": "Data erased"},
    "lead.erased_name": {"es": "(datos borrados)", "en": "(data erased)"},
    "lead.archived_work": {"es": "Este lead está archivado: restáuralo para editarlo o llamarlo.",
                           "en": "This lead is archived: restore it to edit or call it."},
    "lead.erased_work": {"es": "Los datos personales de este lead se borraron; sus llamadas conservan costes y "
                               "resultados.",
                         "en": "This lead's personal data was erased; its calls keep their costs and outcomes."},
    "lead.archived_notice": {"es": "Lead archivado.", "en": "Lead archived."},
    "lead.restored_notice": {"es": "Lead restaurado.", "en": "Lead restored."},
    "lead.erased_notice": {"es": "Datos personales borrados.", "en": "Personal data erased."},
    # -- agent picker ---------------------------------------------------------------------------------------
    "call.button": {"es": "Llamar", "en": "Call"},
    "call.again": {"es": "Llamar de nuevo", "en": "Call again"},
    "picker.title": {"es": "Elige un agente", "en": "Pick an agent"},
    "picker.call_type": {"es": "Tipo de llamada", "en": "Call type"},
    "picker.confirm": {"es": "Confirmar y llamar", "en": "Confirm and call"},
    "picker.back": {"es": "Volver", "en": "Back"},
    "picker.none": {"es": "No hay agentes que puedas usar. Un administrador puede conectar una cuenta de "
                          "ElevenLabs o habilitar agentes en Ajustes.",
                    "en": "There are no agents you may use. An admin can connect an ElevenLabs account or "
                          "enable agents in Settings."},
    "picker.unavailable": {"es": "No disponible: {reason}", "en": "Unavailable: {reason}"},
    "picker.available": {"es": "Disponible", "en": "Available"},
    "picker.live_calls": {"es": "{n} en llamada", "en": "{n} on a call"},
    "picker.voice": {"es": "Voz", "en": "Voice"},
    "picker.language": {"es": "Idioma", "en": "Language"},
    "picker.account": {"es": "Cuenta", "en": "Account"},
    "picker.preview": {"es": "Escuchar la voz de {name}", "en": "Hear {name}'s voice"},
    "picker.no_preview": {"es": "Sin muestra de voz", "en": "No voice sample"},
    "picker.choose_first": {"es": "Elige un agente disponible.", "en": "Choose an available agent."},
    "picker.calling": {"es": "Llamando…", "en": "Calling…"},
    "picker.retry": {"es": "Reintentar", "en": "Try again"},
    "picker.account_down": {"es": "La cuenta «{account}» de ElevenLabs no responde; faltan sus agentes.",
                            "en": "The ElevenLabs account '{account}' is not answering; its agents are missing."},
    "picker.account_down_shown": {
        "es": "La cuenta «{account}» de ElevenLabs no responde; sus agentes se muestran como estaban y ahora no "
              "se pueden llamar.",
        "en": "The ElevenLabs account '{account}' is not answering; its agents are shown as last listed and "
              "cannot be called now."},
    "picker.account_problem": {
        "es": "La cuenta «{account}» de ElevenLabs necesita atención (un administrador debe revisar su clave); "
              "faltan sus agentes.",
        "en": "The ElevenLabs account '{account}' needs attention (an admin must check its key); its agents are "
              "missing."},
    "picker.account_problem_shown": {
        "es": "La cuenta «{account}» de ElevenLabs necesita atención (un administrador debe revisar su clave); "
              "sus agentes ahora no se pueden llamar.",
        "en": "The ElevenLabs account '{account}' needs attention (an admin must check its key); its agents "
              "cannot be called now."},
    "picker.account_pending": {
        "es": "La cuenta «{account}» de ElevenLabs aún no ha respondido; sus agentes faltan por ahora. "
              "Reinténtalo en un momento.",
        "en": "The ElevenLabs account '{account}' has not answered yet; its agents are missing for now. "
              "Try again in a moment."},
    "reason.agent_disabled": {"es": "un administrador ha desactivado este agente", "en": "an admin has disabled this agent"},
    "reason.team_not_allowed": {"es": "tu equipo no puede usar este agente", "en": "your team may not use this agent"},
    "reason.call_type_not_allowed": {"es": "este agente no hace llamadas de este tipo",
                                     "en": "this agent does not make calls of this type"},
    "reason.agent_busy": {"es": "ocupado: {live} llamada(s) en curso, su límite es {limit}",
                          "en": "busy: {live} call(s) in progress, its limit is {limit}"},
    "reason.account_at_limit": {"es": "la cuenta «{account}» está en su límite de {limit} llamadas simultáneas",
                                "en": "the account '{account}' is at its limit of {limit} simultaneous calls"},
    "reason.account_unreachable": {"es": "la cuenta «{account}» de ElevenLabs no responde",
                                   "en": "the ElevenLabs account '{account}' is not answering"},
    "reason.account_misconfigured": {"es": "la cuenta «{account}» de ElevenLabs necesita atención",
                                     "en": "the ElevenLabs account '{account}' needs attention"},
    "reason.no_phone_number": {"es": "no tiene un número de teléfono asignado",
                               "en": "no phone number is assigned to it"},
    "calltype.prospecting": {"es": "Prospección", "en": "Prospecting"},
    "calltype.qualification": {"es": "Cualificación", "en": "Qualification"},
    "calltype.follow_up": {"es": "Seguimiento", "en": "Follow-up"},
    "calltype.closing": {"es": "Cierre", "en": "Closing"},
    # -- the call -----------------------------------------------------------------------------------------
    "status.initiating": {"es": "Iniciando", "en": "Initiating"},
    "status.ringing": {"es": "Sonando", "en": "Ringing"},
    "status.in_progress": {"es": "En curso", "en": "In progress"},
    "status.completed": {"es": "Completada", "en": "Completed"},
    "status.failed": {"es": "Fallida", "en": "Failed"},
    "status.canceled": {"es": "Cancelada", "en": "Canceled"},
    "status.ended": {"es": "Finalizada", "en": "Ended"},
    "outcome.answered": {"es": "Contestada", "en": "Answered"},
    "outcome.no_answer": {"es": "Sin respuesta", "en": "No answer"},
    "outcome.voicemail": {"es": "Buzón de voz", "en": "Voicemail"},
    "outcome.busy": {"es": "Ocupado", "en": "Busy"},
    "outcome.failed": {"es": "Fallida", "en": "Failed"},
    "outcome.interested": {"es": "Interesado", "en": "Interested"},
    "outcome.not_interested": {"es": "No interesado", "en": "Not interested"},
    "outcome.callback_requested": {"es": "Pide que le llamen", "en": "Callback requested"},
    "outcome.none": {"es": "Sin resultado", "en": "No outcome"},
    "call.progress": {"es": "Progreso de la llamada", "en": "Call progress"},
    "call.elapsed": {"es": "Tiempo transcurrido", "en": "Elapsed time"},
    "call.calling_to": {"es": "Llamando a {number}", "en": "Calling {number}"},
    "call.to": {"es": "Número: {number}", "en": "Number: {number}"},
    "call.cancel": {"es": "Colgar", "en": "Hang up"},
    "call.transcript": {"es": "Transcripción", "en": "Transcript"},
    "call.transcript_pending": {"es": "La transcripción llegará en unos momentos…",
                                "en": "The transcript will arrive in a moment…"},
    "call.summary": {"es": "Resumen", "en": "Summary"},
    "call.outcome": {"es": "Resultado", "en": "Outcome"},
    "call.keep_outcome": {"es": "(sin cambios)", "en": "(unchanged)"},
    "call.edit_outcome": {"es": "Corregir el resultado", "en": "Correct the outcome"},
    "call.cost": {"es": "Coste", "en": "Cost"},
    "call.credits": {"es": "{n} créditos", "en": "{n} credits"},
    "call.duration": {"es": "Duración", "en": "Duration"},
    "call.next_action": {"es": "Siguiente paso", "en": "Next step"},
    "call.callback": {"es": "Volver a llamar", "en": "Call back"},
    "call.save": {"es": "Guardar", "en": "Save"},
    "call.notes": {"es": "Notas", "en": "Notes"},
    "call.agent": {"es": "Agente", "en": "Agent"},
    "call.when": {"es": "Fecha", "en": "When"},
    "call.recording": {"es": "Grabación", "en": "Recording"},
    "call.reason": {"es": "Motivo", "en": "Reason"},
    "call.confirming": {"es": "Confirmando con ElevenLabs", "en": "Confirming with ElevenLabs"},
    "call.confirming_detail": {
        "es": "ElevenLabs no confirmó la llamada y puede que el teléfono esté sonando. No se vuelve a marcar: "
              "leadcall la busca en ElevenLabs por su identificador y mostrará aquí el resultado.",
        "en": "ElevenLabs did not confirm the call, and the phone may be ringing. It is not dialled again: "
              "leadcall looks it up at ElevenLabs by its id and will show the result here."},
    "speaker.agent": {"es": "Agente", "en": "Agent"},
    "speaker.user": {"es": "Lead", "en": "Lead"},
    # -- settings ------------------------------------------------------------------------------------------------
    "settings.title": {"es": "Ajustes", "en": "Settings"},
    "settings.sections": {"es": "Secciones", "en": "Sections"},
    "settings.accounts": {"es": "Cuentas de ElevenLabs", "en": "ElevenLabs accounts"},
    "settings.no_accounts": {"es": "Todavía no hay cuentas. Añade la primera con su API key.",
                             "en": "No accounts yet. Add the first one with its API key."},
    "settings.add_account": {"es": "Añadir cuenta", "en": "Add account"},
    "settings.account_name": {"es": "Nombre", "en": "Name"},
    "settings.api_key": {"es": "API key", "en": "API key"},
    "settings.webhook_secret": {"es": "Secreto del webhook", "en": "Webhook secret"},
    "settings.base_url": {"es": "URL de la API (opcional)", "en": "API URL (optional)"},
    "settings.concurrency": {"es": "Llamadas simultáneas", "en": "Simultaneous calls"},
    "settings.test": {"es": "Probar conexión", "en": "Test connection"},
    "settings.test_ok": {"es": "Conexión correcta: {detail}", "en": "Connection works: {detail}"},
    "settings.test_failed": {"es": "La conexión ha fallado: {detail}", "en": "The connection failed: {detail}"},
    "settings.last_check": {"es": "Última comprobación", "en": "Last check"},
    "settings.enable": {"es": "Activar", "en": "Enable"},
    "settings.disable": {"es": "Desactivar", "en": "Disable"},
    "settings.account_active": {"es": "Activa", "en": "Active"},
    "settings.account_inactive": {"es": "Desactivada", "en": "Disabled"},
    "settings.webhook_url": {"es": "URL del webhook", "en": "Webhook URL"},
    "settings.agents": {"es": "Agentes", "en": "Agents"},
    "settings.no_agents": {"es": "Las cuentas activas no tienen agentes.", "en": "The active accounts have no agents."},
    "settings.tags": {"es": "Etiquetas (separadas por comas)", "en": "Tags (comma separated)"},
    "settings.provider_tags": {"es": "Etiquetas en ElevenLabs", "en": "Tags in ElevenLabs"},
    "settings.specialty": {"es": "Especialidad", "en": "Specialty"},
    "settings.allowed_orgs": {"es": "Equipos que pueden usarlo (ninguno marcado = todos)",
                              "en": "Teams allowed (none ticked = all)"},
    "settings.allowed_types": {"es": "Tipos de llamada (ninguno marcado = todos)",
                               "en": "Call types (none ticked = all)"},
    "settings.max_calls": {"es": "Máx. llamadas a la vez", "en": "Max calls at once"},
    "settings.agent_enabled": {"es": "Agente activo", "en": "Agent enabled"},
    "settings.users": {"es": "Usuarios y roles", "en": "Users and roles"},
    "settings.add_user": {"es": "Añadir usuario", "en": "Add user"},
    "settings.user_active": {"es": "Activo", "en": "Active"},
    "settings.role": {"es": "Rol", "en": "Role"},
    "settings.team": {"es": "Equipo", "en": "Team"},
    "settings.email": {"es": "Email", "en": "Email"},
    "settings.password": {"es": "Contraseña inicial (10+ caracteres)", "en": "Initial password (10+ characters)"},
    "settings.password_column": {"es": "Contraseña", "en": "Password"},
    "settings.reset_link": {"es": "Enlace para restablecerla", "en": "Reset link"},
    "settings.reset_link_label": {"es": "Envíale este enlace (sirve una sola vez)",
                                  "en": "Send them this link (it works once)"},
    "settings.reset_link_help": {"es": "Caduca:", "en": "Expires:"},
    "settings.save": {"es": "Guardar", "en": "Save"},
    "settings.budget": {"es": "Presupuesto mensual", "en": "Monthly budget"},
    "settings.budget_line": {"es": "{who}: {used} / {limit} {currency} ({pct} %)",
                             "en": "{who}: {used} / {limit} {currency} ({pct} %)"},
    "settings.edit": {"es": "Editar {name}", "en": "Edit {name}"},
    "settings.keep_blank": {"es": "vacío = sin cambios", "en": "blank keeps the current one"},
    "settings.rate": {"es": "Cambio USD → moneda del tenant", "en": "USD → tenant currency rate"},
    "settings.whole_tenant": {"es": "Toda la empresa", "en": "Whole company"},
    "settings.thresholds": {"es": "Alertas al (%)", "en": "Alert at (%)"},
    "settings.retention": {"es": "Conservación de llamadas", "en": "Call retention"},
    "settings.retention_help": {"es": "Pasado este plazo se borran transcripciones, resúmenes, grabaciones y los "
                                      "webhooks que los contienen; costes, duración y resultados se conservan.",
                                "en": "After this period transcripts, summaries, recordings and the webhooks holding "
                                      "them are removed; cost, duration and outcome are kept."},
    "settings.retention_days": {"es": "Conservar (días; vacío = siempre)", "en": "Keep for (days; blank = forever)"},
    "settings.retention_forever": {"es": "siempre", "en": "forever"},
    "settings.retention_provider": {"es": "Borrar también las conversaciones en ElevenLabs",
                                    "en": "Also delete the conversations at ElevenLabs"},
    "settings.retention_deletions": {"es": "Conversaciones por borrar en ElevenLabs: {pending}; fallidas: {failed}.",
                                     "en": "Conversations to delete at ElevenLabs: {pending}; failed: {failed}."},
    "role.admin": {"es": "Administrador", "en": "Admin"},
    "role.manager": {"es": "Responsable de equipo", "en": "Manager"},
    "role.member": {"es": "Comercial", "en": "Member"},
    # -- usage ------------------------------------------------------------------------------------------------------
    "usage.title": {"es": "Consumo", "en": "Usage"},
    "usage.calls": {"es": "Llamadas", "en": "Calls"},
    "usage.minutes": {"es": "Minutos", "en": "Minutes"},
    "usage.cost": {"es": "Coste", "en": "Cost"},
    "usage.by_day": {"es": "Coste por día", "en": "Cost per day"},
    "usage.by_outcome": {"es": "Por resultado", "en": "By outcome"},
    "usage.by_agent": {"es": "Por agente", "en": "By agent"},
    "usage.by_user": {"es": "Por usuario", "en": "By user"},
    "usage.empty": {"es": "No hay llamadas en este periodo.", "en": "No calls in this period."},
    "usage.csv": {"es": "Descargar CSV", "en": "Download CSV"},
    "usage.budget": {"es": "Presupuesto: {used} de {limit} {currency} ({pct} %), previsión a fin de mes {forecast}",
                     "en": "Budget: {used} of {limit} {currency} ({pct} %), month-end forecast {forecast}"},
    "usage.alerts": {"es": "Alertas", "en": "Alerts"},
    "alert.toast_title": {"es": "Alerta de presupuesto", "en": "Budget alert"},
    "alert.toast": {"es": "Se ha alcanzado el {threshold} % del presupuesto mensual ({who}): {spent} de {limit} "
                          "{currency}.",
                    "en": "{threshold} % of the monthly budget reached ({who}): {spent} of {limit} {currency}."},
    "usage.alert": {"es": "Se alcanzó el {threshold} % del presupuesto ({period})",
                    "en": "{threshold} % of the budget reached ({period})"},
    # -- form mistakes: a field's label, then what is wrong with it, by pydantic's stable error type ----------------------
    "field.agent_id": {"es": "Agente", "en": "Agent"},
    "field.allowed_call_types": {"es": "Tipos de llamada", "en": "Call types"},
    "field.allowed_organization_ids": {"es": "Equipos que pueden usarlo", "en": "Teams allowed"},
    "field.api_key": {"es": "API key", "en": "API key"},
    "field.archived": {"es": "Activos o archivados", "en": "Active or archived"},
    "field.base_url": {"es": "URL de la API", "en": "API URL"},
    "field.retention_days": {"es": "Conservar (días)", "en": "Keep for (days)"},
    "field.delete_at_provider": {"es": "Borrar en ElevenLabs", "en": "Delete at ElevenLabs"},
    "field.call_type": {"es": "Tipo de llamada", "en": "Call type"},
    "field.company": {"es": "Empresa", "en": "Company"},
    "field.concurrency_limit": {"es": "Llamadas simultáneas", "en": "Simultaneous calls"},
    "field.do_not_call": {"es": "No llamar", "en": "Do not call"},
    "field.do_not_call_reason": {"es": "Motivo para no llamar", "en": "Reason not to call"},
    "field.email": {"es": "Email", "en": "Email"},
    "field.file": {"es": "Archivo CSV", "en": "CSV file"},
    "field.is_active": {"es": "Activo", "en": "Active"},
    "field.is_enabled": {"es": "Agente activo", "en": "Agent enabled"},
    "field.max_concurrent_calls": {"es": "Máx. llamadas a la vez", "en": "Max calls at once"},
    "field.monthly_limit": {"es": "Presupuesto mensual", "en": "Monthly budget"},
    "field.name": {"es": "Nombre", "en": "Name"},
    "field.next_action": {"es": "Siguiente paso", "en": "Next step"},
    "field.notes": {"es": "Notas", "en": "Notes"},
    "field.org": {"es": "Equipo", "en": "Team"},
    "field.organization_id": {"es": "Equipo", "en": "Team"},
    "field.outcome": {"es": "Resultado", "en": "Outcome"},
    "field.owner": {"es": "Responsable", "en": "Owner"},
    "field.owner_id": {"es": "Responsable", "en": "Owner"},
    "field.owner_email": {"es": "Responsable", "en": "Owner"},
    "field.password": {"es": "Contraseña", "en": "Password"},
    "field.current_password": {"es": "Contraseña actual", "en": "Current password"},
    "field.new_password": {"es": "Contraseña nueva", "en": "New password"},
    "field.new_password_again": {"es": "Contraseña nueva repetida", "en": "New password again"},
    "field.revoke_tokens": {"es": "Revocar los tokens de API", "en": "Revoke the API tokens"},
    "field.username": {"es": "Email", "en": "Email"},
    "field.phone": {"es": "Teléfono", "en": "Phone"},
    "field.q": {"es": "Búsqueda", "en": "Search"},
    "field.role": {"es": "Rol", "en": "Role"},
    "field.specialty": {"es": "Especialidad", "en": "Specialty"},
    "field.status": {"es": "Estado", "en": "Status"},
    "field.tags": {"es": "Etiquetas", "en": "Tags"},
    "field.thresholds": {"es": "Alertas al (%)", "en": "Alert at (%)"},
    "field.timezone": {"es": "Zona horaria", "en": "Timezone"},
    "field.usd_to_currency_rate": {"es": "Cambio USD → moneda del tenant", "en": "USD → tenant currency rate"},
    "field.webhook_secret": {"es": "Secreto del webhook", "en": "Webhook secret"},
    "invalid.field": {"es": "{field}: {problem}", "en": "{field}: {problem}"},
    "invalid.missing": {"es": "este campo es obligatorio", "en": "this field is required"},
    "invalid.string_too_short": {"es": "necesita al menos {min_length} caracteres",
                                 "en": "needs at least {min_length} characters"},
    "invalid.string_too_long": {"es": "admite como mucho {max_length} caracteres",
                                "en": "takes at most {max_length} characters"},
    "invalid.too_short": {"es": "necesita al menos {min_length} elementos", "en": "needs at least {min_length} items"},
    "invalid.too_long": {"es": "admite como mucho {max_length} elementos", "en": "takes at most {max_length} items"},
    "invalid.greater_than": {"es": "debe ser mayor que {gt}", "en": "must be more than {gt}"},
    "invalid.greater_than_equal": {"es": "debe ser {ge} o más", "en": "must be {ge} or more"},
    "invalid.less_than": {"es": "debe ser menor que {lt}", "en": "must be less than {lt}"},
    "invalid.less_than_equal": {"es": "debe ser {le} o menos", "en": "must be {le} or less"},
    "invalid.int_parsing": {"es": "debe ser un número entero", "en": "must be a whole number"},
    "invalid.float_parsing": {"es": "debe ser un número", "en": "must be a number"},
    "invalid.bool_parsing": {"es": "debe ser sí o no", "en": "must be yes or no"},
    "invalid.enum": {"es": "no es una de las opciones", "en": "is not one of the choices"},
    "invalid.url_parsing": {"es": "debe ser una dirección web, p. ej. https://api.elevenlabs.io",
                            "en": "must be a web address, e.g. https://api.elevenlabs.io"},
    "invalid.email": {"es": "no es una dirección de email", "en": "is not an email address"},
    "invalid.percentages": {"es": "escribe porcentajes enteros separados por comas, p. ej. 50, 80, 100",
                            "en": "write whole percentages separated by commas, e.g. 50, 80, 100"},
    "invalid.value_error": {"es": "no es un valor válido", "en": "is not a valid value"},
    "invalid.password_too_short": {"es": "necesita al menos {min_length} caracteres",
                                   "en": "needs at least {min_length} characters"},
    "invalid.password_too_long": {"es": "admite como mucho {max_length} caracteres",
                                  "en": "takes at most {max_length} characters"},
    "invalid.password_too_common": {"es": "es una de las contraseñas más comunes; elige otra más difícil de adivinar",
                                    "en": "is one of the most common passwords; choose one that is harder to guess"},
    "invalid.string_pattern_mismatch": {"es": "no tiene el formato esperado", "en": "is not in the expected format"},
    "invalid.finite_number": {"es": "debe ser un número finito", "en": "must be a finite number"},
    "invalid.forbidden_character": {"es": "contiene un carácter de control ({character}) que no se admite; quítalo",
                                    "en": "contains a control character ({character}) that is not accepted; "
                                          "remove it"},
    "invalid.owner_unknown": {"es": "no hay ningún usuario con el email {email}",
                              "en": "there is no user with the email {email}"},
    "invalid.phone_invalid": {"es": "«{phone}» no es un número válido; escríbelo con el prefijo del país, "
                                    "p. ej. +34 612 345 678",
                              "en": "'{phone}' is not a valid number; write it with its country code, "
                                    "e.g. +34 612 345 678"},
    # -- what a service refused, by the error's code (`problem.<code>`, filled with its params) ------------------------
    "problem.account_has_history": {"es": "Esta cuenta tiene historial de llamadas: desactívala en lugar de borrarla.",
                                    "en": "This account has call history: disable it instead of deleting it."},
    "problem.agent_unknown": {"es": "Ese agente no está en ninguna de tus cuentas de ElevenLabs.",
                              "en": "That agent is not in any of your ElevenLabs accounts."},
    "problem.budget_spent": {"es": "El presupuesto mensual de {limit} {currency} está gastado ({used} {currency} usados "
                                   "o reservados para llamadas en curso). Podrás llamar de nuevo a partir del {until}, "
                                   "o un administrador puede ampliarlo.",
                             "en": "The monthly budget of {limit} {currency} is spent ({used} {currency} used or held "
                                   "for live calls). Calls can be placed again from {until}, or an admin can raise it."},
    "problem.provider_unavailable": {
        "es": "La cuenta «{account}» de ElevenLabs no responde ahora mismo, así que sus agentes no se pueden usar; "
              "inténtalo de nuevo en un momento.",
        "en": "The ElevenLabs account '{account}' is not answering right now, so its agents cannot be used; "
              "try again in a moment."},
    "problem.provider_needs_attention": {
        "es": "La cuenta «{account}» de ElevenLabs necesita atención (un administrador debe revisar su clave), "
              "así que sus agentes no se pueden usar.",
        "en": "The ElevenLabs account '{account}' needs attention (an admin must check its key), so its agents "
              "cannot be used."},
    "problem.call_already_ended": {"es": "La llamada ya ha terminado.", "en": "The call has already ended."},
    "problem.call_being_placed": {"es": "La llamada aún se está realizando; inténtalo de nuevo en un momento.",
                                  "en": "The call is still being placed; try again in a moment."},
    "problem.call_being_confirmed": {
        "es": "ElevenLabs no confirmó la llamada y leadcall aún la está buscando por su identificador; podrás colgarla "
              "cuando aparezca.",
        "en": "ElevenLabs did not confirm the call and leadcall is still looking it up by its id; it can be hung up "
              "once it is found."},
    "problem.call_still_live": {"es": "La llamada sigue en curso; corrige su resultado cuando termine.",
                                "en": "The call is still live; correct its outcome once it has ended."},
    "problem.form_expired": {"es": "El formulario ha caducado: recarga la página y vuelve a intentarlo.",
                             "en": "The form has expired: reload the page and try again."},
    "problem.lead_already_on_call": {"es": "Este lead ya está en una llamada: espera a que termine o cancélala.",
                                     "en": "This lead is already on a call: wait for it to end or cancel it."},
    "problem.lead_has_no_phone": {"es": "Este lead no tiene teléfono: añade uno antes de llamar.",
                                  "en": "This lead has no phone number: add one before calling."},
    "problem.lead_archived": {"es": "Este lead está archivado: restáuralo primero.",
                              "en": "This lead is archived; restore it first."},
    "problem.lead_on_live_call": {"es": "Este lead está en una llamada ahora mismo: espera a que termine (o cancélala) "
                                        "y vuelve a intentarlo.",
                                  "en": "This lead is on a call right now: wait for it to end (or cancel it) and try "
                                        "again."},
    "problem.lead_erased": {"es": "Los datos personales de este lead se borraron: sigue archivado.",
                            "en": "This lead's personal data was erased; it stays archived."},
    "problem.lead_not_archived": {"es": "Este lead no está archivado.", "en": "This lead is not archived."},
    "problem.retention_needs_days": {"es": "Para borrar en ElevenLabs hace falta un plazo de conservación (días).",
                                     "en": "Deleting at ElevenLabs needs a retention period (days)."},
    "problem.no_recording": {"es": "Esta llamada no tiene grabación.", "en": "This call has no recording."},
    "problem.not_found": {"es": "No se encuentra: {what}.", "en": "Not found: {what}."},
    "problem.placements_limited_tenant": {"es": "Tu equipo ha hecho {limit} llamadas en el último minuto, el máximo; "
                                                "inténtalo de nuevo en {seconds} s.",
                                          "en": "Your team placed {limit} calls in the last minute, the most allowed; "
                                                "try again in {seconds} s."},
    "problem.placements_limited_user": {"es": "Has hecho {limit} llamadas en el último minuto, el máximo; "
                                              "inténtalo de nuevo en {seconds} s.",
                                        "en": "You placed {limit} calls in the last minute, the most allowed; "
                                              "try again in {seconds} s."},
    # Why ElevenLabs placed no call (calls/placing.py), shown with the provider's own sentence.
    "problem.provider_refused_call": {"es": "ElevenLabs rechazó la llamada: no se ha llamado al lead.",
                                      "en": "ElevenLabs refused the call: the lead was not called."},
    "problem.provider_misconfigured": {"es": "La cuenta de ElevenLabs necesita a un administrador: no se ha llamado "
                                             "al lead.",
                                       "en": "The ElevenLabs account needs an admin: the lead was not called."},
    "problem.provider_at_capacity": {"es": "ElevenLabs está en su límite de llamadas simultáneas: no se ha llamado al "
                                           "lead; inténtalo cuando termine una llamada.",
                                     "en": "ElevenLabs is at its limit of simultaneous calls: the lead was not "
                                           "called; try again when a call ends."},
    "problem.provider_unreachable": {"es": "No se pudo contactar con ElevenLabs: no se ha llamado al lead; "
                                           "inténtalo de nuevo en un momento.",
                                     "en": "ElevenLabs could not be reached: the lead was not called; try again "
                                           "shortly."},
    "problem.role_not_allowed": {"es": "Tu rol ({role}) no permite hacer esto.",
                                 "en": "Your role ({role}) does not allow this."},
    "problem.session_ended": {"es": "Tu sesión ha terminado: vuelve a iniciar sesión.",
                              "en": "Your session has ended: please sign in again."},
    "problem.team_budget_spent": {"es": "El presupuesto mensual de tu equipo, {limit} {currency}, está gastado "
                                        "({used} {currency} usados o reservados para llamadas en curso). Podrás "
                                        "llamar de nuevo a partir del {until}, o un administrador puede ampliarlo.",
                                  "en": "Your team's monthly budget of {limit} {currency} is spent ({used} {currency} "
                                        "used or held for live calls). Calls can be placed again from {until}, or an "
                                        "admin can raise it."},
    "problem.team_name_taken": {"es": "Ya hay un equipo llamado «{name}».", "en": "A team named '{name}' already exists."},
    "problem.too_many_sign_ins": {"es": "Demasiados intentos de inicio de sesión; inténtalo de nuevo en {seconds} s.",
                                  "en": "Too many sign-in attempts; try again in {seconds} s."},
    "problem.wrong_credentials": {"es": "Email o contraseña incorrectos.", "en": "Wrong email or password."},
    "problem.current_password_wrong": {"es": "La contraseña actual no es correcta.",
                                       "en": "The current password is not right."},
    "problem.password_mismatch": {"es": "Las dos contraseñas nuevas no coinciden.",
                                  "en": "The two new passwords differ."},
    "problem.password_not_changed_here": {"es": "La contraseña no se cambia al editar el usuario: cada uno cambia la "
                                                "suya en su cuenta y un administrador puede emitir un enlace para "
                                                "restablecerla.",
                                          "en": "A password is not changed by editing the user: each user changes "
                                                "their own on their account page, and an admin can issue a reset link."},
    "problem.password_too_common": {"es": "Esa contraseña es una de las más comunes; elige otra más difícil de adivinar.",
                                    "en": "That password is one of the most common ones; choose one that is harder "
                                          "to guess."},
    "problem.password_too_long": {"es": "La contraseña admite como mucho {max_length} caracteres.",
                                  "en": "The password can have at most {max_length} characters."},
    "problem.password_too_short": {"es": "La contraseña necesita al menos {min_length} caracteres.",
                                   "en": "The password needs at least {min_length} characters."},
    "problem.password_unchanged": {"es": "La contraseña nueva es la actual; elige otra.",
                                   "en": "The new password is the current one; choose another."},
    "problem.reset_link_invalid": {"es": "Este enlace para restablecer la contraseña no existe, ya se usó o ha "
                                         "caducado; pide otro a un administrador.",
                                   "en": "This password reset link is unknown, already used or expired; ask an "
                                         "admin for a new one."},
    "problem.too_many_password_attempts": {"es": "Demasiados intentos con la contraseña; inténtalo de nuevo en "
                                                 "{seconds} s.",
                                           "en": "Too many password attempts; try again in {seconds} s."},
    # what a "not found" names (`thing.<label>`, the repository's label)
    "thing.alert": {"es": "la alerta", "en": "the alert"},
    "thing.agent": {"es": "el agente", "en": "the agent"},
    "thing.budget": {"es": "el presupuesto", "en": "the budget"},
    "thing.call": {"es": "la llamada", "en": "the call"},
    "thing.campaign": {"es": "la campaña", "en": "the campaign"},
    "thing.attempt": {"es": "el intento de la campaña", "en": "the campaign attempt"},
    "thing.elevenlabs_account": {"es": "la cuenta de ElevenLabs", "en": "the ElevenLabs account"},
    "thing.lead": {"es": "el lead", "en": "the lead"},
    "thing.organization": {"es": "el equipo", "en": "the team"},
    "thing.token": {"es": "el token de API", "en": "the API token"},
    "thing.session": {"es": "la sesión", "en": "the session"},
    "thing.password_reset": {"es": "el enlace para restablecer la contraseña", "en": "the password reset link"},
    "thing.user": {"es": "el usuario", "en": "the user"},
    "problem.provider_host_not_allowed": {
        "es": "{host} no es un servidor de la API de {provider} ({allowed}); el operador puede permitir otros con "
              "LEADCALL_PROVIDER_HOSTS.",
        "en": "{host} is not an API host of {provider} ({allowed}); the operator can allow others with "
              "LEADCALL_PROVIDER_HOSTS."},
    "problem.private_target": {"es": "{host} es una dirección privada, local o de enlace local: leadcall no conecta ahí.",
                               "en": "{host} is a private, loopback or link-local address: leadcall never connects there."},
    "problem.https_required": {"es": "La URL de la API debe empezar por https://.",
                               "en": "The API URL must start with https://."},
    "problem.url_invalid": {"es": "Esa URL no es una a la que leadcall pueda conectarse.",
                            "en": "leadcall cannot connect to that URL."},
    "problem.account_name_taken": {"es": "Ya hay una cuenta de ElevenLabs llamada «{name}».",
                                   "en": "An ElevenLabs account named '{name}' already exists."},
    "problem.csv_empty": {"es": "El archivo está vacío: la primera línea debe nombrar las columnas (nombre, teléfono…).",
                          "en": "The file is empty: the first line must name the columns (name, phone, …)."},
    "problem.csv_no_name_column": {"es": "Falta la columna «nombre» (también vale «name»).",
                                   "en": "The file needs a 'name' column (also accepted: 'nombre')."},
    "problem.csv_no_rows": {"es": "El archivo no tiene filas debajo de la línea de cabecera.",
                            "en": "The file has no rows under its header line."},
    "problem.csv_not_utf8": {"es": "El archivo no es texto UTF-8: guárdalo como «CSV UTF-8» y vuelve a intentarlo.",
                             "en": "The file is not UTF-8 text: save it as CSV UTF-8 and try again."},
    "problem.csv_too_large": {"es": "El archivo pasa de {megabytes} MB: divídelo e importa las partes.",
                              "en": "The file is larger than {megabytes} MB: split it and import the parts."},
    "problem.email_taken": {"es": "Ya hay un usuario con el email {email}.",
                            "en": "A user with the email {email} already exists."},
    "problem.owner_not_in_team": {"es": "El responsable no es un usuario de tu equipo.",
                                  "en": "The owner is not a user of your team."},
    "problem.own_admin_role": {"es": "No puedes quitarte tu propio rol de administrador ni desactivarte.",
                               "en": "You cannot remove your own admin role or deactivate yourself."},
    "problem.phone_invalid": {"es": "Teléfono: «{phone}» no es un número válido; escríbelo con el prefijo del país, "
                                    "p. ej. +34 612 345 678.",
                              "en": "Phone: '{phone}' is not a valid number; write it with its country code, "
                                    "e.g. +34 612 345 678."},
    "problem.thresholds_invalid": {"es": "Alertas al (%): cada una es un porcentaje entre 1 y 100.",
                                   "en": "Alert at (%): each one is a percentage between 1 and 100."},
    # -- errors ---------------------------------------------------------------------------------------------------------
    "error.title": {"es": "Algo no ha ido bien", "en": "Something went wrong"},
    "error.back": {"es": "Volver a los leads", "en": "Back to leads"},
    "error.400": {"es": "No se ha podido hacer", "en": "That could not be done"},
    "error.401": {"es": "Inicia sesión para continuar", "en": "Sign in to continue"},
    "error.402": {"es": "Presupuesto agotado", "en": "Budget exhausted"},
    "error.403": {"es": "No tienes permiso para esto", "en": "You are not allowed to do this"},
    "error.404": {"es": "No lo encontramos", "en": "We could not find it"},
    "error.409": {"es": "No es posible ahora mismo", "en": "Not possible right now"},
    "error.413": {"es": "El archivo es demasiado grande", "en": "The file is too large"},
    "error.422": {"es": "Revisa los datos", "en": "Please check the data"},
    "error.424": {"es": "La cuenta de ElevenLabs necesita atención", "en": "The ElevenLabs account needs attention"},
    "error.429": {"es": "Demasiadas peticiones; espera un momento", "en": "Too many requests; wait a moment"},
    "error.503": {"es": "ElevenLabs no responde ahora mismo", "en": "ElevenLabs is not answering right now"},
}
MESSAGES.update(RULES_MESSAGES)
MESSAGES.update(ANALYSIS_MESSAGES)
MESSAGES.update(SCHEDULING_MESSAGES)
MESSAGES.update(CAMPAIGNS_MESSAGES)
MESSAGES.update(HEALTH_MESSAGES)
MESSAGES.update(WEBHOOKS_MESSAGES)
MESSAGES.update(WORK_MESSAGES)

def translate(language: str, key: str, **values: object) -> str:
    """The message in `language` (English if that language lacks it); an unknown key shows as itself."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


def _fill(language: str, key: str, values: Mapping[str, object] | None, fallback: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return fallback
    try:
        return (entry.get(language) or entry["en"]).format(**(values or {}))
    except (KeyError, IndexError):  # a code without the values its sentence names
        return fallback


def translate_reason(language: str, code: str, text: str, values: Mapping[str, object] | None = None) -> str:
    """Why an agent cannot take a call, in `language`, from the stable code VoiceManager gives with it
    (`reason.<code>`, filled with its values); a code this catalog does not know keeps the given text."""
    return _fill(language, f"reason.{code}", values, text)


def translate_problem(language: str, code: str, text: str, params: Mapping[str, object] | None = None) -> str:
    """What a service refused, in `language`, from the stable code of its error (`problem.<code>`, filled
    with its params); a code this catalog does not know keeps the given (English) text."""
    values = dict(params or {})
    if isinstance(values.get("what"), str):  # the thing a "not found" names, by its repository label
        thing = "thing." + re.sub(r"\W+", "_", str(values["what"]).lower())
        values["what"] = translate(language, thing) if thing in MESSAGES else values["what"]
    if isinstance(values.get("role"), str) and f"role.{values['role']}" in MESSAGES:
        values["role"] = translate(language, f"role.{values['role']}")
    return _fill(language, f"problem.{code}", values, text)


# pydantic error types that tell a person the same as one the catalog words (`invalid.<type>`).
_SAME_PROBLEM = {"int_type": "int_parsing", "int_from_float": "int_parsing", "float_type": "float_parsing",
                 "bool_type": "bool_parsing", "literal_error": "enum", "url_type": "url_parsing",
                 "url_scheme": "url_parsing", "url_syntax_violation": "url_parsing", "url_too_long": "url_parsing"}
# Where FastAPI found a request value; not part of the field's name.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form"}


def field_label(language: str, field: str) -> str:
    """A form field's label, by its name (snake_case or the API's camelCase); an unknown field shows its name."""
    key = "field." + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field).lower()
    return translate(language, key) if key in MESSAGES else field


def _plain(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def explain_field(language: str, field: str | None, code: str, values: Mapping[str, object] | None = None) -> str:
    """What is wrong with one field, in `language`, from a stable code: pydantic's error `type` with its `ctx`,
    or one of the page's own (`invalid.<code>`). Never pydantic's English: a type the catalog does not word
    says the value is not valid. Reads "<label>: <problem>"."""
    filled = {k: _plain(v) for k, v in (values or {}).items() if isinstance(v, str | int | float)}
    code = _SAME_PROBLEM.get(code, code)
    if code == "value_error" and field == "email":
        code = "email"  # pydantic's email check words its finding as a plain value error
    if code == "string_too_short" and filled.get("min_length", 1) in (0, 1):
        code = "missing"  # a text field left empty
    generic = translate(language, "invalid.value_error")
    problem = _fill(language, f"invalid.{code}", filled, generic)
    if not field:
        return problem[:1].upper() + problem[1:]
    return translate(language, "invalid.field", field=field_label(language, field), problem=problem)


def explain_errors(language: str, errors: Iterable[Mapping[str, Any]]) -> str:
    """pydantic's (or FastAPI's) validation errors in `language`, each by its field and type."""
    lines: list[str] = []
    for error in errors:
        names = [p for p in error.get("loc", ()) if isinstance(p, str) and p not in _LOCATIONS]
        ctx = error.get("ctx")
        line = explain_field(language, names[-1] if names else None, str(error.get("type", "")),
                             ctx if isinstance(ctx, Mapping) else None)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def error_title(language: str, status_code: int) -> str:
    key = f"error.{status_code}"
    return translate(language, key) if key in MESSAGES else translate(language, "error.title")


def pick_language(*candidates: object) -> str:
    """The first candidate that is a language of the app, else the default."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
