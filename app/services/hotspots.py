"""Hot and cold spots: Getis-Ord Gi* per cell of the analysed grid (:mod:`geo.hotspots`), with ArcGIS's
confidence bins, optionally with a kernel density surface."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.schemas.analysis import DensitySurface, HotspotMetadata
from app.security import Principal
from app.services import analysis_cache
from app.services.density import density_surface
from app.services.disclosure import WITHHELD, Disclosure
from app.services.grids import (
    CellTable,
    GridQuery,
    IntArray,
    build_cell_table,
    cell_feature,
    grid_summary,
    spatial_weights,
    weights_text,
)
from geo.hotspots import benjamini_hochberg_adjust, confidence_bins, getis_ord_gi_star

HOTSPOT_CITATION = (
    "Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995, eq. 14, the cell itself included in its "
    "neighbourhood) on incident counts per grid cell, zero-count cells included; two-sided normal p-values; "
    "Benjamini & Hochberg (1995) false discovery rate when fdr=true; ArcGIS Hot Spot Analysis confidence "
    "bins (Gi_Bin ±3/±2/±1 = 99/95/90 %)."
)


@dataclass(frozen=True)
class HotspotStatistics:
    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    gi_bin: IntArray


def hotspot_statistics(query: GridQuery, table: CellTable, disclosure: Disclosure | None = None) -> HotspotStatistics:
    """Gi* per cell; for a disclosure-controlled reader computed from the disclosed counts only."""
    counts = disclosure.statistic_counts(table.count) if disclosure is not None else table.count
    result = getis_ord_gi_star(counts, spatial_weights(query, table))
    return HotspotStatistics(result.z, result.p, benjamini_hochberg_adjust(result.p),
                             confidence_bins(result.z, result.p, fdr=query.fdr))


def shown_bins(table: CellTable, stats: HotspotStatistics, disclosure: Disclosure) -> list[int | None]:
    """Each cell's confidence bin as the reader may see it: withheld (``None``) for a suppressed cell, which
    is never drawn as a hot or cold spot."""
    return [None if disclosure.suppressed(int(n)) else int(b) for n, b in zip(table.count, stats.gi_bin, strict=True)]


def bin_label(gi_bin: int | None) -> str:
    if gi_bin is None:
        return WITHHELD
    if gi_bin == 0:
        return "Not significant"
    level = {1: 90, 2: 95, 3: 99}[abs(gi_bin)]
    return f"{'Hot' if gi_bin > 0 else 'Cold'} spot, {level} % confidence"


@dataclass(frozen=True)
class HotspotAnalysis:
    """The analysed cells as GeoJSON Feature text (one per cell), with what describes them."""

    features: list[str]
    metadata: HotspotMetadata
    density: DensitySurface | None


def hotspot_analysis(
    session: Session, principal: Principal | None, query: GridQuery, disclosure: Disclosure, *, density: bool,
    bandwidth: float | None,
) -> HotspotAnalysis:
    """Gi* per cell, reused while the organisation's data for the period are unchanged (:mod:`.analysis_cache`)."""
    disclosure.audit(session, principal, "analysis:hotspots", query.parameters())
    return analysis_cache.reuse(
        session, principal, disclosure, "hotspots", {**query.parameters(), "density": density, "bandwidth": bandwidth},
        (query.filt.start, query.filt.end),
        lambda: _hotspot_analysis(session, query, disclosure, density=density, bandwidth=bandwidth),
        lambda a: sum(len(f) for f in a.features) + (len(a.density.model_dump_json()) if a.density else 0) + 4096)


def _hotspot_analysis(
    session: Session, query: GridQuery, disclosure: Disclosure, *, density: bool, bandwidth: float | None,
) -> HotspotAnalysis:
    table = build_cell_table(session, query, db.grid_counts(session, query.grid, query.filt))
    stats = hotspot_statistics(query, table, disclosure)
    bins = shown_bins(table, stats, disclosure)
    features = [
        cell_feature(table, k, {
            "count": disclosure.count(int(table.count[k])),
            "z": disclosure.cell_stat(float(stats.z[k])), "p": disclosure.cell_stat(float(stats.p[k])),
            "p_fdr": disclosure.cell_stat(float(stats.p_fdr[k])), "gi_bin": bins[k], "label": bin_label(bins[k]),
        })
        for k in range(table.i.size)
    ]
    metadata = HotspotMetadata.model_validate({
        **grid_summary(table, disclosure),
        "n_hot": sum(1 for b in bins if b is not None and b > 0),
        "n_cold": sum(1 for b in bins if b is not None and b < 0),
        "parameters": {**query.parameters(), "density": density, "bandwidth": bandwidth,
                       "shareable": disclosure.shareable},
        "method": f"{HOTSPOT_CITATION} Weights: {weights_text(query)}.",
        "disclosure": disclosure.info(),
    })
    surface = (DensitySurface.model_validate(density_surface(session, query, table, disclosure, bandwidth))
               if density else None)
    return HotspotAnalysis(features, metadata, surface)

