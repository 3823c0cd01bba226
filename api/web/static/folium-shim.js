/* folium's templates call jQuery for two things only: $(html)[0] to build popup content and
 * $(document).ready(fn). The pages do not load jQuery (nothing may come from a CDN), so this
 * provides just those two. */
(function () {
  "use strict";
  if (window.$) { return; }
  window.$ = function (arg) {
    if (typeof arg === "string") {
      var t = document.createElement("template");
      t.innerHTML = arg.trim();
      return Array.prototype.slice.call(t.content.childNodes);
    }
    return {
      ready: function (fn) {
        if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
      }
    };
  };
})();

/* Leaflet's default attribution prefix links to its website; pages name no outside address. */
(function () {
  "use strict";
  if (window.L && L.Control && L.Control.Attribution) {
    L.Control.Attribution.prototype.options.prefix = "Leaflet";
  }
})();
