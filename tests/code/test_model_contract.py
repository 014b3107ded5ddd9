"""The estimator contract, for every registered model kind (as scikit-learn's
``parametrize_with_checks`` does for its own): fit returns self, predict and predict_proba have the
right shapes, an unfitted clone keeps the parameters, save/load gives the same probabilities, and an
unknown parameter is refused by name; shared hyperparameters carry the naming table's names
(``nlpops.models.names``). A kind added to the registry without a row here fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from nlpops.models.base import load_model_dir
from nlpops.models.names import RENAMED
from nlpops.models.registry import MODEL_KINDS, build_model, param_names

TEXTS = [f"{w} {t}" for w in ("love", "great", "happy", "good") for t in ("day", "crew", "seat", "food")]
TEXTS += [f"{w} {t}" for w in ("hate", "awful", "sad", "bad") for t in ("day", "crew", "seat", "food")]
LABELS = ["positive"] * 16 + ["negative"] * 16
DEEP = {
    "recipe": "minimal", "min_count": 1, "embedding_dim": 8, "hidden_size": 8, "num_filters": 4,
    "batch_size": 16, "max_epochs": 2, "validation_fraction": 0.0, "n_jobs": 1, "verbose": False,
}  # fmt: skip


def small_params(kind: str, tmp_path: Path) -> dict[str, Any]:
    """Parameters that fit each kind in about a second on the texts above."""
    if kind == "transformer":
        pytest.importorskip("transformers")
        from hf_support import tiny_checkpoint

        ckpt = tiny_checkpoint(tmp_path, "bert")
        return {"checkpoint": ckpt, "max_epochs": 1, "validation_fraction": 0, "n_jobs": 1}
    return {
        "vader": {},
        "tfidf_lr": {},
        "tfidf_nb": {},
        "tfidf_xgb": {"n_estimators": 10, "min_df": 1, "min_child_samples": 3},
        "fasttext": {"max_epochs": 20, "learning_rate": 0.1, "n_jobs": 1},
        "embed_bag": DEEP,
        "bilstm": DEEP,
        "cnn": DEEP,
        "sentence_lr": {"checkpoint": "minilm"},
        "spacy_vectors": {"C": 1.0},
        "soft_vote": {"members": [{"kind": "tfidf_lr"}, {"kind": "tfidf_nb"}]},
        "stack": {"members": [{"kind": "tfidf_lr"}, {"kind": "tfidf_nb"}], "cv": 3},
    }[kind]


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_the_estimator_contract(kind: str, tmp_path: Path) -> None:
    params = small_params(kind, tmp_path)
    if kind == "sentence_lr":
        pytest.importorskip("sentence_transformers")
    model = build_model(kind, params)
    twin = clone(model)
    assert not hasattr(twin, "classes_") and twin.get_params(deep=False) == model.get_params(deep=False)
    assert model.fit(TEXTS, LABELS) is model
    proba = np.asarray(model.predict_proba(TEXTS[:5]))
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(TEXTS[:5]).shape == (5,) and set(model.predict(TEXTS)) <= {"negative", "positive"}
    assert [str(c) for c in model.classes_] == ["negative", "positive"]
    again = load_model_dir(model.save(tmp_path / kind))
    assert np.allclose(np.asarray(again.predict_proba(TEXTS[:5])), proba, atol=1e-6)
    with pytest.raises(TypeError, match="no_such_param"):
        build_model(kind, {**params, "no_such_param": 1})


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_hyperparameters_use_the_naming_table(kind: str) -> None:
    names = set(param_names(kind) or [])
    assert not names & set(RENAMED), f"{kind} uses old names {sorted(names & set(RENAMED))}"
    for old, new in RENAMED.items():  # an old name is refused, with the table's name as the hint
        if new in names:
            with pytest.raises(TypeError, match=rf"\['{old}'\] \(did you mean '{new}' for '{old}'\?\)"):
                build_model(kind, {old: 1})
