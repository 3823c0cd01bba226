/* What makes every map page readable, in one place (window.WG):
 *   WG.time(iso)        a moment in Beijing time, "2026-11-18 09:30", whatever the browser's zone;
 *   WG.word(kind, code) the word for a status or channel (gis/incidents/words.py), never the code;
 *   WG.labels(map, cfg) district, street and community names and grid codes by zoom, at a point
 *                       inside each unit (fetched from /maps/labels, decluttered);
 *   WG.basemap(map, cfg) with no basemap URL set: a light basemap from the city's own layers
 *                       (districts, residential compounds, streets), so a map reads on an intranet with no
 *                       tile server and asks nothing of the outside world.
 * Pages call WG.setup(cfg) first with { timezone, lang, words }. */
(function () {
  "use strict";
  var WG = window.WG = window.WG || {};
  var cfg0 = { timezone: "Asia/Shanghai", lang: "zh", words: {} };
  var formatter = null;

  WG.setup = function (cfg) {
    cfg0 = { timezone: cfg.timezone || "Asia/Shanghai", lang: cfg.lang || "zh", words: cfg.words || {} };
    formatter = null;
    return WG;
  };

  /* -- times ----------------------------------------------------------------------------- */
  WG.time = function (iso) {
    if (iso == null || iso === "") { return "—"; }
    var when = iso instanceof Date ? iso : new Date(iso);
    if (isNaN(when.getTime())) { return "—"; }
    if (!formatter) {
      formatter = new Intl.DateTimeFormat("en-CA", {
        timeZone: cfg0.timezone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit"
      });
    }
    var p = {};
    formatter.formatToParts(when).forEach(function (part) { p[part.type] = part.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + (p.hour === "24" ? "00" : p.hour) + ":" + p.minute;
  };

  /* -- words ----------------------------------------------------------------------------- */
  WG.word = function (kind, code) {
    if (code == null || code === "") { return "—"; }
    var table = cfg0.words[kind] || {};
    return table[code] || "—";
  };

  /* -- the light basemap ------------------------------------------------------------------ */
  // Pale fills for districts (one of a few by code) and compounds, thin lines for streets.
  var FILLS = ["#f4efe1", "#e9f0e3", "#f1e8ee", "#e6eef3", "#f3ebe0", "#e8eee9", "#eeeaf4"];
  function query(cfg) {
    var q = [];
    if (cfg.at) { q.push("at=" + encodeURIComponent(cfg.at)); }
    if (cfg.shift) { q.push("shift=" + cfg.shift); }
    return q.length ? "?" + q.join("&") : "";
  }
  function pane(map, name, z) {
    var p = map.getPane(name) || map.createPane(name);
    p.style.zIndex = z;
    p.style.pointerEvents = "none";
    return name;
  }
  WG.basemap = function (map, cfg) {
    var W = window.wangge = window.wangge || { layers: {} };
    W.layers = W.layers || {};
    W.loaded = W.loaded || {};
    if (cfg.basemap) {
      L.tileLayer(cfg.basemap, { attribution: cfg.attribution || "", maxZoom: 20, maxNativeZoom: cfg.maxZoom || 18 }).addTo(map);
      return null;
    }
    if (!L.vectorGrid) { return null; }
    map.getContainer().classList.add("wg-own-basemap");
    var where = pane(map, "wg-basemap", 150);
    var qs = query(cfg), group = L.layerGroup();
    [
      ["districts", function (p) {
        var n = parseInt(String(p.code).slice(-2), 10) || 0;
        return { fill: true, fillColor: FILLS[n % FILLS.length], fillOpacity: 1, color: "#a99a8a", weight: 1.4 };
      }],
      // Residential compounds, the built-up blocks, once they are larger than a few pixels.
      ["compounds", function () { return { fill: true, fillColor: "#e2dbd0", fillOpacity: 1, color: "#cfc4b6", weight: 0.6 }; }, 14],
      ["streets", function () { return { fill: false, color: "#c9bcae", weight: 0.8, dashArray: "4 3" }; }]
    ].forEach(function (spec) {
      var styles = {};
      styles[spec[0]] = spec[1];
      var layer = L.vectorGrid.protobuf("/tiles/" + spec[0] + "/{z}/{x}/{y}.mvt" + qs, {
        pane: where, rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, maxZoom: 20,
        minZoom: spec[2] || 0,
        getFeatureId: function (f) { return f.id; }, vectorTileLayerStyles: styles
      });
      var key = "basemap_" + spec[0];
      layer.on("loading", function () { W.loaded[key] = false; });
      layer.on("load", function () { W.loaded[key] = true; });
      W.layers[key] = layer;
      group.addLayer(layer);
    });
    group.addTo(map);
    W.layers.basemap = group;
    return group;
  };

  /* -- labels ------------------------------------------------------------------------------ */
  // Which names show at which zoom [from, to): the larger unit while it fills the view.
  WG.LEVELS = [
    { level: "districts", from: 0, to: 13, whole: true },
    { level: "streets", from: 12, to: 15 },
    { level: "communities", from: 14, to: 17 },
    { level: "grids", from: 17, to: 99, code: true }
  ];
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function overlaps(a, b) { return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }

  WG.labels = function (map, cfg) {
    var W = window.wangge = window.wangge || { layers: {} };
    W.layers = W.layers || {};
    W.labels = { shown: {}, fetched: {} };
    var where = pane(map, "wg-labels", 450);
    var state = {};
    WG.LEVELS.forEach(function (l) { state[l.level] = { spec: l, box: null, rows: [], group: L.layerGroup(), pending: null }; });

    function url(level, box) {
      var q = ["lang=" + encodeURIComponent(cfg.lang || "zh")];
      if (box) { q.push("bbox=" + box.join(",")); }
      if (cfg.at) { q.push("at=" + encodeURIComponent(cfg.at)); }
      return "/maps/labels/" + level + "?" + q.join("&");
    }
    // The view padded and snapped outwards, so that small moves reuse what was fetched.
    function wanted(bounds) {
      var w = Math.max(bounds.getEast() - bounds.getWest(), bounds.getNorth() - bounds.getSouth());
      var step = Math.pow(2, Math.ceil(Math.log(w) / Math.LN2));
      var c = bounds.getCenter();
      var off = cfg.offset || [0, 0];  // label points come on the basemap's datum; boxes are CGCS2000
      var x = c.lng - off[0], y = c.lat - off[1];
      return [Math.floor(x / step - 1) * step, Math.floor(y / step - 1) * step,
              Math.ceil(x / step + 1) * step, Math.ceil(y / step + 1) * step].map(function (v) { return +v.toFixed(6); });
    }
    function holds(box, bounds) {
      var off = cfg.offset || [0, 0];
      return box && box[0] <= bounds.getWest() - off[0] && box[1] <= bounds.getSouth() - off[1] &&
        box[2] >= bounds.getEast() - off[0] && box[3] >= bounds.getNorth() - off[1];
    }
    function draw(s) {
      s.group.clearLayers();
      s.rows.forEach(function (r) {
        var text = s.spec.code ? r[0] : r[1];
        var icon = L.divIcon({
          className: "wg-label wg-label-" + s.spec.level, iconSize: null,
          html: '<span data-code="' + esc(r[0]) + '">' + esc(text) + "</span>"
        });
        s.group.addLayer(L.marker([r[3], r[2]], { icon: icon, pane: where, interactive: false, keyboard: false }));
      });
    }
    function load(s) {
      var box = s.spec.whole ? null : wanted(map.getBounds());
      if (s.spec.whole ? s.box === "all" : holds(s.box, map.getBounds())) { return Promise.resolve(); }
      var u = url(s.spec.level, box);
      if (s.pending && s.pending.url === u) { return s.pending.done; }
      var job = { url: u };
      job.done = fetch(u, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { labels: [] }; })
        .then(function (body) {
          if (s.pending !== job) { return; }
          s.pending = null;
          s.box = box || "all";
          s.rows = body.labels || [];
          W.labels.fetched[s.spec.level] = s.rows.length;
          draw(s);
        });
      s.pending = job;
      return job.done;
    }
    // Larger units first: a label that would overlap one already placed is hidden.
    // Each move is one generation: only the latest one's placing marks the labels ready.
    var generation = 0;
    function declutter(gen) {
      try { place(); } finally {
        if (gen === generation) { W.labels.zoom = map.getZoom(); W.labels.ready = true; }
      }
    }
    function place() {
      var placed = [], view = map.getContainer().getBoundingClientRect();
      WG.LEVELS.forEach(function (l) {
        var s = state[l.level], shown = 0;
        if (!map.hasLayer(s.group)) { W.labels.shown[l.level] = 0; return; }
        s.group.eachLayer(function (m) {
          var el = m.getElement();
          if (!el) { return; }
          el.style.visibility = "";
          var r = el.firstChild.getBoundingClientRect();
          var box = { left: r.left - 3, top: r.top - 2, right: r.right + 3, bottom: r.bottom + 2 };
          var inView = box.right > view.left && box.left < view.right && box.bottom > view.top && box.top < view.bottom;
          if (!inView || placed.some(function (p) { return overlaps(p, box); })) {
            el.style.visibility = "hidden";
            return;
          }
          placed.push(box);
          shown += 1;
        });
        W.labels.shown[l.level] = shown;
      });
    }
    function update() {
      var z = map.getZoom(), jobs = [], gen = ++generation;
      W.labels.ready = false;
      WG.LEVELS.forEach(function (l) {
        var s = state[l.level], on = z >= l.from && z < l.to;
        if (on) {
          if (!map.hasLayer(s.group)) { s.group.addTo(map); }
          jobs.push(load(s));
        } else if (map.hasLayer(s.group)) {
          map.removeLayer(s.group);
        }
      });
      var done = function () { declutter(gen); };
      Promise.all(jobs).then(done, done);
    }
    map.on("zoomend moveend", update);
    map.whenReady(update);
    W.layers.labels = state;
    return state;
  };
})();

/* The folium pages' first script: words and zone, basemap, labels. */
function wanggeReadable(map, cfg) {
  "use strict";
  WG.setup(cfg);
  WG.basemap(map, cfg);
  if (cfg.labels) { WG.labels(map, cfg); }
}
