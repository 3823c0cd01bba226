/* Service worker of the grid worker's page (网格员), scope /field/.
 * The shell (page, scripts, styles, Leaflet, manifest, icons) is precached under a cache
 * named after this deploy's content hash and served cache-first; the field API's answers
 * are fetched network-first and the last one kept for when the network is gone. Writes
 * (POST) are never touched: the page keeps them in IndexedDB until they are acknowledged. */
"use strict";
var VERSION = {{ version }};
var SHELL = {{ shell }};
var DATA = {{ data }};
var HOME = {{ home }};
var SHELL_CACHE = "field-shell-" + VERSION;
var DATA_CACHE = "field-data";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      // The page answers the signed-in browser only; a redirect to sign-in is no shell.
      return Promise.all(SHELL.map(function (url) {
        return fetch(url, { credentials: "same-origin", cache: "no-cache", redirect: "error" }).then(function (r) {
          if (!r.ok) { throw new Error(url + ": " + r.status); }
          return cache.put(url, r);
        });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("field-shell-") === 0 && n !== SHELL_CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function fromShell(key, request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(key).then(function (hit) { return hit || fetch(request); });
  });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(DATA_CACHE).then(function (cache) { return cache.put(request.url, copy); });
    }
    return response;
  }, function () {
    return caches.open(DATA_CACHE).then(function (cache) {
      return cache.match(request.url, { ignoreVary: true });
    }).then(function (hit) {
      if (!hit) {
        return new Response(JSON.stringify({ error: "offline" }), {
          status: 503, headers: { "Content-Type": "application/json" }
        });
      }
      // Tell the page the answer is the kept one, not today's.
      var headers = new Headers(hit.headers);
      headers.set("X-Wangge-From-Cache", "1");
      return hit.blob().then(function (body) {
        return new Response(body, { status: hit.status, headers: headers });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === HOME) {
    // Any query (?gcj02 from the WeChat wrapper, a position) opens the cached shell of its language.
    var key = url.searchParams.get("lang") === "en" ? HOME + "?lang=en" : HOME;
    event.respondWith(fromShell(key, request));
    return;
  }
  if (SHELL.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(fromShell(url.pathname + url.search, request));
    return;
  }
  if (DATA.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request));
  }
});

self.addEventListener("message", function (event) {
  if (event.data === "version" && event.ports[0]) { event.ports[0].postMessage(VERSION); }
});
