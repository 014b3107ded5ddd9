"""The review queue and the dashboard's watch panels in a real browser, on a desktop and a phone."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from e2e_support import Server, run_server, train_small_model
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from nlpops.serve.db import Feedback, Prediction, new_id

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
expect, Page, Browser = sync_api.expect, sync_api.Page, sync_api.Browser
pytestmark = pytest.mark.e2e
KEY = "e2e-admin-key-0123456789"
Shot = Callable[[Page, str], Path]
# How much wider than the screen the page is. Not against window.innerWidth: on a phone the layout
# viewport grows to fit a too-wide page (innerWidth 421 for a 421 px page), so that difference is 0.
WIDER = "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory, browser: object) -> Iterator[Server]:
    """A server with an admin key (the session's has none: its admin routes are off)."""
    work = tmp_path_factory.mktemp("admin-server")
    model = train_small_model(work / "model")
    previous = os.environ.get("NLPOPS_API_KEY")
    os.environ["NLPOPS_API_KEY"] = KEY
    try:
        with run_server(model, work) as server:
            yield server
    finally:
        if previous is None:
            os.environ.pop("NLPOPS_API_KEY", None)
        else:
            os.environ["NLPOPS_API_KEY"] = previous


def phone(browser: Browser) -> Iterator[Page]:
    # West of Greenwich, so a UTC day dated in the browser's zone shows as the day before.
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="en-GB",
        is_mobile=True,
        timezone_id="America/Los_Angeles",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    yield from phone(browser)


def test_review_queue_with_the_keyboard(page: Page, admin_server: Server, console_errors: list[str]) -> None:
    with httpx.Client(base_url=admin_server.url, timeout=10) as client:
        answers = client.post("/v1/predict", json={"texts": ["I love this crew", "meh"]}).json()[
            "predictions"
        ]
        flagged = answers[0]["prediction_id"]
        assert (
            client.post("/v1/feedback", json={"prediction_id": flagged, "correct": False}).status_code == 201
        )
    page.goto(f"{admin_server.url}/review")
    page.fill("#admin-key", KEY)
    page.press("#admin-key", "Enter")
    first = page.locator("#review-list > li").first
    expect(first).to_have_attribute("data-prediction-id", flagged)
    expect(first).to_be_focused()
    expect(first.locator("mark").first).to_be_visible()  # the words that weighed are highlighted
    expect(first.locator(".review-probabilities")).to_contain_text("negative")  # every class's probability
    expect(first.locator(".review-probabilities")).to_contain_text("positive")
    expect(page.locator("#review-status")).to_contain_text("in the queue")
    page.keyboard.press("1")  # classes are ["negative", "positive"]: 1 = negative, the right label
    expect(page.locator(f'#review-list > li[data-prediction-id="{flagged}"]')).to_have_count(0)
    engine = create_engine(admin_server.database_url)
    with engine.connect() as conn:
        verdict = conn.execute(
            select(Feedback.correct, Feedback.label, Feedback.source).where(Feedback.prediction_id == flagged)
        ).one()
    engine.dispose()
    assert tuple(verdict) == (False, "negative", "review")
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0  # the key stays in memory
    assert console_errors == []


def seed_month(server: Server) -> None:
    """30 days of predictions, 10 % negative, then a day of 60 % negative about refunds."""
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    engine = create_engine(server.database_url)
    with Session(engine) as session:
        for day in range(30, -1, -1):
            share = 0.6 if day == 0 else 0.1
            for i in range(40):
                label = "negative" if i < 40 * share else "positive"
                text = "they refuse my refund" if label == "negative" and day == 0 else "fine flight"
                session.add(
                    Prediction(
                        id=new_id(), created_at=now - timedelta(days=day, minutes=i), text=text,
                        text_sha256="0" * 64, label=label, model_name="model", latency_ms=1.0,
                        probabilities={label: 0.8, "positive" if label == "negative" else "negative": 0.2},
                    )
                )  # fmt: skip
        session.commit()
    engine.dispose()


def test_dashboard_month_on_a_phone(phone_page: Page, admin_server: Server, screenshot: Shot) -> None:
    seed_month(admin_server)
    page = phone_page
    page.goto(f"{admin_server.url}/dashboard")
    expect(page.locator("#dashboard-lead")).to_contain_text("hour by hour")
    page.select_option("#hours", "720")
    page.wait_for_function(  # the 48-hour view drawn first is replaced by the day buckets
        '() => Chart.getChart(document.getElementById("chart-negative"))?.data.labels.length <= 32'
    )
    expect(page.locator("#dashboard-lead")).to_contain_text("day by day (UTC days)")
    expect(page.locator("#dashboard-lead")).not_to_contain_text("hour")
    last, today = page.evaluate(
        """() => [
            Chart.getChart(document.getElementById("chart-negative")).data.labels.at(-1),
            new Date().toLocaleDateString(
                nlpops.config.lang, { month: "short", day: "numeric", timeZone: "UTC" }
            ),
        ]"""
    )
    assert last == today, "the last day bucket is today's UTC day"
    expect(page.locator("#chart-negative-summary")).to_contain_text("spike")
    chart = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("chart-negative"));
            return {
                buckets: chart.data.labels.length,
                triangles: chart.data.datasets[0].pointStyle.filter(s => s === "triangle").length,
                lines: chart.data.datasets.map(d => d.label),
            };
        }"""
    )
    assert 30 <= chart["buckets"] <= 32 and chart["triangles"] >= 1
    assert chart["lines"] == ["Share of negative predictions (%)", "Baseline", "Spike threshold"]
    expect(page.locator("#window-terms")).to_contain_text("refund")
    expect(page.locator("#window-examples li")).to_have_count(0)  # example posts: admins only
    page.fill("#window-key", KEY)
    page.press("#window-key", "Enter")
    expect(page.locator("#window-examples li").first).to_contain_text("refund")
    expect(page.locator("#window-key-form")).to_be_hidden()
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0  # the key stays in memory
    expect(page.locator("#kpi-review")).to_have_attribute("href", "/review?lang=en")
    expect(page.locator("#drift-status")).not_to_be_empty()
    expect(page.locator("#model-all summary")).to_be_visible()  # the full metric list, behind a toggle
    overflow = page.evaluate(WIDER)
    assert overflow <= 0, f"the dashboard is {overflow} px wider than a 390 px phone"
    screenshot(page, "dashboard-phone-30-days")


def test_review_page_fits_a_phone(phone_page: Page, admin_server: Server) -> None:
    phone_page.goto(f"{admin_server.url}/review")
    phone_page.fill("#admin-key", KEY)
    phone_page.press("#admin-key", "Enter")
    expect(phone_page.locator("#review-status")).to_contain_text("in the queue")
    assert phone_page.evaluate(WIDER) <= 0, "the review page is wider than a 390 px phone"
