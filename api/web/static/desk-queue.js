/* Dispatch desk: the queue — tabs by status with counts, filters, sort, the list with SLA
 * countdowns, and keyboard navigation (j/k or arrows). */
(function () {
  "use strict";
  var DK = window.DK, $ = DK.$, el = DK.el;
  var OPEN = ["received", "dispatched", "in_progress", "replied"];
  var TABS = OPEN.concat(["closed", "overdue"]);
  var LIMIT = 200;

  DK.queue = function (S) {
    var T = DK.T;
    S.tab = S.me.role === "unit" ? "dispatched" : "received";
    S.items = [];

    function filters() {
      return {
        category: $("dk-f-category").value,
        channel: $("dk-f-channel").value,
        unit: S.me.role === "unit" ? "" : $("dk-f-unit").value
      };
    }

    /* Tabs: one per status and one for the open cases past due, each with its count. */
    var tabs = $("dk-tabs");
    TABS.forEach(function (name, i) {
      var label = name === "overdue" ? T.overdue : DK.word("status", name);
      tabs.appendChild(el("button", {
        type: "button", role: "tab", id: "dk-tab-" + name, dataset: { tab: name },
        title: label + " (" + (i + 1) + ")"
      }, [el("span", { textContent: label }), el("b", { className: "dk-count", textContent: "…" })]));
    });
    tabs.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-tab]");
      if (b) { show(b.dataset.tab); }
    });
    function show(name) {
      S.tab = name;
      load();
    }

    /* Filters: category, channel, responsible unit (dispatchers), sort; a number or a
     * hotline ticket id in the search box opens that case. */
    function fillFilters() {
      var cat = $("dk-f-category");
      Object.keys(DK.categories).map(function (c) { return DK.categories[c]; })
        .sort(function (a, b) { return DK.category(a.code).localeCompare(DK.category(b.code), DK.lang); })
        .forEach(function (c) { cat.appendChild(el("option", { value: c.code, textContent: DK.category(c.code) })); });
      var ch = $("dk-f-channel");
      Object.keys(DK.W.channel).forEach(function (c) { ch.appendChild(el("option", { value: c, textContent: DK.word("channel", c) })); });
      var unit = $("dk-f-unit");
      if (S.me.role === "unit") { unit.hidden = true; return; }
      Object.keys(DK.units).forEach(function (code) {
        var u = DK.units[code];
        if (u.kind === "department") { unit.appendChild(el("option", { value: code, textContent: DK.unitName(code) })); }
      });
    }
    ["dk-f-category", "dk-f-channel", "dk-f-unit", "dk-f-sort"].forEach(function (id) {
      $(id).addEventListener("change", function () { load(); });
    });
    $("dk-f-search").addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      e.preventDefault();
      var q = this.value.trim().replace(/^#/, "");
      if (!q) { return; }
      if (/^\d{1,12}$/.test(q)) { S.select(Number(q)); return; }
      DK.api("/api/v1/incidents" + DK.query({ external_id: q, limit: 1 })).then(function (res) {
        var hit = res.ok && res.body.items[0];
        if (hit) { S.select(hit.id); } else { S.say(T.not_found_case + " " + q, false); }
      });
    });

    function counts() {
      return DK.api("/api/v1/incidents/counts" + DK.query(filters())).then(function (res) {
        if (!res.ok) { return; }
        TABS.forEach(function (name) {
          var b = $("dk-tab-" + name), n = res.body[name] || 0;
          b.querySelector(".dk-count").textContent = n;
          b.classList.toggle("dk-alert", name === "overdue" && n > 0);
        });
      });
    }

    /* One page of the tab after the ``shown`` cases already listed. ``more`` says whether
     * a page came back full, so that another may follow. */
    function fetchList(shown) {
      var f = filters(), sort = $("dk-f-sort").value;
      if (S.tab !== "overdue") {
        f.status = S.tab; f.sort = sort; f.limit = LIMIT; f.offset = shown.length;
        return DK.api("/api/v1/incidents" + DK.query(f)).then(function (res) {
          if (!res.ok) { S.say(DK.errorText(res), false); return { items: [], more: false }; }
          return { items: res.body.items, more: res.body.items.length >= LIMIT };
        });
      }
      // Past due and still open: one list per open status, merged soonest due first.
      return Promise.all(OPEN.map(function (status) {
        var offset = shown.filter(function (it) { return it.status === status; }).length;
        var q = Object.assign({ status: status, overdue: "true", sort: "due", limit: LIMIT, offset: offset }, f);
        return DK.api("/api/v1/incidents" + DK.query(q)).then(function (res) { return res.ok ? res.body.items : []; });
      })).then(function (lists) {
        var items = [].concat.apply([], lists).sort(function (a, b) { return a.due_at < b.due_at ? -1 : (a.due_at > b.due_at ? 1 : 0); });
        return { items: items, more: lists.some(function (l) { return l.length >= LIMIT; }) };
      });
    }

    var loading = 0;
    function load() {
      var mine = ++loading;
      TABS.forEach(function (name) {
        var b = $("dk-tab-" + name);
        b.classList.toggle("dk-active", name === S.tab);
        b.setAttribute("aria-selected", name === S.tab ? "true" : "false");
      });
      counts();
      return fetchList([]).then(function (page) {
        if (mine !== loading) { return; }  // a newer load is under way
        S.items = page.items;
        S.more = page.more;
        render();
        S.emit("items", S.items);
        S.loaded.queue = true;
      });
    }

    /* The next page of the same tab, added below the cases already listed. */
    function more() {
      var mine = loading, button = $("dk-more");
      button.disabled = true;
      return fetchList(S.items).then(function (page) {
        button.disabled = false;
        if (mine !== loading) { return; }
        var seen = {};
        S.items.forEach(function (it) { seen[it.id] = true; });
        S.items = S.items.concat(page.items.filter(function (it) { return !seen[it.id]; }));
        if (S.tab === "overdue") {
          S.items.sort(function (a, b) { return a.due_at < b.due_at ? -1 : (a.due_at > b.due_at ? 1 : 0); });
        }
        S.more = page.more;
        render();
        S.emit("items", S.items);
      });
    }
    $("dk-more").addEventListener("click", function () { more(); });

    function sla(item) {
      if (item.status === "dispatched" && item.accept_due_at && !item.accepted_at) {
        var cd = DK.countdown(item.accept_due_at, null);
        cd.text = T.accept_clock + " " + cd.text;
        return cd;
      }
      return DK.countdown(item.due_at, item.status === "closed" ? item.closed_at : null);
    }

    function row(item) {
      var cd = sla(item), late = cd && cd.cls === "dk-late";
      var meta = [DK.word("channel", item.channel), DK.time(item.received_at)];
      if (S.tab === "overdue") { meta.unshift(DK.word("status", item.status)); }
      if (item.unit_code) { meta.push(DK.unitName(item.unit_code)); }
      var li = el("li", {
        className: "dk-item" + (late ? " dk-overdue" : "") + (item.id === S.selected ? " dk-selected" : ""),
        id: "dk-item-" + item.id, role: "option", dataset: { id: item.id },
        "aria-selected": item.id === S.selected ? "true" : "false"
      }, [
        el("div", { className: "dk-row1" }, [
          el("b", { textContent: "#" + item.id }), el("span", { className: "dk-cat", textContent: DK.category(item.category_code) }),
          DK.badge(cd)
        ]),
        el("div", { className: "dk-row2", textContent: meta.join(" · ") }),
        el("div", { className: "dk-row3", textContent: item.description || item.address || "" })
      ]);
      return li;
    }

    function render() {
      var list = $("dk-list");
      list.innerHTML = "";
      list.dataset.tab = S.tab;
      if (!S.items.length) { list.appendChild(el("li", { className: "dk-empty", textContent: T.empty_queue })); }
      S.items.forEach(function (item) { list.appendChild(row(item)); });
      $("dk-list-note").textContent = S.more ? T.list_capped.replace("{n}", S.items.length) : "";
      $("dk-more").hidden = !S.more;
    }
    $("dk-list").addEventListener("click", function (e) {
      var li = e.target.closest("li[data-id]");
      if (li) { S.select(Number(li.dataset.id)); }
    });
    S.on("selected", function (id) {
      Array.prototype.forEach.call($("dk-list").querySelectorAll(".dk-item"), function (li) {
        var on = Number(li.dataset.id) === id;
        li.classList.toggle("dk-selected", on);
        li.setAttribute("aria-selected", on ? "true" : "false");
        if (on) { li.scrollIntoView({ block: "nearest" }); }
      });
    });

    /* Keyboard: j/↓ next, k/↑ previous, 1–6 tabs, / search, r reload. */
    function move(step) {
      if (!S.items.length) { return; }
      var at = -1;
      S.items.forEach(function (it, i) { if (it.id === S.selected) { at = i; } });
      var next = at < 0 ? (step > 0 ? 0 : S.items.length - 1) : Math.min(S.items.length - 1, Math.max(0, at + step));
      S.select(S.items[next].id);
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || DK.isTyping(e.target)) { return; }
      var k = e.key;
      if (k === "j" || k === "ArrowDown") { move(1); }
      else if (k === "k" || k === "ArrowUp") { move(-1); }
      else if (k >= "1" && k <= String(TABS.length)) { show(TABS[Number(k) - 1]); }
      else if (k === "/") { $("dk-f-search").focus(); }
      else if (k === "r") { load(); }
      else { return; }
      e.preventDefault();
    });

    // Countdowns move on while the page stays open.
    setInterval(function () { if (S.items.length) { render(); } }, 30000);

    fillFilters();
    return { load: load, show: show };
  };
})();
