"""Models saved before the naming table (``lr``, ``epoch``, ``seed``, ``num_threads``…) still load.

Each test saves a model today, rewrites what was saved with the old names, and loads it back:
the same probabilities, the parameters under the table's names.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from nlpops.models import build_model, load_model_dir
from nlpops.models.names import current_params

TEXTS = ["love this day", "great crew", "happy seat", "hate this day", "awful crew", "sad seat"] * 4
LABELS = ["positive"] * 3 + ["negative"] * 3
LABELS *= 4
OLD_FASTTEXT = {"max_epochs": "epoch", "learning_rate": "lr", "n_jobs": "thread", "random_state": "seed"}
OLD_DEEP = {"learning_rate": "lr", "n_jobs": "num_threads", "random_state": "seed"}


def _rename_saved_params(
    state_file: Path, old_names: dict[str, str], old_keys: dict[str, str] | None = None
) -> None:
    """Rewrite a saved state as before the rename: old parameter names, old top-level keys."""
    state = json.loads(state_file.read_text())
    state["params"] = {old_names.get(k, k): v for k, v in state["params"].items()}
    state = {(old_keys or {}).get(k, k): v for k, v in state.items()}
    state_file.write_text(json.dumps(state))


def test_current_params_renames_only_what_the_kind_lacks() -> None:
    assert current_params({"lr": 0.1, "seed": 3}, ["learning_rate", "random_state"]) == {
        "learning_rate": 0.1,
        "random_state": 3,
    }
    # a kind whose own parameter has an old name keeps it; an unknown name is left to fail
    assert current_params({"epochs": 2, "bogus": 1}, ["epochs"]) == {"epochs": 2, "bogus": 1}


def test_fasttext_saved_with_old_names_loads(tmp_path: Path) -> None:
    params = {"max_epochs": 5, "learning_rate": 0.2, "n_jobs": 1, "random_state": 3, "dim": 8}
    model = build_model("fasttext", params).fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "ft")
    learning_rate_used = model.learning_rate_used_
    _rename_saved_params(folder / "fasttext_state.json", OLD_FASTTEXT, {"learning_rate_used": "lr_used"})
    saved = json.loads((folder / "fasttext_state.json").read_text())
    assert {"lr", "epoch", "thread", "seed"} <= set(saved["params"]) and "learning_rate_used" not in saved

    again = load_model_dir(folder)
    assert again.get_params() == model.get_params()
    assert again.learning_rate_used_ == learning_rate_used
    np.testing.assert_allclose(again.predict_proba(TEXTS[:6]), model.predict_proba(TEXTS[:6]))


def test_fasttext_pickled_with_old_names_unpickles() -> None:
    model = build_model("fasttext", {"max_epochs": 5, "n_jobs": 1, "dim": 8}).fit(TEXTS, LABELS)
    state = model.__getstate__()
    old = {OLD_FASTTEXT.get(k, k): v for k, v in state.items()}
    old["lr_used_"] = old.pop("learning_rate_used_")
    restored = type(model).__new__(type(model))
    restored.__setstate__(old)
    assert restored.get_params() == model.get_params()
    assert restored.learning_rate_used_ == model.learning_rate_used_
    np.testing.assert_allclose(restored.predict_proba(TEXTS[:6]), model.predict_proba(TEXTS[:6]))


def test_deep_model_saved_with_old_names_loads(tmp_path: Path) -> None:
    params = {"min_count": 1, "embedding_dim": 8, "hidden_size": 8, "max_epochs": 2, "n_jobs": 1}
    model = build_model("embed_bag", params | {"validation_fraction": 0.0, "verbose": False})
    model.fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "deep")
    _rename_saved_params(folder / "deep_state.json", OLD_DEEP)

    again = load_model_dir(folder)
    assert again.get_params() == model.get_params()
    np.testing.assert_allclose(again.predict_proba(TEXTS[:6]), model.predict_proba(TEXTS[:6]), atol=1e-6)


def test_soft_vote_pickled_with_old_member_names_unpickles() -> None:
    members = [{"kind": "tfidf_lr"}, {"kind": "fasttext", "max_epochs": 5, "n_jobs": 1}]
    vote = build_model("soft_vote", {"members": members})
    old = pickle.loads(pickle.dumps(vote)).__dict__ | {
        "members": [{"kind": "tfidf_lr"}, {"kind": "fasttext", "epoch": 5, "thread": 1}]
    }
    restored = type(vote).__new__(type(vote))
    restored.__setstate__(old)
    assert restored.members == members
    assert restored.fit(TEXTS, LABELS).predict(["great crew"]).tolist() == ["positive"]
