/* Grid worker's page: my tasks (我的任务) — verifications a dispatcher asked of me, each with
 * confirm (+ photos) and reject (+ a reason), and my grids' open incidents. The list is
 * kept by the service worker for offline reading; a decision waits in the outbox with its
 * photos until the network is there (field-outbox.js), and its task shows it waiting. */
(function () {
  "use strict";
  var FD = window.FD;

  function categoryOf(item) { return FD.category(item.category_code || item.category); }

  /* Keep the decision with its photos, then try to send it at once; once sent, the outbox
   * says so (field-outbox.js), and what is still kept is said here. */
  function decide(id, step, files, button) {
    button.disabled = true;
    return FD.queueStep(id, step, files).then(function (item) {
      return FD.drain(true).then(function () { return FD.outbox.get(item.external_id); }).then(function (left) {
        button.disabled = false;
        if (left) { FD.message(left.state === "refused" ? left.error : FD.T.verify_queued, left.state === "refused"); }
        return FD.loadTasks();
      });
    });
  }

  function reject(id, note, button) {
    if (!note.trim()) { FD.message(FD.T.note_needed, true); return; }
    decide(id, { to: "verify_reject", note: note.trim() }, [], button);
  }

  /* ``queued``: this phone's decision on it, waiting in the outbox. */
  function verificationItem(v, queued) {
    var id = v.incident_id;
    var photos = FD.el("input", { type: "file", accept: "image/*", multiple: true, className: "fd-verify-photos" });
    photos.setAttribute("capture", "environment");
    var confirmGo = FD.el("button", { type: "button", className: "fd-primary fd-confirm-go", textContent: FD.T.confirm_go });
    var confirmBox = FD.el("div", { className: "fd-verify-box fd-confirm-box", hidden: true }, [
      FD.el("label", { className: "fd-field" }, [FD.el("span", { textContent: FD.T.verify_photo }), photos]), confirmGo
    ]);
    var note = FD.el("textarea", { rows: 2, maxLength: 4000, className: "fd-reject-note", placeholder: FD.T.reject_note });
    var rejectGo = FD.el("button", { type: "button", className: "fd-primary fd-reject-go", textContent: FD.T.reject_go });
    var rejectBox = FD.el("div", { className: "fd-verify-box fd-reject-box", hidden: true }, [note, rejectGo]);
    var openConfirm = FD.el("button", { type: "button", className: "fd-confirm", textContent: FD.T.confirm });
    var openReject = FD.el("button", { type: "button", className: "fd-reject", textContent: FD.T.reject });
    openConfirm.onclick = function () { confirmBox.hidden = false; rejectBox.hidden = true; };
    openReject.onclick = function () { rejectBox.hidden = false; confirmBox.hidden = true; };
    confirmGo.onclick = function () {
      decide(id, { to: "verify_confirm" }, Array.prototype.slice.call(photos.files), confirmGo);
    };
    rejectGo.onclick = function () { reject(id, note.value, rejectGo); };
    return FD.el("li", { className: "fd-task", dataset: { incident: String(id) } }, [
      FD.el("p", { className: "fd-task-head" }, [FD.el("b", { textContent: "#" + id + " " + categoryOf(v) })]),
      v.description ? FD.el("p", { textContent: v.description }) : null,
      FD.el("p", { className: "fd-muted", textContent: FD.say("asked_by", { name: v.asked_by || "" }) + " · " + FD.time(v.asked_at) }),
      v.note ? FD.el("p", { className: "fd-note", textContent: v.note }) : null,
      queued ? FD.el("p", { className: "fd-status fd-queued", textContent: FD.say("verify_waiting", {
        step: queued.step.to === "verify_confirm" ? FD.T.confirm : FD.T.reject
      }) }) : FD.el("div", { className: "fd-buttons" }, [openConfirm, openReject]),
      queued ? null : confirmBox, queued ? null : rejectBox
    ]);
  }

  function incidentItem(i) {
    return FD.el("li", { className: "fd-case", dataset: { incident: String(i.id) } }, [
      FD.el("p", { className: "fd-task-head" }, [
        FD.el("b", { textContent: "#" + i.id + " " + categoryOf(i) }),
        FD.el("span", { className: "fd-status", textContent: FD.status(i.status) })
      ]),
      i.description ? FD.el("p", { textContent: i.description }) : null,
      FD.el("p", { className: "fd-muted", textContent: FD.time(i.received_at) })
    ]);
  }

  function fill(list, items, make, empty) {
    list.textContent = "";
    if (!items.length) { list.appendChild(FD.el("li", { className: "fd-muted fd-empty", textContent: empty })); }
    items.forEach(function (it) { list.appendChild(make(it)); });
  }

  FD.loadTasks = function () {
    return Promise.all([FD.api("/api/v1/field/tasks"), FD.outbox.all()]).then(function (got) {
      var res = got[0], queued = {};
      if (!res.ok) {
        if (res.status !== 0) { FD.message(FD.errorText(res), true); }
        return;
      }
      got[1].forEach(function (it) { if (it.step && it.worker === FD.me.name) { queued[it.incident_id] = it; } });
      var v = res.body.verifications || [], inc = res.body.incidents || [];
      fill(FD.$("fd-verifications"), v, function (x) { return verificationItem(x, queued[x.incident_id]); }, FD.T.no_verifications);
      fill(FD.$("fd-incidents"), inc, incidentItem, FD.T.no_incidents);
      FD.$("fd-tasks-count").textContent = v.length ? String(v.length) : "";
      window.wangge.loaded.tasks = { verifications: v.length, incidents: inc.length, cached: res.cached };
    });
  };
})();
