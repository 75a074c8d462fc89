// leadcall web app: the glue htmx does not do by itself.
// Live call updates arrive over SSE (htmx's sse extension, connected on <body>); the helpers below
// decide which element an event concerns. Also: elapsed timers, local times, the lead panel's
// focus and closing, the agent picker's live availability, and readable error toasts.
(function () {
  "use strict";

  function payload(message) {
    // An SSE message's data is the event envelope {type, data}.
    try {
      var event = JSON.parse(message.data);
      return event && event.data ? event.data : null;
    } catch (e) {
      return null;
    }
  }

  // -- live news ------------------------------------------------------------------------------------
  // Parts of the page that follow something (data-follows="call" | "lead" | "budget-alert") refresh on a
  // `leadcall:news` event, sent here to the ones an SSE message concerns. The choice is made in this file
  // rather than in hx-trigger filters, which htmx would have to eval (the CSP allows no eval).

  function news(element) {
    htmx.trigger(element, "leadcall:news");
  }

  function followers(kind, key, value) {
    return Array.prototype.filter.call(document.querySelectorAll('[data-follows="' + kind + '"]'), function (el) {
      return el.dataset[key] === value;
    });
  }

  function callUpdated(message) {
    var call = payload(message);
    if (!call) return;
    heardOf(call);
    // A call card (its .call-live holder) refreshes on news of its own call, unless someone is typing
    // into its outcome form.
    followers("call", "callId", call.id).forEach(function (live) {
      if (!live.querySelector(".call-card[data-editing]")) news(live);
    });
    // A lead's history and its status tags (in the panel, in the list) refresh on news of any of its calls.
    followers("lead", "leadId", call.leadId).forEach(news);
  }

  function budgetAlert(message) {
    // A budget alert: the form that fetches its toast is given the alert's id.
    var alert = payload(message);
    var form = document.querySelector('[data-follows="budget-alert"]');
    if (!alert || !alert.alertId || !form) return;
    form.elements.alert_id.value = alert.alertId;
    news(form);
  }

  function webhookDisabled(message) {
    // leadcall switched a webhook endpoint off: admins' pages fetch its notice (others have no such form).
    var notice = payload(message);
    var form = document.querySelector('[data-follows="webhook-disabled"]');
    if (!notice || !notice.endpointId || !form) return;
    form.elements.endpoint_id.value = notice.endpointId;
    news(form);
  }

  function callbackUpdated(message) {
    // A callback changed: its lead's callbacks (in the panel) and the "Callbacks due" list refresh.
    var callback = payload(message);
    if (!callback) return;
    followers("callbacks", "leadId", callback.leadId).forEach(news);
    document.querySelectorAll('[data-follows="callbacks-due"]').forEach(news);
  }

  function campaignUpdated(message) {
    // A campaign moved on: its page's progress part refreshes.
    var campaign = payload(message);
    if (!campaign) return;
    followers("campaign", "campaignId", campaign.id).forEach(news);
  }

  function leadInterested(message) {
    // A lead said it is interested: the form that fetches the notice is given the lead's id.
    var notice = payload(message);
    var form = document.querySelector('[data-follows="interested"]');
    if (!notice || !notice.leadId || !form) return;
    form.elements.lead_id.value = notice.leadId;
    news(form);
  }

  // After a gap in the news (the server's own feed of events was cut for a while: stream.resync, or this
  // browser's connection was lost), every live part fetches itself again.
  function resync() {
    htmx.trigger(document.body, "leadcall:resync");
  }

  function listen(source) {
    // The same functions each time: a source that opens again is not given a second listener.
    source.addEventListener("call.updated", callUpdated);
    source.addEventListener("budget.alert", budgetAlert);
    source.addEventListener("webhook.disabled", webhookDisabled);
    source.addEventListener("callback.updated", callbackUpdated);
    source.addEventListener("lead.interested", leadInterested);
    source.addEventListener("campaign.updated", campaignUpdated);
    source.addEventListener("stream.resync", resync);
  }

  // -- a live card that cannot lie ----------------------------------------------------------------------
  // A card shows what the server said when it last read itself. News can be missed (an SSE event lost in a
  // reconnect, a refresh answered with an older card, a proxy's 502, the network gone), so a card never
  // trusts its last read alone: while its call is live it reads itself again every few seconds; after a
  // failed read it tries again with backoff until the server answers, saying on the card that it cannot
  // reach the server and stopping its timer meanwhile; and a card that shows less than the news heard of
  // its call (an older status) reads itself again.

  var RANK = { initiating: 0, ringing: 1, in_progress: 2, completed: 3, failed: 3, canceled: 3 };
  var LIVE_EVERY_MS = 5000;
  var FIRST_RETRY_MS = 1000;
  var LAST_RETRY_MS = 8000;
  var heard = {};  // call id → the furthest status news have told of
  var reads = new WeakMap();  // .call-live → {at: last answer, delay, timer}

  function heardOf(call) {
    if (!call.id || !(call.status in RANK)) return;
    var before = heard[call.id];
    if (before === undefined || RANK[call.status] > RANK[before]) heard[call.id] = call.status;
  }

  function readState(live) {
    var state = reads.get(live);
    if (!state) {
      state = { at: Date.now(), delay: 0, timer: null };
      reads.set(live, state);
    }
    return state;
  }

  function cardOf(live) {
    return live.querySelector(".call-card");
  }

  function isLive(card) {
    return !!card && RANK[card.dataset.status] !== undefined && RANK[card.dataset.status] < 3;
  }

  function behind(live) {
    var card = cardOf(live);
    var told = heard[live.dataset.callId];
    return !!card && told !== undefined && RANK[card.dataset.status] < RANK[told];
  }

  function reread(live) {
    if (!document.body.contains(live)) return;
    readState(live).at = Date.now();
    news(live);
  }

  function retryLater(live) {
    var state = readState(live);
    state.delay = state.delay ? Math.min(state.delay * 2, LAST_RETRY_MS) : FIRST_RETRY_MS;
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { reread(live); }, state.delay);
  }

  function unreachable(live) {
    var card = cardOf(live);
    if (!card) return;
    card.setAttribute("data-unreachable", "");
    if (!card.querySelector(".card-unreachable")) {
      var note = document.createElement("p");
      note.className = "card-unreachable";
      note.setAttribute("role", "status");
      note.setAttribute("data-testid", "call-unreachable");
      note.textContent = document.body.dataset.msgCardOffline || "The server cannot be reached; trying again.";
      var header = card.querySelector(".call-status");
      if (header) header.after(note);
      else card.prepend(note);
    }
  }

  function cardRead(live, ok) {
    var state = readState(live);
    if (!ok) {
      unreachable(live);
      retryLater(live);
      return;
    }
    clearTimeout(state.timer);
    state.timer = null;
    state.delay = 0;
    state.at = Date.now();
    // The server answered, but with less than the news already told (an answer overtaken on its way):
    // read again, with backoff, until the two agree.
    if (behind(live)) retryLater(live);
  }

  function watchLiveCards() {
    var now = Date.now();
    document.querySelectorAll('[data-follows="call"]').forEach(function (live) {
      var state = readState(live);
      if (state.timer || !isLive(cardOf(live))) return;
      if (now - state.at >= LIVE_EVERY_MS) reread(live);
    });
  }

  function rereadLiveCards() {
    document.querySelectorAll('[data-follows="call"]').forEach(function (live) {
      if (!readState(live).timer && isLive(cardOf(live))) reread(live);
    });
  }

  // -- time ---------------------------------------------------------------------------------------

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function startTimers(root) {
    root.querySelectorAll("[data-elapsed]").forEach(function (el) {
      if (!el.dataset.base) {
        // The server says how long the call has run; counting on from there keeps the browser's clock out of it.
        el.dataset.base = String(Date.now() - Number(el.dataset.elapsed || 0) * 1000);
      }
    });
  }

  function tick() {
    document.querySelectorAll("[data-elapsed][data-base]").forEach(function (el) {
      // A card that cannot reach the server does not count on: it no longer knows whether the call runs.
      if (el.closest("[data-unreachable]")) return;
      var seconds = Math.max(0, Math.floor((Date.now() - Number(el.dataset.base)) / 1000));
      el.textContent = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    });
  }

  function localTimes(root) {
    var format;
    try {
      format = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
        { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    } catch (e) {
      return;
    }
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) {
        el.title = el.textContent;
        el.textContent = format.format(when);
        el.removeAttribute("data-local");
        // "your time" next to the lead's time is said only when the two clocks differ.
        var yours = el.closest("[data-viewer-time][data-lead-zone]");
        if (yours && sameClock(yours.getAttribute("data-lead-zone"), when)) yours.hidden = true;
      }
    });
  }

  function sameClock(zone, when) {
    try {
      var wall = function (tz) {
        return new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric", month: "numeric", day: "numeric",
          hour: "numeric", minute: "numeric", hourCycle: "h23" }).format(when);
      };
      return wall(zone) === wall(undefined);
    } catch (e) {
      return false;
    }
  }

  // -- toasts ------------------------------------------------------------------------------------------

  function toast(text, kind) {
    var box = document.getElementById("toast");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "toast " + (kind || "error");
    div.setAttribute("role", "alert");
    var body = document.createElement("div");
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link dismiss";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", document.body.dataset.msgClose || "Close");
    close.textContent = "×";
    div.append(body, close);
    box.replaceChildren(div);
    leaveLater(div);
  }

  // A toast leaves by itself after a while (an error a little later than a notice), not while the pointer
  // or the keyboard is on it; its × closes it at once.
  var TOAST_MS = { error: 10000, warning: 10000 };
  var TOAST_DEFAULT_MS = 6000;

  function leaveLater(div) {
    if (div.dataset.leaves) return;
    div.dataset.leaves = "1";
    var kind = ["error", "warning"].filter(function (k) { return div.classList.contains(k); })[0];
    function leave() {
      if (div.matches(":hover") || div.contains(document.activeElement)) {
        setTimeout(leave, 2000);
        return;
      }
      div.remove();
    }
    setTimeout(leave, TOAST_MS[kind] || TOAST_DEFAULT_MS);
  }

  function toastsLeave(root) {
    if (root.classList && root.classList.contains("toast")) leaveLater(root);
    if (root.querySelectorAll) root.querySelectorAll(".toast").forEach(leaveLater);
  }

  // -- the lead panel ----------------------------------------------------------------------------------------

  var lastLeadLink = null;

  function layout() {
    return document.querySelector(".layout");
  }

  function closePanel() {
    var panel = document.getElementById("panel");
    if (!panel || !panel.firstElementChild) return;
    panel.replaceChildren();
    if (layout()) layout().classList.remove("has-panel");
    document.querySelectorAll("tr.lead-row[aria-current]").forEach(function (row) { row.removeAttribute("aria-current"); });
    if (/^\/leads\//.test(location.pathname)) history.replaceState(null, "", "/");
    if (lastLeadLink && document.body.contains(lastLeadLink)) lastLeadLink.focus();
  }

  function panelOpened(fromLink) {
    var section = document.getElementById("lead-panel");
    if (!section) return;
    if (layout()) layout().classList.add("has-panel");
    document.querySelectorAll("tr.lead-row").forEach(function (row) {
      if (row.dataset.leadId === section.dataset.leadId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    if (fromLink) section.focus({ preventScroll: false });
  }

  // -- the agent picker -----------------------------------------------------------------------------------------

  function syncAgent(status) {
    var card = document.querySelector('[data-agent-card="' + status.dataset.agent + '"]');
    if (!card) return;
    var radio = card.querySelector("input[type=radio]");
    var available = status.dataset.available === "true";
    card.classList.toggle("disabled", !available);
    if (radio) {
      radio.disabled = !available;
      if (!available && radio.checked) radio.checked = false;
    }
    var group = card.closest(".agents");
    if (group && !group.querySelector("input[type=radio]:checked")) {
      var first = group.querySelector("input[type=radio]:not(:disabled)");
      if (first) first.checked = true;
    }
  }

  // -- voice previews: one player for the page, started by a button (no audio element per agent) ----------------

  var previewAudio = null;
  var previewButton = null;

  function previewStopped() {
    if (!previewButton) return;
    previewButton.setAttribute("aria-pressed", "false");
    var label = previewButton.querySelector("[data-label]");
    if (label) label.textContent = previewButton.dataset.playLabel || label.textContent;
    previewButton = null;
  }

  function togglePreview(button) {
    var again = previewButton === button;
    if (previewAudio) previewAudio.pause();
    previewStopped();
    if (again) return;
    if (!previewAudio) {
      previewAudio = new Audio();
      previewAudio.preload = "none";
      previewAudio.addEventListener("ended", previewStopped);
      previewAudio.addEventListener("error", previewStopped);
    }
    previewAudio.src = button.dataset.preview;
    previewButton = button;
    button.setAttribute("aria-pressed", "true");
    var label = button.querySelector("[data-label]");
    if (label) label.textContent = button.dataset.stopLabel || label.textContent;
    var playing = previewAudio.play();
    // A play cut short by the next one rejects late: it must not stop the preview that replaced it.
    if (playing && playing.catch) playing.catch(function () { if (previewButton === button) previewStopped(); });
  }

  // -- wiring ---------------------------------------------------------------------------------------------------

  function offsets(root) {
    // A form that sends local times says the browser's offset with them (datetime-local has none).
    root.querySelectorAll("form[data-offset-field]").forEach(function (form) {
      var field = form.elements[form.dataset.offsetField];
      if (!field) return;
      var minutes = -new Date().getTimezoneOffset();
      var sign = minutes < 0 ? "-" : "+";
      minutes = Math.abs(minutes);
      field.value = sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
    });
  }

  function prepare(root) {
    startTimers(root);
    localTimes(root);
    offsets(root);
    toastsLeave(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    prepare(document);
    setInterval(function () {
      tick();
      watchLiveCards();
    }, 1000);
    tick();
    if (document.getElementById("lead-panel")) panelOpened(false);

    body.addEventListener("htmx:load", function (event) {
      var el = event.detail.elt;
      prepare(el);
      if (el.classList && el.classList.contains("call-card")) {
        var announcer = document.getElementById("call-announcer");
        if (announcer) announcer.textContent = el.dataset.statusLabel || "";
      }
    });

    body.addEventListener("htmx:afterSwap", function (event) {
      var target = event.detail.target;
      var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (target && target.id === "panel") {
        document.querySelectorAll("details.new-lead[open]").forEach(function (d) {
          d.removeAttribute("open");
          d.querySelector("form").reset();
        });
        var fromLink = !!(trigger && trigger.classList && trigger.classList.contains("lead-link"));
        if (fromLink) lastLeadLink = trigger;
        panelOpened(fromLink);
        // Back from the picker: the keyboard lands on the Call button again.
        var callButton = !fromLink && target.querySelector(".call-button");
        if (callButton) callButton.focus();
      }
      if (target && target.id === "work") {
        // The picker opened: the keyboard lands on the chosen agent (arrow keys change it).
        var choice = target.querySelector(".picker input[type=radio]:checked, .picker input[type=radio]:not(:disabled)");
        if (choice) choice.focus();
        // A call was placed from the picker: the keyboard stays in the work panel, on the call.
        var card = trigger && trigger.classList && trigger.classList.contains("picker") && target.querySelector(".call-card");
        if (card) card.focus();
      }
    });

    // After a lost connection, whatever changed meanwhile was not pushed: live parts fetch themselves again.
    var opened = 0;
    body.addEventListener("htmx:sseOpen", function (event) {
      listen(event.detail.source);
      opened += 1;
      if (opened > 1) resync();
    });
    // The live feed broke: whether the call moved on meanwhile is not known, so live cards read themselves
    // (and, if the server cannot be reached either, say so).
    body.addEventListener("htmx:sseError", rereadLiveCards);
    window.addEventListener("online", resync);

    body.addEventListener("htmx:afterRequest", function (event) {
      var live = event.detail.elt;
      var xhr = event.detail.xhr;
      if (live && live.dataset && live.dataset.follows === "call") {
        cardRead(live, !!xhr && xhr.status >= 200 && xhr.status < 400);
      }
    });

    body.addEventListener("htmx:oobAfterSwap", function (event) {
      var el = event.detail.elt || event.target;
      if (el && el.dataset && el.dataset.available !== undefined) syncAgent(el);
    });

    // Errors: the server answers fragment requests that fail with a toast aimed at #toast; anything
    // else that fails (a proxy, a lost connection) gets a readable toast here, never a blank panel.
    // A live card's own reads say on the card when they fail (and try again), not in a toast.
    function cardsRead(event) {
      var elt = event.detail.elt || event.detail.requestConfig && event.detail.requestConfig.elt;
      return !!(elt && elt.dataset && elt.dataset.follows === "call");
    }
    body.addEventListener("htmx:beforeSwap", function (event) {
      var xhr = event.detail.xhr;
      if (xhr.status < 400) return;
      if (cardsRead(event)) {
        // Not an error of the page: the card notes it (htmx would log it on the console) and tries again.
        event.detail.shouldSwap = false;
        event.detail.isError = false;
        return;
      }
      if (xhr.getResponseHeader("HX-Retarget")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      } else {
        event.detail.shouldSwap = false;
        event.detail.isError = false;  // told in a toast; htmx need not log it too
        toast((body.dataset.msgFailed || "Error {status}").replace("{status}", String(xhr.status)));
      }
    });
    body.addEventListener("htmx:sendError", function (event) {
      if (cardsRead(event)) return;
      toast(body.dataset.msgOffline || "The server cannot be reached.");
    });

    body.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) return;
      var preview = target.closest("button[data-preview]");
      if (preview) {
        togglePreview(preview);
        return;
      }
      if (target.closest("[data-dismiss]")) {
        var box = target.closest(".toast");
        if (box) box.remove();
        return;
      }
      // An open import pop-over closes when the click lands elsewhere.
      document.querySelectorAll("details.import[open]").forEach(function (details) {
        if (!details.contains(target)) details.removeAttribute("open");
      });
      if (target.closest("[data-close-panel]")) {
        event.preventDefault();
        closePanel();
        return;
      }
      // A click anywhere on a lead's row opens it, as its name's link does.
      var row = target.closest("tr.lead-row");
      if (row && !target.closest("a, button, input, select, label")) {
        var link = row.querySelector("a.lead-link");
        if (link) link.click();
      }
    });

    // The language switch returns to the page as it is now (the open lead's address, pushed since it loaded).
    body.addEventListener("submit", function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && form.getAttribute("action") === "/lang" && form.elements.next) {
        form.elements.next.value = location.pathname + location.search;
      }
    });

    body.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      var pop = document.querySelector("details.import[open]");
      if (pop && pop.contains(document.activeElement)) {
        pop.removeAttribute("open");
        pop.querySelector("summary").focus();
        return;
      }
      // Esc in the agent picker (on an agent, the call type, a preview) goes back as its Back button does:
      // the picker closes and the keyboard is on Call again. Only a second Esc closes the lead.
      var picker = document.activeElement && document.activeElement.closest && document.activeElement.closest(".picker");
      var back = picker && picker.querySelector('button[hx-target="#panel"]');
      if (back) {
        event.preventDefault();
        back.click();
        return;
      }
      var panel = document.getElementById("panel");
      var inPanel = panel && panel.contains(document.activeElement);
      var typing = document.activeElement && /^(SELECT|TEXTAREA|INPUT)$/.test(document.activeElement.tagName);
      if (inPanel && !typing) closePanel();
    });

    // Someone typing into an outcome form must not lose it to a live refresh of the card.
    body.addEventListener("input", function (event) {
      var form = event.target instanceof Element ? event.target.closest(".outcome-form") : null;
      var card = form ? form.closest(".call-card") : null;
      if (card) card.setAttribute("data-editing", "");
    });
  });
})();
