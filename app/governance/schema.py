"""The data inventory, built from the live schema: columns, row-level security, grants and cascades as the
migrations left them in PostgreSQL, joined with the descriptions of :mod:`app.governance.inventory`.

Reading the catalogue (not the ORM models) means the inventory shows what is really there, including
what only migrations declare: row-level-security policies, the service role's grants and ``ON DELETE``
rules. Output is deterministic (no timestamps) so the committed ``docs/data-inventory.md`` can be
checked for being current.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.db import catalog
from app.governance.inventory import NOT_SHOWN, NOWHERE, TABLES, Table, describes
from app.settings import Settings
from geo.vocabulary import ROLES

# The expression every migration uses for "the request's organisation" (set per transaction).
_CURRENT_ORG = re.compile(r"current_setting\('contextmap\.organisation_id'")


@dataclass(frozen=True)
class Policy:
    name: str
    command: str
    roles: list[str]
    using: str | None
    check: str | None

    @property
    def summary(self) -> str:
        def say(expression: str | None) -> str:
            if expression is None:
                return "any row"
            if _CURRENT_ORG.search(expression):
                nullable = " (or none, before sign-in)" if "IS NOT DISTINCT FROM" in expression else ""
                return f"rows of the signed-in user's organisation{nullable}"
            return f"`{expression}`"

        parts = []
        if self.command in ("ALL", "SELECT", "UPDATE", "DELETE"):
            parts.append(f"reads {say(self.using)}")
        if self.command in ("ALL", "INSERT", "UPDATE"):
            parts.append(f"writes {say(self.check if self.check is not None else self.using)}")
        return f"{self.name} ({self.command}): " + "; ".join(parts)


@dataclass
class LiveTable:
    name: str
    columns: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, type, generated)
    rls: bool = False
    privileges: list[str] = field(default_factory=list)  # of the web service's role
    deleted_with_organisation: bool = False
    policies: list[Policy] = field(default_factory=list)


@dataclass(frozen=True)
class LiveSchema:
    tables: dict[str, LiveTable]
    revision: str | None
    service_role: str


def read_schema(session: Session, service_role: str, schema: str = "public") -> LiveSchema:
    """The tables, columns, policies and grants in ``schema`` (run as the owner: it sees every table)."""
    tables: dict[str, LiveTable] = {}
    for row in catalog.columns(session, schema):
        tables.setdefault(row.table_name, LiveTable(row.table_name)).columns.append(
            (row.column_name, row.type, row.generated))
    for row in catalog.tables(session, schema, service_role):
        if row.table_name in tables:
            live = tables[row.table_name]
            live.rls, live.privileges = row.rls, list(row.privileges)
            live.deleted_with_organisation = row.deleted_with_organisation
    for row in catalog.policies(session, schema):
        if row.table_name in tables:
            tables[row.table_name].policies.append(Policy(row.name, row.cmd, list(row.roles), row.qual,
                                                          row.with_check))
    revision = None
    if "alembic_version" in tables:
        revision = catalog.revision(session, schema)
    return LiveSchema(dict(sorted(tables.items())), revision, service_role)


@dataclass(frozen=True)
class Findings:
    """What the descriptions and the schema disagree on; empty when the inventory is complete."""

    undescribed_tables: list[str]
    undescribed_columns: list[str]  # "table.column"
    stale: list[str]  # described, but not in the schema

    def __bool__(self) -> bool:
        return bool(self.undescribed_tables or self.undescribed_columns or self.stale)

    def message(self) -> str:
        lines = []
        if self.undescribed_tables:
            lines.append(f"tables with no description: {', '.join(self.undescribed_tables)}")
        if self.undescribed_columns:
            lines.append(f"columns with no description: {', '.join(self.undescribed_columns)}")
        if self.stale:
            lines.append(f"descriptions of tables or columns that do not exist: {', '.join(self.stale)}")
        lines.append("Describe them in app/governance/inventory.py, then run `contextmap docs data-inventory`.")
        return "\n".join(lines)


def check(live: LiveSchema) -> Findings:
    undescribed_tables = [name for name in live.tables if name not in TABLES]
    undescribed_columns = [f"{t.name}.{column}" for t in live.tables.values() if t.name in TABLES
                           for column, _, _ in t.columns if describes(t.name, column) is None]
    stale = [name for name in TABLES if name not in live.tables]
    for name, table in TABLES.items():
        if name in live.tables:
            present = {column for column, _, _ in live.tables[name].columns}
            stale += [f"{name}.{column}" for column in table.columns if column not in present]
    return Findings(undescribed_tables, undescribed_columns, stale)


# ---- rendering ------------------------------------------------------------------------------------------------
def _roles(table: Table) -> list[dict[str, Any]]:
    return [{"gate": access.gate.name, "roles": [r for r in ROLES if access.gate.allows(r)], "what": access.what}
            for access in table.readers]


def inventory_rows(live: LiveSchema, settings: Settings) -> list[dict[str, Any]]:
    """One record per table, with its columns: the data behind every output format."""
    values = settings.model_dump()
    rows = []
    for name, live_table in live.tables.items():
        table = TABLES.get(name)
        if table is None:
            continue
        readers = _roles(table)
        panel_reads = any("panel" in r["roles"] for r in readers)
        columns = []
        for column, type_, generated in live_table.columns:
            described = describes(name, column)
            if described is None:
                continue
            flows = list(described.flows or table.flows)
            # What a panel member sees: nothing of a table no panel route reads, or of a column that stays
            # inside the database; otherwise the column's own rule (free text withheld, incidents aggregated).
            panel = described.panel if panel_reads and flows != [NOWHERE] else NOT_SHOWN
            columns.append({"column": column, "type": type_ + (" (generated)" if generated else ""),
                            **asdict(described), "panel": panel, "flows": flows})
        rows.append({
            "table": name, "purpose": table.purpose, "subjects": table.subjects, "readers": readers,
            "row_level_security": live_table.rls, "policies": [p.summary for p in live_table.policies],
            "service_role_privileges": live_table.privileges,
            "deleted_with_organisation": live_table.deleted_with_organisation,
            "retention": table.retention.format(**values), "flows": list(table.flows), "columns": columns,
        })
    return rows


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(live: LiveSchema, settings: Settings) -> str:
    rows = inventory_rows(live, settings)
    out = [
        "# Data inventory",
        "",
        "<!-- Generated by `contextmap docs data-inventory` from the migrated schema and "
        "app/governance/inventory.py. Do not edit by hand: tests/db/test_data_inventory.py fails when it is "
        "not current. -->",
        "",
        f"Schema revision **{live.revision or 'unknown'}**; the web service connects as the database role "
        f"`{live.service_role}`. Retention values are this deployment's settings (defaults: "
        "`app/settings.py`). For the records of processing (UK GDPR Art. 30) and the DPIA "
        "([dpia.md](dpia.md)).",
        "",
        "contextmap stores **no names, dates of birth or case numbers of young people** (by design). "
        "Incident rows are still treated as personal data about young people: a time, a place and a harm "
        "category can single someone out to a reader who knows more. Free-text fields must never identify "
        "a young person (organisation policy; DPIA risk R3).",
        "",
        "Roles: " + ", ".join(f"`{r}`" for r in ROLES) + ". Panel members never see individual incidents or "
        f"free text; counts they see are suppressed from 1 to {settings.suppress_max} and rounded to the "
        f"nearest {settings.round_to} on a fixed grid and calendar months (an organisation's admin may set stricter "
        "thresholds for their organisation, never looser).",
        "",
        "## Summary",
        "",
        "| table | whose data | row-level security | readers (role gate) | retention |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        readers = "; ".join(f"{', '.join(r['roles'])} (`{r['gate']}`)" for r in row["readers"]) or "owner only"
        rls = "yes" if row["row_level_security"] else "no"
        out.append(f"| `{row['table']}` | {_cell(row['subjects'])} | {rls} | {_cell(readers)} "
                   f"| {_cell(row['retention'])} |")
    for row in rows:
        privileges = ", ".join(row["service_role_privileges"]) or "none (owner only)"
        out += [
            "",
            f"## `{row['table']}`",
            "",
            row["purpose"],
            "",
            f"- **Whose data**: {row['subjects']}",
            "- **Who can read it**: " + ("; ".join(
                f"{r['what']}: {', '.join(r['roles'])} (gate `{r['gate']}`)" for r in row["readers"])
                or "no role in the application"),
            f"- **Row-level security**: {'enabled' if row['row_level_security'] else 'not enabled'}"
            + (": " + "; ".join(row["policies"]) if row["policies"] else ""),
            f"- **Web service role's privileges**: {privileges}",
            f"- **Kept**: {row['retention']}",
            f"- **Deleted with its organisation**: {'yes' if row['deleted_with_organisation'] else 'no'}",
            f"- **Where it goes**: {', '.join(row['flows'])}",
            "",
            "| column | type | holds | personal data | special category / criminal offence | panel sees "
            "| where it goes |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in row["columns"]:
            flows = "same as table" if c["flows"] == row["flows"] else ", ".join(c["flows"])
            out.append(f"| `{c['column']}` | {_cell(c['type'])} | {_cell(c['holds'])} | {_cell(c['personal'])} "
                       f"| {_cell(c['sensitive']) or '—'} | {_cell(c['panel'])} | {_cell(flows)} |")
    return "\n".join(out) + "\n"


CSV_FIELDS = ("table", "column", "type", "holds", "personal", "sensitive", "panel", "flows", "readers",
              "row_level_security", "policies", "service_role_privileges", "retention", "deleted_with_organisation")


def render_csv(live: LiveSchema, settings: Settings) -> str:
    """One line per column, with its table's access and retention repeated (for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in inventory_rows(live, settings):
        readers = "; ".join(f"{r['what']}: {' '.join(r['roles'])}" for r in row["readers"])
        for c in row["columns"]:
            writer.writerow({
                "table": row["table"], "column": c["column"], "type": c["type"], "holds": c["holds"],
                "personal": c["personal"], "sensitive": c["sensitive"], "panel": c["panel"],
                "flows": "; ".join(c["flows"]), "readers": readers, "row_level_security": row["row_level_security"],
                "policies": "; ".join(row["policies"]),
                "service_role_privileges": " ".join(row["service_role_privileges"]),
                "retention": row["retention"], "deleted_with_organisation": row["deleted_with_organisation"],
            })
    return buffer.getvalue()


def render_json(live: LiveSchema, settings: Settings) -> str:
    document = {"revision": live.revision, "service_role": live.service_role,
                "tables": inventory_rows(live, settings)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


__all__ = ["Findings", "LiveSchema", "check", "read_schema", "render_csv", "render_json",
           "render_markdown"]
