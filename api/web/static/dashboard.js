/* Command centre (指挥大屏): figures from /api/v1/dashboard drawn with ECharts, incident
 * density per grid on grid vector tiles, refreshed from the event stream without a reload. */
function wanggeDashboard(cfg) {
  "use strict";
  var T = cfg.text, W = cfg.words;
  var D = window.wangge = window.wangge || {};
  D.charts = {};
  D.updates = 0;
  var textColour = "#cfe1ff", axisColour = "#5a7fb5", palette = ["#4fa3ff", "#5be3a0", "#ffc857", "#ff7a6b", "#b18cff", "#4dd7e6", "#f78fb3", "#9ad15b"];

  function query(extra) {
    var q = ["date=" + encodeURIComponent(cfg.date)];
    if (cfg.district) { q.push("district=" + encodeURIComponent(cfg.district)); }
    if (cfg.unit) { q.push("unit=" + encodeURIComponent(cfg.unit)); }
    return "?" + q.concat(extra || []).join("&");
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }
  function pct(x) { return x == null ? "—" : (x * 100).toFixed(1) + "%"; }
  function setKpi(key, value, shown) {
    var el = document.getElementById("kpi-" + key);
    el.setAttribute("data-value", value == null ? "" : String(value));
    el.textContent = shown;
  }
  function unitName(u) { return u.code == null ? T.no_unit : (cfg.lang === "en" && u.name_en ? u.name_en : (u.name || u.code)); }
  function districtName(d) { return d.code == null ? T.no_district : (d.name || d.code); }
  function chart(id) {
    if (!D.charts[id]) { D.charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" }); }
    return D.charts[id];
  }
  var base = { textStyle: { color: textColour, fontSize: 16 }, animationDuration: 300 };
  function axis(extra) {
    return Object.assign({ axisLine: { lineStyle: { color: axisColour } }, axisLabel: { color: textColour, fontSize: 15 },
      splitLine: { lineStyle: { color: "#15335e" } } }, extra || {});
  }
  function legend() { return { textStyle: { color: textColour, fontSize: 16 }, top: 4 }; }

  function drawKpis(f) {
    var day = f.day, open = f.open, rates = f.rates;
    setKpi("total", day.total, day.total);
    setKpi("calls", day.calls, day.calls);
    setKpi("messages", day.messages.total, day.messages.total);
    setKpi("handled_directly", day.handled_directly, day.handled_directly);
    setKpi("transferred", day.transferred, day.transferred);
    setKpi("callbacks", day.callbacks, day.callbacks);
    setKpi("open", open.total, open.total);
    setKpi("overdue", open.overdue, open.overdue);
    ["on_time_rate", "satisfaction_rate", "reopen_rate"].forEach(function (k) { setKpi(k, rates[k], pct(rates[k])); });
  }
  function drawChannels(day) {
    var channels = [{ name: W.channel.hotline_call, value: day.calls }];
    Object.keys(day.messages).forEach(function (c) { if (c !== "total") { channels.push({ name: W.channel[c] || c, value: day.messages[c] }); } });
    Object.keys(day.other_channels).forEach(function (c) { channels.push({ name: W.channel[c] || c, value: day.other_channels[c] }); });
    chart("chart-channels").setOption(Object.assign({}, base, {
      color: palette, tooltip: { trigger: "item" },
      series: [
        { name: T.handling, type: "pie", radius: ["0%", "31%"], center: ["54%", "50%"],
          label: { position: "inner", color: "#07152b", fontSize: 15, formatter: "{b}\n{c}" },
          data: [{ name: T.handled_directly, value: day.handled_directly, itemStyle: { color: "#5be3a0" } },
                 { name: T.transferred, value: day.transferred, itemStyle: { color: "#ffc857" } }] },
        { name: T.by_channel, type: "pie", radius: ["40%", "58%"], center: ["54%", "50%"],
          label: { color: textColour, fontSize: 16, formatter: "{b}\n{c}", overflow: "none" },
          data: channels.filter(function (c) { return c.value > 0; }) }
      ]
    }), true);
  }
  function drawTopics(day) {
    var top = day.top_categories.slice().reverse();
    chart("chart-topics").setOption(Object.assign({}, base, {
      grid: { left: 8, right: 50, top: 10, bottom: 10, containLabel: true }, tooltip: {},
      xAxis: axis({ type: "value" }),
      yAxis: axis({ type: "category", data: top.map(function (c) { return cfg.lang === "en" ? c.name_en : c.name_zh; }) }),
      series: [{ name: T.count, type: "bar", data: top.map(function (c) { return c.count; }), itemStyle: { color: "#4fa3ff" },
                 label: { show: true, position: "right", color: "#fff", fontSize: 15 } }]
    }), true);
  }
  function openBars(id, rows, name, limit) {
    rows = rows.slice(0, limit).reverse();
    chart(id).setOption(Object.assign({}, base, {
      grid: { left: 8, right: 40, top: 34, bottom: 6, containLabel: true }, tooltip: { trigger: "axis" }, legend: legend(),
      xAxis: axis({ type: "value" }),
      yAxis: axis({ type: "category", data: rows.map(name), axisLabel: { color: textColour, fontSize: 15, width: 170, overflow: "truncate" } }),
      series: [
        { name: T.open, type: "bar", data: rows.map(function (r) { return r.open; }), itemStyle: { color: "#4fa3ff" },
          label: { show: true, position: "right", color: "#fff", fontSize: 14 } },
        { name: T.overdue, type: "bar", data: rows.map(function (r) { return r.overdue; }), itemStyle: { color: "#ff7a6b" } }
      ]
    }), true);
  }
  function drawTrend(trend) {
    chart("chart-trend").setOption(Object.assign({}, base, {
      color: ["#4fa3ff", "#5be3a0", "#ffc857", "#ff7a6b"],
      grid: { left: 8, right: 16, top: 40, bottom: 6, containLabel: true }, tooltip: { trigger: "axis" }, legend: legend(),
      xAxis: axis({ type: "category", data: trend.map(function (d) { return d.date.slice(5); }) }),
      yAxis: axis({ type: "value" }),
      series: ["received", "closed", "calls", "messages"].map(function (k) {
        return { name: T[k], type: "line", smooth: true, symbolSize: 5, data: trend.map(function (d) { return d[k]; }) };
      })
    }), true);
  }
  function drawRates(rates) {
    var body = document.querySelector("#unit-rates tbody");
    body.textContent = "";
    rates.units.slice(0, 12).forEach(function (u) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-unit", u.code == null ? "" : u.code);
      [unitName(u), String(u.due), pct(u.on_time_rate), pct(u.satisfaction_rate), pct(u.reopen_rate)].forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function draw(f) {
    D.figures = f;
    drawKpis(f);
    drawChannels(f.day);
    drawTopics(f.day);
    openBars("chart-districts", f.open.by_district, districtName, 12);
    openBars("chart-units", f.open.by_unit, unitName, 12);
    drawTrend(f.trend);
    drawRates(f.rates);
    D.updates += 1;
    document.getElementById("dash-updated").textContent = T.updated + " " +
      new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }
  function refresh() { return getJSON("/api/v1/dashboard" + query()).then(draw); }

  // -- the density map: grid tiles coloured by the period's count per grid ------------------
  var framed = false, counts = {}, max = 0, hot = {}, hotOn = false, days = cfg.density_days[0];
  var ramp = ["#1f6fd1", "#3fa8e8", "#7fd3c4", "#ffd166", "#ff8c42", "#e63946"];
  function colour(n) {
    if (!n) { return null; }
    var i = Math.min(ramp.length - 1, Math.floor(ramp.length * Math.sqrt(n / Math.max(max, 1)) - 1e-9));
    return ramp[Math.max(0, i)];
  }
  var map = L.map("dash-map", { zoomControl: false, attributionControl: false, preferCanvas: true });
  D.map = map;
  // District, street and community names by zoom over the density (readable.js).
  WG.setup({ lang: cfg.lang, words: cfg.words });
  WG.labels(map, { lang: cfg.lang });
  if (cfg.bounds) { map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]); } else { map.setView([36.62, 101.78], 11); }
  var grids = L.vectorGrid.protobuf("/tiles/grids/{z}/{x}/{y}.mvt", {
    rendererFactory: L.canvas.tile, maxNativeZoom: 18, maxZoom: 20, interactive: true,
    getFeatureId: function (f) { return f.properties.code; },
    vectorTileLayerStyles: { grids: function (p) {
      var c = colour(counts[p.code]);
      var isHot = hotOn && hot[p.code];
      return { weight: isHot ? 3 : 0.4, color: isHot ? "#ffffff" : "#2a4f85", fill: true,
               fillColor: c || "#0f2344", fillOpacity: c ? 0.85 : 0.5 };
    } }
  }).addTo(map);
  D.grids = grids;
  grids.on("load", function () { D.mapDrawn = true; });
  grids.on("click", function (e) {
    var p = e.layer.properties;
    L.popup().setLatLng(e.latlng).setContent((p.name || p.code) + "：" + (counts[p.code] || 0) + T.cases).openOn(map);
  });
  function legendHtml() {
    var seen = {}, steps = [];
    ramp.forEach(function (c, i) {
      var from = Math.max(1, Math.ceil(Math.pow(i / ramp.length, 2) * max));
      if (!seen[from] && from <= Math.max(max, 1)) { seen[from] = true; steps.push('<i style="background:' + c + '"></i>≥' + from); }
    });
    document.getElementById("map-legend").innerHTML = T.count + "<br>" + steps.join(" ");
  }
  function refreshDensity() {
    return getJSON("/api/v1/dashboard/density" + query(["days=" + days])).then(function (d) {
      counts = {};
      d.grids.forEach(function (g) { counts[g.code] = g.count; });
      max = d.max;
      D.density = d;
      if (!framed && d.bounds) {  // once: then the map stays where the viewer puts it
        framed = true;
        map.fitBounds([[d.bounds[1], d.bounds[0]], [d.bounds[3], d.bounds[2]]], { padding: [20, 20] });
      }
      legendHtml();
      D.mapDrawn = false;
      grids.redraw();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".dash-days button"), function (b) {
    if (Number(b.getAttribute("data-days")) === days) { b.classList.add("on"); }
    b.addEventListener("click", function () {
      days = Number(b.getAttribute("data-days"));
      Array.prototype.forEach.call(document.querySelectorAll(".dash-days button"), function (x) { x.classList.toggle("on", x === b); });
      D.mapDrawn = false;
      refreshDensity();
      if (hotOn) { loadHotspots(); }
    });
  });
  // Hotspots (热点网格): fetched when the layer is turned on (they cost more than every
  // other figure together), the toggle hidden if the hotspot endpoint does not answer.
  function loadHotspots() {
    var since = new Date(Date.parse(cfg.date + "T00:00:00+08:00") - (days - 1) * 86400000);
    var q = ["format=json", "since=" + since.toISOString(), "until=" + new Date(Date.parse(cfg.date + "T00:00:00+08:00") + 86400000).toISOString()];
    if (cfg.district) { q.push("district=" + encodeURIComponent(cfg.district)); }
    return fetch("/api/v1/hotspots?" + q.join("&"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { document.getElementById("hotspots-toggle").hidden = true; return; }
      return r.json().then(function (rows) {
        hot = {};
        (Array.isArray(rows) ? rows : []).forEach(function (h) { if (h["class"] === "hot") { hot[h.grid_code] = true; } });
        D.hotspots = hot;
        document.getElementById("hotspots-toggle").hidden = false;
        grids.redraw();
      });
    }).catch(function () { document.getElementById("hotspots-toggle").hidden = true; });
  }
  document.getElementById("hotspots-on").addEventListener("change", function (e) {
    hotOn = e.target.checked;
    if (hotOn) { loadHotspots(); } else { grids.redraw(); }
  });

  // -- live: the event stream announces changes; figures are fetched again, debounced ------
  var timer = null;
  function changed() {
    if (timer) { return; }
    timer = setTimeout(function () { timer = null; refresh(); refreshDensity(); }, 700);
  }
  document.getElementById("dash-date").textContent = cfg.date;
  if (cfg.live && window.EventSource) {
    var q = [];
    if (cfg.district) { q.push("district=" + encodeURIComponent(cfg.district)); }
    if (cfg.unit) { q.push("unit=" + encodeURIComponent(cfg.unit)); }
    var source = new EventSource("/api/v1/events/stream" + (q.length ? "?" + q.join("&") : ""));
    D.stream = source;
    cfg.kinds.forEach(function (k) { source.addEventListener(k, changed); });
    source.onmessage = changed;
    source.onopen = function () { document.getElementById("dash-live").hidden = false; };
    source.onerror = function () { document.getElementById("dash-live").hidden = true; };
  }
  window.addEventListener("resize", function () { Object.keys(D.charts).forEach(function (k) { D.charts[k].resize(); }); });
  D.ready = Promise.all([refresh(), refreshDensity()]).then(function () { D.loaded = true; });
}
