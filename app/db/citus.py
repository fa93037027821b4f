"""Citus, the distributed PostgreSQL: spread each organisation's rows over the workers (issue 19).

``contextmap migrate`` calls :func:`distribute` after the migrations. On a database without the ``citus``
extension it does nothing, so the single-node default is untouched. With it (and at least one worker):

- ``organisations``, ``users`` and ``api_tokens`` become reference tables (replicated to every node: sign-in
  and token checks happen before the organisation is known, and the e-mail and token hash are unique
  across organisations);
- every other table with an ``organisation_id`` column is distributed by it, all colocated, so an
  organisation's places, incidents and designations live in one shard group and its queries route to one
  worker; referenced tables are distributed before the tables that refer to them;
- tables with no organisation (the sign-in throttle, unattributed audit rows, Alembic's version) stay on
  the coordinator as plain tables;
- the database makes ``SET LOCAL`` travel to the workers (``citus.propagate_set_commands = 'local'``): the
  row-level-security setting is set that way (app.db.session), so the policies hold on every shard;
- the monthly cell-count aggregate is kept by a row trigger on every shard instead of 0013's statement
  triggers (app.db.aggregates);
- the service role is created on the workers, and PostGIS's ``&&`` is marked LEAKPROOF there too (0004 set
  it on the coordinator only; the shards' spatial indexes need it under row-level security).

Everything is idempotent: tables added by a later migration are distributed by the next ``migrate``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from app.db import aggregates

REFERENCE_TABLES = ("organisations", "users", "api_tokens")
DISTRIBUTION_COLUMN = "organisation_id"
# Each organisation's rows of every table share a shard group: joins on (organisation_id, x_id) stay local.
COLOCATE_WITH = "places"


def is_citus(connection: Connection) -> bool:
    return connection.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")).scalar_one() > 0


def _worker_count(connection: Connection) -> int:
    return int(connection.execute(text(
        "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive AND groupid <> 0"
    )).scalar_one())


def _already(connection: Connection) -> set[str]:
    return set(connection.execute(text(
        "SELECT logicalrelid::regclass::text FROM pg_dist_partition"
    )).scalars())


def _tenant_tables(connection: Connection) -> list[str]:
    return list(connection.execute(text(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = :col AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname
        """
    ), {"col": DISTRIBUTION_COLUMN}).scalars())


def _in_reference_order(connection: Connection, tables: Iterable[str]) -> list[str]:
    """Tables ordered so each comes after every table it has a foreign key to (Citus needs the target first)."""
    pending = list(tables)
    edges = connection.execute(text(
        """
        SELECT c.relname, r.relname FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
        WHERE con.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND c.oid <> r.oid
        """
    )).all()
    needs = {t: {r for (c, r) in edges if c == t and r in pending} for t in pending}
    ordered: list[str] = []
    while pending:
        ready = [t for t in pending if needs[t] <= set(ordered)]
        if not ready:  # a cycle: let Citus say what it refuses
            ready = pending[:1]
        for table in ready:
            ordered.append(table)
            pending.remove(table)
    return ordered


def distribute(connection: Connection, app_role: str) -> list[str]:
    """Make the schema distributed (see the module docstring); returns the tables changed now."""
    if not is_citus(connection) or _worker_count(connection) == 0:
        return []
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    # Triggers on distributed tables (the audit stamp, 0007) run on the shards: Citus asks for consent.
    connection.execute(text("SET LOCAL citus.enable_unsafe_triggers = on"))
    connection.execute(text("SET LOCAL citus.multi_shard_modify_mode = 'sequential'"))
    for setting, value in (("citus.propagate_set_commands", "local"), ("citus.enable_unsafe_triggers", "on")):
        connection.execute(text(f'ALTER DATABASE "{database}" SET {setting} = \'{value}\''))
    _prepare_workers(connection, app_role)
    # The monthly cell-count aggregate (0013) is kept by statement triggers with transition tables, which
    # Citus cannot run on shards ("executor could not find named tuplestore"): they are replaced by a row
    # trigger on every shard after the tables are distributed (app.db.aggregates.row_trigger_sql).
    for name in aggregates.STATEMENT_TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON incidents"))
    # The analysis data versions (0016) use the same kind of statement triggers and have no per-shard
    # replacement yet: on Citus they are dropped and the analysis cache is off (app.db.data_versions.kept).
    for table in ("incidents", "places", "interventions", "organisations"):
        for verb in ("insert", "update", "delete", "truncate"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS analysis_data_versions_{verb} ON {table}"))

    done = _already(connection)
    changed: list[str] = []
    for table in REFERENCE_TABLES:
        if table not in done:
            connection.execute(text("SELECT create_reference_table(:t)"), {"t": table})
            changed.append(table)
    tenant = [t for t in _tenant_tables(connection) if t not in REFERENCE_TABLES]
    ordered = _in_reference_order(connection, tenant)
    if COLOCATE_WITH in ordered:  # the colocation group's first table
        ordered.remove(COLOCATE_WITH)
        ordered.insert(0, COLOCATE_WITH)
    # Citus distributes neither side of a foreign key between two local tables: such keys are dropped,
    # the tables distributed, and the keys put back (they now hold within each shard group).
    pending = [t for t in ordered if t not in done]
    keys = connection.execute(text(
        """
        SELECT c.relname AS tbl, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
        WHERE con.contype = 'f' AND c.relnamespace = 'public'::regnamespace
          AND (c.relname = ANY(:p) OR r.relname = ANY(:p)) AND r.relname <> ALL(:ref)
        """
    ), {"p": pending, "ref": list(REFERENCE_TABLES)}).all()
    for key in keys:
        connection.execute(text(f'ALTER TABLE "{key.tbl}" DROP CONSTRAINT "{key.name}"'))
    for table in ordered:
        if table in done:
            continue
        if table == COLOCATE_WITH or COLOCATE_WITH not in (done | set(changed)):
            connection.execute(text("SELECT create_distributed_table(:t, :c)"),
                               {"t": table, "c": DISTRIBUTION_COLUMN})
        else:
            connection.execute(text("SELECT create_distributed_table(:t, :c, colocate_with => :w)"),
                               {"t": table, "c": DISTRIBUTION_COLUMN, "w": COLOCATE_WITH})
        changed.append(table)
    for key in keys:
        connection.execute(text(f'ALTER TABLE "{key.tbl}" ADD CONSTRAINT "{key.name}" {key.definition}'))
    keep_aggregate(connection)
    return changed


def keep_aggregate(connection: Connection) -> None:
    """The aggregate's row trigger on the distributed ``incidents`` (replaced, so a new definition takes)."""
    function, revoke, trigger = aggregates.row_trigger_sql()
    connection.execute(text(function))
    connection.execute(text(revoke))
    connection.execute(text(f"DROP TRIGGER IF EXISTS {aggregates.ROW_TRIGGER} ON incidents"))
    connection.execute(text(trigger))


def grant_columns_on_shards(connection: Connection) -> None:
    """Column privileges (the service may insert only some audit columns, 0007; update only an organisation's
    name and area, 0011) are not copied to the shards by Citus: grant them on every placement. Idempotent.
    Run after :func:`distribute` has committed (run_command_on_placements uses connections of its own)."""
    if not is_citus(connection) or _worker_count(connection) == 0:
        return
    grants = connection.execute(text(
        """
        SELECT c.relname AS tbl, acl.privilege_type AS privilege, r.rolname AS grantee,
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS columns
        FROM pg_dist_partition d JOIN pg_class c ON c.oid = d.logicalrelid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attacl IS NOT NULL
        CROSS JOIN LATERAL aclexplode(a.attacl) AS acl JOIN pg_roles r ON r.oid = acl.grantee
        GROUP BY c.relname, acl.privilege_type, r.rolname
        """
    )).all()
    for grant in grants:
        columns = grant.columns
        if grant.privilege == "INSERT":
            # The coordinator checks the column privileges on the distributed table, then evaluates the
            # defaults (the id's nextval, the audit row's at) itself and sends them to the shard as values.
            defaults = connection.execute(text(
                "SELECT string_agg(quote_ident(attname), ', ') FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
                "AND atthasdef AND attgenerated = '' AND NOT attisdropped"), {"t": grant.tbl}).scalar()
            columns = ", ".join(filter(None, (columns, defaults)))
        command = f'GRANT {grant.privilege} ({columns}) ON %s TO "{grant.grantee}"'
        failed = connection.execute(text(
            "SELECT nodename, nodeport, result FROM run_command_on_placements(:t, :c) WHERE NOT success"
        ), {"t": grant.tbl, "c": command}).all()
        if failed:
            raise RuntimeError(f"granting {grant.privilege} on the shards of {grant.tbl} failed: {failed[0].result}")


def _prepare_workers(connection: Connection, app_role: str) -> None:
    """The service role exists on every worker (the coordinator connects to the shards as it), and PostGIS's
    ``&&`` is LEAKPROOF there as 0004 made it on the coordinator."""
    create_role = (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app_role}') THEN "
        f"CREATE ROLE {app_role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; END IF; END $$"
    )
    for command in (create_role, "ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF"):
        # A worker with the cluster's metadata refuses DDL meant to be propagated from the coordinator:
        # these are node-local facts, so the propagation is off for this one command.
        command = f"SET citus.enable_ddl_propagation TO off; {command}"
        results = connection.execute(text("SELECT nodename, nodeport, success, result "
                                          "FROM run_command_on_workers(:c)"), {"c": command}).all()
        failed = [f"{r.nodename}:{r.nodeport}: {r.result}" for r in results if not r.success]
        if failed:
            raise RuntimeError(f"on the Citus workers, {command!r} failed: {'; '.join(failed)}")
