"""soft_vote: the mean of its members' probabilities; members saved in their own formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlpops.models import build_model, load_model_dir

TEXTS = ["c'est une honte", "scandaleux et honteux", "merci beaucoup", "très bon service"] * 6
LABELS = ["dissident", "dissident", "non dissident", "non dissident"] * 6
MEMBERS = [{"kind": "tfidf_lr", "C": 5.0}, {"kind": "tfidf_nb", "variant": "complement"}]


def test_probabilities_are_the_weighted_mean_of_the_members() -> None:
    vote = build_model("soft_vote", {"members": MEMBERS, "weights": [3.0, 1.0]}).fit(TEXTS, LABELS)
    lr, nb = vote.members_
    texts = ["une honte", "bon service"]
    expected = (3 * lr.predict_proba(texts) + nb.predict_proba(texts)) / 4
    np.testing.assert_allclose(vote.predict_proba(texts), expected)
    assert vote.predict(texts).tolist() == ["dissident", "non dissident"]


def test_save_load_keeps_members_and_threshold(tmp_path: Path) -> None:
    vote = build_model("soft_vote", {"members": MEMBERS}).fit(TEXTS, LABELS).set_threshold(0.3, "dissident")
    folder = vote.save(tmp_path / "vote")
    assert (folder / "member_0").is_dir() and (folder / "member_1").is_dir()
    loaded = load_model_dir(folder)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), vote.predict_proba(TEXTS))
    assert loaded.decision_threshold_ == 0.3 and hasattr(vote, "members_")  # saving kept the members


def test_load_estimator_finds_the_ensemble_not_a_member(tmp_path: Path) -> None:
    from nlpops.tracking import load_estimator

    vote = build_model("soft_vote", {"members": MEMBERS}).fit(TEXTS, LABELS)
    vote.save(tmp_path / "artifacts" / "model")  # an MLflow model folder: its members are models too
    (tmp_path / "MLmodel").write_text("artifact_path: model\n")
    assert type(load_estimator(str(tmp_path)).model).__name__ == "SoftVoting"


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({}, "needs members"),
        ({"members": [{"C": 1.0}]}, "needs members"),
        ({"members": MEMBERS, "weights": [1.0]}, "1 weights for 2 members"),
    ],
)
def test_bad_specs_are_explained(params: dict[str, object], hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        build_model("soft_vote", params).fit(TEXTS, LABELS)


def test_a_transformer_member_survives_save_and_load(tmp_path: Path) -> None:
    """A fine-tuned transformer member is saved in its own Hugging Face folder and reloaded with it."""
    pytest.importorskip("transformers")
    from hf_support import tiny_checkpoint

    ckpt = tiny_checkpoint(tmp_path, "bert")
    transformer = {"kind": "transformer", "checkpoint": str(ckpt), "max_epochs": 1, "validation_fraction": 0}
    vote = build_model("soft_vote", {"members": [MEMBERS[0], {**transformer, "n_jobs": 1}]})
    vote.fit(TEXTS, LABELS).set_threshold(0.4, "dissident")
    folder = vote.save(tmp_path / "vote")
    assert (folder / "member_1" / "hf").is_dir()
    loaded = load_model_dir(folder)
    assert type(loaded.members_[1]).__name__ == "TransformerClassifier"
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), vote.predict_proba(TEXTS), atol=1e-6)
    assert loaded.predict(TEXTS).tolist() == vote.predict(TEXTS).tolist()
