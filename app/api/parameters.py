"""Query parameters shared by the list endpoints, declared for FastAPI: bbox, datetime and paging.

The text is parsed by :mod:`app.query` (no FastAPI), so the services read the same values the same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.query import Paging
from app.schemas.common import Link
from app.settings import Settings


def paging(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="maximum number of features")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="features to skip")] = 0,
) -> Paging:
    settings: Settings = request.app.state.settings
    chosen = settings.page_limit_default if limit is None else min(limit, settings.page_limit_max)
    return Paging(chosen, offset)


PagingDep = Annotated[Paging, Depends(paging)]
BboxParam = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")]
DatetimeParam = Annotated[
    str | None, Query(description="RFC 3339 instant or interval start/end; '..' for an open end")
]


def page_links(request: Request, page: Paging, has_more: bool) -> list[Link]:
    links = [Link(href=str(request.url), rel="self")]
    if has_more:
        links.append(Link(href=str(request.url.include_query_params(offset=page.offset + page.limit,
                                                                    limit=page.limit)), rel="next"))
    if page.offset > 0:
        links.append(Link(href=str(request.url.include_query_params(offset=max(0, page.offset - page.limit),
                                                                    limit=page.limit)), rel="prev"))
    return links
