"""Maps (地图): vector-tile SQL, OGC API Features queries and the Leaflet page builders."""
