/* Grids page: grid tiles coloured against the household band, code on hover, search by code,
 * incidents from tiles (counted cells at low zoom). */
function wanggeGrids(map, cfg) {
  "use strict";
  // Outlines fetched from the API are in CGCS2000; move them onto a GCJ-02 basemap.
  var moved = cfg.offset ? function (c) { return L.latLng(c[1] + cfg.offset[1], c[0] + cfg.offset[0]); } : undefined;
  var T = cfg.text, lo = cfg.band[0], hi = cfg.band[1];
  var query = [];
  if (cfg.at) { query.push("at=" + encodeURIComponent(cfg.at)); }
  if (cfg.shift) { query.push("shift=" + cfg.shift); }
  var qs = query.length ? "?" + query.join("&") : "";
  var W = window.wangge;
  W.loaded = W.loaded || {};

  function colour(h) { return h < lo ? "#6baed6" : (h > hi ? "#de2d26" : "#31a354"); }
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

  var grids = tiles("grids", {
    interactive: true,
    vectorTileLayerStyles: { grids: function (p) {
      return { weight: 1, color: "#444", fill: true, fillColor: colour(p.households), fillOpacity: 0.55 };
    } }
  }).addTo(map);
  var hover = L.tooltip({ sticky: true, direction: "top" });
  grids.on("mouseover", function (e) {
    hover.setLatLng(e.latlng).setContent(esc(e.layer.properties.code)).addTo(map);
  });
  grids.on("mouseout", function () { map.removeLayer(hover); });
  function gridPopup(p) {
    return table([[T.code, p.code], [T.name, p.name], [T.households, p.households], [T.residents, p.residents]]);
  }
  grids.on("click", function (e) {
    L.popup().setLatLng(e.latlng).setContent(gridPopup(e.layer.properties)).openOn(map);
  });

  var communities = tiles("communities", {
    interactive: false,
    vectorTileLayerStyles: { communities: { weight: 2.5, color: "#6a51a3", fill: false } }
  }).addTo(map);

  var incidents = tiles("incidents", {
    interactive: true,
    vectorTileLayerStyles: { incidents: function (p) {
      if (p.cluster) {
        return { radius: Math.min(26, 6 + 3 * Math.sqrt(p.count)), color: "#fff", weight: 1.5, fill: true, fillColor: "#e6550d", fillOpacity: 0.8 };
      }
      return { radius: 5, color: "#fff", weight: 1, fill: true, fillColor: p.status === "closed" ? "#888" : "#e6550d", fillOpacity: 0.9 };
    } }
  }).addTo(map);
  // Category names from the category table (the tiles carry codes only).
  var categories = null;
  function categoryNames() {
    if (!categories) {
      categories = fetch("/api/v1/categories", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) {
          var names = {};
          (body.items || []).forEach(function (c) { names[c.code] = cfg.lang === "en" ? c.name_en : c.name_zh; });
          return names;
        }, function () { return {}; });
    }
    return categories;
  }
  incidents.on("click", function (e) {
    var p = e.layer.properties, at = e.latlng;
    if (p.cluster) {
      L.popup().setLatLng(at).setContent(table([[T.cluster, p.count], [T.open, p.open_count]])).openOn(map);
      return;
    }
    categoryNames().then(function (names) {
      var rows = [[T.category, names[p.category_code] || "—"], [T.status, WG.word("status", p.status)],
        [T.channel, WG.word("channel", p.channel)], [T.received_at, WG.time(p.received_at)],
        [T.grid, p.grid_code || T.unassigned]];
      L.popup().setLatLng(at).setContent(table(rows)).openOn(map);
    });
  });

  var overlays = {};
  overlays[T.grid_layer] = grids;
  overlays[T.community] = communities;
  overlays[T.incidents] = incidents;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "wg-legend");
    div.innerHTML = "<b>" + esc(T.households) + "</b><br>" +
      [["#6baed6", T.under], ["#31a354", T.within], ["#de2d26", T.over]].map(function (r) {
        return '<i style="background:' + r[0] + '"></i>' + esc(r[1]);
      }).join("<br>");
    return div;
  };
  legend.addTo(map);

  var search = L.control({ position: "topleft" });
  search.onAdd = function () {
    var div = L.DomUtil.create("div", "wg-panel wg-search-panel");
    div.style.position = "static"; div.style.width = "auto";
    div.innerHTML = '<form class="wg-search" id="wg-search"><input id="wg-code" inputmode="numeric" placeholder="' +
      esc(T.search_code) + '"><button type="submit">' + esc(T.search) + '</button></form><div id="wg-search-msg"></div>';
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  search.addTo(map);
  var found = null;
  document.getElementById("wg-search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = document.getElementById("wg-code").value.trim();
    var msg = document.getElementById("wg-search-msg");
    msg.textContent = "";
    if (!/^[0-9]{15}$/.test(code)) { msg.className = "wg-error"; msg.textContent = T.not_found; return; }
    var url = "/ogc/collections/grids/items?limit=1&filter=" + encodeURIComponent("code = '" + code + "'");
    if (cfg.at) { url += "&datetime=" + encodeURIComponent(cfg.at); }
    fetch(url).then(function (r) { return r.json(); }).then(function (fc) {
      if (found) { map.removeLayer(found); found = null; }
      if (!fc.features || !fc.features.length) { msg.className = "wg-error"; msg.textContent = T.not_found; return; }
      var f = fc.features[0];
      found = L.geoJSON(f, { coordsToLatLng: moved, style: { color: "#000", weight: 4, fill: false }, interactive: false }).addTo(map);
      W.layers.found = found;
      map.fitBounds(found.getBounds(), { maxZoom: 16 });
      L.popup().setLatLng(found.getBounds().getCenter()).setContent(gridPopup(f.properties)).openOn(map);
    });
  });
}
