"""The Skills page in a real browser: a pasted posting's skills highlighted by category with counts,
and the demanded-skills report of an uploaded CSV of postings (a server with the skills slot set)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e_support import Server, run_server, train_small_model

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'"
)
expect, Page = sync_api.expect, sync_api.Page
pytestmark = pytest.mark.e2e
Shot = Callable[[Page, str], Path]
POSTING = "Data engineer: Python, SQL et Spark sur AWS.\nStack : PostgreSQL, Docker, Kafka, Power BI. Python!"


@pytest.fixture(scope="module")
def skills_server(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose second model slot holds a ruler-only skills pipeline (shipped aliases)."""
    from nlpops.skills.ner import ruler_pipeline
    from nlpops.skills.patterns import build_ruler_patterns

    workdir = tmp_path_factory.mktemp("e2e-skills")
    (workdir / "languages.csv").write_text("name\nPython\nJava\n")
    ruler_pipeline(build_ruler_patterns([workdir / "languages.csv"])).to_disk(workdir / "skills")
    model_dir = train_small_model(workdir / "model")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NLPOPS_SKILLS_MODEL_URI", str(workdir / "skills"))
        with run_server(model_dir, workdir) as running:
            yield running


def test_posting_skills_highlighted_by_category(
    page: Page, skills_server: Server, console_errors: list[str], screenshot: Shot
) -> None:
    page.goto(f"{skills_server.url}/?lang=en")
    page.get_by_role("link", name="Skills").click()
    expect(page).to_have_url(f"{skills_server.url}/skills?lang=en")
    page.get_by_label("Job posting").fill(POSTING)
    page.get_by_role("button", name="Find skills").click()
    expect(page.locator("#skills-status")).to_have_text("9 skill mentions found.")
    marks = page.locator("#skills-text mark.skill")
    expect(marks).to_have_count(9)
    assert marks.evaluate_all("ms => ms.map(m => [m.textContent, m.dataset.label])") == [
        ["Python", "PROG_LANG"],
        ["SQL", "PROG_LANG"],
        ["Spark", "FRAMEWORKS"],
        ["AWS", "PLATFORM"],
        ["PostgreSQL", "DB"],
        ["Docker", "FRAMEWORKS"],
        ["Kafka", "FRAMEWORKS"],
        ["Power BI", "FRAMEWORKS"],
        ["Python", "PROG_LANG"],
    ]
    counts = page.locator("#skills-legend li").evaluate_all(
        "items => items.map(i => [i.dataset.label, i.querySelector('.skill-count').textContent])"
    )
    assert counts == [["PROG_LANG", "3"], ["DB", "1"], ["PLATFORM", "1"], ["FRAMEWORKS", "4"]]
    # the page's text is the posting itself, line breaks kept
    assert page.locator("#skills-text").inner_text() == POSTING
    chips = page.locator(".skills-list .chip.skill-FRAMEWORKS")
    expect(chips).to_have_text(["Apache Spark", "Docker", "Apache Kafka", "Power BI"])
    screenshot(page, "skills-posting")
    assert console_errors == []


def test_report_of_an_uploaded_csv(
    page: Page, skills_server: Server, console_errors: list[str], tmp_path: Path, screenshot: Shot
) -> None:
    csv = tmp_path / "postings.csv"
    csv.write_text(
        'Job_title,Description\nA,"Python, Java et AWS"\nB,"Python and Docker"\nC,"Python, AWS"\nD,""\n',
        encoding="utf-8",
    )
    page.goto(f"{skills_server.url}/skills?lang=fr")
    page.locator("#report-file").set_input_files(str(csv))
    expect(page.locator("#report-column")).to_have_value("1")  # Description found by name
    page.get_by_role("button", name="Compter les compétences").click()
    expect(page.locator("#report-status")).to_have_text("3 offres distinctes comptées.")
    langs = page.locator('.skills-demand[data-label="PROG_LANG"] tbody tr')
    expect(langs).to_have_count(2)
    expect(langs.nth(0).locator("td").nth(0)).to_have_text("Python")
    expect(langs.nth(0).locator("td").nth(1)).to_have_text("3")
    expect(langs.nth(1).locator("td").nth(0)).to_have_text("Java")
    platforms = page.locator('.skills-demand[data-label="PLATFORM"] tbody tr td:first-child')
    expect(platforms).to_have_text(["Amazon Web Services"])
    expect(page.locator('.skills-demand[data-label="DB"] .help')).to_have_text(
        "Aucune compétence de cette catégorie."
    )
    screenshot(page, "skills-report")
    assert console_errors == []
