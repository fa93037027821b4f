"""The ``contextmap`` command line: set-up, demo, serving, organisations, users, retention."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.db import accounts
from app.db.bootstrap import DATA_DIR, choose_database, ensure_database, migrate
from app.errors import BootstrapError, ContextmapError
from app.governance.cli import docs_cli
from app.settings import Settings

if TYPE_CHECKING:  # the CLI imports the heavy modules lazily, inside each command
    from sqlalchemy.orm import Session

    from app.db.imports import ImportReport
    from app.db.session import Database

cli = typer.Typer(help="contextmap: where young people are harmed outside their homes, and where they are safe.",
                  no_args_is_help=True, add_completion=False)
orgs_cli = typer.Typer(help="Organisations (tenants).", no_args_is_help=True)
users_cli = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)
retention_cli = typer.Typer(help="Retention of incident records.", no_args_is_help=True)
db_cli = typer.Typer(help="The database: find or create it, migrate it.", no_args_is_help=True)
cli.add_typer(orgs_cli, name="orgs")
cli.add_typer(users_cli, name="users")
cli.add_typer(retention_cli, name="retention")
cli.add_typer(db_cli, name="db")
import_cli = typer.Typer(help="Import incident and partner data.", no_args_is_help=True)
cli.add_typer(import_cli, name="import")
cli.add_typer(docs_cli, name="docs")
basemap_cli = typer.Typer(help="The local basemap: street context for the maps with no internet.",
                          no_args_is_help=True)
cli.add_typer(basemap_cli, name="basemap")
school_terms_cli = typer.Typer(help="School terms: opening hours' SH (school holidays).", no_args_is_help=True)
cli.add_typer(school_terms_cli, name="school-terms")
safety_maps_cli = typer.Typer(help="Safety maps young people agreed to add to the area picture.", no_args_is_help=True)
cli.add_typer(safety_maps_cli, name="safety-maps")
aggregates_cli = typer.Typer(help="The monthly cell-count aggregate the published-grid analyses read.",
                             no_args_is_help=True)
cli.add_typer(aggregates_cli, name="aggregates")
err = Console(stderr=True)
out = Console()
URL_FILE = DATA_DIR / "database_url"


def settings() -> Settings:
    """Settings, with the database that ``contextmap db ensure`` chose when none was configured."""
    if not os.environ.get("CONTEXTMAP_DATABASE_URL") and URL_FILE.exists():
        return Settings(database_url=URL_FILE.read_text().strip())
    return Settings()


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@db_cli.command("ensure")
def db_ensure(
    name: Annotated[str | None, typer.Option(help="database name (default: from the URL, 'contextmap')")] = None,
    recreate: Annotated[bool, typer.Option(help="drop and re-create the database first")] = False,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="do not apply migrations")] = False,
) -> None:
    """Find or start a PostgreSQL, install PostGIS if needed, create the database, migrate. Prints the URL."""
    print(_ensure_database(name=name, recreate=recreate, no_migrate=no_migrate))


def _ensure_database(name: str | None, recreate: bool, no_migrate: bool) -> str:
    """Ensure the database and say so once on standard error; returns its URL (with password) for scripts."""
    try:
        choice = choose_database()
        url = choice.url.set(database=name) if name else choice.url
        ensure_database(url, recreate=recreate)
        if not no_migrate:
            migrate(url)
    except BootstrapError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    rendered = url.render_as_string(hide_password=False)
    if choice.origin != "environment" and not name:
        DATA_DIR.mkdir(exist_ok=True)
        URL_FILE.write_text(rendered + "\n")
    err.print(f"database ready ({choice.origin}): {url.render_as_string(hide_password=True)}")
    return rendered


@cli.command("migrate")
def migrate_command() -> None:
    """Apply the Alembic migrations to the configured database."""
    migrate(settings().owner_url)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo sign-in (fictional data)")
    for column in ("role", "e-mail", "password"):
        table.add_column(column)
    for row in logins:
        table.add_row(*row)
    out.print(table)


@cli.command("demo")
def demo_command(
    reset: Annotated[bool, typer.Option(help="remove and re-load the demo organisation")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="load only when no demo organisation exists")] = False,
) -> None:
    """Load the demo scenario (the fast-food outlet, the library, the youth club) as organisation demo-town."""
    from app.db.demo_loader import demo_loaded, load_demo, remove_demo
    from app.db.session import Database
    from geo.demo import build_demo_scenario

    config = settings()
    database = Database(config)
    scenario = build_demo_scenario()
    with database.owner_session() as session:
        if demo_loaded(session, scenario.organisation_slug):
            if if_empty:
                err.print("demo already loaded")
                _print_logins([(u.role, u.email, u.password) for u in scenario.users])
                return
            if not reset:
                _fail("the demo organisation already exists (use --reset to re-load it)")
            remove_demo(session, scenario.organisation_slug)
        logins = load_demo(session, config, scenario)
    database.dispose()
    err.print(f"loaded {len(scenario.places)} places, {len(scenario.incidents)} incidents")
    _print_logins([(login.role, login.email, login.password) for login in logins])


def _default_workers(config: Settings) -> int:
    """``--workers`` default: the setting, else WEB_CONCURRENCY (set by many hosts), else the cores."""
    if config.workers:
        return config.workers
    web_concurrency = os.environ.get("WEB_CONCURRENCY", "").strip()
    if web_concurrency.isdigit() and int(web_concurrency) > 0:
        return int(web_concurrency)
    return max(1, os.cpu_count() or 1)


WORKER_HEALTHCHECK_SECONDS = 60
# Connections kept free for migrations, the CLI, psql and monitoring (beyond superuser_reserved_connections).
CONNECTION_HEADROOM = 10


def size_pools(config: Settings, workers: int, max_connections: int, reserved: int) -> tuple[int, int]:
    """(cheap pool, heavy pool) per process so ``workers x (cheap + heavy + 1)`` fits the server.

    The ``+ 1`` is the owner connection a process may open. The heavy pool is kept (it is the heavy lane's
    width); the cheap pool shrinks to fit, never below 2.
    """
    budget = max_connections - reserved - CONNECTION_HEADROOM
    per_process = budget // workers
    heavy = max(1, min(config.heavy_pool_size, per_process // 3))
    cheap = min(config.db_pool_size, per_process - heavy - 1)
    if cheap < 2:
        raise ValueError(
            f"{workers} workers need at least {workers * (heavy + 3)} connections but the database allows "
            f"{budget} to this service (max_connections {max_connections} - reserved {reserved} - headroom "
            f"{CONNECTION_HEADROOM}): run fewer workers or raise max_connections"
        )
    return cheap, heavy


def _server_connection_limits(config: Settings) -> tuple[int, int]:
    import psycopg

    from app.db.bootstrap import conninfo

    with psycopg.connect(conninfo(config.owner_url), connect_timeout=config.connect_timeout_seconds) as conn:
        row = conn.execute("SELECT current_setting('max_connections')::int, "
                           "current_setting('superuser_reserved_connections')::int").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int | None, typer.Option(
        help="worker processes (default: CONTEXTMAP_WORKERS, else WEB_CONCURRENCY, else the number of cores)",
        min=1)] = None,
) -> None:
    """Serve the web application and API."""
    import uvicorn

    config = settings()
    workers = workers or _default_workers(config)
    try:
        max_connections, reserved = _server_connection_limits(config)
        cheap, heavy = size_pools(config, workers, max_connections, reserved)
    except ValueError as exc:
        _fail(str(exc))
        return
    except Exception as exc:  # the database may come up later; the pools' own limits still apply
        err.print(f"[yellow]warning:[/yellow] could not read max_connections ({type(exc).__name__}); "
                  f"using pools of {config.db_pool_size} + {config.heavy_pool_size} per worker")
        cheap, heavy = config.db_pool_size, config.heavy_pool_size
    # Worker processes build the app from the environment (an import string is the only way uvicorn can
    # start several), so hand them the settings this command resolved.
    os.environ["CONTEXTMAP_DATABASE_URL"] = config.database_url
    os.environ["CONTEXTMAP_DB_POOL_SIZE"] = str(cheap)
    os.environ["CONTEXTMAP_HEAVY_POOL_SIZE"] = str(heavy)
    err.print(f"serving with {workers} worker(s), {cheap} + {heavy} database connections each")
    uvicorn.run(
        "app.main:create_app", factory=True, host=host or config.host, port=port or config.port,
        workers=workers, proxy_headers=True,
        # In-flight requests get this long to finish after SIGTERM; docker-compose's stop_grace_period is
        # longer, so the container is not killed mid-request.
        timeout_graceful_shutdown=config.shutdown_grace_seconds,
        # uvicorn restarts a worker that does not answer its supervisor's ping within this; its default
        # (5 s) killed workers still importing numpy/geopandas on a loaded 2-core machine, in a loop.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@cli.command("up")
def up(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """What ``make run`` does: ensure the database, migrate, load the demo when empty, serve."""
    # Not db_ensure: that also prints the URL on standard output for scripts, so a person saw it twice.
    _ensure_database(name=None, recreate=False, no_migrate=False)
    demo_command(reset=False, if_empty=True)
    config = settings()
    out.print(f"Open http://{host or config.host}:{port or config.port}/ and sign in with a demo account above.")
    serve(host=host, port=port)


@orgs_cli.command("add")
def orgs_add(slug: str, name: Annotated[str, typer.Option(help="display name")]) -> None:
    """Add an organisation (a local authority or partnership)."""
    from app.db.session import Database

    database = Database(settings())
    try:
        with database.owner_session() as session:
            org_id = accounts.add_organisation(session, slug, name)
    except ContextmapError as exc:
        _fail(exc.detail)
    print(f"organisation {slug} created (id {org_id})")


@users_cli.command("add")
def users_add(
    org: Annotated[str, typer.Option(help="organisation slug")],
    role: Annotated[str, typer.Option(help="admin | community_safety | youth_worker | panel")],
    email: Annotated[str, typer.Option()],
    password: Annotated[str | None, typer.Option(help="for browser sign-in (optional)")] = None,
) -> None:
    """Add a user; prints their new API token as the last line of standard output."""
    from app.db.session import Database

    config = settings()
    database = Database(config)
    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, org)
            user_id = accounts.add_user(session, org_id, email, role, password)
            issued = accounts.issue_token(session, org_id, user_id, "api", timedelta(days=config.token_ttl_days))
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    err.print(f"user {email} ({role}) added to {org}; token expires {issued.expires_at:%Y-%m-%d}")
    print(issued.token)


@users_cli.command("revoke")
def users_revoke(
    email: Annotated[str | None, typer.Option(help="revoke all tokens and sessions of this user")] = None,
    token: Annotated[str | None, typer.Option(help="revoke this one token")] = None,
) -> None:
    """Revoke API tokens and sessions."""
    from app.db.session import Database

    database = Database(settings())
    try:
        with database.owner_session() as session:
            if email is not None and not accounts.user_exists(session, email):
                _fail(f"no user with e-mail {email!r}")
            revoked = accounts.revoke_tokens(session, email=email, token=token)
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    print(f"revoked {revoked} token(s)")


def _set_user_disabled(email: str, disabled: bool) -> None:
    from app.db.session import Database
    from app.services.audit import record_event

    database = Database(settings())
    try:
        with database.owner_session() as session:
            changed = accounts.set_disabled(session, disabled, email=email)
            record_event(session, organisation_id=changed["organisation_id"],
                         action="user.disable" if disabled else "user.enable", resource=f"user:{changed['id']}",
                         detail={"via": "cli"})
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    print(f"user {changed['email']} {'disabled' if disabled else 'enabled'}")


@users_cli.command("disable")
def users_disable(email: Annotated[str, typer.Option(help="the user's e-mail")]) -> None:
    """Disable a user at once: no sign-in, no token, browser sessions end (API tokens resume if enabled)."""
    _set_user_disabled(email, True)


@users_cli.command("enable")
def users_enable(email: Annotated[str, typer.Option(help="the user's e-mail")]) -> None:
    """Enable a disabled user again."""
    _set_user_disabled(email, False)


@retention_cli.command("apply")
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report only")] = False,
) -> None:
    """Delete or archive incidents older than the retention period, and report what was done."""
    from app.db.retention import apply_retention
    from app.db.session import Database

    config = settings()
    database = Database(config)
    with database.owner_session() as session:
        report = apply_retention(session, config.retention_days, config.retention_mode, dry_run=dry_run)
    for org, count in sorted(report.per_organisation.items()):
        own = f" (its own period: older than {report.cutoffs[org]:%Y-%m-%d})" if org in report.cutoffs else ""
        print(f"{org}: {count} incident(s) {'would be ' if dry_run else ''}{report.verb}{own}")
    print(f"total: {report.total} incident(s) older than {report.cutoff:%Y-%m-%d} "
          f"{'would be ' if dry_run else ''}{report.verb}")


@aggregates_cli.command("rebuild")
def aggregates_rebuild(
    organisation: Annotated[str | None, typer.Option(help="an organisation's slug (default: all)")] = None,
) -> None:
    """Recount the monthly cell counts from the incidents, and report what was out of date.

    Triggers keep the counts current with every write; this is for after a restore, a bulk load with
    triggers disabled, or a check (writes to incidents wait while it runs)."""
    from app.db import aggregates
    from app.db.session import Database

    database = Database(settings())
    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, organisation) if organisation else None
            reports = aggregates.rebuild(session, org_id)
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    table = Table("organisation", "incidents", "rows before", "rows after", "rows out of date")
    for r in reports:
        table.add_row(r.organisation, f"{r.incidents:,}", f"{r.rows_before:,}", f"{r.rows_after:,}",
                      f"{r.out_of_date:,}")
    out.print(table)
    stale = sum(r.out_of_date for r in reports)
    print(f"rebuilt {len(reports)} organisation(s); {stale} row(s) had been out of date")


def _run_import(
    database: Database, org: str, resource: str, detail: dict[str, Any],
    work: Callable[[Session, int], ImportReport],
) -> None:
    """One import in one transaction on the owner connection: audited (as the API does), reported."""
    from app.db.imports import ImportRejected
    from app.services.audit import record_event

    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, org)
            report = work(session, org_id)
            record_event(session, organisation_id=org_id, action="import", resource=resource,
                         detail={**detail, "via": "cli", "files": report.files, "imported": report.imported,
                                 "rejected": report.rejected})
    except ImportRejected as exc:
        for line in exc.report.summary_lines():
            print(line)
        _fail(exc.detail)
        return
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    for line in report.summary_lines():
        print(line)


@import_cli.command("police-uk")
def import_police_uk_command(
    paths: Annotated[list[Path], typer.Argument(help="police.uk street-level CSV files, or folders of them")],
    org: Annotated[str, typer.Option(help="organisation slug")],
    allow_partial: Annotated[bool, typer.Option("--allow-partial",
                                                help="import the good rows and report the rejected ones")] = False,
) -> None:
    """Import police.uk street-level crime files; re-importing a file imports nothing twice."""
    import io

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from app.db.imports import import_police_uk
    from app.db.session import Database
    from geo.policeuk import police_uk_files

    files = police_uk_files(paths)
    missing = [str(f) for f in files if not f.is_file()]
    if missing or not files:
        _fail(f"no such file: {', '.join(missing)}" if missing else "no CSV files found")
    config = settings()
    database = Database(config)
    handles = [open(f, "rb") for f in files]  # noqa: SIM115 - closed below, after the transaction
    sizes = [f.stat().st_size for f in files]
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err) as bar:
            task = bar.add_task("reading", total=sum(sizes))

            def advance(name: str, rows: int) -> None:
                index = [str(f) for f in files].index(name)
                bar.update(task, completed=sum(sizes[:index]) + handles[index].tell(),
                           description=f"{Path(name).name}: {rows} rows")

            sources = [(str(f), io.TextIOWrapper(h, encoding="utf-8-sig", newline=""))
                       for f, h in zip(files, handles, strict=True)]

            def police_uk(session: Session, org_id: int) -> ImportReport:
                return import_police_uk(
                    session, org_id, sources, analysis_srid=config.analysis_srid,
                    link_distance_m=config.auto_link_distance_m, default_area=config.default_service_area,
                    allow_partial=allow_partial, progress=advance,
                    future_tolerance_minutes=config.future_tolerance_minutes,
                )

            _run_import(database, org, "incidents", {"source": "police_uk"}, police_uk)
    finally:
        for handle in handles:
            handle.close()


@import_cli.command("streets")
def import_streets_command(
    path: Annotated[Path, typer.Argument(help="a line layer: GeoPackage, GeoJSON or Shapefile")],
    org: Annotated[str, typer.Option(help="organisation slug")],
    layer: Annotated[str | None, typer.Option(help="layer name (GeoPackage with several layers)")] = None,
    append: Annotated[bool, typer.Option("--append", help="add to the network instead of replacing it")] = False,
) -> None:
    """Load the organisation's walkable street network: safe-space walking distances then follow streets."""
    from app.db.session import Database
    from app.db.street_network import load_street_edges, read_street_file
    from app.services.audit import record_event

    if not path.is_file():
        _fail(f"no such file: {path}")
    try:
        read = read_street_file(str(path), layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        _fail(f"{path}: cannot read a line layer ({exc})")
        return
    for feature, reason in read.rejected[:20]:
        err.print(f"feature {feature}: {reason}")
    if not read.lines:
        _fail(f"{path}: no usable street lines ({len(read.rejected)} rejected)")
    database = Database(settings())
    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, org)
            stored = load_street_edges(session, org_id, read.lines, replace=not append)
            record_event(session, organisation_id=org_id, action="import", resource="street_edges",
                         detail={"source": "streets", "via": "cli", "file": path.name, "stored": stored,
                                 "rejected": len(read.rejected), "replaced": not append})
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    print(f"{stored} street segment(s) loaded for {org}; {len(read.rejected)} feature(s) rejected")


@import_cli.command("partner")
def import_partner_command(
    path: Annotated[Path, typer.Argument(help="CSV, GeoJSON or GeoPackage file")],
    org: Annotated[str, typer.Option(help="organisation slug")],
    target: Annotated[str, typer.Option(help="incidents | places | safe_spaces")],
    mapping: Annotated[str | None, typer.Option(help='JSON: our field -> your column, e.g. {"name": "Site"}')] = None,
    crs: Annotated[str | None, typer.Option(help="EPSG:4326 (default) or EPSG:27700 for a CSV")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, write nothing")] = False,
) -> None:
    """Import a partner's incidents, places or safe spaces: the whole file, or nothing."""
    from app.db.imports import import_partner
    from app.db.session import Database
    from app.services.partner_import import partner_records

    if not path.is_file():
        _fail(f"no such file: {path}")
    config = settings()
    try:
        rows = partner_records(path.read_bytes(), path.name, target, mapping, crs)
    except ContextmapError as exc:
        _fail(exc.detail)
        return

    def partner(session: Session, org_id: int) -> ImportReport:
        return import_partner(session, org_id, str(path), rows, target, analysis_srid=config.analysis_srid,
                              link_distance_m=config.auto_link_distance_m,
                              default_area=config.default_service_area, dry_run=dry_run,
                              limits=config.geometry_limits, future_tolerance_minutes=config.future_tolerance_minutes)

    _run_import(Database(config), org, target, {"source": "partner", "dry_run": dry_run}, partner)


@basemap_cli.command("load")
def basemap_load(
    path: Annotated[Path, typer.Argument(help="an MBTiles (raster or vector) or PMTiles v3 file")],
) -> None:
    """Check a tile archive and copy it to the basemap directory; every map then draws it under the data."""
    from app.services.basemap import BasemapError, load_basemap

    config = settings()
    try:
        info = load_basemap(path, config)
    except BasemapError as exc:
        _fail(f"{path}: {exc}")
        return
    kind = "vector" if info.vector else f"raster ({info.format})"
    tiles = f"{info.tiles:,} tiles, " if info.tiles else ""
    print(f"basemap loaded: {info.name}, {info.archive} {kind}, {tiles}zoom {info.minzoom}-{info.maxzoom}, "
          f"stored in {config.basemap_dir}")


@school_terms_cli.command("load")
def school_terms_load(
    path: Annotated[Path, typer.Argument(help="CSV with the header term,starts_on,ends_on (ISO dates)")],
    org: Annotated[str, typer.Option(help="organisation slug")],
) -> None:
    """Replace the organisation's school terms (England's differ by council): SH in opening hours follows them."""
    from app.db.school_terms import replace_school_terms
    from app.db.session import Database
    from app.services.audit import record_event
    from geo.school_terms import SchoolTermsError, parse_school_terms

    if not path.is_file():
        _fail(f"no such file: {path}")
    try:
        terms = parse_school_terms(path.read_text(encoding="utf-8-sig"))
    except (SchoolTermsError, UnicodeDecodeError) as exc:
        _fail(f"{path}: {exc}")
        return
    database = Database(settings())
    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, org)
            stored = replace_school_terms(session, org_id, terms)
            record_event(session, organisation_id=org_id, action="replace", resource="school_terms",
                         detail={"via": "cli", "file": path.name, "terms": stored})
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    print(f"{stored} school term(s) loaded for {org}: {terms[0].starts_on} to {terms[-1].ends_on}")


@safety_maps_cli.command("withdraw")
def safety_maps_withdraw(
    reference: Annotated[str, typer.Argument(help="the map's reference from the plan page, like SM-12")],
    org: Annotated[str, typer.Option(help="organisation slug")],
) -> None:
    """Remove a young person's map from the area picture: they withdrew their agreement (issue 21)."""
    from app.db import audit
    from app.db.safety_maps import delete_map
    from app.db.session import Database

    number = reference.strip().upper().removeprefix("SM-")
    if not number.isdigit():
        _fail(f"{reference}: a reference is SM- and a number, like SM-12")
    database = Database(settings())
    try:
        with database.owner_session() as session:
            org_id = accounts.organisation_id(session, org)
            if not delete_map(session, org_id, int(number)):
                _fail(f"no safety map {reference} in {org}")
            audit.record(session, organisation_id=org_id, user_id=None, action="safety_map.withdraw",
                         resource=f"safety_map:{int(number)}", detail={"via": "cli"})
    except ContextmapError as exc:
        _fail(exc.detail)
        return
    finally:
        database.dispose()
    print(f"Safety map SM-{int(number)} removed from the area picture of {org}")


def main() -> None:
    try:
        cli()
    except BootstrapError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()

