"""OGC API Features under ``/ogc``: what QGIS and GDAL (driver OAPIF) read.

Landing page, conformance, collections, items (GeoJSON) with ``bbox``, ``limit``,
``offset``, ``datetime`` and CQL2 ``filter``; grids, communities, facilities and incidents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Viewer
from api.deps import ReadEngineDep, SettingsDep
from gis.errors import InvalidInput
from gis.maps import ogc
from gis.maps.cql import parse_filter

router = APIRouter(prefix="/ogc", tags=["ogc"])

GEOJSON = "application/geo+json"
JSON = "application/json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
]
DEFAULT_LIMIT = 100


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, kind: str = JSON, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": kind}
    if title:
        link["title"] = title
    return link


def _collection_doc(request: Request, c: ogc.Collection, extent: dict[str, Any]) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{c.id}"
    return {
        "id": c.id,
        "title": f"{c.title_zh} {c.title_en}",
        "description": f"{c.title_en} of Wangge" + (" (current boundaries)" if c.versioned else ""),
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": extent,
        "links": [
            _link(base, "self"),
            _link(f"{base}/items", "items", GEOJSON, "Features"),
            _link(
                f"{base}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
        ],
    }


@router.get("")
@router.get("/", include_in_schema=False)
def landing(request: Request, _: Viewer) -> dict[str, Any]:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return {
        "title": "Wangge 网格 OGC API Features",
        "description": "Grids, communities, facilities and incidents (no personal data).",
        "links": [
            _link(base, "self"),
            _link(f"{base}/conformance", "conformance"),
            _link(f"{base}/collections", "data"),
            _link(
                f"{root}/openapi.json",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
            ),
            _link(f"{root}/docs", "service-doc", "text/html"),
        ],
    }


@router.get("/conformance")
def conformance(_: Viewer) -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/collections")
def collections(request: Request, engine: ReadEngineDep, _: Viewer) -> dict[str, Any]:
    with engine.connect() as conn:
        docs = [_collection_doc(request, c, ogc.extent(conn, c)) for c in ogc.COLLECTIONS.values()]
    return {
        "links": [_link(f"{_base(request)}/collections", "self")],
        "collections": docs,
    }


@router.get("/collections/{collection_id}")
def collection(
    collection_id: str, request: Request, engine: ReadEngineDep, _: Viewer
) -> dict[str, Any]:
    c = ogc.collection(collection_id)
    with engine.connect() as conn:
        return _collection_doc(request, c, ogc.extent(conn, c))


@router.get("/collections/{collection_id}/queryables")
def queryables(collection_id: str, _: Viewer) -> dict[str, Any]:
    return ogc.queryables(ogc.collection(collection_id))


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse)
def items(
    collection_id: str,
    request: Request,
    engine: ReadEngineDep,
    settings: SettingsDep,
    _: Viewer,
    bbox: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
) -> dict[str, Any]:
    """Features as GeoJSON; ``datetime`` picks boundaries valid then (default: current)."""
    c = ogc.collection(collection_id)
    if not 1 <= limit <= settings.max_page_size:
        raise InvalidInput(f"limit must be 1..{settings.max_page_size}", field="limit")
    if offset < 0:
        raise InvalidInput("offset must be >= 0", field="offset")
    where = parse_filter(c, filter_, filter_lang)
    with engine.connect() as conn:
        page = ogc.query_items(
            conn,
            c,
            bbox=ogc.parse_bbox(bbox),
            interval=ogc.parse_datetime(datetime_),
            where=where,
            limit=limit,
            offset=offset,
        )
    url = request.url
    links = [
        _link(str(url), "self", GEOJSON),
        _link(f"{_base(request)}/collections/{c.id}", "collection"),
    ]
    if offset + len(page.features) < page.number_matched:
        nxt = url.include_query_params(offset=offset + limit, limit=limit)
        links.append(_link(str(nxt), "next", GEOJSON))
    if offset > 0:
        prev = url.include_query_params(offset=max(0, offset - limit), limit=limit)
        links.append(_link(str(prev), "prev", GEOJSON))
    return {
        "type": "FeatureCollection",
        "features": page.features,
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=GeoJSONResponse)
def item(
    collection_id: str, feature_id: int, request: Request, engine: ReadEngineDep, _: Viewer
) -> dict[str, Any]:
    c = ogc.collection(collection_id)
    with engine.connect() as conn:
        doc = ogc.feature(conn, c, feature_id)
    base = f"{_base(request)}/collections/{c.id}"
    doc["links"] = [
        _link(f"{base}/items/{feature_id}", "self", GEOJSON),
        _link(base, "collection"),
    ]
    return doc
