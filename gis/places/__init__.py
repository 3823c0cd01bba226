"""Place search (地名检索): the place-name index and the search over it."""

from gis.places.index import refresh
from gis.places.search import Place, PlaceQuery, parse_query, search

__all__ = ["Place", "PlaceQuery", "parse_query", "refresh", "search"]
