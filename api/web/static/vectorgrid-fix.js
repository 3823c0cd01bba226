/* Make Leaflet.VectorGrid 1.3.0 canvas tiles clickable on Leaflet >= 1.8.
 *
 * 1. VectorGrid's canvas tile calls L.DomEvent.fakeStop on click, which Leaflet 1.8 removed.
 *    Marking the event as stopped is what it did: the map then skips its own click.
 * 2. Leaflet places events on small circle markers at marker.getLatLng(); VectorGrid's point
 *    symbolizers only know their pixel position in the tile, so give them their latlng first.
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
})();
