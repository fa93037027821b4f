"""OGC API – Features, Part 1 (OGC 17-069r4) documents: landing page, conformance, collections."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

CONFORMANCE_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"


class OgcLink(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[OgcLink]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]]
    crs: str = CRS84


def _open_interval() -> list[list[str | None]]:
    return [[None, None]]


class TemporalExtent(BaseModel):
    interval: list[list[str | None]] = Field(default_factory=_open_interval)


class Extent(BaseModel):
    spatial: SpatialExtent
    temporal: TemporalExtent = Field(default_factory=TemporalExtent)


class CollectionInfo(BaseModel):
    id: str
    title: str
    description: str
    links: list[OgcLink]
    extent: Extent
    itemType: str = "feature"
    crs: list[str] = Field(default_factory=lambda: [CRS84])


class Collections(BaseModel):
    links: list[OgcLink]
    collections: list[CollectionInfo]


class FeatureCollectionPage(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    links: list[OgcLink]
    numberMatched: int
    numberReturned: int
    timeStamp: str
