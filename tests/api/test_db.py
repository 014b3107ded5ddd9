"""The Alembic migration matches the SQLAlchemy models and can be run twice."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from nlpops.serve.db import Base, Store, migrate


def test_migration_matches_the_models(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(store.engine)
    migrate(store.engine)  # idempotent: already at head
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert set(inspect(store.engine).get_table_names()) == {
        "alembic_version",
        "predictions",
        "feedback",
        "alerts",
    }
    store.close()


def test_store_check_migrates_once_the_database_answers(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'late.db'}")
    assert not store.migrated
    assert store.check() is None
    assert store.migrated
    store.close()
