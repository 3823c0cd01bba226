/* Dispatch desk: the map of the queue — a dot per listed case (red past due), the
 * selected case with its grid outlined, and the point being taken in at intake. */
(function () {
  "use strict";
  var DK = window.DK;
  var COLOURS = { received: "#d94801", dispatched: "#6a51a3", in_progress: "#2171b5", replied: "#238b45", closed: "#737373" };

  DK.map = function (S) {
    var cfg = DK.cfg;
    var map = L.map("map", { maxZoom: 20, preferCanvas: true });
    window.wangge.map = map;
    map.attributionControl.setPrefix("Leaflet");  // pages name no outside address
    WG.basemap(map, cfg);  // the configured basemap, or the city's own layers
    if (cfg.bounds) { map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]); }
    else { map.setView([36.62, 101.78], 12); }
    L.control.scale({ imperial: false }).addTo(map);
    WG.labels(map, cfg);

    // Points from the API are CGCS2000; on a GCJ-02 basemap they are drawn shifted.
    var off = cfg.offset || [0, 0];
    function shown(lon, lat) { return L.latLng(lat + off[1], lon + off[0]); }

    var grids = L.vectorGrid.protobuf("/tiles/grids/{z}/{x}/{y}.mvt" + (cfg.shift ? "?shift=" + cfg.shift : ""), {
      rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, maxZoom: 20,
      vectorTileLayerStyles: { grids: { weight: 0.6, color: "#8c8c8c", fill: false } }
    }).addTo(map);
    grids.on("loading", function () { window.wangge.loaded.grids = false; });
    grids.on("load", function () { window.wangge.loaded.grids = true; });

    var dots = L.layerGroup().addTo(map), byId = {};
    map.createPane("dk-outline").style.zIndex = 350;  // under the dots, over the grids
    var outline = L.geoJSON(null, {
      pane: "dk-outline",
      coordsToLatLng: function (c) { return shown(c[0], c[1]); },
      style: { color: "#111", weight: 2.5, fillColor: "#ffd54f", fillOpacity: 0.18 }, interactive: false
    }).addTo(map);
    var picked = L.layerGroup().addTo(map);
    var layers = window.wangge.layers = window.wangge.layers || {};  // the basemap's are there already
    layers.dots = dots; layers.outline = outline; layers.picked = picked; layers.grids = grids;

    function style(item) {
      var selected = item.id === S.selected;
      return {
        radius: selected ? 10 : 6, weight: selected ? 3 : 1, color: selected ? "#000" : "#fff",
        fillColor: item.overdue && item.status !== "closed" ? "#e00000" : COLOURS[item.status], fillOpacity: 0.9
      };
    }
    S.on("items", function (items) {
      dots.clearLayers(); byId = {};
      items.forEach(function (item) {
        var m = L.circleMarker(shown(item.lon, item.lat), style(item))
          .bindTooltip("#" + item.id + " " + DK.category(item.category_code) + " · " + DK.word("status", item.status));
        m.on("click", function () { if (!S.picking) { S.select(item.id); } });
        byId[item.id] = { marker: m, item: item };
        m.addTo(dots);
      });
    });
    S.on("selected", function (id) {
      Object.keys(byId).forEach(function (k) {
        var e = byId[k];
        e.marker.setStyle(style(e.item));
        if (e.item.id === id) { e.marker.bringToFront(); }
      });
    });
    S.on("card", function (inc) {
      outline.clearLayers();
      var here = shown(inc.lon, inc.lat);
      // Close enough to see the grid, without jumping when the case is in view already.
      if (map.getZoom() < 15 || !map.getBounds().pad(-0.1).contains(here)) { map.setView(here, Math.max(map.getZoom(), 15)); }
      if (!byId[inc.id]) {
        // A case outside the listed tab still shows where it is.
        dots.addLayer(L.circleMarker(here, style(inc)));
      }
      outlineGrid(inc.assignment.grid_code);
    });
    function outlineGrid(code) {
      outline.clearLayers();
      if (!code) { return; }
      var filter = encodeURIComponent("code = '" + code + "'");
      fetch("/ogc/collections/grids/items?limit=1&filter=" + filter, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) { outline.clearLayers(); if (fc) { outline.addData(fc); } window.wangge.loaded.outline = code; });
    }

    /* Intake: a click on the map takes the point (in the basemap's own system). */
    map.on("click", function (e) {
      if (!S.picking) { return; }
      var crs = cfg.shift ? "gcj02" : "cgcs2000";
      S.emit("map-pick", { lon: +e.latlng.lng.toFixed(7), lat: +e.latlng.lat.toFixed(7), crs: crs });
    });
    S.on("intake-point", function (p) {
      picked.clearLayers();
      if (!p) { return; }
      var at = L.latLng(p.lat, p.lon);
      L.circleMarker(at, { radius: 9, color: "#8b0000", weight: 3, fillColor: "#fff", fillOpacity: 0.9 }).addTo(picked);
      L.circleMarker(at, { radius: 2, color: "#8b0000", weight: 2, fillOpacity: 1 }).addTo(picked);
      if (map.getZoom() < 15 || !map.getBounds().pad(-0.1).contains(at)) { map.setView(at, Math.max(map.getZoom(), 16)); }
    });
    S.on("intake-grid", outlineGrid);
    S.on("picking", function (on) { map.getContainer().classList.toggle("dk-picking", on); });
    S.on("fit", function (bbox) {
      map.fitBounds([shown(bbox[0], bbox[1]), shown(bbox[2], bbox[3])], { maxZoom: 17 });
    });
    return { map: map, shown: shown };
  };
})();
