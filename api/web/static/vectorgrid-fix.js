/* Make Leaflet.VectorGrid 1.3.0 canvas tiles clickable on Leaflet >= 1.8.
 *
 * 1. VectorGrid's canvas tile calls L.DomEvent.fakeStop on click, which Leaflet 1.8 removed.
 *    Marking the event as stopped is what it did: the map then skips its own click.
 * 2. Leaflet places events on small circle markers at marker.getLatLng(); VectorGrid's point
 *    symbolizers only know their pixel position in the tile, so give them their latlng first.
 * 3. Each interactive VectorGrid layer is a canvas that takes every pointer event, so a layer
 *    on top hides the ones beneath: a click or move that hits none of its features is handed
 *    to whatever lies under it.
 */
(function () {
  "use strict";
  if (!window.L || !L.Canvas || !L.Canvas.Tile) { return; }
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }
  var fire = L.Canvas.Tile.prototype._fireEvent;
  L.Canvas.Tile.prototype._fireEvent = function (layers, e, type) {
    if (layers && this._map) {
      for (var i = 0; i < layers.length; i++) {
        var layer = layers[i];
        if (layer.getLatLng && !layer._latlng && layer._point) {
          var origin = this._tileCoord.scaleBy(this._size);
          layer._latlng = this._map.unproject(origin.add(layer._point), this._tileCoord.z);
        }
      }
    }
    return fire.call(this, layers, e, type);
  };

  function hits(tile, e) {
    var point = tile._map.mouseEventToLayerPoint(e).subtract(tile.getOffset());
    for (var id in tile._layers) {
      var layer = tile._layers[id];
      if (layer.options.interactive && layer._containsPoint(point)) { return true; }
    }
    return false;
  }

  function passDown(tile, e) {
    var canvas = tile._container, before = canvas.style.pointerEvents;
    canvas.style.pointerEvents = "none";
    var below = document.elementFromPoint(e.clientX, e.clientY);
    canvas.style.pointerEvents = before;
    if (below && below !== canvas && below.tagName === "CANVAS") {
      L.DomEvent.fakeStop(e);
      below.dispatchEvent(new MouseEvent(e.type, e));
    }
  }

  ["_onClick", "_onMouseMove"].forEach(function (name) {
    var own = L.Canvas.Tile.prototype[name];
    L.Canvas.Tile.prototype[name] = function (e) {
      if (!this._map || hits(this, e)) { return own.call(this, e); }
      if (name === "_onMouseMove") { own.call(this, e); }  // lets it end its own hover
      passDown(this, e);
    };
  });
})();
