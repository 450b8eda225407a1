// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // The job page's progress bar, as the server renders it (components::progress).
  function showProgress(fraction, message) {
    var pct = Math.round(Math.min(Math.max(fraction, 0), 1) * 100);
    var fill = document.querySelector(".progress-fill");
    if (fill) fill.style.width = pct + "%";
    var bar = document.querySelector(".progress[role=progressbar]");
    if (bar) bar.setAttribute("aria-valuenow", String(pct));
    var label = document.querySelector(".progress-label");
    if (label) label.textContent = pct + "%" + (message ? " · " + message : "");
  }

  // Job log: follow the server-sent events of a running job, then reload the page once
  // the job has ended so status, result and error are shown.
  function followLog(pre) {
    var url = pre.getAttribute("data-stream");
    var es = new EventSource(url);
    es.addEventListener("log", function (e) {
      var line;
      try { line = JSON.parse(e.data); } catch (_) { line = { message: e.data }; }
      var span = document.createElement("span");
      span.className = "line " + (line.stream || "") + " " + (line.level || "");
      var text = line.message || "";
      span.textContent = /\n$/.test(text) ? text : text + "\n";
      pre.appendChild(span);
      pre.scrollTop = pre.scrollHeight;
      // automa.log.progress(fraction, message) arrives as a `progress` entry.
      var fraction = line.stream === "progress" && line.fields ? line.fields.fraction : null;
      if (typeof fraction === "number") showProgress(fraction, line.message);
    });
    es.addEventListener("end", function () {
      es.close();
      var live = document.getElementById("live-indicator");
      if (live) live.textContent = "ended";
      setTimeout(function () { window.location.reload(); }, 300);
    });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) return;
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Selects that apply on change (their submit button is for browsers without JS).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll("pre[data-stream]").forEach(followLog);
    // Forms that undo something ask first.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
    // Copy buttons (the new API token): copy the target's value, say so.
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var target = document.querySelector(btn.getAttribute("data-copy"));
      if (!target) return;
      btn.addEventListener("click", function () {
        target.select();
        var done = function () { btn.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(target.value).then(done, function () {
            document.execCommand("copy"); done();
          });
        } else {
          document.execCommand("copy"); done();
        }
      });
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (el) {
      el.addEventListener("focus", function () { el.select(); });
    });
  });
})();
