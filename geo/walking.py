"""Walking distance over a street network, in metres of a projected (metric) CRS.

pgRouting is not part of the supported stack, so shortest paths are computed here with
:func:`scipy.sparse.csgraph.dijkstra` over an undirected graph whose nodes are the vertices of the
street lines. Lines that share a vertex (within ``snap_tolerance`` metres) are connected there, which
is how OpenStreetMap and OS Open Roads encode junctions; lines that merely cross without a shared
vertex (bridges, underpasses) are, correctly, not connected.

A point off the network (a young person's location, the door of a library) is joined to its nearest
network vertex by a straight connector whose length is added to the route. A point further than
``max_snap_m`` from any vertex is not on this network at all: callers fall back to the straight line
times a detour factor for it, and say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

__all__ = [
    "NETWORK", "STRAIGHT_LINE", "StreetNetwork", "WalksFrom", "straight_line_walk_m", "walking_minutes", "walks_from",
    "walks_to_nearest",
]

NETWORK = "network"
STRAIGHT_LINE = "straight_line_with_detour_factor"

FloatArray = NDArray[np.float64]


def walking_minutes(distance_m: float, speed_m_per_min: float) -> float:
    """Minutes to walk ``distance_m`` at ``speed_m_per_min`` (80 m/min is 4.8 km/h, a typical pace).

    Examples
    --------
    >>> walking_minutes(1200, 80)
    15.0
    """
    if speed_m_per_min <= 0:
        raise ValueError("walking speed must be positive")
    return float(distance_m) / speed_m_per_min


def straight_line_walk_m(straight_m: float, detour_factor: float) -> float:
    """Estimated walking distance from a straight-line distance: street routes are rarely straight.

    Examples
    --------
    >>> straight_line_walk_m(500, 1.3)
    650.0
    """
    return float(straight_m) * detour_factor


@dataclass(frozen=True)
class StreetNetwork:
    """An undirected street graph: vertex coordinates, a sparse adjacency of segment lengths, a KD-tree.

    Examples
    --------
    Two streets forming an L; walking from one end to the other goes round the corner:

    >>> net = StreetNetwork.from_lines([[(0, 0), (100, 0)], [(100, 0), (100, 100)]])
    >>> round(float(net.distances_from((0, 0), np.array([[100.0, 100.0]]))[0]), 1)
    200.0
    """

    nodes: FloatArray  # (n, 2) metric coordinates
    graph: csr_matrix  # (n, n) symmetric, weights in metres
    tree: cKDTree
    max_snap_m: float = 250.0

    @classmethod
    def from_lines(
        cls, lines: Iterable[Sequence[Sequence[float]]], *, snap_tolerance: float = 0.5, max_snap_m: float = 250.0,
    ) -> StreetNetwork:
        """Build the graph from line coordinate sequences (metric CRS), joining vertices that coincide."""
        coordinates: list[FloatArray] = []
        line_of: list[NDArray[np.int64]] = []
        for index, line in enumerate(lines):
            array = np.asarray(line, dtype=np.float64)[:, :2]
            if len(array) < 2:
                continue
            coordinates.append(array)
            line_of.append(np.full(len(array), index, dtype=np.int64))
        if not coordinates:
            raise ValueError("a street network needs at least one line with two vertices")
        points = np.concatenate(coordinates)
        owner = np.concatenate(line_of)
        keys = np.round(points / snap_tolerance).astype(np.int64)
        unique_keys, node_of = np.unique(keys, axis=0, return_inverse=True)
        node_of = node_of.reshape(-1)
        nodes = np.zeros((len(unique_keys), 2))
        np.add.at(nodes, node_of, points)
        nodes /= np.bincount(node_of, minlength=len(unique_keys))[:, None]
        # Consecutive vertices of the same line are a segment.
        same_line = owner[1:] == owner[:-1]
        a, b = node_of[:-1][same_line], node_of[1:][same_line]
        length = np.hypot(*(points[1:][same_line] - points[:-1][same_line]).T)
        keep = a != b
        a, b, length = a[keep], b[keep], length[keep]
        # Both directions; where two segments join the same pair of nodes keep the shorter (coo->csr
        # would otherwise add their lengths).
        rows, cols, weights = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([length, length])
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights = rows[order], cols[order], weights[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        size = len(nodes)
        graph = csr_matrix((weights[first], (rows[first], cols[first])), shape=(size, size))
        return cls(nodes=nodes, graph=graph, tree=cKDTree(nodes), max_snap_m=max_snap_m)

    @property
    def node_count(self) -> int:
        return int(self.nodes.shape[0])

    def snap(self, points: FloatArray) -> tuple[NDArray[np.int64], FloatArray]:
        """Nearest vertex of each point and the connector length to it (metres)."""
        distance, index = self.tree.query(np.atleast_2d(points))
        return np.asarray(index, dtype=np.int64), np.asarray(distance, dtype=np.float64)

    def distances_from(self, origin: Sequence[float], targets: FloatArray) -> FloatArray:
        """Walking metres from ``origin`` to each target; ``inf`` where the network cannot say.

        ``inf`` means: the origin or that target is more than ``max_snap_m`` from the network, or they
        lie on parts of it that are not connected.
        """
        targets = np.atleast_2d(np.asarray(targets, dtype=np.float64))
        result = np.full(len(targets), np.inf)
        if len(targets) == 0:
            return result
        (source,), (source_gap,) = self.snap(np.asarray([origin], dtype=np.float64))
        if source_gap > self.max_snap_m:
            return result
        target_nodes, target_gaps = self.snap(targets)
        along = dijkstra(self.graph, directed=False, indices=int(source))
        walk = source_gap + along[target_nodes] + target_gaps
        usable = target_gaps <= self.max_snap_m
        result[usable] = walk[usable]
        return result

    def distances_to_nearest(self, sources: FloatArray, points: FloatArray) -> FloatArray:
        """For each point, walking metres to the nearest of ``sources`` (one multi-source Dijkstra).

        A virtual node joined to every source's vertex by its connector makes this exact, where
        ``dijkstra(min_only=True)`` would ignore the connectors.
        """
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        result = np.full(len(points), np.inf)
        sources = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
        if len(points) == 0 or len(sources) == 0:
            return result
        source_nodes, source_gaps = self.snap(sources)
        usable = source_gaps <= self.max_snap_m
        if not usable.any():
            return result
        size = self.node_count
        virtual = size
        coo = self.graph.tocoo()
        # Several sources on one vertex: keep the shortest connector (csr would add duplicates). A zero
        # weight would read as "no edge" in a sparse graph, so a source exactly on a vertex gets 1 mm.
        best = np.full(size, np.inf)
        np.minimum.at(best, source_nodes[usable], source_gaps[usable])
        starts = np.flatnonzero(np.isfinite(best))
        rows = np.concatenate([coo.row, np.full(len(starts), virtual)])
        cols = np.concatenate([coo.col, starts])
        weights = np.concatenate([coo.data, np.maximum(best[starts], 1e-3)])
        extended = csr_matrix((weights, (rows, cols)), shape=(size + 1, size + 1))
        along = dijkstra(extended, directed=True, indices=virtual)
        point_nodes, point_gaps = self.snap(points)
        walk = along[point_nodes] + point_gaps
        near = point_gaps <= self.max_snap_m
        result[near] = walk[near]
        return result


@dataclass
class WalksFrom:
    """Shortest walks from one origin: Dijkstra runs once, then any batch of targets is read off it.

    The first search stops at ``search_m`` metres (most answers lie within a short walk, and a bounded
    search over a town's network is several times cheaper); a target beyond it triggers one full search.
    """

    network: StreetNetwork | None
    detour_factor: float
    origin_gap: float = np.inf
    source: int = -1
    along: FloatArray | None = None
    complete: bool = False
    predecessors: NDArray[np.int32] | None = None

    @classmethod
    def compute(
        cls, network: StreetNetwork | None, origin: Sequence[float], detour_factor: float,
        search_m: float | None = 3000.0,
    ) -> WalksFrom:
        if network is None:
            return cls(None, detour_factor)
        (source,), (gap,) = network.snap(np.asarray([origin], dtype=np.float64))
        if gap > network.max_snap_m:
            return cls(network, detour_factor, float(gap))
        walks = cls(network, detour_factor, float(gap), int(source))
        walks._search(search_m)
        return walks

    def _search(self, limit: float | None) -> None:
        assert self.network is not None
        # The predecessors cost next to nothing inside the same search and give the route itself.
        self.along, self.predecessors = dijkstra(self.network.graph, directed=False, indices=self.source,
                                                 limit=np.inf if limit is None else limit, return_predecessors=True)
        self.complete = limit is None

    def to(self, targets: FloatArray, straight_m: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Walking metres to each target and which were measured on the network (else straight x factor)."""
        straight = np.asarray(straight_m, dtype=np.float64) * self.detour_factor
        if self.network is None or self.along is None or len(straight) == 0:
            return straight, np.zeros(len(straight), dtype=bool)
        nodes, gaps = self.network.snap(np.asarray(targets, dtype=np.float64).reshape(-1, 2))
        near = gaps <= self.network.max_snap_m
        if not self.complete and not np.isfinite(self.along[nodes[near]]).all():
            self._search(None)  # a target lies beyond the bounded search (or off this component)
            assert self.along is not None
        walked = self.origin_gap + self.along[nodes] + gaps
        on_network = np.isfinite(walked) & near
        return np.where(on_network, walked, straight), on_network

    def path_to(self, origin: Sequence[float], target: Sequence[float]) -> FloatArray | None:
        """The walk to ``target`` as metric coordinates: origin, the street vertices in order, target.

        ``None`` when the walk to it was not measured on the network (call :meth:`to` first: a target
        beyond the bounded search is reached by the full search it triggers).

        Examples
        --------
        >>> net = StreetNetwork.from_lines([[(0, 0), (100, 0)], [(100, 0), (100, 100)]])
        >>> WalksFrom.compute(net, (0, 5), 1.3).path_to((0, 5), (95, 100)).tolist()
        [[0.0, 5.0], [0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [95.0, 100.0]]
        """
        if self.network is None or self.predecessors is None or self.along is None:
            return None
        (node,), (gap,) = self.network.snap(np.asarray([target], dtype=np.float64))
        if gap > self.network.max_snap_m or not np.isfinite(self.along[node]):
            return None
        chain = [int(node)]
        while chain[-1] != self.source:
            previous = int(self.predecessors[chain[-1]])
            if previous < 0:
                return None
            chain.append(previous)
        vertices = self.network.nodes[chain[::-1]]
        return np.vstack([np.asarray([origin], dtype=np.float64), vertices, np.asarray([target], dtype=np.float64)])


def walks_from(
    network: StreetNetwork | None, origin: Sequence[float], targets: FloatArray, straight_m: FloatArray,
    detour_factor: float,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Walking metres from ``origin`` to each target, and which of them were measured on the network.

    Over the network where it reaches both ends; elsewhere the straight line times ``detour_factor``.
    """
    return WalksFrom.compute(network, origin, detour_factor).to(targets, straight_m)


def walks_to_nearest(
    network: StreetNetwork | None, sources: FloatArray, points: FloatArray, detour_factor: float,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """For each point, walking metres to the nearest source, and which were measured on the network.

    ``inf`` when there are no sources at all.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    sources = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
    if len(sources) == 0:
        return np.full(len(points), np.inf), np.zeros(len(points), dtype=bool)
    straight, _ = cKDTree(sources).query(points)
    estimate = np.asarray(straight, dtype=np.float64) * detour_factor
    if network is None:
        return estimate, np.zeros(len(points), dtype=bool)
    walked = network.distances_to_nearest(sources, points)
    on_network = np.isfinite(walked)
    return np.where(on_network, walked, estimate), on_network
