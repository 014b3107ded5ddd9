"""The serving store: predictions, their feedback and fired alerts (SQLAlchemy 2.0).

The schema is owned by Alembic (``serve/migrations``); :func:`migrate` upgrades any database
(SQLite in tests, PostgreSQL in production) to the head revision at startup.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware now, the default of every ``created_at``."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random UUID as a string (portable across SQLite and PostgreSQL)."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base of the serving tables."""


class Prediction(Base):
    """One text the API classified; ``text`` is NULL when ``store_text`` is off."""

    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(200))
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON)
    model_name: Mapped[str] = mapped_column(String(300))
    model_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)


class Feedback(Base):
    """A user's verdict on a prediction, with the right label when they give it."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    prediction_id: Mapped[str] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"), index=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Alert(Base):
    """An alert the feedback rule fired."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    rule: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    incorrect_count: Mapped[int]
    window_min: Mapped[float] = mapped_column(Float)


def make_engine(url: str) -> Engine:
    """An engine that survives database restarts (``pool_pre_ping``) and fails fast when it is down."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False  # sessions are used from the threadpool
    elif url.startswith("postgresql"):
        connect_args["connect_timeout"] = 3
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if url.startswith("sqlite") and ":memory:" not in url and url.rstrip("/") not in ("sqlite:", "sqlite:/"):
        event.listen(engine, "connect", _sqlite_wal)
    return engine


def _sqlite_wal(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL journal, fsync at checkpoints only, so the commit of every ``POST /v1/predict`` skips the
    rollback journal's fsyncs under the single writer lock (docs/benchmarks.md, issue 4).

    ``synchronous=NORMAL`` in WAL mode stays consistent; a power loss may drop the last commits.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (responses are built from them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Run ``SELECT 1``; raises the driver's error when the database is unreachable."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """The engine, its session factory and whether the schema is migrated.

    A database that is down at startup does not stop the service: :meth:`check` (called by
    ``/ready``) migrates it as soon as it answers.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.session_factory = make_session_factory(self.engine)
        self.migrated = False

    def check(self) -> str | None:
        """Ping (and migrate if not done yet); returns why the database is unusable, or None."""
        try:
            ping(self.engine)
            if not self.migrated:
                migrate(self.engine)
                self.migrated = True
        except Exception as err:
            log.warning("database %s unusable: %s", self.engine.url.render_as_string(), err)
            return f"database unreachable: {type(err).__name__}: {str(err).splitlines()[0]}"
        return None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
