/* Dispatch desk: the selected case's card — its places, clocks, requests, duplicates,
 * similar cases and timeline — and only the steps its status and the viewer's role allow. */
(function () {
  "use strict";
  var DK = window.DK, $ = DK.$, el = DK.el;
  // What each step asks for; "!" marks a field the step needs.
  var FIELDS = {
    dispatched: ["unit", "note"], transfer: ["unit!", "note"], in_progress: ["handler"], "return": ["note!"],
    extension_request: ["days!", "note!"], extension_approve: ["note"], extension_refuse: ["note"], urge: ["note"],
    handler: ["handler!"], replied: ["note!"], closed: ["note"], callback: ["rating", "note"], rating: ["rating!"],
    reopen: ["unit", "note"], verify_request: ["note"], verify_confirm: ["note"], verify_reject: ["note!"]
  };
  var NOTE_LABEL = { "return": "return_reason", extension_request: "extension_reason", replied: "reply_text", callback: "callback_note" };

  DK.card = function (S) {
    var T = DK.T, box = $("dk-card"), current = null;

    function row(label, value) {
      if (value == null || value === "") { return null; }
      return el("tr", {}, [el("th", { textContent: label }), typeof value === "string" ? el("td", { textContent: value }) : el("td", {}, [value])]);
    }
    function table(rows) { return el("table", { className: "dk-table" }, rows); }
    function section(title, content, id) {
      return el("section", { className: "dk-section", id: id || "" }, [el("h3", { textContent: title })].concat(content));
    }
    function named(p) { return p ? (p.name ? p.name + "（" + p.code + "）" : p.code) : null; }

    function places(inc) {
      var p = inc.places || {}, st = p.station, br = p.party_branch;
      var station = st ? st.name + " · " + Math.round(st.distance_m) + T.u_metre + " · " + (st.within_radius ? T.within_radius : T.outside_radius) : null;
      return table([
        row(T.grid, named(p.grid) || T.outside_grid), row(T.community, named(p.community)), row(T.street, named(p.street)),
        row(T.district, named(p.district)), row(T.station, station), row(T.party_branch, br ? br.name : null),
        row(T.address, inc.address)
      ]);
    }

    function handling(inc) {
      var u = inc.places && inc.places.unit;
      var accept = inc.status === "dispatched" && inc.accept_due_at ? DK.countdown(inc.accept_due_at, null) : null;
      return table([
        row(T.unit, u ? (DK.units[u.code] ? DK.unitName(u.code) : u.name) + (u.phone ? " · " + u.phone : "") : T.no_unit),
        row(T.accept_due, accept ? el("span", {}, [DK.time(inc.accept_due_at, true) + " ", DK.badge(accept)]) : null),
        row(T.handler, inc.handler), row(T.reply, inc.reply),
        row(T.urge_count, inc.urge_count ? String(inc.urge_count) : null),
        row(T.reopen_count, inc.reopen_count ? String(inc.reopen_count) : null),
        row(T.rating, inc.rating ? DK.T["rating_" + inc.rating] : null),
        row(T.callback_at, inc.callback_at ? DK.time(inc.callback_at, true) : null)
      ]);
    }

    function eventLabel(e) {
      var d = e.detail || {};
      if (e.kind === "transition") {
        if (d.step) { return DK.word("step", d.step); }
        if (e.to_status === "closed") { return d.handled_directly ? T.closed_directly : DK.word("step", "closed"); }
        return DK.W.step[e.to_status] || DK.word("status", e.to_status);
      }
      if (e.kind === "extension_decision") { return DK.word("step", d.approved ? "extension_approve" : "extension_refuse"); }
      if (e.kind === "verification_decision") { return DK.word("step", d.confirmed ? "verify_confirm" : "verify_reject"); }
      if (e.kind === "note" && d.step === "merge") { return DK.word("step", "merge"); }
      if (e.kind === "note" && d.step === "photo") { return T.photo_added; }
      return DK.W.step[e.kind] || T.event_other;
    }
    function eventDetail(e) {
      var d = e.detail || {}, bits = [];
      if (e.unit_code) { bits.push(DK.unitName(e.unit_code)); }
      if (d.from_unit) { bits.push(T.from_unit + " " + DK.unitName(d.from_unit)); }
      if (d.days) { bits.push(d.days + " " + T.working_days); }
      if (d.to_due) { bits.push(T.new_due + " " + DK.time(d.to_due, true)); }
      if (d.rating) { bits.push(DK.T["rating_" + d.rating]); }
      if (d.merged_into) { bits.push(T.merged_into.replace("{id}", d.merged_into)); }
      if (d.duplicate) { bits.push(T.duplicate_of_this.replace("{id}", d.duplicate)); }
      if (d.step === "photo" && d.n) { bits.push("#" + d.n); }
      if (d.handler) { bits.push(d.handler); }
      if (d.channel) { bits.push(DK.word("channel", d.channel)); }
      return bits.join(" · ");
    }
    function timeline(inc) {
      return el("ol", { className: "dk-timeline", id: "dk-timeline" }, (inc.events || []).map(function (e) {
        return el("li", {}, [
          el("time", { textContent: DK.time(e.at, true) }), el("b", { textContent: eventLabel(e) }),
          el("span", { className: "dk-muted", textContent: [eventDetail(e), e.actor].filter(Boolean).join(" · ") }),
          e.note ? el("div", { className: "dk-note", textContent: e.note }) : null
        ]);
      }));
    }

    function requests(inc) {
      var list = (inc.requests || []).filter(function (r) { return r.kind === "extension"; });
      var checks = (inc.requests || []).filter(function (r) { return r.kind === "verification"; });
      var out = [];
      if (list.length) {
        out.push(section(T.extensions, [el("ul", { className: "dk-plain" }, list.map(function (r) {
          return el("li", { className: "dk-req-" + r.state }, [
            el("b", { textContent: T["request_" + r.state] }),
            " " + r.days + " " + T.working_days + " · " + DK.time(r.asked_at, true) + " · " + (r.reason || ""),
            r.decision_note ? el("div", { className: "dk-muted", textContent: T.decision + "：" + r.decision_note }) : null
          ]);
        }))]));
      }
      /* Verification (核查): asked of the grid's worker, who confirms or rejects on the spot. */
      if (checks.length) {
        out.push(section(T.verifications, [el("ul", { className: "dk-plain", id: "dk-verifications" }, checks.map(function (r) {
          return el("li", { className: "dk-req-" + r.state }, [
            el("b", { textContent: T["verify_" + r.state] }),
            " " + DK.time(r.asked_at, true) + " · " + r.asked_by + (r.reason ? " · " + r.reason : ""),
            r.decided_by ? el("div", { className: "dk-muted", textContent: r.decided_by + (r.decision_note ? "：" + r.decision_note : "") + (r.photo ? " · " + T.photos + " #" + r.photo : "") }) : null
          ]);
        }))], "dk-verify"));
      }
      return out.length ? el("div", {}, out) : null;
    }

    function duplicates(inc) {
      if (!(inc.duplicates || []).length) { return null; }
      return section(T.merged_duplicates, [el("ul", { className: "dk-plain", id: "dk-duplicates" }, inc.duplicates.map(function (d) {
        return el("li", {}, [
          el("a", { href: "#", textContent: "#" + d.id, dataset: { open: d.id } }),
          " " + DK.word("channel", d.channel) + " · " + DK.time(d.received_at) + " · " + [d.reporter_name, d.reporter_phone].filter(Boolean).join(" ")
        ]);
      }))]);
    }

    /* Similar cases (重复诉求): a dispatcher may close this one into one of them. */
    function similar(inc, target) {
      if (!S.isStaff() || !S.mayRead(inc)) { target.innerHTML = ""; return; }
      DK.api("/api/v1/incidents/" + inc.id + "/similar").then(function (res) {
        if (!res.ok || current !== inc) { return; }
        target.innerHTML = "";
        if (!res.body.items.length) { target.appendChild(el("p", { className: "dk-muted", textContent: T.no_similar })); return; }
        var mergeable = S.isDispatcher() && inc.status !== "closed" && !inc.merged_into;
        target.appendChild(el("ul", { className: "dk-plain" }, res.body.items.map(function (s) {
          return el("li", { dataset: { similar: s.id } }, [
            el("a", { href: "#", textContent: "#" + s.id, dataset: { open: s.id } }),
            " " + DK.word("status", s.status) + " · " + Math.round(s.distance_m) + T.u_metre + " · " + DK.time(s.received_at) + " · " + (s.description || ""),
            mergeable ? el("button", { type: "button", className: "dk-merge", textContent: T.merge_into.replace("{id}", s.id), dataset: { into: s.id } }) : null
          ]);
        })));
      });
    }
    box.addEventListener("click", function (e) {
      var open = e.target.closest("[data-open]");
      if (open) { e.preventDefault(); S.select(Number(open.dataset.open)); return; }
      var merge = e.target.closest("button[data-into]");
      if (!merge) { return; }
      if (!merge.classList.contains("dk-confirm")) {
        merge.classList.add("dk-confirm");
        merge.textContent = T.merge_confirm.replace("{id}", merge.dataset.into);
        return;
      }
      S.merge(current.id, Number(merge.dataset.into)).then(function (res) { if (res) { show(res); } });
    });

    /* Photos (附件): thumbnails, each opening the full photo. An <img> cannot send the
     * token, so the bytes are fetched as the desk's other reads are and shown as blob URLs
     * (freed when the card is drawn again). Callers who may not see photos get nothing. */
    var blobs = [];
    function freeBlobs() { blobs.forEach(function (u) { URL.revokeObjectURL(u); }); blobs = []; }
    function blobUrl(path) {
      var headers = {}, token = DK.token();
      if (token) { headers.Authorization = "Bearer " + token; }
      return fetch(path, { headers: headers, credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.blob();
      }).then(function (b) { var u = URL.createObjectURL(b); blobs.push(u); return u; });
    }
    function photos(inc, target) {
      if (!DK.cfg.media_public && !(S.isStaff() && S.mayRead(inc))) { target.dataset.answered = "not asked"; return; }
      DK.api("/api/v1/incidents/" + inc.id + "/media").then(function (res) {
        target.dataset.answered = res.status;
        if (!res.ok || current !== inc || !res.body.items.length) { return; }
        var strip = el("div", { className: "dk-photos", id: "dk-photos" });
        target.appendChild(section(T.photos + " (" + res.body.items.length + ")", [strip]));
        res.body.items.forEach(function (p) {
          var link = el("a", { href: "#", title: p.width + "×" + p.height, dataset: { photo: p.url } });
          strip.appendChild(link);
          blobUrl(p.thumbnail_url).then(function (u) {
            if (current === inc) { link.appendChild(el("img", { src: u, alt: "#" + p.n })); }
          }, function () { link.remove(); });
        });
      });
    }
    function viewPhoto(path) {
      blobUrl(path).then(function (u) {
        var view = el("div", { className: "dk-photo-view", id: "dk-photo-view", title: T.photo_close }, [el("img", { src: u, alt: "" })]);
        view.addEventListener("click", function () { view.remove(); });
        document.body.appendChild(view);
      }, function () {});
    }
    box.addEventListener("click", function (e) {
      var photo = e.target.closest("[data-photo]");
      if (photo) { e.preventDefault(); viewPhoto(photo.dataset.photo); }
    });

    /* Steps: the ones the server allows this caller, less those the case's own data rules
     * out (a decision with no pending extension, a reopen of a satisfied case). */
    function steps(inc) {
      function waiting(kind) { return (inc.requests || []).some(function (r) { return r.kind === kind && r.state === "pending"; }); }
      var pending = waiting("extension"), checking = waiting("verification");
      return (inc.allowed_steps || []).filter(function (s) {
        if (s === "extension_approve" || s === "extension_refuse") { return pending; }
        if (s === "verify_confirm" || s === "verify_reject") { return checking; }
        if (s === "verify_request") { return !checking && !!(inc.assignment && inc.assignment.grid_code); }
        if (s === "extension_request") { return !pending && !(inc.due_at && new Date(inc.due_at) < new Date()); }
        if (s === "reopen") { return inc.rating === 1 || inc.rating === 2; }
        if (s === "rating") { return !inc.rating; }
        return true;
      });
    }
    function stepLabel(inc, s) { return s === "closed" && inc.status === "received" ? T.close_directly : DK.word("step", s); }

    function actions(inc) {
      var list = steps(inc);
      if (!list.length) {
        return el("p", { className: "dk-muted", id: "dk-no-actions", textContent: S.isStaff() ? T.no_steps_now : T.read_only });
      }
      var bar = el("div", { className: "dk-actions", id: "dk-actions" }, list.map(function (s) {
        return el("button", { type: "button", className: "dk-step", textContent: stepLabel(inc, s), dataset: { step: s } });
      }));
      bar.addEventListener("click", function (e) {
        var b = e.target.closest("button[data-step]");
        if (b) { openStep(inc, b.dataset.step); }
      });
      return bar;
    }

    function unitPicker(inc, step) {
      var cat = DK.categories[inc.category_code] || {}, a = inc.assignment || {};
      var suggested = [], seen = {};
      function add(code) { if (code && DK.units[code] && !seen[code]) { seen[code] = true; suggested.push(code); } }
      add(step === "reopen" ? inc.unit_code : cat.default_unit_code);
      Object.keys(DK.units).forEach(function (code) {
        var u = DK.units[code];
        if ((u.kind === "community" && u.community_code === a.community_code) || (u.kind === "street_office" && u.street_code === a.street_code) ||
            (u.kind === "station" && a.station_id && u.facility_id === a.station_id)) { add(code); }
      });
      var select = el("select", { id: "dk-step-unit", name: "unit_code" });
      function fill(filter) {
        select.innerHTML = "";
        var f = (filter || "").toLowerCase();
        function match(code) { var u = DK.units[code]; return !f || (u.name + " " + (u.name_en || "") + " " + code).toLowerCase().indexOf(f) >= 0; }
        var groups = [[T.suggested, suggested]].concat(DK.UNIT_KINDS.map(function (k) {
          return [DK.word("unit_kind", k), Object.keys(DK.units).filter(function (c) { return DK.units[c].kind === k && !seen[c]; })];
        }));
        groups.forEach(function (g) {
          var codes = g[1].filter(match);
          if (!codes.length) { return; }
          select.appendChild(el("optgroup", { label: g[0] }, codes.map(function (c) {
            return el("option", { value: c, textContent: DK.unitName(c) + (c === inc.unit_code ? " ✓" : "") });
          })));
        });
        if (step === "transfer" && select.value === inc.unit_code) {
          var other = Array.prototype.find.call(select.options, function (o) { return o.value !== inc.unit_code; });
          if (other) { select.value = other.value; }
        }
      }
      fill("");
      var search = el("input", { type: "search", id: "dk-step-unit-filter", placeholder: T.unit_filter, autocomplete: "off" });
      search.addEventListener("input", function () { fill(search.value.trim()); });
      return el("div", { className: "dk-unit-pick" }, [search, select]);
    }

    function field(inc, step, spec) {
      var name = spec.replace("!", ""), need = spec.slice(-1) === "!", input;
      if (name === "unit") { input = unitPicker(inc, step); }
      else if (name === "note") { input = el("textarea", { id: "dk-step-note", rows: 2, required: need }); }
      else if (name === "handler") { input = el("input", { id: "dk-step-handler", required: need, value: inc.handler || "" }); }
      else if (name === "days") { input = el("input", { id: "dk-step-days", type: "number", min: 1, max: DK.cfg.max_extension_days, value: 3, required: true }); }
      else if (name === "rating") {
        input = el("select", { id: "dk-step-rating", required: need }, (need ? [] : [el("option", { value: "", textContent: "—" })]).concat(
          [5, 4, 3, 2, 1].map(function (n) { return el("option", { value: n, textContent: n + " · " + T["rating_" + n] }); })));
      }
      var label = name === "note" ? T[NOTE_LABEL[step] || "note"] : T[name === "unit" ? "unit" : name];
      return el("label", { className: "dk-field" }, [el("span", { textContent: label + (need ? " *" : "") }), input]);
    }

    function openStep(inc, step) {
      var form = $("dk-step-form");
      form.innerHTML = "";
      form.hidden = false;
      form.dataset.step = step;
      form.appendChild(el("h4", { textContent: stepLabel(inc, step) }));
      FIELDS[step].forEach(function (spec) { form.appendChild(field(inc, step, spec)); });
      form.appendChild(el("div", { className: "dk-form-buttons" }, [
        el("button", { type: "submit", id: "dk-step-go", textContent: T.confirm + " " + stepLabel(inc, step) }),
        el("button", { type: "button", className: "dk-secondary", id: "dk-step-cancel", textContent: T.cancel })
      ]));
      $("dk-step-cancel").addEventListener("click", function () { form.hidden = true; });
      var first = form.querySelector("input:not([type=search]), textarea, select");
      if (first) { first.focus(); }
    }

    function submitStep(e) {
      e.preventDefault();
      var form = $("dk-step-form"), step = form.dataset.step, inc = current;
      if (!inc || !step) { return; }
      var body = { to: step };
      function val(id) { var n = $(id); return n ? n.value.trim() : ""; }
      if (val("dk-step-note")) { body.note = val("dk-step-note"); }
      if (val("dk-step-unit")) { body.unit_code = val("dk-step-unit"); }
      if (val("dk-step-handler")) { body.handler = val("dk-step-handler"); }
      if (val("dk-step-days")) { body.days = Number(val("dk-step-days")); }
      if (val("dk-step-rating")) { body.rating = Number(val("dk-step-rating")); }
      if (step === "closed" && inc.status === "received") { body.handled_directly = true; }
      if (step === "reopen" && body.unit_code === inc.unit_code) { delete body.unit_code; }
      S.write("/api/v1/incidents/" + inc.id + "/transitions", body).then(function (res) {
        if (!res) { return; }
        if (res.ok) {
          S.say(T.step_done.replace("{step}", stepLabel(inc, step)).replace("{id}", inc.id), true);
          show(res.body);
          S.refresh();
        } else {
          S.say(DK.errorText(res), false);
          // Refused: the case may have moved on elsewhere; show it as it is now.
          if (res.status === 403 || res.status === 409) { load(inc.id, "quiet"); }
        }
      });
    }
    // The step form is drawn anew with each card: listen on the card.
    box.addEventListener("submit", function (e) { if (e.target.id === "dk-step-form") { submitStep(e); } });
    box.addEventListener("keydown", function (e) {
      var form = e.target.closest("#dk-step-form");
      if (!form) { return; }
      if (e.key === "Escape") { form.hidden = true; }
      if (e.key === "Enter" && e.target.tagName === "TEXTAREA" && !e.shiftKey) { submitStep(e); }
    });

    function show(inc) {
      current = inc;
      S.current = inc;
      var cd = DK.countdown(inc.due_at, inc.status === "closed" ? inc.closed_at : null);
      box.innerHTML = "";
      box.dataset.id = inc.id;
      box.dataset.status = inc.status;
      box.dataset.shown = Number(box.dataset.shown || 0) + 1;  // each drawing counts
      freeBlobs();
      var similarBox = el("div", { id: "dk-similar" }, [el("p", { className: "dk-muted", textContent: "…" })]);
      var photoBox = el("div", { id: "dk-photo-box" });
      [
        el("header", { className: "dk-card-head" }, [
          el("h2", { textContent: "#" + inc.id + " " + DK.category(inc.category_code) }),
          el("span", { className: "dk-status dk-st-" + inc.status, id: "dk-card-status", textContent: DK.word("status", inc.status) }),
          DK.badge(cd)
        ]),
        inc.merged_into ? el("p", { className: "dk-banner" }, [T.merged_into.replace("{id}", inc.merged_into) + " ",
          el("a", { href: "#", textContent: T.open_case.replace("{id}", inc.merged_into), dataset: { open: inc.merged_into } })]) : null,
        actions(inc),
        el("form", { id: "dk-step-form", className: "dk-step-form", hidden: true }),
        el("p", { className: "dk-description", textContent: inc.description || "—" }),
        photoBox,
        table([
          row(T.channel, DK.word("channel", inc.channel)), row(T.external_id, inc.external_id),
          row(T.received_at, DK.time(inc.received_at, true)),
          row(T.due_at, inc.due_at ? el("span", {}, [DK.time(inc.due_at, true) + " ", DK.badge(cd)]) : null),
          row(T.closed_at, inc.closed_at ? DK.time(inc.closed_at, true) : null),
          row(T.reporter, [inc.reporter_name, inc.reporter_phone].filter(Boolean).join(" · "))
        ]),
        section(T.place, [places(inc)]),
        section(T.handling, [handling(inc)]),
        requests(inc), duplicates(inc),
        S.isStaff() ? section(T.similar, [similarBox]) : null,
        section(T.timeline, [timeline(inc)])
      ].forEach(function (n) { if (n) { box.appendChild(n); } });
      similar(inc, similarBox);
      photos(inc, photoBox);
      S.emit("card", inc);
      S.loaded.card = inc.id;
    }

    function formOpen() { var f = $("dk-step-form"); return !!f && !f.hidden; }
    /* ``mode``: "quiet" keeps the message shown (a refusal's); "background" (a refresh
     * the viewer did not ask for) also leaves a step form being filled in alone. */
    var asked = 0;
    function load(id, mode) {
      if (mode === "background" && formOpen()) { return Promise.resolve(null); }
      var mine = ++asked;
      box.dataset.asked = mine;
      return DK.api("/api/v1/incidents/" + id).then(function (res) {
        // Only the latest answer is drawn: another case, or a fresher one, may be on its way.
        if (mine !== asked || S.selected !== id) { return null; }
        if (mode === "background" && formOpen()) { return null; }
        box.dataset.answered = mine;
        if (!res.ok) {
          if (!mode) { S.say(DK.errorText(res), false); }
          return null;
        }
        show(res.body);
        return res.body;
      });
    }
    return { load: load, show: show, current: function () { return current; } };
  };
})();
