/* Dispatch desk: taking a call (受理) — the point from a map click, a place search or
 * pasted coordinates with their system; its grid, station and party branch shown before
 * saving; similar cases offered as duplicates; the category picked by typing (pinyin
 * initials too); Enter saves. */
(function () {
  "use strict";
  var DK = window.DK, $ = DK.$, el = DK.el;

  /* Categories whose name, code or pinyin matches ``q``, best first. */
  DK.matchCategories = function (q) {
    q = q.trim().toLowerCase();
    var all = Object.keys(DK.categories).map(function (c) { return DK.categories[c]; });
    if (!q) { return all; }
    function score(c) {
      var zh = c.name_zh, en = c.name_en.toLowerCase();
      if (c.initials === q || zh === q || en === q) { return 0; }
      if (c.initials.indexOf(q) === 0 || zh.indexOf(q) === 0 || c.pinyin.indexOf(q) === 0 || en.indexOf(q) === 0) { return 1; }
      if (zh.indexOf(q) >= 0 || c.pinyin.indexOf(q) >= 0 || en.indexOf(q) >= 0 || c.code.indexOf(q) >= 0 || c.initials.indexOf(q) >= 0) { return 2; }
      return -1;
    }
    return all.map(function (c) { return [score(c), c]; })
      .filter(function (p) { return p[0] >= 0; })
      .sort(function (a, b) { return a[0] - b[0] || a[1].initials.length - b[1].initials.length; })
      .map(function (p) { return p[1]; });
  };

  /* "101.78, 36.62" or "36.62 101.78": two numbers, longitude first unless they only fit
   * the other way round (China lies east of 73°E and north of 3°N). */
  DK.parseCoords = function (text) {
    var nums = (text.match(/-?\d+(?:\.\d+)?/g) || []).map(Number);
    if (nums.length !== 2) { return null; }
    var a = nums[0], b = nums[1];
    if (a <= 60 && b > 60) { return { lon: b, lat: a, swapped: true }; }
    return { lon: a, lat: b, swapped: false };
  };

  /* A suggestion list closes when the focus or a click goes elsewhere on the page (not
   * when the window itself loses the focus: the list is still wanted on return). */
  function closeOutside(input, list) {
    input.addEventListener("blur", function (e) {
      if (e.relatedTarget && e.relatedTarget !== input && !list.contains(e.relatedTarget)) { list.hidden = true; }
    });
    document.addEventListener("mousedown", function (e) {
      if (e.target !== input && !list.contains(e.target)) { list.hidden = true; }
    });
  }

  DK.intake = function (S) {
    var T = DK.T, form = $("dk-intake"), state = { category: null, point: null, applied: "" };

    /* -- the category, picked by typing ------------------------------------------- */
    var catInput = $("dk-in-category"), catList = $("dk-in-cat-list"), catAt = 0, catShown = [];
    function drawCategories() {
      catShown = DK.matchCategories(catInput.value).slice(0, 8);
      catAt = Math.min(catAt, Math.max(0, catShown.length - 1));
      catList.innerHTML = "";
      catShown.forEach(function (c, i) {
        catList.appendChild(el("li", { className: i === catAt ? "dk-hit" : "", dataset: { code: c.code }, role: "option" }, [
          el("b", { textContent: DK.category(c.code) }), el("span", { className: "dk-muted", textContent: " " + c.initials + " · " + (DK.unitName(c.default_unit_code) || c.handling_unit) })
        ]));
      });
      catList.hidden = !catShown.length;
    }
    function pickCategory(code) {
      state.category = code;
      catInput.value = DK.category(code);
      catList.hidden = true;
      $("dk-in-cat-unit").textContent = code ? T.default_unit + "：" + (DK.unitName(DK.categories[code].default_unit_code) || DK.categories[code].handling_unit) +
        " · " + DK.categories[code].due_working_days + " " + T.working_days : "";
      similar();
    }
    catInput.addEventListener("input", function () { state.category = null; catAt = 0; drawCategories(); $("dk-in-cat-unit").textContent = ""; });
    catInput.addEventListener("focus", function () { if (!state.category) { drawCategories(); } });
    closeOutside(catInput, catList);
    catInput.addEventListener("keydown", function (e) {
      if (catList.hidden) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        catAt = (catAt + (e.key === "ArrowDown" ? 1 : catShown.length - 1)) % catShown.length;
        drawCategories(); e.preventDefault();
      } else if ((e.key === "Enter" || e.key === "Tab") && catShown.length) {
        pickCategory(catShown[catAt].code);
        if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); }
      } else if (e.key === "Escape") { catList.hidden = true; e.stopPropagation(); }
    });
    catList.addEventListener("mousedown", function (e) {
      var li = e.target.closest("li[data-code]");
      if (li) { e.preventDefault(); pickCategory(li.dataset.code); }
    });

    /* -- the point: map click, place search, pasted coordinates ---------------------- */
    function setPoint(p, display) {
      state.point = p;
      $("dk-in-point").textContent = p.lon.toFixed(6) + ", " + p.lat.toFixed(6) + " · " + T["crs_" + p.crs];
      var located = $("dk-in-located");
      located.innerHTML = "";
      located.appendChild(el("tr", {}, [el("td", { className: "dk-muted", textContent: "…" })]));
      var shownAt = display ? Promise.resolve(display) : (p.crs === "cgcs2000" || p.crs === "wgs84") && !DK.cfg.shift
        ? Promise.resolve(S.shown(p.lon, p.lat))
        : DK.api("/api/v1/coords" + DK.query(p)).then(function (res) {
          if (!res.ok) { return null; }
          var q = DK.cfg.shift ? res.body.gcj02 : res.body.cgcs2000;
          return DK.cfg.shift ? L.latLng(q[1], q[0]) : S.shown(q[0], q[1]);
        });
      shownAt.then(function (at) { if (at && state.point === p) { S.emit("intake-point", { lon: at.lng, lat: at.lat }); } });
      DK.api("/api/v1/locate" + DK.query(p)).then(function (res) {
        if (state.point !== p) { return; }
        located.innerHTML = "";
        if (!res.ok) { located.appendChild(el("tr", { className: "wg-error" }, [el("td", { colSpan: 2, textContent: DK.errorText(res) })])); return; }
        var a = res.body, st = a.station;
        function r(label, v) { if (v) { located.appendChild(el("tr", {}, [el("th", { textContent: label }), el("td", { textContent: v })])); } }
        r(T.grid, a.grid ? a.grid.name + "（" + a.grid.code + "）" : T.outside_grid);
        if (a.match === "snapped" || a.match === "boundary") { r(T.match, T["match_" + a.match] + (a.match === "snapped" ? " " + Math.round(a.distance_m) + T.u_metre : "")); }
        r(T.community, a.community && a.community.name); r(T.street, a.street && a.street.name);
        r(T.district, a.district && a.district.name);
        r(T.station, st ? st.name + " · " + Math.round(st.distance_m) + T.u_metre + " · " + (st.within_radius ? T.within_radius : T.outside_radius) : T.no_station);
        r(T.party_branch, a.party_branch ? a.party_branch.name : "—");
        S.emit("intake-grid", a.grid && a.grid.code);
        S.loaded.locate = true;
      });
      similar();
    }
    S.on("map-pick", function (p) { setPoint(p, L.latLng(p.lat, p.lon)); });

    var coords = $("dk-in-coords");
    function applyCoords() {
      var got = DK.parseCoords(coords.value);
      state.applied = coords.value + "|" + $("dk-in-crs").value;
      if (!got) { S.say(T.bad_coords, false); return; }
      $("dk-in-coords-note").textContent = got.swapped ? T.coords_swapped : "";
      setPoint({ lon: got.lon, lat: got.lat, crs: $("dk-in-crs").value });
    }
    function coordsPending() { return coords.value.trim() && coords.value + "|" + $("dk-in-crs").value !== state.applied; }
    $("dk-in-coords-go").addEventListener("click", applyCoords);
    $("dk-in-crs").addEventListener("change", function () { if (coords.value.trim()) { applyCoords(); } });
    coords.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && coordsPending()) { e.preventDefault(); e.stopPropagation(); applyCoords(); }
    });

    var place = $("dk-in-place"), placeList = $("dk-in-place-list"), places = [], placeAt = 0;
    function drawPlaces() {
      placeList.innerHTML = "";
      places.forEach(function (p, i) {
        placeList.appendChild(el("li", { className: i === placeAt ? "dk-hit" : "", dataset: { i: i }, role: "option" }, [
          el("b", { textContent: p.name }), el("span", { className: "dk-muted", textContent: " " + [T["kind_" + p.kind]].concat((p.label || "").split(" · ").slice(1)).filter(Boolean).join(" · ") })
        ]));
      });
      placeList.hidden = !places.length;
    }
    function pickPlace(p) {
      placeList.hidden = true;
      place.value = p.name;
      setPoint({ lon: p.point[0], lat: p.point[1], crs: "cgcs2000" });
      if (p.bbox && (p.kind === "grid" || p.kind === "community" || p.kind === "compound")) { S.emit("fit", p.bbox); }
    }
    var searchPlaces = DK.debounce(function () {
      var q = place.value.trim();
      if (!q) { places = []; drawPlaces(); return; }
      DK.api("/api/v1/places/search" + DK.query({ q: q, limit: 8 })).then(function (res) {
        if (place.value.trim() !== q) { return; }
        if (!res.ok) { places = []; drawPlaces(); S.say(res.status === 404 ? T.place_search_missing : DK.errorText(res), false); return; }
        places = res.body.items; placeAt = 0; drawPlaces();
      });
    }, 250);
    place.addEventListener("input", searchPlaces);
    closeOutside(place, placeList);
    place.addEventListener("keydown", function (e) {
      if (placeList.hidden || !places.length) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        placeAt = (placeAt + (e.key === "ArrowDown" ? 1 : places.length - 1)) % places.length;
        drawPlaces(); e.preventDefault();
      } else if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); pickPlace(places[placeAt]); }
      else if (e.key === "Escape") { placeList.hidden = true; e.stopPropagation(); }
    });
    placeList.addEventListener("mousedown", function (e) {
      var li = e.target.closest("li[data-i]");
      if (li) { e.preventDefault(); pickPlace(places[Number(li.dataset.i)]); }
    });

    /* -- duplicates offered before saving ------------------------------------------ */
    function similar() {
      var box = $("dk-in-similar");
      box.innerHTML = "";
      if (!state.point || !state.category) { return; }
      var p = state.point, code = state.category;
      DK.api("/api/v1/incidents/similar" + DK.query({ lon: p.lon, lat: p.lat, crs: p.crs, category_code: code })).then(function (res) {
        if (state.point !== p || state.category !== code || !res.ok) { return; }
        box.innerHTML = "";
        if (!res.body.items.length) { box.appendChild(el("p", { className: "dk-muted", id: "dk-in-no-similar", textContent: T.no_similar })); return; }
        box.appendChild(el("h4", { className: "dk-warn", textContent: T.possible_duplicates.replace("{n}", res.body.items.length) }));
        var opts = [el("label", {}, [el("input", { type: "radio", name: "dk-dup", value: "", checked: true }), " " + T.not_duplicate])];
        res.body.items.forEach(function (s) {
          opts.push(el("label", { className: "dk-dup" }, [
            el("input", { type: "radio", name: "dk-dup", value: s.id }),
            " " + T.merge_into.replace("{id}", s.id) + " · " + DK.word("status", s.status) + " · " + Math.round(s.distance_m) + T.u_metre +
            " · " + DK.time(s.received_at) + " · " + (s.description || "")
          ]));
        });
        opts.forEach(function (o) { box.appendChild(o); });
      });
    }

    /* -- save (Enter) ----------------------------------------------------------------- */
    function value(id) { return $(id).value.trim(); }
    function save() {
      if (!state.category) { S.say(T.need_category, false); catInput.focus(); return; }
      if (!state.point) { S.say(T.need_point, false); place.focus(); return; }
      var body = {
        channel: $("dk-in-channel").value, category_code: state.category, description: value("dk-in-description"),
        lon: state.point.lon, lat: state.point.lat, crs: state.point.crs
      };
      [["address", "dk-in-address"], ["reporter_name", "dk-in-name"], ["reporter_phone", "dk-in-phone"], ["external_id", "dk-in-external"]]
        .forEach(function (f) { if (value(f[1])) { body[f[0]] = value(f[1]); } });
      var dup = form.querySelector("input[name=dk-dup]:checked");
      var into = dup && dup.value ? Number(dup.value) : null;
      $("dk-in-save").disabled = true;
      S.write("/api/v1/incidents", body).then(function (res) {
        if (!res) { return null; }
        if (!res.ok) { S.say(DK.errorText(res), false); return null; }
        var id = res.body.id;
        if (into === null) {
          S.say((res.status === 201 ? T.saved : T.already_saved).replace("{id}", id), true);
          return id;
        }
        return S.merge(id, into).then(function (merged) {
          if (merged) { S.say(T.saved_merged.replace("{id}", id).replace("{into}", into), true); }
          return merged ? into : id;
        });
      }).then(function (id) {
        $("dk-in-save").disabled = false;
        if (id == null) { return; }
        reset();
        S.refresh();
        S.select(id);
      });
    }
    function reset() {
      ["dk-in-description", "dk-in-address", "dk-in-name", "dk-in-phone", "dk-in-external", "dk-in-place", "dk-in-coords"].forEach(function (id) { $(id).value = ""; });
      catInput.value = ""; state.category = null; state.point = null; state.applied = "";
      ["dk-in-located", "dk-in-similar", "dk-in-cat-unit", "dk-in-coords-note"].forEach(function (id) { $(id).innerHTML = ""; });
      $("dk-in-point").textContent = T.no_point;
      S.emit("intake-point", null); S.emit("intake-grid", null);
    }
    form.addEventListener("submit", function (e) { e.preventDefault(); save(); });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { S.closeIntake(); return; }
      if (e.key !== "Enter" || e.isComposing || e.defaultPrevented) { return; }
      if (e.target.tagName === "TEXTAREA" && e.shiftKey) { return; }  // Shift+Enter: a new line
      if (e.target.tagName === "BUTTON" && e.target.type === "button") { return; }
      e.preventDefault();
      save();
    });
    reset();
    return { reset: reset, focus: function () { catInput.focus(); } };
  };
})();
