/* Grid worker's page: the map of my grids (我的网格) — grid outlines, compounds, buildings and
 * open incidents from /api/v1/field/area (kept by the service worker for offline use), and
 * a tap on the map to place a report. */
(function () {
  "use strict";
  var FD = window.FD;
  var STYLE = {
    grid: { color: "#8b0000", weight: 2.5, fillColor: "#ffd54f", fillOpacity: 0.12 },
    compound: { color: "#2171b5", weight: 1.5, fillColor: "#6baed6", fillOpacity: 0.25 },
    building: { radius: 5, color: "#555", weight: 1, fillColor: "#969696", fillOpacity: 0.6 }
  };
  var INCIDENT = { radius: 8, color: "#fff", weight: 2, fillColor: "#e6550d", fillOpacity: 0.95 };

  FD.map = function () {
    var cfg = FD.cfg;
    var map = L.map("map", { maxZoom: 20, zoomControl: true, tap: true });
    window.wangge.map = map;
    map.attributionControl.setPrefix("Leaflet");
    if (cfg.basemap) { L.tileLayer(cfg.basemap, { attribution: cfg.attribution, maxZoom: 20 }).addTo(map); }
    map.setView([36.62, 101.78], 12);
    L.control.scale({ imperial: false }).addTo(map);

    // The area is drawn as the API gives it (CGCS2000), so a tap reads CGCS2000 back.
    function shown(c) { return L.latLng(c[1], c[0]); }

    var area = L.geoJSON(null, {
      coordsToLatLng: shown,
      // Buildings may be points or footprints; incidents are points, drawn over them.
      style: function (f) { return f.properties.kind === "incident" ? INCIDENT : STYLE[f.properties.kind] || STYLE.building; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, f.properties.kind === "incident" ? INCIDENT : STYLE.building); },
      onEachFeature: function (f, layer) {
        var p = f.properties, label;
        if (p.kind === "incident") { label = "#" + p.id + " " + FD.category(p.category_code) + " · " + FD.status(p.status); }
        else { label = p.name || p.code || ""; }
        if (label) { layer.bindTooltip(label); }
      }
    }).addTo(map);
    var picked = L.layerGroup().addTo(map), fitted = false;
    window.wangge.layers = { area: area, picked: picked };

    FD.drawArea = function (collection, fromCache) {
      area.clearLayers();
      var counts = { grid: 0, compound: 0, building: 0, incident: 0 };
      (collection.features || []).forEach(function (f) { counts[f.properties.kind] = (counts[f.properties.kind] || 0) + 1; });
      // Grids under compounds under buildings under incidents.
      ["grid", "compound", "building", "incident"].forEach(function (kind) {
        area.addData({ type: "FeatureCollection", features: (collection.features || []).filter(function (f) { return f.properties.kind === kind; }) });
      });
      // Framed once: a later refresh never moves the map under the worker's finger.
      if (!fitted && (counts.grid || counts.compound || counts.incident)) {
        var b = area.getBounds();
        if (b.isValid()) { map.fitBounds(b, { padding: [12, 12], animate: false }); fitted = true; }
      }
      var note = FD.$("fd-map-note");
      note.hidden = !fromCache && counts.grid > 0;
      note.textContent = fromCache ? FD.T.from_cache : (counts.grid ? "" : FD.T.no_grid);
      window.wangge.loaded.area = counts;
    };

    /* Picking a point: the next tap places the report (in CGCS2000, as the map draws it). */
    var picking = null;
    FD.pickOnMap = function (done) {
      picking = done;
      map.getContainer().classList.add("fd-picking");
      FD.message(FD.T.pick_hint);
    };
    FD.showPicked = function (lon, lat) {
      picked.clearLayers();
      if (lon == null) { return; }
      L.circleMarker(shown([lon, lat]), { radius: 9, color: "#000", weight: 3, fillColor: "#ffd54f", fillOpacity: 1 }).addTo(picked);
    };
    map.on("click", function (e) {
      if (!picking) { return; }
      var lon = +e.latlng.lng.toFixed(7), lat = +e.latlng.lat.toFixed(7), done = picking;
      picking = null;
      map.getContainer().classList.remove("fd-picking");
      FD.message("");
      done(lon, lat);
    });
    return map;
  };
})();
