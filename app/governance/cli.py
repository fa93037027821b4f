"""``contextmap docs``: write the governance documents that are generated from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.db.bootstrap import PROJECT_ROOT

docs_cli = typer.Typer(help="Governance documents generated from the code (data inventory, accessibility).",
                       no_args_is_help=True)
INVENTORY_FILE = PROJECT_ROOT / "docs" / "data-inventory.md"


@docs_cli.command("data-inventory")
def data_inventory(
    output: Annotated[Path, typer.Option(help="the Markdown inventory")] = INVENTORY_FILE,
    csv: Annotated[Path | None, typer.Option("--csv", help="also write one CSV line per column")] = None,
    json: Annotated[Path | None, typer.Option("--json", help="also write the inventory as JSON")] = None,
    check_only: Annotated[bool, typer.Option("--check", help="write nothing; fail if the file is not current")]
    = False,
) -> None:
    """Every table and column of the migrated database: what it holds, whose data, who reads it, how long."""
    from sqlalchemy.exc import OperationalError

    from app.cli import settings
    from app.db.session import Database
    from app.governance.schema import check, read_schema, render_csv, render_json, render_markdown

    config = settings()
    database = Database(config)
    try:
        with database.owner_session() as session:
            live = read_schema(session, config.app_db_role)
    except OperationalError as exc:
        typer.echo(f"error: cannot read the database schema ({exc.orig}); run `contextmap db ensure` first", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    if live.revision is None:
        typer.echo("error: the database has not been migrated; run `contextmap migrate` first", err=True)
        raise typer.Exit(2)
    findings = check(live)
    if findings:
        typer.echo(findings.message(), err=True)
        raise typer.Exit(1)
    markdown = render_markdown(live, config)
    if check_only:
        if not output.is_file() or output.read_text() != markdown:
            typer.echo(f"{output} is not current: run `contextmap docs data-inventory`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    written = [output]
    if csv is not None:
        csv.write_text(render_csv(live, config))
        written.append(csv)
    if json is not None:
        json.write_text(render_json(live, config))
        written.append(json)
    typer.echo(f"{len(live.tables)} tables (schema revision {live.revision}) -> {', '.join(map(str, written))}")


@docs_cli.command("accessibility")
def accessibility_results(
    results: Annotated[Path, typer.Option(help="the browser tests' axe results (one JSON file per page)")]
    = PROJECT_ROOT / "test-artifacts" / "axe",
    output: Annotated[Path, typer.Option(help="the results the /accessibility page is built from")]
    = PROJECT_ROOT / "docs" / "accessibility-results.json",
) -> None:
    """Turn the last browser-test run's axe results into the accessibility statement's results file."""
    from app.governance.accessibility import collect, failures, write_results

    try:
        document = collect(results)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    write_results(document, output)
    undated = [f.key for f in failures(document) if f.fix_by is None]
    typer.echo(f"{len(document['pages'])} page(s) checked at {document['checked_at']} -> {output}")
    if undated:
        typer.echo(f"axe failures with no fix date in app/governance/accessibility.py: {', '.join(undated)}",
                   err=True)
