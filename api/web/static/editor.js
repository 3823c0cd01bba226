/* Boundary editor: pick a grid, draw a split line or a new outline (Leaflet-Geoman),
 * preview the impact through the editing API, commit with a planner token. */
function wanggeEditor(cfg) {
  "use strict";
  // Outlines fetched from the API are in CGCS2000; move them onto a GCJ-02 basemap.
  var moved = cfg.offset ? function (c) { return L.latLng(c[1] + cfg.offset[1], c[0] + cfg.offset[0]); } : undefined;
  var T = cfg.text, lo = cfg.band[0], hi = cfg.band[1];
  var map = L.map("map", { maxZoom: 20 });
  var W = window.wangge = { map: map, layers: {}, loaded: {}, editor: { state: "idle" } };
  WG.setup(cfg);
  WG.basemap(map, cfg);
  if (cfg.bounds) { map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]); }
  else { map.setView([36.62, 101.78], 12); }
  L.control.scale().addTo(map);
  WG.labels(map, cfg);

  var version = 0, selected = null, drawn = null, operation = null, baseVersion = null;
  var $ = function (id) { return document.getElementById(id); };
  function esc(s) { return String(s == null ? "—" : s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function colour(h) { return h < lo ? "#6baed6" : (h > hi ? "#de2d26" : "#31a354"); }
  function tileUrl(layer) {
    var q = [];
    if (cfg.shift) { q.push("shift=" + cfg.shift); }
    if (version) { q.push("v=" + version); }  // a new edit: do not reuse cached tiles
    return "/tiles/" + layer + "/{z}/{x}/{y}.mvt" + (q.length ? "?" + q.join("&") : "");
  }
  var grids = L.vectorGrid.protobuf(tileUrl("grids"), {
    rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18, maxZoom: 20,
    getFeatureId: function (f) { return f.id; },
    vectorTileLayerStyles: { grids: function (p) {
      return { weight: 1, color: "#444", fill: true, fillColor: colour(p.households), fillOpacity: 0.45 };
    } }
  }).addTo(map);
  grids.on("loading", function () { W.loaded.grids = false; });
  grids.on("load", function () { W.loaded.grids = true; });
  W.layers.grids = grids;
  var picked = L.geoJSON(null, { coordsToLatLng: moved, style: { color: "#000", weight: 3, fill: false }, interactive: false }).addTo(map);
  var after = L.geoJSON(null, { coordsToLatLng: moved, style: { color: "#8b0000", weight: 2, dashArray: "5 4", fillOpacity: 0.1 }, interactive: false }).addTo(map);
  W.layers.picked = picked; W.layers.after = after;

  function message(text, ok) { var m = $("wg-message"); m.className = ok ? "wg-ok" : "wg-error"; m.textContent = text; }
  function ready() {
    $("wg-preview").disabled = !(selected && drawn);
    $("wg-commit").disabled = baseVersion === null;
  }
  grids.on("click", function (e) {
    if (map.pm.globalDrawModeEnabled()) { return; }
    selected = e.layer.properties.code;
    $("wg-selected").textContent = selected;
    baseVersion = null; after.clearLayers(); $("wg-impact").innerHTML = "";
    fetch("/ogc/collections/grids/items?limit=1&filter=" + encodeURIComponent("code = '" + selected + "'"))
      .then(function (r) { return r.json(); })
      .then(function (fc) { picked.clearLayers(); picked.addData(fc); W.editor.state = "picked"; });
    ready();
  });

  function draw(shape, op) {
    return function () {
      if (drawn) { map.removeLayer(drawn); drawn = null; }
      operation = op; baseVersion = null; ready();
      map.pm.enableDraw(shape, { snappable: false });
      W.editor.state = "drawing";
    };
  }
  $("wg-draw-split").addEventListener("click", draw("Line", "split"));
  $("wg-draw-reshape").addEventListener("click", draw("Polygon", "reshape"));
  // While drawing, clicks must reach the map (Geoman), not the interactive tile canvases.
  map.on("pm:drawstart", function () { map.getContainer().classList.add("wg-drawing"); });
  map.on("pm:drawend", function () { map.getContainer().classList.remove("wg-drawing"); });
  map.on("pm:create", function (e) {
    drawn = e.layer; W.layers.drawn = drawn; W.editor.state = "drawn";
    ready();
  });

  function body() {
    var geometry = drawn.toGeoJSON().geometry, b = { operation: operation, grid: selected, reason: $("wg-reason").value };
    b[operation === "split" ? "line" : "outline"] = geometry;
    if (cfg.shift) { b.crs = cfg.shift; }  // drawn over a GCJ-02 basemap
    if (baseVersion !== null) { b.base_version = baseVersion; }
    return b;
  }
  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + $("wg-token").value.trim() },
      body: JSON.stringify(payload)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); });
  }
  function impactTable(res) {
    var p = res.impact || {};
    var rows = ["<tr><th>" + esc(T.grid) + "</th><th></th><th>" + esc(T.households) + "</th></tr>"];
    (p.grids || []).forEach(function (g) {
      rows.push("<tr><td>" + esc(g.code) + "</td><td>" + esc(T["status_" + g.status] || g.status) + "</td><td>" +
        esc(g.households_before) + " → " + esc(g.households_after) + "</td></tr>");
    });
    var moved = p.incidents ? p.incidents.count : 0;
    rows.push("<tr><th>" + esc(T.moved) + "</th><td></td><td>" + esc(moved) + "</td></tr>");
    $("wg-impact").innerHTML = rows.join("");
  }
  $("wg-preview").addEventListener("click", function () {
    baseVersion = null;
    post("/api/v1/edits/preview", body()).then(function (res) {
      if (!res.ok) { message(res.body.error || res.status, false); W.editor.state = "error"; ready(); return; }
      baseVersion = res.body.base_version;
      after.clearLayers(); after.addData(res.body.after);
      impactTable(res.body);
      message(T.impact + " ✓", true);
      W.editor.state = "previewed";
      ready();
    });
  });
  $("wg-commit").addEventListener("click", function () {
    post("/api/v1/edits", body()).then(function (res) {
      if (!res.ok) { message(res.body.error || res.status, false); W.editor.state = "error"; return; }
      version = res.body.version;
      message(T.committed + " " + version, true);
      baseVersion = null; selected = null; $("wg-selected").textContent = "—";
      if (drawn) { map.removeLayer(drawn); drawn = null; }
      picked.clearLayers(); after.clearLayers();
      W.editor.state = "committed"; W.editor.version = version;
      grids.setUrl(tileUrl("grids"));
      ready();
    });
  });
}
