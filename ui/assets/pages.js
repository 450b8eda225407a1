// Progressive enhancements of the schedule and agent pages; both work without them.
(function () {
  "use strict";

  // Forms that delete something ask first.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  // A new schedule defaults to the browser's time zone (the server only knows UTC);
  // the change event makes htmx refresh the preview.
  function guessTimezone() {
    var select = document.querySelector("select[data-guess-timezone]");
    if (!select || !window.Intl) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === select.value) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.value = zone;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
  }

  function eventText(e) {
    var body = e.body;
    if (typeof body === "string") return body.replace(/\n$/, "");
    if (e.kind === "transition" && body) return body.state + (body.reason ? " (" + body.reason + ")" : "");
    if (e.kind === "log" && body) return (body.level || "") + " " + (body.message || "");
    return JSON.stringify(body);
  }

  // The agent's history and replies as they happen (server-sent events); a state
  // transition refreshes the status card at once instead of at its next poll.
  function followAgent(pre) {
    var es = new EventSource(pre.getAttribute("data-agent-stream"));
    var replies = document.getElementById("replies");
    es.addEventListener("agent", function (msg) {
      var e;
      try { e = JSON.parse(msg.data); } catch (_) { return; }
      var at = (e.at || "").slice(11, 19);
      var text = eventText(e);
      var line = document.createElement("span");
      line.className = "line " + e.kind;
      var head = document.createElement("span");
      head.className = "muted";
      head.textContent = at + " " + e.kind + " ";
      line.appendChild(head);
      line.appendChild(document.createTextNode(text + "\n"));
      pre.appendChild(line);
      pre.scrollTop = pre.scrollHeight;
      if (e.kind === "event" && replies) {
        var li = document.createElement("li");
        var time = document.createElement("span");
        time.className = "muted";
        time.textContent = at + " ";
        var body = document.createElement("span");
        body.className = "mono";
        body.textContent = text;
        li.appendChild(time);
        li.appendChild(body);
        replies.appendChild(li);
      }
      if (e.kind === "transition") {
        var status = document.getElementById("agent-status");
        if (status) status.dispatchEvent(new Event("refresh"));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmForms();
    guessTimezone();
    document.querySelectorAll("pre[data-agent-stream]").forEach(followAgent);
  });
})();
