"""The whole demo city in memory (演示城市), before anything is written."""

from __future__ import annotations

from functools import lru_cache

from gis.demo.city import build_boundaries
from gis.demo.model import City
from gis.demo.people import populate
from gis.demo.services import build_branches, build_facilities


def build_city(seed: int) -> City:
    """The whole demo city in memory (deterministic for a seed)."""
    city = build_boundaries(seed)
    populate(city, seed)
    build_branches(city, seed)
    build_facilities(city, seed)
    return city


@lru_cache(maxsize=1)
def city_for(seed: int) -> City:
    """build_city, kept for the process: the hotline day reuses the city just loaded."""
    return build_city(seed)
