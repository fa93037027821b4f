"""The local basemap an admin loads (``contextmap basemap load FILE``): checked, size-limited and copied into
the data directory (``CONTEXTMAP_BASEMAP_DIR``), then served tile by tile to the map pages
(``GET /basemap/{z}/{x}/{y}``) so a map has street context with no internet (issue 16).

One basemap per deployment: it is a public map of the area (no organisation's data), shared by every
organisation the service hosts. Loading a new file replaces the old one atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from app.db.basemap import BasemapError, BasemapInfo, TileArchive, read_info, sniff
from app.settings import Settings

__all__ = ["BasemapError", "BasemapInfo", "current_basemap", "load_basemap"]

_lock = threading.Lock()
_open: dict[Path, tuple[float, TileArchive]] = {}


def _stored(settings: Settings) -> list[Path]:
    return [settings.basemap_dir / f"basemap.{archive}" for archive in ("mbtiles", "pmtiles")]


def load_basemap(source: Path, settings: Settings) -> BasemapInfo:
    """Check ``source`` and copy it into the data directory; raises :class:`BasemapError` saying why not."""
    if not source.is_file():
        raise BasemapError(f"{source}: no such file")
    size = source.stat().st_size
    if size > settings.basemap_max_bytes:
        raise BasemapError(f"{source}: {size:,} bytes is more than the limit of {settings.basemap_max_bytes:,} "
                           "(CONTEXTMAP_BASEMAP_MAX_BYTES); extract a smaller area")
    archive = sniff(source)
    read_info(source)  # refuses an archive that cannot be served, before anything is replaced
    settings.basemap_dir.mkdir(parents=True, exist_ok=True)
    target = settings.basemap_dir / f"basemap.{archive}"
    handle, temporary = tempfile.mkstemp(dir=settings.basemap_dir, prefix=".loading-", suffix=f".{archive}")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        info = read_info(Path(temporary))  # the copy, checked again
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for other in _stored(settings):
        if other != target:
            other.unlink(missing_ok=True)
    return info


def current_basemap(settings: Settings) -> TileArchive | None:
    """The loaded archive, opened once per process and reopened when the file is replaced."""
    for path in _stored(settings):
        try:
            modified = path.stat().st_mtime
        except FileNotFoundError:
            continue
        with _lock:
            cached = _open.get(path)
            if cached is not None and cached[0] == modified:
                return cached[1]
            try:
                archive = TileArchive(path)
            except BasemapError:
                return None
            if cached is not None:
                cached[1].close()
            _open[path] = (modified, archive)
            return archive
    return None
