"""The classify page's guards, in a real browser: an error replaces old results, an over-long line is
marked in place while the others are classified, CSV files are checked before anything is sent,
example buttons, and the language the model reads with a warning for texts in another one."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_support import Server

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'"
)
expect, Page = sync_api.expect, sync_api.Page
pytestmark = pytest.mark.e2e
Shot = Callable[[Page, str], Path]


def test_an_error_replaces_the_previous_results(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    page.goto(f"{server.url}/")
    box = page.get_by_label("Texts, one per line")
    box.fill("I love this, what a wonderful sunny day")
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator(".result .badge")).to_have_text("positive")

    detail = {"detail": "the database did not answer within 1.5 s"}
    page.route("**/v1/predict", lambda route: route.fulfill(status=503, json=detail))
    box.fill("worst flight ever, so sad and angry")
    page.get_by_role("button", name="Classify", exact=True).click()
    alert = page.locator("#predict-error")
    expect(alert).to_have_text(
        "The service is not ready (no model loaded, or the database is down). Try again in a moment. "
        "Details: the database did not answer within 1.5 s"
    )
    expect(page.locator(".result")).to_have_count(0)  # the old answer is not left under the banner
    expect(page.locator("#predict-status")).to_have_text("")
    screenshot(page, "classify-error")

    page.unroute("**/v1/predict")
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator(".result .badge")).to_have_text("negative")
    expect(alert).to_be_hidden()
    assert [e for e in console_errors if "503" not in e] == []  # the browser logs the 503 itself


def test_an_over_long_line_is_marked_and_the_others_classified(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    sent: list[list[str]] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data_json["texts"]) if r.url.endswith("/v1/predict") else None,
    )
    page.goto(f"{server.url}/")
    lines = ["I love this, what a wonderful sunny day", "", "x" * 5001, "worst flight ever, so sad"]
    page.get_by_label("Texts, one per line").fill("\n".join(lines))
    page.get_by_role("button", name="Classify", exact=True).click()
    cards = page.locator("#results > article")
    expect(cards).to_have_count(3)
    expect(cards.nth(0).locator(".badge")).to_have_text("positive")
    refused = cards.nth(1)
    expect(refused).to_have_class("result result-refused")
    expect(refused.locator(".refused-reason")).to_have_text(
        "Line 3 was not classified: it has 5001 characters; the limit is 5000. "
        "Shorten it or split it over several lines."
    )
    expect(cards.nth(2).locator(".badge")).to_have_text("negative")
    expect(page.locator("#predict-status")).to_have_text(
        "2 result(s); 1 line(s) not classified (over 5000 characters)."
    )
    expect(page.locator("#predict-error")).to_be_hidden()
    assert sent == [[lines[0], lines[3]]]  # one request, without the over-long line
    screenshot(page, "classify-partial")

    emoji = "😀" * 2501  # 2501 characters as the server counts them, 5002 UTF-16 units
    page.get_by_label("Texts, one per line").fill(emoji)
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator("#predict-status")).to_have_text("1 result(s).")
    expect(page.locator(".result-refused")).to_have_count(0)
    assert sent[-1] == [emoji]
    assert console_errors == []


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


def test_csv_files_are_checked_before_anything_is_sent(
    page: Page, server: Server, screenshot: Shot, tmp_path: Path, console_errors: list[str]
) -> None:
    page.goto(f"{server.url}/")
    file_input = page.get_by_label("CSV file", exact=True)
    column = page.get_by_label("Column holding the text")
    button = page.get_by_role("button", name="Classify the file")

    # a workbook saved as .xlsx (a ZIP): refused, nothing offered to classify
    workbook = tmp_path / "tweets.xlsx"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + random.Random(0).randbytes(4000))
    file_input.set_input_files(workbook)
    expect(page.locator("#csv-error")).to_have_text(
        "“tweets.xlsx” is not a text file: it holds binary data (a spreadsheet, a ZIP, an image…). "
        "Save it as CSV and choose it again."
    )
    expect(column).to_be_hidden()
    expect(button).to_be_disabled()

    # no column named like text, none holding sentences: the user picks, the page does not guess
    codes = [["id", "score", "code"], ["1", "0.5", "A1"], ["2", "0.7", "B2"]]
    file_input.set_input_files(_write_csv(tmp_path / "codes.csv", codes))
    expect(page.locator("#csv-error")).to_be_hidden()
    expect(column).to_have_value("")
    expect(column.locator("option:checked")).to_have_text("Choose a column…")
    expect(page.locator("#csv-column-help")).to_contain_text("choose the one to classify")
    expect(button).to_be_disabled()
    screenshot(page, "csv-pick-column")
    column.select_option(label="code")
    expect(page.locator("#csv-column-help")).to_be_hidden()
    button.click()
    expect(page.locator("#csv-status")).to_have_text("Done: 2 texts classified, 0 skipped.")

    # one column of sentences among others: chosen by its content; Windows-1252 is read as such
    bodies = ["I love this café, great staff", "worst flight ever, so sad"]
    rows = [["id", "body", "city"], *([str(i), text, "New York"] for i, text in enumerate(bodies))]
    file_input.set_input_files(_write_csv(tmp_path / "export.csv", rows, encoding="cp1252"))
    expect(column).to_have_value("1")
    expect(page.locator("#csv-column-help")).to_be_hidden()
    button.click()
    expect(page.locator("#csv-status")).to_have_text("Done: 2 texts classified, 0 skipped.")
    expect(page.locator("#csv-table tbody tr").first).to_contain_text("I love this café, great staff")
    assert console_errors == []


def test_example_buttons_fill_the_text_box(page: Page, server: Server, console_errors: list[str]) -> None:
    page.goto(f"{server.url}/")
    examples = page.get_by_role("group", name="Try an example:").get_by_role("button")
    expect(examples).to_have_count(4)
    box = page.get_by_label("Texts, one per line")
    box.fill("something typed before")
    second = examples.nth(1).inner_text()
    examples.nth(1).click()
    expect(box).to_have_value(second)
    expect(box).to_be_focused()
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator(".result .result-text")).to_contain_text(second.split(":")[0])
    assert console_errors == []


def test_the_page_says_the_model_language_and_warns_about_others(
    page: Page, server: Server, screenshot: Shot, console_errors: list[str]
) -> None:
    page.goto(f"{server.url}/")
    expect(page.locator("#model-language")).to_have_text("The model reads English (from its settings).")
    box = page.get_by_label("Texts, one per line")
    warning = page.locator("#language-warning")
    box.fill("Je suis très content de ce vol, merci à l’équipage !")
    expect(warning).to_have_text(
        "This text looks like French, but the model reads English: its label may mean little."
    )
    screenshot(page, "classify-language-warning")
    lines = ["I love this airline", "", "El vuelo fue terrible y nadie nos ayudó"]
    lines.append("Les élus ne nous écoutent jamais")
    box.fill("\n".join(lines))
    expect(warning).to_have_text(
        "Line 3 looks like Spanish, but the model reads English: its label may mean little. "
        "Line 4 looks like French, but the model reads English: its label may mean little."
    )
    box.fill("I love this airline, the crew was great!")
    expect(warning).to_be_hidden()
    assert console_errors == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love this airline, the crew was great!", "en"),
        ("My bag is lost again. Thanks for nothing.", "en"),
        ("Les élus ne nous écoutent jamais, c’est scandaleux !", "fr"),
        ("J'adore ce vol, l'équipage était génial", "fr"),
        ("El vuelo fue terrible y nadie nos ayudó", "es"),
        ("Ich bin sehr zufrieden mit dem Flug, danke", "de"),
        ("Il volo è stato molto bello, grazie", "it"),
        ("O voo foi muito bom, obrigado", "pt"),
        ("worst flight ever", None),  # no function word: too little to tell
        ("de la", None),  # French, Spanish or Italian: not clear
        ("", None),
    ],
)
def test_language_guess_from_function_words(
    page: Page, server: Server, text: str, expected: str | None
) -> None:
    page.goto(f"{server.url}/")
    assert page.evaluate("text => window.nlpopsLanguage.guess(text)", text) == expected


def test_batches_keep_each_request_under_the_body_limit(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    sizes = page.evaluate(
        """() => window.nlpops.batches(["a".repeat(900), "é".repeat(900), "b", "c", "d", "e"], 4, 3000)
                   .map(batch => batch.length)"""
    )
    # 1024 bytes of envelope leave 1976: 903 + 1803 bytes do not fit together, and 4 texts at most
    assert sizes == [1, 4, 1]
