"""Coverage planning (覆盖规划): service circles, coverage statistics and facility siting."""

from gis.coverage.circles import VERTICES, geodesic_circles, refresh_service_areas

__all__ = ["VERTICES", "geodesic_circles", "refresh_service_areas"]
