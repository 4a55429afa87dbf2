// Live calls: the list arrives whole over server-sent events; the time in call ticks here.
// No text is written here: the server sends the calls' texts in the page's language, and the
// page carries this script's own words in data attributes (the content policy allows no inline
// script).
(function () {
  "use strict";
  var body = document.querySelector("#live-calls tbody");
  var empty = document.getElementById("live-empty");
  var total = document.getElementById("live-total");
  var status = document.getElementById("live-status");
  var down = document.getElementById("telephony-down");
  var refused = document.getElementById("refused-count");
  if (!body) { return; }
  var received = Date.now();

  function duration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text; // text only: nothing from the server is parsed as HTML
    if (cls) { td.className = cls; }
    return td;
  }

  // A time that goes on in the browser between two messages (empty when there is none).
  function ticking(seconds, cls) {
    var td = cell(seconds === null ? "" : duration(seconds), cls);
    if (seconds !== null) { td.dataset.seconds = seconds; }
    return td;
  }

  function render(snap) {
    received = Date.now();
    var rows = document.createDocumentFragment();
    snap.calls.forEach(function (call) {
      var tr = document.createElement("tr");
      tr.dataset.key = call.key;
      tr.dataset.stage = call.stage;
      tr.appendChild(cell(call.hotline));
      tr.appendChild(cell(call.caller_id || "", "caller"));
      tr.appendChild(cell(call.where, "node"));
      tr.appendChild(cell(call.language_name || ""));
      tr.appendChild(ticking(call.seconds, "elapsed"));
      tr.appendChild(ticking(call.waiting_seconds, "waiting"));
      tr.appendChild(cell(call.call_id ? "#" + call.call_id : ""));
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    var inProgress = 0; // a call being refused is listed, not counted
    Object.keys(snap.counts).forEach(function (line) {
      var n = document.querySelector('.n[data-hotline="' + line + '"]');
      if (n) { n.textContent = snap.counts[line]; }
      inProgress += snap.counts[line];
    });
    total.textContent = inProgress;
    document.getElementById("refused-total").textContent = snap.refused.total;
    refused.classList.toggle("some", snap.refused.total > 0);
    Object.keys(snap.refused.counts).forEach(function (line) {
      var n = refused.querySelector('[data-refused="' + line + '"]');
      if (n) { n.textContent = snap.refused.counts[line]; }
    });
    empty.hidden = snap.calls.length > 0;
    var telephony = snap.telephony;
    down.hidden = !telephony || telephony.up;
    if (telephony && !telephony.up) {
      document.getElementById("telephony-since").textContent = telephony.since_text;
      document.getElementById("telephony-reason").textContent = telephony.reason;
    }
  }

  function tick() {
    var passed = (Date.now() - received) / 1000;
    body.querySelectorAll("td[data-seconds]").forEach(function (td) {
      td.textContent = duration(parseFloat(td.dataset.seconds) + passed);
    });
  }

  var source = new EventSource("/api/live/stream");
  source.addEventListener("calls", function (event) {
    render(JSON.parse(event.data));
    status.textContent = status.dataset.connected;
    status.className = "status ok";
  });
  source.onerror = function () {
    status.textContent = status.dataset.reconnecting;
    status.className = "status down";
  };
  setInterval(tick, 1000);
}());
