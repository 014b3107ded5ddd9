"""The web pages in a real browser: classify, explain, feedback, CSV upload, dashboard, French UI."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from e2e_support import MAX_BATCH, Server
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from nlpops.serve.db import Feedback, Prediction, new_id

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'"
)
expect, Page = sync_api.expect, sync_api.Page
pytestmark = pytest.mark.e2e
Shot = Callable[[Page, str], Path]


def _feedback_rows(server: Server, text: str) -> list[tuple[bool, str | None, str]]:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            query = (
                select(Feedback.correct, Feedback.label, Prediction.label)
                .join(Prediction, Feedback.prediction_id == Prediction.id)
                .where(Prediction.text == text)
            )
            return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]
    finally:
        engine.dispose()


def test_classify_explain_and_correct_a_label(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    text = "I love this, what a wonderful sunny day"
    page.goto(f"{server.url}/")
    page.get_by_label("Texts, one per line").fill(f"{text}\nworst flight ever, so sad and angry")
    page.get_by_role("button", name="Classify", exact=True).click()
    first = page.locator(".result").first
    expect(first.locator(".badge")).to_have_text("positive")
    expect(page.locator(".result").nth(1).locator(".badge")).to_have_text("negative")
    expect(first.get_by_role("meter", name="Probability of “positive”")).to_be_visible()
    expect(first.locator("mark.word-pos").first).to_be_visible()  # LIME answered and words are green
    expect(first.locator(".legend")).to_contain_text("Green words push towards “positive”")
    expect(page.locator(".result").nth(1).locator("mark.word-neg").first).to_be_visible()
    screenshot(page, "classify-explained")

    first.get_by_role("button", name="No, the label is wrong").click()
    choice = first.get_by_role("radio", name="negative")
    expect(choice).to_be_checked()
    expect(choice).to_be_focused()  # the keyboard lands on the choice it has to make
    first.get_by_role("button", name="Send").click()
    expect(first.locator(".fb-status")).to_have_text("Saved: the right label is “negative”. Thank you!")
    screenshot(page, "classify-feedback-saved")
    assert _feedback_rows(server, text) == [(False, "negative", "positive")]
    assert console_errors == []


def test_split_into_sentences_labels_each_sentence(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    page.goto(f"{server.url}/")
    text = "I love this, what a wonderful sunny day. Worst flight ever, so sad and angry."
    page.get_by_label("Texts, one per line").fill(text)
    page.get_by_label("Split into sentences").check()
    page.get_by_role("button", name="Classify", exact=True).click()
    sentences = page.locator(".result").first.locator(".sentences li")
    expect(sentences).to_have_count(2, timeout=30_000)  # the first split loads the spaCy senter
    expect(sentences.nth(0).locator(".badge")).to_have_text("positive")
    expect(sentences.nth(1).locator(".badge")).to_have_text("negative")
    expect(sentences.nth(1).locator("mark").first).to_be_visible()  # its words are highlighted
    screenshot(page, "classify-sentences")
    assert console_errors == []


def test_csv_upload_in_chunks_table_and_download(
    page: Page, server: Server, screenshot: Shot, tmp_path: Path, console_errors: list[str]
) -> None:
    texts = ["I love it", "awful, just awful", "", "great crew, thanks!", "so sad today"]
    texts += ["happy happy", "hate delays", 'a "quoted", text', "best day ever", "what a lovely flight"]
    upload = tmp_path / "tweets.csv"
    with upload.open("w", newline="") as f:
        csv.writer(f).writerows([["id", "tweet"], *([str(i), t] for i, t in enumerate(texts))])
    predict_calls: list[str] = []
    page.on("request", lambda r: predict_calls.append(r.url) if r.url.endswith("/v1/predict") else None)
    page.goto(f"{server.url}/")
    page.get_by_label("CSV file", exact=True).set_input_files(upload)
    expect(page.get_by_label("Column holding the text")).to_have_value("1")  # "tweet" is guessed
    page.get_by_role("button", name="Classify the file").click()
    expect(page.locator("#csv-status")).to_have_text("Done: 9 texts classified, 1 skipped.")
    rows = page.locator("#csv-table tbody tr")
    expect(rows).to_have_count(len(texts))
    expect(rows.nth(2)).to_contain_text("skipped: empty")
    assert len(predict_calls) == -(-9 // MAX_BATCH) == 3  # 9 texts, at most MAX_BATCH a request
    screenshot(page, "csv-results")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the results (CSV)").click()
    downloaded = list(csv.DictReader(Path(info.value.path()).read_text("utf-8-sig").splitlines()))
    assert [row["tweet"] for row in downloaded] == texts
    assert [row["predicted_label"] for row in downloaded][:2] == ["positive", "negative"]
    assert downloaded[2]["note"] == "skipped: empty" and downloaded[2]["prediction_id"] == ""
    assert all(0.5 <= float(row["probability"]) <= 1 for row in downloaded if row["prediction_id"])
    engine = create_engine(server.database_url)  # an uploaded file is batch work, not live traffic
    with engine.connect() as conn:
        ids = [row["prediction_id"] for row in downloaded if row["prediction_id"]]
        origins = set(conn.scalars(select(Prediction.origin).where(Prediction.id.in_(ids))))
    engine.dispose()
    assert origins == {"batch"}
    assert console_errors == []


def _seed_history(server: Server, hours: int = 36) -> None:
    """Past predictions and verdicts written straight to the database, a few per hour.

    Anchored at half past the current hour, so that an hour's few minutes of offsets never spill into
    the previous hour's bucket (run at minute 0, they did: two wrong verdicts then shared a bucket).
    """
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    engine = create_engine(server.database_url)
    with Session(engine) as session:
        for hour in range(1, hours + 1):
            for i in range(2 + hour % 5):
                label = "negative" if (i + hour) % 3 == 0 else "positive"
                prediction = Prediction(
                    id=new_id(),
                    created_at=now - timedelta(hours=hour, minutes=i),
                    text_sha256="0" * 64,
                    label=label,
                    probabilities={label: 0.9, "positive" if label == "negative" else "negative": 0.1},
                    model_name="model",
                    latency_ms=1.0,
                )
                session.add(prediction)
                if i < 2:
                    session.add(Feedback(prediction_id=prediction.id, correct=(i + hour) % 4 != 0,
                                         created_at=prediction.created_at))  # fmt: skip
        session.commit()
    engine.dispose()


def _seed_now(server: Server) -> None:
    """Predictions and verdicts through the API; three wrong ones fire the default alert rule."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        texts = ["love it", "great", "hate it", "so bad", "awful day", "happy now", "sad", "nice"]
        ids = [
            p["prediction_id"]
            for chunk in (texts[:4], texts[4:])
            for p in client.post("/v1/predict", json={"texts": chunk}).json()["predictions"]
        ]
        for i, prediction_id in enumerate(ids):
            verdict = client.post(
                "/v1/feedback", json={"prediction_id": prediction_id, "correct": i % 2 == 0}
            )
            assert verdict.status_code == 201


def test_dashboard_draws_the_charts(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    _seed_history(server)
    _seed_now(server)
    page.goto(f"{server.url}/dashboard")
    expect(page.locator("#chart-accuracy-summary")).to_contain_text("Accuracy over the period")
    for key in ("predictions", "negative", "accuracy"):
        drawn = page.evaluate(
            """key => {
                const canvas = document.getElementById(`chart-${key}`);
                const chart = Chart.getChart(canvas);
                const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let inked = 0;
                for (let i = 3; i < pixels.length; i += 4) inked += pixels[i] > 0;
                const points = chart.data.datasets.flatMap(d => d.data).filter(v => v !== null && v > 0);
                return {inked, points: points.length, width: canvas.width};
            }""",
            key,
        )
        assert drawn["width"] > 100 and drawn["inked"] > 2000, (key, drawn)
        assert drawn["points"] >= 30, (key, drawn)  # most of the 36 seeded hours have a value
    expect(page.locator("#kpi-predictions")).not_to_have_text("0")
    expect(page.locator("#alerts tbody tr").first).to_contain_text("incorrect feedbacks")
    expect(page.locator("#model-facts")).to_contain_text("model")  # the served folder's name
    screenshot(page, "dashboard")
    assert console_errors == []


def test_french_ui_from_the_browser_language(browser_fr: Page, server: Server, screenshot: Shot) -> None:
    browser_fr.goto(f"{server.url}/dashboard")
    expect(browser_fr.locator("html")).to_have_attribute("lang", "fr")
    expect(browser_fr.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    browser_fr.get_by_role("link", name="Classer").click()
    expect(browser_fr.locator("#model-language")).to_have_text(
        "Le modèle lit des textes en anglais (d’après ses réglages)."
    )
    browser_fr.get_by_label("Textes, un par ligne").fill("I love this")
    browser_fr.get_by_role("button", name="Classer", exact=True).click()
    expect(browser_fr.locator(".result .legend")).to_contain_text("Les mots en vert")
    screenshot(browser_fr, "classify-fr")
