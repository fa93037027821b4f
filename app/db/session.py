"""Engines and sessions. Every web request runs in a session scoped to one organisation: the
organisation id is set per transaction, and PostgreSQL row-level security does the rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.settings import Settings

ORG_SETTING = "contextmap.organisation_id"


class Database:
    """Owns the two engines: the owner's (migrations, CLI) and the service role's (web requests)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        # No server-side prepared statements: after five runs PostgreSQL may switch a prepared analysis
        # query to a generic plan that ignores the actual bbox and time window (measured 3x slower).
        self.app_engine: Engine = create_engine(
            settings.app_url, pool_size=10, max_overflow=10, pool_pre_ping=True,
            connect_args={"prepare_threshold": None},
        )
        self._owner_engine: Engine | None = None
        self._app_sessions = sessionmaker(self.app_engine, expire_on_commit=False)

    @property
    def owner_engine(self) -> Engine:
        if self._owner_engine is None:
            self._owner_engine = create_engine(self.settings.owner_url, pool_pre_ping=True)
        return self._owner_engine

    def tenant_session(self, organisation_id: int | None) -> Session:
        session = self._app_sessions()
        session.info["organisation_id"] = organisation_id
        return session

    @contextmanager
    def owner_session(self) -> Iterator[Session]:
        with Session(self.owner_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.app_engine.dispose()
        if self._owner_engine is not None:
            self._owner_engine.dispose()


@event.listens_for(Session, "after_begin")
def _scope_transaction_to_organisation(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    # is_local => true: the setting dies with the transaction, so a pooled connection never carries one
    # organisation's scope into another request.
    organisation_id = session.info.get("organisation_id")
    connection.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": ORG_SETTING, "value": "" if organisation_id is None else str(organisation_id)},
    )
