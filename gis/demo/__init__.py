"""The Xining demo city (演示城市): real district outlines, generated streets to buildings.

``load_demo(url, seed)`` builds it deterministically and writes it once; see
:mod:`gis.demo.load`. ``gis.demo.incidents`` holds the category table and one day
of 12345 hotline reports, which :mod:`gis.demo.hotline` stores.
"""

from gis.demo.build import build_city
from gis.demo.load import POST_LOAD_STEPS, load_demo
from gis.demo.summary import DemoSummary

__all__ = ["POST_LOAD_STEPS", "DemoSummary", "build_city", "load_demo"]
