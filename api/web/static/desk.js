/* Dispatch desk (调度台): wires the queue, the map, the card and the intake panel, the
 * token that writes, and live updates (the event stream, or a timer when it is away). */
function wanggeDesk(cfg) {
  "use strict";
  var DK = window.DK, $ = DK.$, T = cfg.text;
  DK.cfg = cfg; DK.T = T; DK.W = cfg.words; DK.lang = cfg.lang; DK.UNIT_KINDS = cfg.unit_kinds;
  WG.setup(cfg);
  DK.categories = {}; DK.units = {};
  var handlers = {};
  var S = {
    me: cfg.me, selected: null, picking: false, loaded: {},
    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    emit: function (name, data) { (handlers[name] || []).forEach(function (fn) { fn(data); }); }
  };
  window.wangge = { layers: {}, loaded: S.loaded, desk: S, live: "starting" };
  var STAFF = ["dispatcher", "planner", "admin"];
  S.isDispatcher = function () { return STAFF.indexOf(S.me.role) >= 0; };
  S.isStaff = function () { return S.isDispatcher() || S.me.role === "unit"; };
  // A unit's staff read their own unit's cases only (one they just returned is no longer).
  S.mayRead = function (inc) { return S.me.role !== "unit" || (inc && inc.unit_code === S.me.unit_code); };
  function reloadable() { return S.selected && S.current && S.current.id === S.selected && S.mayRead(S.current); }

  var said = 0;
  S.say = function (text, ok) {
    var m = $("dk-message"), mine = ++said;
    m.textContent = text;
    m.className = "dk-message " + (ok ? "wg-ok" : "wg-error");
    m.hidden = false;
    setTimeout(function () { if (mine === said && ok) { m.hidden = true; } }, 8000);
  };

  /* -- the token: reads go with the session cookie, writes need the token ------------ */
  S.needToken = function () {
    S.say(T.need_token, false);
    $("dk-token-box").classList.add("dk-attention");
    $("dk-token").focus();
  };
  S.write = function (path, body) {
    if (!DK.token()) { S.needToken(); return Promise.resolve(null); }
    return DK.api(path, body);
  };
  S.merge = function (id, into) {
    return S.write("/api/v1/incidents/" + id + "/merge", { into: into }).then(function (res) {
      if (!res) { return null; }
      if (!res.ok) { S.say(DK.errorText(res), false); return null; }
      S.say(T.merged_done.replace("{id}", id).replace("{into}", into), true);
      S.refresh();
      return res.body;
    });
  };
  function roleWord(me) {
    var word = T["role_" + me.role] || me.role;
    return me.unit_code ? word + " · " + DK.unitName(me.unit_code) : word;
  }
  function tokenBox() {
    var has = !!DK.token();
    $("dk-token-form").hidden = has;
    $("dk-token-clear").hidden = !has;
    $("dk-who").textContent = S.me.role === "anonymous" ? T.not_signed_in : S.me.name + "（" + roleWord(S.me) + "）";
    $("dk-who").title = has ? T.acting_with_token : T.acting_with_session;
  }
  $("dk-token-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var token = $("dk-token").value.trim();
    if (!token) { return; }
    fetch("/api/v1/tokens/me", { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (!r.ok) { S.say(T.bad_token, false); return; }
      DK.setToken(token);
      window.location.reload();  // the page offers what this token may do
    });
  });
  $("dk-token-clear").addEventListener("click", function () { DK.setToken(""); window.location.reload(); });

  /* -- the side panel: the selected card, or the intake form ------------------------- */
  S.openIntake = function () {
    if (!S.isDispatcher()) { return; }
    $("dk-card").hidden = true; $("dk-intake").hidden = false;
    $("dk-show-card").classList.remove("dk-active"); $("dk-new").classList.add("dk-active");
    S.picking = true; S.emit("picking", true);
    intake.focus();
  };
  S.closeIntake = function () {
    $("dk-card").hidden = false; $("dk-intake").hidden = true;
    $("dk-show-card").classList.add("dk-active"); $("dk-new").classList.remove("dk-active");
    S.picking = false; S.emit("picking", false);
  };
  $("dk-new").addEventListener("click", S.openIntake);
  $("dk-show-card").addEventListener("click", S.closeIntake);
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || DK.isTyping(e.target)) { return; }
    if (e.key === "n") { e.preventDefault(); S.openIntake(); }
    else if (e.key === "Escape") { S.closeIntake(); }
  });

  S.select = function (id) {
    S.selected = id;
    S.emit("selected", id);
    S.closeIntake();
    return card.load(id);
  };
  S.refresh = DK.debounce(function () { queue.load(); }, 300);
  // Nothing picked yet: the first case of the tab shown is.
  S.on("items", function (items) { if (!S.selected && !S.picking && items.length) { S.select(items[0].id); } });

  /* -- live: the event stream, or every poll_s seconds while it is away --------------- */
  var timer = null;
  function poll(on) {
    if (on && !timer) {
      timer = setInterval(function () { queue.load(); if (reloadable()) { card.load(S.selected, "background"); } }, cfg.poll_s * 1000);
    } else if (!on && timer) { clearInterval(timer); timer = null; }
    window.wangge.live = on ? "poll" : "stream";
    $("dk-live").textContent = on ? T.live_poll.replace("{s}", cfg.poll_s) : T.live_stream;
    $("dk-live").className = on ? "dk-live-poll" : "dk-live-on";
  }
  var reloadCard = DK.debounce(function () { if (reloadable()) { card.load(S.selected, "background"); } }, 300);
  function onEvent(e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    S.refresh();
    if (data.incident_id === S.selected) { reloadCard(); }
    window.wangge.lastEvent = data;
  }
  function live() {
    if (!window.EventSource || !cfg.stream) { poll(true); return; }
    var source = new EventSource(cfg.stream);
    Object.keys(DK.W.step).concat(["transition", "extension_decision", "message"]).forEach(function (kind) {
      source.addEventListener(kind, onEvent);
    });
    source.onopen = function () { poll(false); };
    source.onerror = function () { poll(true); };
  }

  var queue, card, intake;
  function start(me) {
    S.me = me;
    var cats = DK.api("/api/v1/categories"), units = DK.api("/api/v1/units" + DK.query({ limit: 5000 }));
    return Promise.all([cats, units]).then(function (r) {
      (r[0].body.items || []).forEach(function (c) { DK.categories[c.code] = c; });
      (r[1].body.items || []).forEach(function (u) { DK.units[u.code] = u; });
      tokenBox();
      var m = DK.map(S);
      S.shown = m.shown;
      queue = DK.queue(S);
      card = DK.card(S);
      intake = DK.intake(S);
      $("dk-new").hidden = !S.isDispatcher();
      $("dk-keys").textContent = S.isDispatcher() ? T.keys + " · " + T.keys_new : T.keys;
      return queue.load();
    }).then(function () {
      if (!S.items.length) { $("dk-card").textContent = T.pick_case; }
      live();
      S.loaded.desk = true;
    });
  }
  DK.api("/api/v1/tokens/me").then(function (res) {
    if (res.status === 401 && DK.token()) {
      // A stored token that no longer works: forget it and read with the session.
      DK.setToken("");
      S.say(T.bad_token, false);
      return DK.api("/api/v1/tokens/me").then(function (again) { return start(again.body); });
    }
    return start(res.ok ? res.body : cfg.me);
  });
}
