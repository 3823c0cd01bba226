/* Grid worker's page (网格员): start-up — the token kept on the phone, who I am, the tabs,
 * the network light, the service worker, and sending what waits whenever the network
 * returns. The other field-*.js files hold the parts. */
function wanggeField(cfg) {
  "use strict";
  var FD = window.FD;
  FD.cfg = cfg; FD.T = cfg.text; FD.lang = cfg.lang; FD.words = { status: cfg.status };
  WG.setup({ timezone: cfg.timezone, lang: cfg.lang });
  FD.categories = {}; FD.me = { name: null };
  FD.query = new URLSearchParams(window.location.search);
  window.wangge = { loaded: { field: false, sw: false }, layers: {}, version: cfg.version, timing: {} };

  FD.showTab = function (tab) {
    document.querySelectorAll(".fd-panel").forEach(function (p) { p.hidden = p.dataset.tab !== tab; });
    document.querySelectorAll("#fd-tabs button").forEach(function (b) {
      b.classList.toggle("fd-active", b.dataset.tab === tab);
      b.setAttribute("aria-selected", b.dataset.tab === tab ? "true" : "false");
    });
    document.body.dataset.tab = tab;
    if (tab === "map" && window.wangge.map) { window.wangge.map.invalidateSize(); }
  };

  function network() {
    var on = navigator.onLine, light = FD.$("fd-net");
    light.textContent = on ? FD.T.online : FD.T.offline;
    light.classList.toggle("fd-offline", !on);
  }

  function signInForm(text) {
    FD.$("fd-sign-in").hidden = false;
    FD.$("fd-main").hidden = true; FD.$("fd-tabs").hidden = true;
    if (text) { FD.message(text, true); }
    window.wangge.loaded.field = "sign-in";
  }

  /* Who the token is; offline the service worker answers with the last one kept. */
  function whoAmI(token) {
    return FD.api("/api/v1/field/me", undefined, token).then(function (res) {
      if (res.status === 401) { return { error: FD.T.token_bad }; }
      if (res.status === 403) { return { error: FD.T.token_not_worker }; }
      if (!res.ok) { return { error: FD.errorText(res) }; }
      return { me: res.body };
    });
  }

  function loadCategories() {
    return FD.api("/api/v1/categories").then(function (res) {
      (res.ok ? res.body.items || [] : []).forEach(function (c) { FD.categories[c.code] = c; });
    });
  }

  function loadArea() {
    return FD.api("/api/v1/field/area").then(function (res) {
      if (res.ok) { FD.drawArea(res.body, res.cached); }
      else if (res.status !== 0) { FD.message(FD.errorText(res), true); }
    });
  }

  function start(me) {
    started = begun(me);
    return started;
  }
  function begun(me) {
    FD.me = me;
    FD.$("fd-sign-in").hidden = true;
    FD.$("fd-main").hidden = false; FD.$("fd-tabs").hidden = false;
    FD.$("fd-sign-out").hidden = false;
    FD.$("fd-who").textContent = me.name || "";
    FD.$("fd-grids").textContent = FD.T.my_grids + "：" + (me.grids || []).map(function (g) {
      return g.name + (g.community_name ? "（" + g.community_name + "）" : "");
    }).join("、");
    FD.map();
    return loadCategories().then(function () {
      FD.report();
      return Promise.all([loadArea(), FD.loadTasks(), FD.renderOutbox()]);
    }).then(function () {
      window.wangge.timing.ready = performance.now();
      window.wangge.loaded.field = true;
      return FD.drain();
    });
  }

  function begin() {
    var token = FD.token();
    if (!token) { signInForm(); return; }
    whoAmI(token).then(function (r) {
      if (r.me) { return start(r.me); }
      if (r.error === FD.T.token_bad || r.error === FD.T.token_not_worker) { FD.setToken(""); }
      signInForm(r.error);
    });
  }

  FD.$("fd-sign-in").addEventListener("submit", function (e) {
    e.preventDefault();
    var token = FD.$("fd-token").value.trim();
    if (!token) { return; }
    whoAmI(token).then(function (r) {
      if (!r.me) { FD.message(r.error, true); return; }
      FD.setToken(token);
      FD.$("fd-token").value = "";
      FD.message("");
      start(r.me);
    });
  });
  FD.$("fd-sign-out").onclick = function () {
    FD.setToken("");
    // The kept answers were this worker's; the outbox stays, tagged with its worker.
    var done = window.caches ? caches.delete("field-data") : Promise.resolve();
    done.then(function () { window.location.reload(); });
  };
  document.querySelectorAll("#fd-tabs button").forEach(function (b) {
    b.addEventListener("click", function () { FD.showTab(b.dataset.tab); });
  });
  window.addEventListener("online", function () { network(); if (FD.me.name) { FD.drain(true); loadArea(); FD.loadTasks(); } });
  window.addEventListener("offline", network);
  // A fallback for phones that never say the network came back.
  setInterval(function () { if (FD.me.name && navigator.onLine) { FD.drain(); } }, 30000);
  network();

  /* Once the service worker controls the page, ask again for what it keeps for offline
   * use: the first visit's answers went past it. */
  var started = null;
  function keepForOffline() {
    return (started || Promise.resolve()).then(function () {
      if (!FD.me.name) { return null; }
      return Promise.all([FD.api("/api/v1/field/me"), loadCategories(), loadArea(), FD.loadTasks()]);
    }).then(function () { window.wangge.loaded.kept = true; });
  }
  if ("serviceWorker" in navigator) {
    if (navigator.serviceWorker.controller) { window.wangge.loaded.kept = true; }
    else { navigator.serviceWorker.addEventListener("controllerchange", keepForOffline, { once: true }); }
    navigator.serviceWorker.register(cfg.sw, { scope: cfg.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () { window.wangge.loaded.sw = true; }, function (err) {
      window.wangge.loaded.sw = "failed: " + err;
    });
  }
  FD.showTab("map");
  begin();
}
