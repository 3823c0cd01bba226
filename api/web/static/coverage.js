/* Coverage page: communities by class and district outlines from vector tiles, the area
 * outside every station circle, stations and canteens with their service circles. The page
 * carries only the facilities' points and the uncovered area; every layer of boundaries
 * comes from the tiles the server already caches. */
function wanggeCoverage(map, cfg) {
  "use strict";
  var T = cfg.text, W = window.wangge;
  var query = [];
  if (cfg.at) { query.push("at=" + encodeURIComponent(cfg.at)); }
  if (cfg.shift) { query.push("shift=" + cfg.shift); }
  var qs = query.length ? "?" + query.join("&") : "";
  W.loaded = W.loaded || {};

  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function table(rows) {
    return '<table class="wg-popup">' + rows.map(function (r) { return "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>"; }).join("") + "</table>";
  }
  function tiles(layer, options) {
    var l = L.vectorGrid.protobuf("/tiles/" + layer + "/{z}/{x}/{y}.mvt" + qs, L.extend({
      rendererFactory: L.canvas.tile, maxNativeZoom: 18, maxZoom: 20,
      getFeatureId: function (f) { return f.id; }
    }, options));
    l.on("loading", function () { W.loaded[layer] = false; });
    l.on("load", function () { W.loaded[layer] = true; });
    W.layers[layer] = l;
    return l;
  }
  function classOf(p) { return p.community_class || "?"; }

  var communities = tiles("communities", {
    interactive: true,
    vectorTileLayerStyles: { communities: function (p) {
      return { weight: 1, color: "#555", fill: true, fillColor: cfg.classColours[classOf(p)] || "#999", fillOpacity: 0.35 };
    } }
  }).addTo(map);
  var hover = L.tooltip({ sticky: true, direction: "top" });
  communities.on("mouseover", function (e) {
    var p = e.layer.properties;
    hover.setLatLng(e.latlng).setContent(table([
      [T.name, p.name], [T.community_class, classOf(p)], [T.households, p.households]
    ])).addTo(map);
  });
  communities.on("mouseout", function () { map.removeLayer(hover); });

  var districts = tiles("districts", {
    interactive: false,
    vectorTileLayerStyles: { districts: { weight: 2, color: "#444", fill: false } }
  }).addTo(map);

  var uncovered = L.geoJSON(cfg.uncovered, {
    // Outline only: a fill would change the class colours beneath.
    style: { color: "#cb181d", weight: 2, dashArray: "5 4", fill: false },
    interactive: false
  }).addTo(map);
  W.layers.uncovered = uncovered;

  function facilities(key, rows, colour) {
    var circles = L.featureGroup(), points = L.featureGroup();
    rows.forEach(function (f) {
      L.circle([f.lat, f.lon], {
        radius: f.radius, color: colour, weight: 1, fillColor: colour, fillOpacity: 0.08, interactive: false
      }).addTo(circles);
      var popup = document.createElement("div");
      popup.innerHTML = table(f.details);
      L.circleMarker([f.lat, f.lon], {
        radius: 7, color: "#fff", weight: 2, fill: true, fillColor: colour, fillOpacity: 1
      }).bindTooltip(esc(f.name)).bindPopup(popup, { maxWidth: 320 }).addTo(points);
    });
    circles.addTo(map);
    points.addTo(map);
    W.layers[key + "_circles"] = circles;
    W.layers[key] = points;
    return [circles, points];
  }
  var stations = facilities("stations", cfg.stations, cfg.stationColour);
  var canteens = facilities("canteens", cfg.canteens, cfg.canteenColour);

  var overlays = {};
  overlays[T.communities] = communities;
  overlays[T.uncovered] = uncovered;
  overlays[T.districts] = districts;
  overlays[T.station_circles] = stations[0];
  overlays[T.stations] = stations[1];
  overlays[T.canteen_circles] = canteens[0];
  overlays[T.canteens] = canteens[1];
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
}
