"""Print the table of every ``NLPOPS_*`` setting (name, type, default, what it does) in Markdown.

Usage: ``python scripts/settings_table.py`` — ``docs/operations.md`` holds its output between the
``settings-table`` markers, and ``tests/code/test_delivery.py`` checks that they agree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, get_args

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nlpops.settings import Settings

# For the fields declared without a description in settings.py.
WHAT = {
    "max_text_chars": "Longest text accepted by /v1/predict and /v1/explain (413 beyond).",
    "max_batch": "Most texts in one /v1/predict request (413 beyond).",
    "explain_samples": "LIME perturbations per /v1/explain call (more: steadier, slower).",
    "alert_min_incorrect": "Incorrect-feedback count that fires the feedback alert...",
    "alert_window_min": "...within this many minutes.",
    "alert_cooldown_min": "Minutes before the same alert may fire again.",
    "alert_webhook_url": "POST alerts as JSON {subject, message} to this URL (e.g. a Slack/Teams relay).",
    "smtp_host": "Send alerts by e-mail through this SMTP server.",
    "smtp_port": "Port of the SMTP server.",
    "smtp_sender": "From: address of the alert e-mails.",
    "alert_emails": "Recipients of the alert e-mails (JSON list).",
}


def _type_name(annotation: Any) -> str:
    text = str(annotation) if get_args(annotation) else getattr(annotation, "__name__", str(annotation))
    return text.replace("typing.", "").replace("pathlib.", "").replace("NoneType", "None").replace("|", "\\|")


def settings_table() -> str:
    """The Markdown table of :class:`nlpops.settings.Settings`, one row per field, in class order."""
    lines = ["| variable | type | default | what |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        shown = "" if default is None else f"`{default}`"
        what = field.description or WHAT.get(name, "")
        lines.append(f"| `NLPOPS_{name.upper()}` | {_type_name(field.annotation)} | {shown} | {what} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_table())
