/* Grid worker's page: reporting a finding (上报) — category, description, position (the
 * phone's GPS as WGS 84, GCJ-02 when the WeChat wrapper opens the page with ``?gcj02``, or
 * a tap on the map as CGCS2000) and photos; and the list of what waits to be sent (待发送). */
(function () {
  "use strict";
  var FD = window.FD;
  var files = [], editing = null;

  function thumbs() {
    var box = FD.$("fd-thumbs");
    box.textContent = "";
    files.forEach(function (f) {
      var img = FD.el("img", { alt: f.name, className: "fd-thumb" });
      img.src = URL.createObjectURL(f);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      box.appendChild(img);
    });
  }

  function setPosition(lon, lat, crs, note) {
    FD.$("fd-lon").value = lon; FD.$("fd-lat").value = lat; FD.$("fd-crs").value = crs;
    FD.$("fd-gps-note").textContent = note || "";
    FD.showPicked(crs === "cgcs2000" || crs === "wgs84" ? lon : null, lat);
  }

  function gps() {
    var wechat = FD.query.has("gcj02");
    if (!navigator.geolocation) { FD.$("fd-gps-note").textContent = FD.say("no_gps", { name: "—" }); return; }
    FD.$("fd-gps-note").textContent = FD.T.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      setPosition(+p.coords.longitude.toFixed(7), +p.coords.latitude.toFixed(7), wechat ? "gcj02" : "wgs84",
        FD.say("located", { n: Math.round(p.coords.accuracy) }));
    }, function (err) {
      FD.$("fd-gps-note").textContent = FD.say("no_gps", { name: err.message || err.code });
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }

  function reset() {
    FD.$("fd-report").reset();
    files = []; editing = null; thumbs();
    FD.$("fd-gps-note").textContent = "";
    FD.showPicked(null);
    prefill();
  }

  /* The WeChat wrapper may open the page with its own position: ``?gcj02&lon=..&lat=..``. */
  function prefill() {
    var q = FD.query, lon = parseFloat(q.get("lon")), lat = parseFloat(q.get("lat"));
    if (q.has("gcj02")) { FD.$("fd-crs").value = "gcj02"; }
    if (isFinite(lon) && isFinite(lat)) { setPosition(lon, lat, q.has("gcj02") ? "gcj02" : "wgs84"); }
  }

  function send(e) {
    e.preventDefault();
    var category = FD.$("fd-category").value;
    var lon = parseFloat(FD.$("fd-lon").value), lat = parseFloat(FD.$("fd-lat").value);
    if (!category) { FD.message(FD.T.need_category, true); return; }
    if (!isFinite(lon) || !isFinite(lat)) { FD.message(FD.T.need_position, true); return; }
    // A report refused and edited keeps its id: nothing was stored under it.
    var body = {
      external_id: editing ? editing.external_id : FD.newExternalId(),
      channel: "patrol",
      category_code: category,
      description: FD.$("fd-description").value.trim(),
      lon: lon, lat: lat, crs: FD.$("fd-crs").value
    };
    var photos = files.slice();
    if (editing && !photos.length) { photos = editing.photos.map(function (p) { return p.blob; }); }
    FD.queue(body, photos).then(function () {
      reset();
      FD.message(FD.T.queued);
      FD.showTab("outbox");
      return FD.drain(true);
    });
  }

  function edit(item) {
    editing = item;
    FD.$("fd-category").value = item.body.category_code;
    FD.$("fd-description").value = item.body.description || "";
    setPosition(item.body.lon, item.body.lat, item.body.crs);
    files = []; thumbs();
    FD.showTab("report");
  }

  function outboxItem(item) {
    var left = item.photos.filter(function (p) { return !p.sent; }).length;
    var discard = FD.el("button", { type: "button", className: "fd-discard", textContent: FD.T.discard });
    discard.onclick = function () { FD.outbox.remove(item.external_id).then(FD.outbox.changed); };
    var buttons = [discard];
    if (item.state === "refused" && !item.incident_id) {
      var change = FD.el("button", { type: "button", className: "fd-edit", textContent: FD.T.edit });
      change.onclick = function () { edit(item); };
      buttons.unshift(change);
    }
    // A report, or a verification decided on the spot (its step and note).
    var head = item.step
      ? FD.say(item.step.to === "verify_confirm" ? "step_confirm" : "step_reject", { n: item.incident_id })
      : FD.category(item.body.category_code);
    var text = item.step ? item.step.note : item.body.description;
    return FD.el("li", { className: "fd-waiting fd-state-" + item.state, dataset: { external: item.external_id } }, [
      FD.el("p", { className: "fd-task-head" }, [
        FD.el("b", { textContent: head }),
        FD.el("span", { className: "fd-status", textContent: item.state === "refused" ? FD.T.refused : FD.T.waiting })
      ]),
      text ? FD.el("p", { textContent: text }) : null,
      FD.el("p", { className: "fd-muted", textContent: FD.time(item.created) + " · " +
        (item.incident_id ? "#" + item.incident_id + " · " + FD.say("photos_left", { n: left }) : FD.say("photo_count", { n: item.photos.length })) }),
      item.error ? FD.el("p", { className: "fd-error", textContent: item.error }) : null,
      FD.el("div", { className: "fd-buttons" }, buttons)
    ]);
  }

  FD.renderOutbox = function () {
    return FD.outbox.all().then(function (items) {
      items = items.filter(function (it) { return it.worker === FD.me.name; });
      var list = FD.$("fd-outbox");
      list.textContent = "";
      items.forEach(function (it) { list.appendChild(outboxItem(it)); });
      FD.$("fd-outbox-note").textContent = items.length ? FD.say("outbox_count", { n: items.length }) : FD.T.outbox_empty;
      FD.$("fd-outbox-count").textContent = items.length ? String(items.length) : "";
      list.dataset.count = String(items.length);
      if (!items.length && FD.outbox.lastSent) { FD.message(FD.say("sent", { n: FD.outbox.lastSent })); FD.outbox.lastSent = null; }
    });
  };

  FD.report = function () {
    var select = FD.$("fd-category");
    Object.keys(FD.categories).forEach(function (code) {
      select.appendChild(FD.el("option", { value: code, textContent: FD.category(code) }));
    });
    FD.$("fd-photos").addEventListener("change", function (e) {
      files = Array.prototype.slice.call(e.target.files); thumbs();
    });
    FD.$("fd-gps").onclick = gps;
    FD.$("fd-pick").onclick = function () {
      FD.showTab("map");
      FD.pickOnMap(function (lon, lat) { setPosition(lon, lat, "cgcs2000"); FD.showTab("report"); });
    };
    FD.$("fd-report").addEventListener("submit", send);
    FD.$("fd-retry").onclick = function () { FD.retryAll(); };
    FD.outbox.listeners.push(FD.renderOutbox);
    prefill();
  };
})();
