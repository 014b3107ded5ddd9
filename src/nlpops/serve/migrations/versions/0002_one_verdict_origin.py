"""One verdict per prediction (the last one wins), who gave it, and where a prediction came from.

Feedback rows used to pile up (false, then true, then true with a label: three rows counted three
times). Keep the latest row of each prediction, make ``prediction_id`` unique, and record the
verdict's ``source`` (``user``: the page's thumbs; ``review``: the review queue). Predictions get an
``origin`` (``live``, or ``batch`` for an uploaded CSV) so batch scoring can be left out of the
live figures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Deduplicate the verdicts, then add the unique index and the two columns."""
    op.execute(
        "DELETE FROM feedback WHERE EXISTS (SELECT 1 FROM feedback AS later "
        "WHERE later.prediction_id = feedback.prediction_id AND (later.created_at > feedback.created_at "
        "OR (later.created_at = feedback.created_at AND later.id > feedback.id)))"
    )
    op.drop_index("ix_feedback_prediction_id", table_name="feedback")
    op.create_index("ux_feedback_prediction_id", "feedback", ["prediction_id"], unique=True)
    op.add_column("feedback", sa.Column("source", sa.String(20), nullable=False, server_default="user"))
    op.add_column("predictions", sa.Column("origin", sa.String(20), nullable=False, server_default="live"))


def downgrade() -> None:
    """Drop the columns and the uniqueness (the removed duplicates stay removed)."""
    op.drop_column("predictions", "origin")
    op.drop_column("feedback", "source")
    op.drop_index("ux_feedback_prediction_id", table_name="feedback")
    op.create_index("ix_feedback_prediction_id", "feedback", ["prediction_id"])
