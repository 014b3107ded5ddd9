"""``POST /v1/skills/extract`` and ``/v1/skills/report`` from the second model slot, and the Skills page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.settings import Settings


@pytest.fixture(scope="module")
def skills_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ruler-only skills pipeline saved to disk (the shipped aliases, a two-name list)."""
    from nlpops.skills.ner import ruler_pipeline
    from nlpops.skills.patterns import build_ruler_patterns

    folder = tmp_path_factory.mktemp("skills")
    (folder / "languages.csv").write_text("name\nPython\nJava\n")
    ruler_pipeline(build_ruler_patterns([folder / "languages.csv"])).to_disk(folder / "pipeline")
    return folder / "pipeline"


@pytest.fixture
def skills_client(settings: Settings, skills_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"skills_model_uri": str(skills_dir)}))) as c:
        yield c


POSTING = "Stack : Python, Kafka et PostgreSQL sur AWS. Python again."


def test_extract_one_posting(skills_client: TestClient, skills_dir: Path) -> None:
    response = skills_client.post("/v1/skills/extract", json={"text": POSTING})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == str(skills_dir) and body["mode"] == "ruler"
    (posting,) = body["postings"]
    found = [(s["text"], s["label"], s["skill"]) for s in posting["skills"]]
    assert found == [
        ("Python", "PROG_LANG", "Python"),
        ("Kafka", "FRAMEWORKS", "Apache Kafka"),
        ("PostgreSQL", "DB", "PostgreSQL"),
        ("AWS", "PLATFORM", "Amazon Web Services"),
        ("Python", "PROG_LANG", "Python"),
    ]
    assert all(POSTING[s["start"] : s["end"]] == s["text"] for s in posting["skills"])
    assert posting["counts"] == {"PROG_LANG": 2, "DB": 1, "PLATFORM": 1, "FRAMEWORKS": 1}


def test_extract_many_postings_keeps_their_order(skills_client: TestClient) -> None:
    response = skills_client.post("/v1/skills/extract", json={"texts": ["Java only", "rien ici", POSTING]})
    assert response.status_code == 200
    counts = [p["counts"]["PROG_LANG"] for p in response.json()["postings"]]
    assert counts == [1, 0, 2]


def test_report_counts_postings_not_mentions(skills_client: TestClient) -> None:
    texts = [POSTING, "Java et Python", "Java et Python", "  ", "Docker"]
    response = skills_client.post("/v1/skills/report", json={"texts": texts, "top": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["postings"] == 3  # the duplicate and the blank text are not counted
    langs = {
        row["skill"]: (row["postings"], round(row["share"], 3)) for row in body["categories"]["PROG_LANG"]
    }
    assert langs == {"Python": (2, 0.667), "Java": (1, 0.333)}
    assert [row["skill"] for row in body["categories"]["FRAMEWORKS"]] == ["Apache Kafka", "Docker"]


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        ({"text": "   "}, 422, "empty"),
        ({"text": "a", "texts": ["b"]}, 422, "exactly one"),
        ({"texts": []}, 422, "at least 1"),
        ({"text": "x" * 20_001}, 413, "20000"),
    ],
)
def test_extract_refuses_bad_requests(
    skills_client: TestClient, payload: dict, code: int, words: str
) -> None:
    response = skills_client.post("/v1/skills/extract", json=payload)
    assert response.status_code == code
    assert words in response.text


def test_too_many_postings_refused(settings: Settings, skills_dir: Path) -> None:
    limited = settings.model_copy(update={"skills_model_uri": str(skills_dir), "skills_max_postings": 2})
    with TestClient(create_app(limited)) as client:
        response = client.post("/v1/skills/report", json={"texts": ["a", "b", "c"]})
    assert response.status_code == 413 and "at most 2" in response.text


def test_without_a_skills_model_the_page_says_how_to_get_one(client: TestClient) -> None:
    assert client.post("/v1/skills/extract", json={"text": POSTING}).status_code == 404  # not mounted
    assert "/v1/skills/extract" not in client.get("/openapi.json").json()["paths"]
    assert client.post("/v1/predict", json={"text": "I love it"}).status_code == 200  # the classifier serves
    page = client.get("/skills")
    assert (
        page.status_code == 200 and 'id="skills-off"' in page.text and "NLPOPS_SKILLS_MODEL_URI" in page.text
    )


def test_a_broken_skills_model_is_reported_not_fatal(settings: Settings, tmp_path: Path) -> None:
    broken = settings.model_copy(update={"skills_model_uri": str(tmp_path / "nowhere")})
    with TestClient(create_app(broken)) as client:
        response = client.post("/v1/skills/extract", json={"text": POSTING})
        assert response.status_code == 503 and "nowhere" in response.json()["detail"]
        assert client.post("/v1/predict", json={"text": "I love it"}).status_code == 200


def test_skills_page_and_nav_link(skills_client: TestClient) -> None:
    page = skills_client.get("/skills?lang=fr")
    assert page.status_code == 200
    assert "Compétences dans les offres" in page.text and 'id="skills-off"' not in page.text
    assert "/static/js/skills.js" in page.text and "<script>" not in page.text  # CSP: no inline script
    home = skills_client.get("/")
    assert 'href="/skills?lang=en"' in home.text
