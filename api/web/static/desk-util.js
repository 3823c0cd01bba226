/* Dispatch desk (调度台): shared helpers — DOM, the API with the typed token, words for
 * codes, Beijing time and SLA countdowns. Loaded before the other desk scripts. */
(function () {
  "use strict";
  var DK = window.DK = {};

  DK.$ = function (id) { return document.getElementById(id); };
  DK.esc = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  };
  /* el("td", {className: "x", textContent: "y"}, [children]) */
  DK.el = function (tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "dataset") { Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = props.dataset[d]; }); }
      else if (k in node) { node[k] = props[k]; }
      else { node.setAttribute(k, props[k]); }
    });
    (children || []).forEach(function (c) { if (c != null) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  };
  DK.debounce = function (fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  };
  DK.query = function (params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "") { parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v)); }
    });
    return parts.length ? "?" + parts.join("&") : "";
  };

  /* The API: reads go with the session cookie, or with the typed token once there is one
   * (so what the page offers is what that token may do); writes need the token. */
  DK.token = function () { return window.sessionStorage.getItem("wangge-token") || ""; };
  DK.setToken = function (t) {
    if (t) { window.sessionStorage.setItem("wangge-token", t); } else { window.sessionStorage.removeItem("wangge-token"); }
  };
  DK.api = function (path, body) {
    var headers = { Accept: "application/json" }, token = DK.token();
    if (token) { headers.Authorization = "Bearer " + token; }
    var init = { headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      init.method = "POST";
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        return { ok: r.ok, status: r.status, body: j };
      });
    }, function () { return { ok: false, status: 0, body: { error: DK.T.offline } }; });
  };
  DK.errorText = function (res) {
    var b = res.body || {}, msg = b.error || b.detail || "";
    if (typeof msg !== "string") { msg = JSON.stringify(msg); }
    var head = DK.T["http_" + res.status] || (DK.T.failed + " (" + res.status + ")");
    return msg ? head + "：" + msg : head;
  };

  /* Words, never codes: statuses, channels, steps and unit kinds from gis/incidents/words.py. */
  DK.word = function (kind, code) {
    if (code == null || code === "") { return ""; }
    var table = DK.W[kind] || {};
    return table[code] || DK.T.unknown;
  };
  DK.category = function (code) {
    var c = DK.categories[code];
    if (!c) { return DK.T.unknown; }
    return DK.lang === "en" ? c.name_en : c.name_zh;
  };
  DK.unitName = function (code) {
    if (!code) { return ""; }
    var u = DK.units[code];
    if (!u) { return DK.T.unknown_unit; }
    return DK.lang === "en" && u.name_en ? u.name_en : u.name;
  };

  /* Times in the hotline's zone (Beijing time), whatever the browser's own zone: the one
   * formatter of every map page (readable.js), "2026-11-18 09:30"; short without the year. */
  DK.time = function (iso, long) {
    if (!iso) { return "—"; }
    var full = WG.time(iso);
    return long || full === "—" ? full : full.slice(5);
  };

  /* SLA countdown: time left to ``iso`` (or past it), coarse as a dispatcher reads it. */
  DK.span = function (ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    var T = DK.T, out;
    if (d > 0) { out = d + T.u_day + (h ? h + T.u_hour : ""); }
    else if (h > 0) { out = h + T.u_hour + (mm ? mm + T.u_min : ""); }
    else { out = mm + T.u_min; }
    return out.trim();
  };
  DK.countdown = function (iso, closedIso) {
    if (!iso) { return null; }
    var T = DK.T, end = closedIso ? new Date(closedIso).getTime() : Date.now(), left = new Date(iso).getTime() - end;
    if (closedIso) {
      return left < 0 ? { text: T.sla_closed_late.replace("{t}", DK.span(left)), cls: "dk-late" } : { text: T.closed_on_time, cls: "dk-ok" };
    }
    if (left < 0) { return { text: T.sla_overdue.replace("{t}", DK.span(left)), cls: "dk-late" }; }
    return { text: T.sla_left.replace("{t}", DK.span(left)), cls: left < 86400000 ? "dk-soon" : "dk-ok" };
  };
  DK.badge = function (cd) {
    return cd ? DK.el("span", { className: "dk-sla " + cd.cls, textContent: cd.text }) : null;
  };
  DK.isTyping = function (target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  };
})();
