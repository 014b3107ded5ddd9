"""The demand report: one bar chart (PNG) per skill category and a small HTML page."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

import pandas as pd

from nlpops.skills.aggregate import demand

TITLES = {
    "PROG_LANG": "Programming languages",
    "DB": "Databases",
    "PLATFORM": "Platforms",
    "FRAMEWORKS": "Frameworks and tools",
}


def bar_chart(table: pd.DataFrame, title: str, out: Path) -> Path:
    """A horizontal bar chart of the share of postings asking for each skill."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(table), 3) + 1.2))
    try:
        ax.barh(table["skill"][::-1], 100 * table["share"][::-1], color="#3b6ea5")
        ax.set_xlabel("% of postings")
        ax.set_title(title)
        if table.empty:
            ax.text(0.5, 0.5, "no skill found", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        fig.savefig(out, dpi=100)
    finally:
        plt.close(fig)
    return out


def _html(tables: dict[str, pd.DataFrame], charts: dict[str, str], n_postings: int) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Skills in demand</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px}"
        "td.n{text-align:right}</style></head><body>",
        f"<h1>Skills in demand</h1><p>{n_postings} distinct postings.</p>",
    ]
    for label, table in tables.items():
        rows = "".join(
            f"<tr><td>{html.escape(str(skill))}</td><td class='n'>{int(postings)}</td>"
            f"<td class='n'>{100 * float(share):.1f}%</td></tr>"
            for skill, postings, share in zip(table["skill"], table["postings"], table["share"], strict=True)
        )
        parts.append(
            f"<h2>{html.escape(TITLES.get(label, label))}</h2><img src='{charts[label]}' alt='{label}'>"
            f"<table><tr><th>skill</th><th>postings</th><th>share</th></tr>{rows}</table>"
        )
    return "".join(parts) + "</body></html>"


def write_report(extracted: pd.DataFrame, out_dir: Path, top: int = 15) -> Path:
    """Write ``<label>.png`` per category, ``demand.csv`` and ``index.html`` into ``out_dir``.

    Everything is first written into a temporary folder beside ``out_dir``, then moved in, so a
    failure leaves no half-written report.

    Returns:
        The HTML page's path.
    """
    tables = demand(extracted, top)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".skills-report-", dir=out_dir) as tmp_dir:
        tmp = Path(tmp_dir)
        charts = {
            label: bar_chart(t, TITLES.get(label, label), tmp / f"{label}.png").name
            for label, t in tables.items()
        }
        long = pd.concat([t.assign(label=label) for label, t in tables.items()], ignore_index=True)
        long[["label", "skill", "postings", "share"]].to_csv(tmp / "demand.csv", index=False)
        (tmp / "index.html").write_text(_html(tables, charts, len(extracted)), encoding="utf-8")
        for path in tmp.iterdir():
            path.replace(out_dir / path.name)
    return out_dir / "index.html"
