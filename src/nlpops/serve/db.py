"""The serving store: predictions, their feedback and fired alerts (SQLAlchemy 2.0).

The schema is owned by Alembic (``serve/migrations``); :func:`migrate` upgrades any database
(SQLite in tests, PostgreSQL in production) to the head revision at startup.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Insert,
    String,
    Table,
    Text,
    case,
    create_engine,
    event,
    func,
    make_url,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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
    origin: Mapped[str] = mapped_column(String(20), default="live", server_default="live")


class Feedback(Base):
    """The verdict on a prediction, with the right label when given: one per prediction, the last
    one given wins (``source``: ``user`` from the page, ``review`` from the review queue)."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ux_feedback_prediction_id", "prediction_id", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    prediction_id: Mapped[str] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"))
    correct: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(20), default="user", server_default="user")


def upsert_verdict(
    session: Session, prediction_id: str, correct: bool, label: str | None, source: str
) -> Feedback:
    """Store the verdict on ``prediction_id``, replacing an earlier one (committed; returns the row)."""
    values = {
        "id": new_id(),
        "prediction_id": prediction_id,
        "correct": correct,
        "label": label,
        "created_at": utcnow(),
        "source": source,
    }
    table = cast(Table, Feedback.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    replace = {k: insert.excluded[k] for k in ("correct", "label", "created_at", "source")}
    statement = insert.values(values).on_conflict_do_update(index_elements=["prediction_id"], set_=replace)
    session.execute(statement)
    session.commit()
    feedback = session.scalars(select(Feedback).where(Feedback.prediction_id == prediction_id)).one()
    return feedback


class Alert(Base):
    """An alert the feedback rule fired."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    rule: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    incorrect_count: Mapped[int]
    window_min: Mapped[float] = mapped_column(Float)


CONNECT_TIMEOUT_S = 2  # libpq's smallest
STATEMENT_TIMEOUT_MS = 5000


def make_engine(url: str) -> Engine:
    """An engine that survives database restarts (``pool_pre_ping``) and fails fast when it is down
    or stalls: a connect timeout, a statement timeout on the server, and a short wait for a pooled
    connection (a hung server holds its connections; the requests behind them must not queue up)."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False  # sessions are used from the threadpool
        connect_args["timeout"] = 2.0  # SQLite's busy wait for the write lock
    elif url.startswith("postgresql"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        given = make_url(url).query.get("options", "")  # e.g. a search_path: kept
        given = " ".join(given) if isinstance(given, tuple) else given
        connect_args["options"] = f"{given} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
    pool_args: dict[str, Any] = {} if url.startswith("sqlite") else {"pool_timeout": 2}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool_args)
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


def insert_ignoring_duplicates(engine: Engine) -> Insert:
    """``INSERT INTO predictions`` that skips rows whose id is stored already, so that replaying
    the spool (``serve/spool.py``) stores each row once."""
    table = cast(Table, Prediction.__table__)
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["id"])
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["id"])
    return table.insert()  # elsewhere a duplicate is refused alone, row by row (serve/writer.py)


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
        self.insert_predictions = insert_ignoring_duplicates(self.engine)

    def check(self) -> str | None:
        """Ping (and migrate if not done yet); returns why the database is unusable, or None."""
        try:
            ping(self.engine)
            if not self.migrated:
                migrate(self.engine)
                self.migrated = True
        except Exception as err:
            # The reason goes to the log only: it names the host, the port and the user.
            log.warning("database %s unusable: %s", self.engine.url.render_as_string(), err)
            return f"database unreachable ({type(err).__name__}; the server log has the details)"
        return None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# --- dashboard aggregates (GET /v1/stats) -----------------------------------------------------
class hour_of(FunctionElement[str]):  # noqa: N801 - a SQL function, named like one
    """The UTC hour of a timestamp as text ``YYYY-MM-DDTHH:00``, compiled per dialect.

    SQLite has no ``date_trunc`` and PostgreSQL no ``strftime``; both give the same text, so the
    grouping and its parsing are one code path.
    """

    type = String()
    name = "hour_of"
    inherit_cache = True


@compiles(hour_of)
def _hour_of_postgresql(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz -> UTC wall time first, whatever the session's TimeZone is
    return (
        f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00')"
    )


@compiles(hour_of, "sqlite")
def _hour_of_sqlite(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%dT%H:00', {compiler.process(element.clauses, **kw)})"


def predictions_by_hour(
    session: Session, since: datetime, until: datetime, include_batch: bool = True
) -> list[tuple[str, str, int]]:
    """Count the predictions made in ``[since, until)`` per UTC hour and label: (hour, label, count);
    without ``include_batch``, those of uploaded files are left out."""
    hour = hour_of(Prediction.created_at)
    query = (
        select(hour, Prediction.label, func.count())
        .where(Prediction.created_at >= since, Prediction.created_at < until)
        .group_by(hour, Prediction.label)
    )
    if not include_batch:
        query = query.where(Prediction.origin == "live")
    return [(str(h), str(label), int(n)) for h, label, n in session.execute(query).tuples()]


def feedback_by_hour(
    session: Session, since: datetime, until: datetime, include_batch: bool = True
) -> list[tuple[str, int, int]]:
    """Count the feedback given in ``[since, until)`` per UTC hour: (hour, total, correct); without
    ``include_batch``, the verdicts on predictions of uploaded files are left out, as those predictions
    are from :func:`predictions_by_hour`."""
    hour = hour_of(Feedback.created_at)
    correct = func.sum(case((Feedback.correct, 1), else_=0))
    query = (
        select(hour, func.count(), correct)
        .where(Feedback.created_at >= since, Feedback.created_at < until)
        .group_by(hour)
    )
    if not include_batch:
        query = query.join(Prediction, Prediction.id == Feedback.prediction_id).where(
            Prediction.origin == "live"
        )
    return [(str(h), int(n), int(ok or 0)) for h, n, ok in session.execute(query).tuples()]


def alerts_between(session: Session, since: datetime, until: datetime, limit: int = 50) -> list[Alert]:
    """The alerts fired in ``[since, until)``, newest first."""
    query = (
        select(Alert)
        .where(Alert.created_at >= since, Alert.created_at < until)
        .order_by(Alert.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
