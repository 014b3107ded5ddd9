"""Alembic environment for the serving store.

Used two ways: programmatically by :func:`nlpops.serve.db.migrate` (which hands over an open
connection) and from the command line (``alembic upgrade head`` in the repo root), where the
URL comes from ``-x url=...``, ``sqlalchemy.url`` in ``alembic.ini`` or ``NLPOPS_DATABASE_URL``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from nlpops.serve.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from nlpops.settings import Settings

    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or Settings().database_url
    )


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection we were given, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if config.config_file_name is not None:  # CLI use: let alembic.ini configure logging
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
