"""Behavioural tests of the demo model: invariance, directional expectations, minimum functionality."""

from __future__ import annotations

import pytest

from nlpops.models import TextClassifier


def p_pos(model: TextClassifier, text: str) -> float:
    return float(model.predict_proba([text])[0, list(model.classes_).index("positive")])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("@united thanks for the great flight", "@delta thanks for the great flight"),
        ("loved the show http://bit.ly/abc", "loved the show https://example.com/x?y=1"),
        ("worst service ever @JetBlue", "worst service ever @AmericanAir"),
    ],
)
def test_invariance_urls_and_mentions_do_not_matter_at_all(
    demo_model: TextClassifier, a: str, b: str
) -> None:
    # the preprocessing maps every URL and @mention to one placeholder, so nothing may change
    assert p_pos(demo_model, a) == pytest.approx(p_pos(demo_model, b), abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("my flight with John was awful", "my flight with Maria was awful"),
        ("I love Paris in the spring", "I love Boston in the spring"),
        ("Thanks Sarah, the crew was amazing", "Thanks Kevin, the crew was amazing"),
    ],
)
def test_invariance_names_keep_the_label(demo_model: TextClassifier, a: str, b: str) -> None:
    assert demo_model.predict([a])[0] == demo_model.predict([b])[0]


@pytest.mark.parametrize(
    ("base", "changed"),
    [
        ("this movie is good", "this movie is not good"),
        ("i like this song", "i don't like this song"),
        ("the crew was nice", "the crew was never nice"),
        ("great day", "great day ruined by a delayed flight"),
    ],
)
def test_directional_negation_and_bad_news_lower_positivity(
    demo_model: TextClassifier, base: str, changed: str
) -> None:
    assert p_pos(demo_model, changed) < p_pos(demo_model, base)


OBVIOUS = [
    ("I love you so much", "positive"),
    ("best day ever!!", "positive"),
    ("thank you, that was great", "positive"),
    ("so happy right now", "positive"),
    ("what an awesome game", "positive"),
    ("good morning everyone, have fun", "positive"),
    ("this is wonderful news", "positive"),
    ("loving the sunshine today", "positive"),
    ("had a great time, thanks", "positive"),
    ("congrats, well done!", "positive"),
    ("I hate this so much", "negative"),
    ("worst day ever", "negative"),
    ("I'm so sad and tired", "negative"),
    ("my flight got cancelled again", "negative"),
    ("feeling sick, headache all day", "negative"),
    ("this is terrible", "negative"),
    ("I miss you so bad", "negative"),
    ("ugh, lost my phone", "negative"),
    ("so bored and lonely", "negative"),
    ("sorry to hear that, awful news", "negative"),
]


def test_minimum_functionality_obvious_tweets(demo_model: TextClassifier) -> None:
    texts = [t for t, _ in OBVIOUS]
    predicted = demo_model.predict(texts)
    wrong = [(t, want) for (t, want), got in zip(OBVIOUS, predicted, strict=True) if got != want]
    assert len(wrong) <= 1, f"obvious tweets misclassified: {wrong}"
