"""Service settings: one pydantic-settings class, read from ``CONTEXTMAP_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

from geo.geometry import MAX_RINGS, MAX_VERTICES, GeometryLimits

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Everything a deployment may change. Defaults suit the embedded local demo."""

    model_config = SettingsConfigDict(env_prefix="CONTEXTMAP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # The owner connection: runs migrations and the CLI. The web service itself connects as
    # ``app_db_role`` (no table ownership, no BYPASSRLS) so row-level security always applies.
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/contextmap"
    app_db_role: str = "contextmap_app"
    app_db_password: str | None = None
    secret_key: str = DEV_SECRET

    analysis_srid: int = 27700
    # Fallback service area when an organisation has none: England and Wales, generously.
    # Points outside it are refused, which also catches swapped latitude/longitude.
    default_service_area: tuple[float, float, float, float] = (-6.5, 49.8, 2.1, 55.9)
    auto_link_distance_m: float = 50.0

    # Disclosure control (ONS/police.uk practice for small counts): suppress 1..7, round the rest to 5.
    suppress_max: int = 7
    round_to: int = 5
    # The security marking printed on every page of a panel pack (issue 17).
    pack_marking: str = "OFFICIAL-SENSITIVE"

    # Vertices and rings (or parts) in one geometry a user sends: places, interventions, analysis areas,
    # imported rows (geo.geometry explains the defaults).
    geometry_max_vertices: int = MAX_VERTICES
    geometry_max_rings: int = MAX_RINGS

    max_body_bytes: int = 5 * 1024 * 1024
    max_upload_bytes: int = 100 * 1024 * 1024
    page_limit_default: int = 100
    page_limit_max: int = 1000

    token_ttl_days: int = 90
    session_ttl_hours: int = 12
    cookie_secure: bool = True
    sign_in_max_failures: int = 5
    sign_in_lockout_seconds: int = 900

    retention_days: int = 6 * 365
    retention_mode: Literal["delete", "archive"] = "archive"
    # The shortest retention an organisation may choose for itself (the admin page): the analyses compare a
    # year before an intervention with the year after, so a shorter history leaves them nothing to compare.
    retention_min_days: int = 2 * 365
    # The strictest disclosure thresholds an organisation may choose (beyond them a panel sees nothing useful).
    org_suppress_max_ceiling: int = 50
    org_round_to_ceiling: int = 50
    safe_space_stale_days: int = 365
    # Governance pages (/accessibility, /security.txt, /about/...): who runs this deployment and whom to tell.
    operator_name: str = "the organisation that runs this contextmap service"
    security_contact: str | None = None  # a mailto: or https: URI; unset: this service's /about/security page
    accessibility_contact: str | None = None  # an e-mail address or web page for accessibility problems

    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "&copy; OpenStreetMap contributors"
    map_max_points: int = 2000
    # Internet basemap tiles: "auto" uses them only when the organisation has no street network to draw.
    map_internet_tiles: Literal["auto", "always", "never"] = "auto"
    map_max_street_edges: int = 20000
    # Safety mapping with a young person (issue 21): what one session may hold (it lives in the form).
    safety_map_max_marks: int = 40
    safety_map_max_cells_per_mark: int = 64  # 64 published 250 m squares = 4 km²: draw a smaller area
    safety_map_max_places: int = 20  # safe places and trusted adults, each
    # The local basemap (`contextmap basemap load FILE`: MBTiles or PMTiles), copied here and served at
    # /basemap/{z}/{x}/{y}; used before the street network and the internet tile server.
    basemap_dir: Path = Path(".data/basemap")
    basemap_max_bytes: int = 2 * 1024**3

    walking_speed_m_per_min: float = 80.0
    # Straight-line distance under-counts walking distance; 1.3 is the detour (circuity) factor
    # commonly reported for urban street networks (Levinson & El-Geneidy 2009).
    detour_factor: float = 1.3
    walk_threshold_minutes: int = 15
    fallback_advice: str = (
        "No safe space is open within a 15-minute walk. Call a trusted adult, go to a staffed public "
        "place such as a bus station or shop, or call 999 in an emergency (Childline: 0800 1111)."
    )

    host: str = "127.0.0.1"
    port: int = 8000
    # Host names this service answers to (a leading "*." allows subdomains). Links such as a list's
    # self/next are built from the request's Host, so any other Host is refused: a forged one would send a
    # GIS client following "next" — with its token — elsewhere. Set it to the public name of a deployment,
    # e.g. CONTEXTMAP_ALLOWED_HOSTS='["contextmap.example.gov.uk"]'.
    allowed_hosts: list[str] = ["localhost", "127.0.0.1", "[::1]"]

    # Reliability: every limit a request can push is a setting (README "Running in production").
    # The service role's statements stop after this long; an analysis that needs longer is answered 503
    # with advice to narrow it. Kept below ``shutdown_grace_seconds`` so a draining worker finishes.
    statement_timeout_seconds: float = 20.0
    lock_timeout_seconds: float = 5.0
    idle_in_transaction_timeout_seconds: float = 60.0
    import_timeout_seconds: float = 600.0  # uploads (police.uk, partner files) parse and copy for longer
    work_mem_mb: int = 32  # per sort/hash node; the ceiling for the service role's connections
    connect_timeout_seconds: int = 5
    # Connections per process: cheap requests share ``db_pool_size``; heavy analyses (maps, hot spots,
    # displacement, exports) use their own ``heavy_pool_size`` and never take the cheap requests' ones.
    # ``contextmap serve`` shrinks db_pool_size so workers x (db_pool_size + heavy_pool_size + 1) fits
    # the server's max_connections.
    db_pool_size: int = 10
    # One heavy analysis at a time per process: with the default of one process per core, that is one per
    # core. A heavy analysis is seconds of CPU in PostgreSQL and numpy; two per core (the old default)
    # tripled the cheap reads' median latency on a 2-core machine (bench/bench_load.py, issue 11 note).
    heavy_pool_size: int = 1
    pool_timeout_seconds: float = 5.0  # waiting longer for a connection answers 503 with Retry-After
    # A principal remembered per credential (0: look every request's token up on its own connection). It
    # is checked again in each request's own transaction, so revocation still takes effect at once.
    principal_cache_seconds: float = 60.0
    heavy_per_user: int = 1  # concurrent heavy requests per credential; more answer 429
    # Heavy requests wait in a bounded queue for a slot: more than ``heavy_queue_length`` waiting per
    # process, or waiting longer than ``heavy_queue_seconds``, answers 503 with Retry-After. The wait plus
    # ``statement_timeout_seconds`` stays under a client's usual 60 s. (Before the analysis cache a 15 s
    # queue kept the lane busy all the time and slowed cheap reads; with it most heavy requests are
    # answered in milliseconds once in the lane — bench/bench_load.py, issue 11.)
    heavy_queue_seconds: float = 25.0
    heavy_queue_length: int = 64
    retry_after_seconds: int = 5
    # Heavy analyses' answers (hot spots, emerging hot spots, displacement) kept per process, per reader,
    # question and data version; reused until a write could change them (app.services.analysis_cache).
    # 0 turns reuse off.
    analysis_cache_mb: float = 64.0
    workers: int | None = None  # None: WEB_CONCURRENCY, else the number of cores
    shutdown_grace_seconds: int = 25  # below docker-compose's stop_grace_period (30 s)
    # Incidents dated later than now + this are refused (clock skew between systems, not the future).
    future_tolerance_minutes: int = 60

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("CONTEXTMAP_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def geometry_limits(self) -> GeometryLimits:
        return GeometryLimits(self.geometry_max_vertices, self.geometry_max_rings)

    @cached_property
    def owner_url(self) -> URL:
        return make_url(self.database_url)

    @cached_property
    def app_url(self) -> URL:
        """The web service's own connection: same server and database, the unprivileged role."""
        return self.owner_url.set(username=self.app_db_role, password=self.app_db_password)


def get_settings() -> Settings:
    return Settings()


__all__ = ["Settings", "get_settings"]
