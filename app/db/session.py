"""Engines and sessions. Every web request runs in a session scoped to one organisation: the
organisation id is set per transaction, and PostgreSQL row-level security does the rest.

Two pools per process: cheap requests and heavy analyses never wait for each other's connections
(an outside load test saw 21 heavy analyses hold every connection while cheap reads got 500s). Each
connection of the service role carries the statement, lock and idle-in-transaction timeouts and the
``work_mem`` ceiling from the settings, so no request can run or hold a transaction for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import Pool

from app.settings import Settings

ORG_SETTING = "contextmap.organisation_id"
# How SQL in app/db names "the request's organisation" (as the row-level-security policies do).
CURRENT_ORG_SQL = "NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
_BOUND_ORG = "contextmap_bound_organisation"
Lane = Literal["cheap", "heavy"]

# Which pool this request's sessions come from; the heavy-lane middleware sets "heavy".
current_lane: ContextVar[Lane] = ContextVar("contextmap_lane", default="cheap")


class InFlightConnections:
    """The database connections one request is using, so a client that leaves can cancel its queries.

    Registered while a transaction is open and unregistered before the connection goes back to the pool,
    under one lock: a cancel can never reach a connection another request has since taken.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.cancelled = False

    def add(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._connections.append(dbapi_connection)

    def discard(self, dbapi_connection: Any) -> None:
        with self._lock:
            if dbapi_connection in self._connections:
                self._connections.remove(dbapi_connection)

    def cancel(self) -> None:
        """Ask PostgreSQL to cancel whatever these connections are running (blocking: call from a thread)."""
        with self._lock:
            self.cancelled = True
            for connection in self._connections:
                try:
                    connection.cancel_safe(timeout=2.0)
                except Exception:  # noqa: S112 - a connection that is already gone has nothing to cancel
                    continue


current_connections: ContextVar[InFlightConnections | None] = ContextVar("contextmap_connections", default=None)


def _options(settings: Settings) -> str:
    """libpq ``options``: the service role's limits, set when each connection starts (no extra round trip)."""
    def ms(seconds: float) -> int:
        return max(1, int(seconds * 1000))

    return " ".join((
        f"-c statement_timeout={ms(settings.statement_timeout_seconds)}",
        f"-c lock_timeout={ms(settings.lock_timeout_seconds)}",
        f"-c idle_in_transaction_session_timeout={ms(settings.idle_in_transaction_timeout_seconds)}",
        f"-c work_mem={int(settings.work_mem_mb)}MB",
    ))


class Database:
    """Owns the engines: the owner's (migrations, CLI) and the service role's two pools (web requests)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        # No server-side prepared statements: after five runs PostgreSQL may switch a prepared analysis
        # query to a generic plan that ignores the actual bbox and time window (measured 3x slower).
        connect_args = {"prepare_threshold": None, "options": _options(settings),
                        "connect_timeout": settings.connect_timeout_seconds, "application_name": "contextmap"}
        self.app_engine: Engine = create_engine(
            settings.app_url, pool_size=settings.db_pool_size, max_overflow=0, pool_pre_ping=True,
            pool_timeout=settings.pool_timeout_seconds, connect_args=connect_args,
        )
        self.heavy_engine: Engine = create_engine(
            settings.app_url, pool_size=settings.heavy_pool_size, max_overflow=0, pool_pre_ping=True,
            pool_timeout=settings.pool_timeout_seconds,
            connect_args={**connect_args, "application_name": "contextmap-heavy"},
        )
        self._owner_engine: Engine | None = None
        self._app_sessions = sessionmaker(self.app_engine, expire_on_commit=False)
        self._heavy_sessions = sessionmaker(self.heavy_engine, expire_on_commit=False)

    @property
    def owner_engine(self) -> Engine:
        if self._owner_engine is None:
            self._owner_engine = create_engine(self.settings.owner_url, pool_pre_ping=True)
        return self._owner_engine

    def tenant_session(self, organisation_id: int | None, lane: Lane | None = None) -> Session:
        chosen = lane or current_lane.get()
        session = (self._heavy_sessions if chosen == "heavy" else self._app_sessions)()
        session.info["organisation_id"] = organisation_id
        return session

    @contextmanager
    def request_transaction(self, organisation_id: int | None, token_hash: str | None = None) -> Iterator[Session]:
        """One request's transaction: committed (or rolled back) and the connection released on exit.

        The caller exits before the response is sent, so a commit that fails is the client's error and a
        2xx always means the data are saved. While open, the connection is cancellable by the request.
        With ``token_hash`` the statement that scopes the transaction to the organisation also looks the
        credential up again (:func:`_scope_transaction_to_organisation`); the caller compares
        ``session.info["token_user"]`` with the principal it holds.
        """
        session = self.tenant_session(organisation_id)
        if token_hash is not None:
            session.info["check_token"] = token_hash
        in_flight = current_connections.get()
        try:
            with session.begin():
                dbapi = session.connection().connection.dbapi_connection
                if in_flight is not None:
                    in_flight.add(dbapi)
                try:
                    yield session
                finally:
                    if in_flight is not None:
                        in_flight.discard(dbapi)
        finally:
            session.close()

    @contextmanager
    def owner_session(self) -> Iterator[Session]:
        with Session(self.owner_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.app_engine.dispose()
        self.heavy_engine.dispose()
        if self._owner_engine is not None:
            self._owner_engine.dispose()


def allow_long_work(session: Session, seconds: float) -> None:
    """Lift this transaction's statement and idle limits to ``seconds`` (imports: a 100 MB file is parsed
    and copied for longer than an interactive request may take). SET LOCAL ends with the transaction."""
    ms = max(1, int(seconds * 1000))
    session.execute(text(f"SET LOCAL statement_timeout = {ms}"))
    session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {ms}"))


@event.listens_for(Session, "after_begin")
def _scope_transaction_to_organisation(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    # SET LOCAL: the setting dies with the transaction, so a pooled connection never carries one
    # organisation's scope into another request. SET LOCAL rather than set_config(..., true): Citus passes
    # SET LOCAL on to the workers' connections (citus.propagate_set_commands = 'local', set per database by
    # app.db.citus), so the row-level-security policies on the shards see the organisation too; set_config
    # is not passed on, and every query on the workers would return nothing. SET takes no bind parameter:
    # the value is an int rendered here.
    organisation_id = session.info.get("organisation_id")
    connection.info[_BOUND_ORG] = None if organisation_id is None else int(organisation_id)
    connection.execute(text(scope_statement(organisation_id)))
    token_hash = session.info.pop("check_token", None)
    if token_hash is not None:
        # A principal remembered from an earlier request is checked again at the start of its transaction
        # (revoked, expired, disabled or changed credentials show as no row, or another user, organisation,
        # role or disclosure thresholds).
        session.info["token_user"] = connection.execute(text(
            "SELECT u.user_id, u.organisation_id, u.role, u.kind, u.suppress_max, u.round_to "
            "FROM (SELECT 1) AS one LEFT JOIN contextmap_token_user(:h) AS u ON true"), {"h": token_hash},
        ).first()


@event.listens_for(Pool, "checkin")
def _forget_organisation(dbapi_connection: Any, connection_record: Any) -> None:
    # A connection back in the pool is no organisation's (the SET LOCAL ended with its transaction).
    if connection_record is not None:
        connection_record.info.pop(_BOUND_ORG, None)


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _bind_organisation(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                       executemany: bool) -> tuple[str, Any]:
    """Name the transaction's organisation as a constant wherever the SQL says "the current organisation".

    Same value as the setting the row-level-security policies read, so nothing changes on one PostgreSQL;
    on Citus a constant ``organisation_id = 42`` lets the planner send the query to the one shard holding
    organisation 42, where ``current_setting(...)`` would be evaluated on every shard (issue 19).
    """
    organisation_id = connection.info.get(_BOUND_ORG)
    if organisation_id is not None and CURRENT_ORG_SQL in statement:
        statement = statement.replace(CURRENT_ORG_SQL, f"{int(organisation_id)}::bigint")
    return statement, parameters


def scope_statement(organisation_id: int | None) -> str:
    """The statement that scopes a transaction to one organisation (or to none)."""
    value = "" if organisation_id is None else str(int(organisation_id))
    return f"SET LOCAL {ORG_SETTING} = '{value}'"
