// leadcall web app: live call updates over Server-Sent Events, elapsed timers, error toasts.
(function () {
  "use strict";

  function refreshCall(call) {
    document.querySelectorAll('[data-call-id="' + call.id + '"]').forEach(function (card) {
      if (card.dataset.status === call.status && !["completed", "failed", "canceled"].includes(call.status)) return;
      htmx.ajax("GET", "/calls/" + call.id + "/card", { target: card, swap: "outerHTML" });
    });
    var history = document.querySelector('#history[data-lead-id="' + call.leadId + '"]');
    if (history) htmx.ajax("GET", "/leads/" + call.leadId + "/history", { target: history, swap: "innerHTML" });
  }

  function connect(url) {
    var source = new EventSource(url);
    source.addEventListener("call.updated", function (message) {
      try { refreshCall(JSON.parse(message.data).data); } catch (e) { /* a malformed event is skipped */ }
    });
    return source;
  }

  function tick() {
    document.querySelectorAll("[data-started-at]").forEach(function (el) {
      var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.startedAt)) / 1000));
      el.textContent = String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0");
    });
  }

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "toast error";
    div.setAttribute("role", "alert");
    div.textContent = text;
    box.replaceChildren(div);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.dataset.sse) connect(document.body.dataset.sse);
    setInterval(tick, 1000);
    document.body.addEventListener("leadcall:history", function () {
      var history = document.getElementById("history");
      if (history) htmx.ajax("GET", "/leads/" + history.dataset.leadId + "/history", { target: history, swap: "innerHTML" });
    });
    document.body.addEventListener("htmx:sendError", function () {
      toast(document.body.dataset.lang === "es" ? "Sin conexión con el servidor." : "The server cannot be reached.");
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      var text = event.detail.xhr.responseText || "";
      try { text = JSON.parse(text).detail || text; } catch (e) { /* not JSON: shown as is */ }
      toast(text.replace(/<[^>]*>/g, " ").trim().slice(0, 300) || "Error");
    });
  });
})();
