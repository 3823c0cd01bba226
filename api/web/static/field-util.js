/* Grid worker's page (网格员): shared helpers — DOM, words, and the API with the token kept
 * on the phone (localStorage: the installed app opens without the desk's session).
 * Loaded before the other field scripts. */
(function () {
  "use strict";
  var FD = window.FD = {};
  var TOKEN_KEY = "wangge-field-token";

  FD.$ = function (id) { return document.getElementById(id); };
  /* el("li", {className: "x", textContent: "y"}, [children]) */
  FD.el = function (tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "dataset") { Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = props.dataset[d]; }); }
      else if (k in node) { node[k] = props[k]; }
      else { node.setAttribute(k, props[k]); }
    });
    (children || []).forEach(function (c) { if (c != null) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  };
  FD.say = function (key, values) {
    var s = FD.T[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  };
  FD.message = function (text, bad) {
    var m = FD.$("fd-message");
    m.textContent = text; m.hidden = !text;
    m.classList.toggle("fd-bad", !!bad);
  };

  FD.token = function () { return window.localStorage.getItem(TOKEN_KEY) || ""; };
  FD.setToken = function (t) {
    if (t) { window.localStorage.setItem(TOKEN_KEY, t); } else { window.localStorage.removeItem(TOKEN_KEY); }
  };

  function answer(r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      return { ok: r.ok, status: r.status, body: j, cached: r.headers.get("X-Wangge-From-Cache") === "1" };
    });
  }
  function offline() { return { ok: false, status: 0, body: { error: FD.T.offline_error } }; }
  function headers(token) {
    var h = { Accept: "application/json" }, t = token === undefined ? FD.token() : token;
    if (t) { h.Authorization = "Bearer " + t; }
    return h;
  }
  /* GET, or POST of a JSON body; status 0 when the network is gone. */
  FD.api = function (path, body, token) {
    var init = { headers: headers(token), credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(answer, offline);
  };
  /* POST one file as multipart field ``file``. */
  FD.upload = function (path, blob, name) {
    var form = new FormData();
    form.append("file", blob, name || "photo.jpg");
    return fetch(path, { method: "POST", headers: headers(), body: form, credentials: "same-origin" }).then(answer, offline);
  };
  FD.errorText = function (res) {
    if (res.status === 0) { return FD.T.offline_error; }
    var b = res.body || {}, msg = b.error || b.detail || "";
    if (typeof msg !== "string") { msg = JSON.stringify(msg); }
    var head = FD.T["http_" + res.status] || (FD.T.failed + " (" + res.status + ")");
    return msg ? head + "：" + msg : head;
  };

  FD.category = function (code) {
    var c = FD.categories[code];
    if (!c) { return code || ""; }
    return FD.lang === "en" ? c.name_en : c.name_zh;
  };
  FD.status = function (code) { return FD.words.status[code] || code || ""; };

  /* Times in Beijing time by the pages' one formatter (readable.js), short: "11-18 09:30". */
  FD.time = function (iso) {
    return iso ? WG.time(iso).slice(5) : "";
  };
})();
