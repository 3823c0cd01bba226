/* Grid worker's page: the outbox (待发送). Every report is kept in IndexedDB with its photo
 * blobs and a client-made external_id before anything is sent, and leaves it only once the
 * server has acknowledged the report and each photo. The server stores one incident per
 * external_id and one photo per content, so sending an item again stores nothing new.
 * A verification decided on the spot waits the same way (its photos, then its step). */
(function () {
  "use strict";
  var FD = window.FD;
  var DB_NAME = "wangge-field", STORE = "outbox";
  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "external_id" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function run(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(STORE, mode), result;
        var req = work(tx.objectStore(STORE));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var outbox = FD.outbox = {
    all: function () {
      return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return (items || []).sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      });
    },
    get: function (id) { return run("readonly", function (s) { return s.get(id); }); },
    put: function (item) { return run("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); },
    listeners: [],
    changed: function () { outbox.listeners.forEach(function (fn) { fn(); }); }
  };

  FD.newExternalId = function () {
    var id = window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    return "field-" + id;
  };

  /* What a server answer means for an item: stored, try later, or refused (shown, kept). */
  function verdict(res) {
    if (res.ok) { return "stored"; }
    if (res.status === 0 || res.status >= 500 || res.status === 408 || res.status === 429) { return "later"; }
    return "refused";
  }

  function keep(item, res, state) {
    item.state = state;
    item.error = state === "refused" ? FD.errorText(res) : "";
    return outbox.put(item).then(function () { return state; });
  }

  function sendPhotos(item, i) {
    if (i >= item.photos.length) { return Promise.resolve("stored"); }
    var photo = item.photos[i];
    if (photo.sent) { return sendPhotos(item, i + 1); }
    return FD.upload("/api/v1/incidents/" + item.incident_id + "/media", photo.blob, photo.name).then(function (res) {
      var v = verdict(res);
      if (v !== "stored") { return keep(item, res, v); }
      photo.sent = true;
      return outbox.put(item).then(function () { return sendPhotos(item, i + 1); });
    });
  }

  /* A verification's step, once its photos are in. A 409 means the verification no longer
   * waits (this step got there before its answer was lost, or it was withdrawn): nothing
   * is left to send, so the item goes, and the page says so. */
  function sendStep(item) {
    return FD.api("/api/v1/incidents/" + item.incident_id + "/transitions", item.step).then(function (res) {
      if (res.status === 409) { FD.message(FD.T.verify_gone, true); return "stored"; }
      var v = verdict(res);
      if (v === "stored") { FD.message(FD.T.verified); }
      return v === "stored" ? v : keep(item, res, v);
    });
  }

  /* One item: the report (unless already acknowledged), then each photo not yet sent, then
   * a verification's step. */
  function sendOne(item) {
    var first = item.incident_id ? Promise.resolve("stored") : FD.api("/api/v1/incidents", item.body).then(function (res) {
      var v = verdict(res);
      if (v !== "stored") { return keep(item, res, v); }
      item.incident_id = res.body.id;
      item.state = "waiting"; item.error = "";
      return outbox.put(item).then(function () { return "stored"; });
    });
    return first.then(function (v) { return v === "stored" ? sendPhotos(item, 0) : v; }).then(function (v) {
      return v === "stored" && item.step ? sendStep(item) : v;
    }).then(function (v) {
      if (v !== "stored") { return v; }
      return outbox.remove(item.external_id).then(function () {
        if (!item.step) { outbox.lastSent = item.incident_id; }
        window.wangge.sentExternalId = item.external_id;
        return "sent";
      });
    });
  }

  var draining = null;
  /* Send what waits, oldest first; stops at the first sign the network is gone. Items
   * refused by the server wait for the worker (edit or discard) and are not resent. */
  FD.drain = function (again) {
    if (draining) { return again ? draining.then(function () { return FD.drain(); }) : draining; }
    var sent = 0;
    draining = outbox.all().then(function (items) {
      var mine = items.filter(function (it) { return it.worker === FD.me.name && it.state !== "refused"; });
      return mine.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) { return true; }
          return sendOne(item).then(function (v) {
            if (v === "sent") { sent += 1; }
            return v === "later";
          });
        });
      }, Promise.resolve(false));
    }).catch(function (err) { FD.message(String(err), true); }).then(function () {
      draining = null;
      outbox.changed();
      if (sent && FD.loadTasks) { FD.loadTasks(); }
      return sent;
    });
    return draining;
  };

  /* Keep an item with its photo blobs before trying to send it: a report (``body``), or a
   * verification decided on the spot (``step``: verify_confirm or verify_reject with its
   * note, on ``incident_id``). */
  function keepNew(externalId, fields, files) {
    var item = {
      external_id: externalId,
      worker: FD.me.name,
      created: new Date().toISOString(),
      photos: files.map(function (f) { return { name: f.name || "photo.jpg", type: f.type, blob: f, sent: false }; }),
      incident_id: null,
      state: "waiting",
      error: ""
    };
    Object.keys(fields).forEach(function (k) { item[k] = fields[k]; });
    return outbox.put(item).then(function () { outbox.changed(); return item; });
  }
  FD.queue = function (body, files) { return keepNew(body.external_id, { body: body }, files); };
  FD.queueStep = function (incidentId, step, files) {
    var id = FD.newExternalId().replace(/^field-/, "step-");
    return keepNew(id, { step: step, incident_id: incidentId }, files);
  };

  /* The retry button and the test hook: a refused item is tried again only when asked. */
  FD.retryAll = function () {
    return outbox.all().then(function (items) {
      return Promise.all(items.filter(function (it) { return it.state === "refused"; }).map(function (it) {
        it.state = "waiting"; return outbox.put(it);
      }));
    }).then(function () { return FD.drain(true); });
  };
})();
