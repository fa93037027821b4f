"""The local basemap's tiles, ``GET /basemap/{z}/{x}/{y}``, for the map pages (not part of the API document).

Signed-in users of any role, as the map pages. The tiles are the admin's public street map, never an
organisation's data, so they may be cached by the browser (privately, for a day, revalidated by ETag).
A tile the archive does not hold is ``204 No Content``: the map shows nothing there, without an error.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app import policy
from app.dependencies import Principal, SettingsDep, gate
from app.errors import NotFound
from app.services.basemap import current_basemap

router = APIRouter(tags=["maps"], include_in_schema=False)
CACHE = "private, max-age=86400"


@router.get("/basemap/{z}/{x}/{y}", response_class=Response)
def basemap_tile(
    request: Request, settings: SettingsDep,
    z: Annotated[int, Path(ge=0, le=24)], x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)],
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    archive = current_basemap(settings)
    if archive is None:
        raise NotFound("No basemap is loaded (contextmap basemap load FILE).")
    data = archive.tile(z, x, y) if x < 2**z and y < 2**z else None
    if not data:
        return Response(status_code=204, headers={"Cache-Control": CACHE})
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"Cache-Control": CACHE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if archive.info.vector and archive.gzipped(data):
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=archive.info.media_type, headers=headers)
