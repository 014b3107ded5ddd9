"""Behavioural tests in French on models trained on dissidentIA's labelled sentences.

Invariance: the city a citizen lives in does not make a sentence dissident. Directional: adding
"scandaleux" or "inadmissible" makes it more vehement. Minimum functionality: obvious cases.
Each test runs on the plain ``tfidf_lr`` and on the config's champion candidate (multilingual
sentence encoders with TF-IDF), both built from ``configs/dissidentia.yaml``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from nlpops.config import load_config
from nlpops.models import TextClassifier
from nlpops.train import build_planned, plan_runs

DATA_DIR = Path(os.environ.get("NLPOPS_DATA_DIR") or Path(__file__).parents[2] / "../shared/data").resolve()
FILE = DATA_DIR / "dissidentia_labels_v4.csv.gz"
pytestmark = pytest.mark.skipif(not FILE.is_file(), reason=f"real data file {FILE} is absent")
CHAMPION = "vote_e5_use"  # the champion candidate: TF-IDF + e5 + USE (docs/benchmarks.md, dissidentIA)
CONFIG = Path(__file__).parents[2] / "configs" / "dissidentia.yaml"
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux", "Nantes"]


@pytest.fixture(scope="session", params=["tfidf_lr", CHAMPION])
def dissidentia_model(request: pytest.FixtureRequest) -> TextClassifier:
    """The config's model of that name on the 883 labelled sentences (recipe as the config gives it)."""
    from nlpops.data import load_dataset

    cfg = load_config(CONFIG)
    df = load_dataset(FILE)
    df = df[~df["label"].isin(cfg.data.drop_labels or [])]
    model = build_planned(plan_runs(cfg, [request.param])[0], cfg.preprocessing.lang)
    return model.fit(df["text"].tolist(), df["label"].tolist())


def p_dissident(model: TextClassifier, texts: list[str]) -> list[float]:
    column = list(model.classes_).index("dissident")
    return model.predict_proba(texts)[:, column].tolist()


@pytest.mark.parametrize(
    "template",
    [
        "La mairie de {} gaspille notre argent.",
        "À {}, les services publics ferment les uns après les autres.",
        "J'habite à {} et il faudrait simplifier les démarches.",
    ],
)
def test_invariance_to_the_city(dissidentia_model: TextClassifier, template: str) -> None:
    texts = [template.format(city) for city in CITIES]
    assert len(set(dissidentia_model.predict(texts))) == 1
    probabilities = p_dissident(dissidentia_model, texts)
    assert max(probabilities) - min(probabilities) < 0.1


@pytest.mark.parametrize(
    "base",
    [
        "Les impôts augmentent chaque année.",
        "Il faut réduire le nombre de fonctionnaires.",
        "L'administration est trop lente.",
        "Les élus ne nous écoutent pas.",
        "Le millefeuille administratif coûte cher.",
    ],
)
@pytest.mark.parametrize("outrage", [" C'est scandaleux !", " C'est inadmissible."])
def test_directional_outrage_raises_p_dissident(
    dissidentia_model: TextClassifier, base: str, outrage: str
) -> None:
    before, after = p_dissident(dissidentia_model, [base, base + outrage])
    # a clear rise: 0.05 in probability, or 0.2 in log-odds when the plain sentence is already likely
    # dissident (a complaint about elected officials at 0.83 can only move a little in probability)
    assert after > before + 0.05 or math.log(after / (1 - after)) > math.log(before / (1 - before)) + 0.2


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Tous les élus sont des voleurs et des incapables !", "dissident"),
        ("Cette caste de politiciens corrompus nous méprise, c'est une honte !", "dissident"),
        ("Il faudrait simplifier les démarches administratives en ligne.", "non dissident"),
        ("Je propose de regrouper les communes pour mutualiser les moyens.", "non dissident"),
    ],
)
def test_minimum_functionality(dissidentia_model: TextClassifier, text: str, label: str) -> None:
    assert dissidentia_model.predict([text])[0] == label
