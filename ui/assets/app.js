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

  // The job log viewer (pages/job/log_view.rs draws the stored lines; live ones are
  // drawn here in the same shape): level filter, search, follow live, copy.
  var LEVELS = { debug: 0, info: 1, warning: 2, error: 3 };

  function lineLevel(el) {
    var l = el.getAttribute("data-level");
    if (l && LEVELS.hasOwnProperty(l)) return LEVELS[l];
    return el.getAttribute("data-stream") === "stderr" ? LEVELS.error : LEVELS.info;
  }

  function clock(at) {
    var t = String(at || "").split("T")[1] || "";
    var m = /^[0-9:.]*/.exec(t);
    return (m ? m[0] : "").slice(0, 12);
  }

  // Same rule as log_view::field_text: plain words bare, other strings quoted, JSON else.
  function fieldText(v) {
    if (typeof v === "string" && v !== "" && !/[\s"=\u0000-\u001f]/.test(v)) return v;
    return JSON.stringify(v);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function renderLine(entry) {
    var row = el("div", "line");
    row.setAttribute("data-seq", String(entry.seq || 0));
    row.setAttribute("data-stream", entry.stream || "");
    row.setAttribute("data-level", entry.level || "");
    var at = el("time", "at", clock(entry.at));
    at.setAttribute("datetime", entry.at || "");
    at.title = entry.at || "";
    row.appendChild(at);
    row.appendChild(el("span", "stream", entry.stream || ""));
    row.appendChild(el("span", "lvl", entry.level || ""));
    var body = el("span", "body");
    body.appendChild(el("span", "msg", entry.message || ""));
    var fields = entry.fields;
    if (fields && typeof fields === "object" && !Array.isArray(fields)) {
      Object.keys(fields).forEach(function (k) {
        var f = el("span", "field");
        f.appendChild(el("span", "k", k));
        f.appendChild(document.createTextNode("="));
        f.appendChild(el("span", "v", fieldText(fields[k])));
        body.appendChild(document.createTextNode(" "));
        body.appendChild(f);
      });
    }
    row.appendChild(body);
    return row;
  }

  // A line as copied: time, stream, level, message and fields on one line.
  function lineText(row) {
    var parts = [];
    row.querySelectorAll(".at, .stream, .lvl, .body").forEach(function (c) {
      var t = c.textContent.replace(/\s+$/, "");
      if (t) parts.push(t);
    });
    return parts.join(" ");
  }

  function copyText(text, done) {
    var fallback = function () {
      var ta = el("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  function setupLogView(root) {
    var box = root.querySelector("#log");
    var tools = root.querySelector(".log-tools");
    var level = root.querySelector("#log-level");
    var search = root.querySelector("#log-search");
    var follow = root.querySelector("#log-follow");
    var copy = root.querySelector("#log-copy");
    var count = root.querySelector("#log-count");
    if (!box || !tools) return;
    tools.hidden = false;

    function shows(row) {
      if (level.value && lineLevel(row) < LEVELS[level.value]) return false;
      var q = search.value.trim().toLowerCase();
      return !q || lineText(row).toLowerCase().indexOf(q) >= 0;
    }
    function recount() {
      var rows = box.querySelectorAll(".line"), shown = 0;
      rows.forEach(function (r) { if (!r.hidden) shown++; });
      var of = shown === rows.length ? "" : shown + " of ";
      count.textContent = of + rows.length + (rows.length === 1 ? " line" : " lines");
    }
    function applyAll() {
      box.querySelectorAll(".line").forEach(function (r) { r.hidden = !shows(r); });
      recount();
    }
    level.addEventListener("change", applyAll);
    search.addEventListener("input", applyAll);
    copy.addEventListener("click", function () {
      var rows = Array.prototype.filter.call(box.querySelectorAll(".line"), function (r) { return !r.hidden; });
      var text = rows.map(lineText).join("\n") + (rows.length ? "\n" : "");
      copy.setAttribute("data-copied", String(rows.length));
      copyText(text, function () {
        copy.textContent = "Copied " + rows.length + (rows.length === 1 ? " line" : " lines");
      });
    });
    // Scrolling up to read stops following; ticking the box again jumps to the end.
    box.addEventListener("wheel", function (e) { if (follow && e.deltaY < 0) follow.checked = false; });
    if (follow) follow.addEventListener("change", function () {
      if (follow.checked) box.scrollTop = box.scrollHeight;
    });
    applyAll();

    var url = box.getAttribute("data-stream");
    if (!url) return;
    var es = new EventSource(url);
    es.addEventListener("log", function (e) {
      var entry;
      try { entry = JSON.parse(e.data); } catch (_) { entry = { stream: "stdout", message: e.data }; }
      var row = renderLine(entry);
      row.hidden = !shows(row);
      box.appendChild(row);
      recount();
      if (follow && follow.checked) box.scrollTop = box.scrollHeight;
      // automa.log.progress(fraction, message) arrives as a `progress` entry.
      var fraction = entry.stream === "progress" && entry.fields ? entry.fields.fraction : null;
      if (typeof fraction === "number") showProgress(fraction, entry.message);
    });
    es.addEventListener("end", function () {
      es.close();
      var live = document.getElementById("live-indicator");
      if (live) live.textContent = "ended";
      // Reload once so status, result and error are shown.
      setTimeout(function () { window.location.reload(); }, 300);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Selects that apply on change (their submit button is for browsers without JS).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll("#logview").forEach(setupLogView);
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
        var done = function () { btn.textContent = "Copied"; };
        // A field (the new API token) or a block of text (the equivalent commands).
        if (!("value" in target)) { copyText(target.textContent, done); return; }
        target.select();
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
