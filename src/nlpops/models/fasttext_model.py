"""Supervised fastText: averaged word and word-bigram embeddings, then a softmax.

fastText objects do not pickle, so the model saves natively (``model.bin``, or ``model.ftz``
when quantized) next to a small JSON of params and ``classes_``, and ``__getstate__`` carries
the model as bytes so that ``pickle`` / ``copy.deepcopy`` still work.
"""

from __future__ import annotations

import ctypes
import json
import logging
import platform
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from nlpops.models.base import TextClassifier
from nlpops.models.classical import build_text_preprocessor

log = logging.getLogger(__name__)
STATE_JSON = "fasttext_state.json"
PREPROCESSOR_FILE = "preprocessor.joblib"
LABEL = "__label__"
M_PERTURB = -6  # glibc mallopt parameter (malloc.h)
_ALLOC_LOCK = threading.Lock()


def one_line(text: str) -> str:
    """fastText reads one text per line: fold every line break into a space."""
    return " ".join(text.split())


def _read_ft(path: Path) -> Any:
    import fasttext

    return fasttext.load_model(str(path))


@contextmanager
def zeroed_allocations() -> Iterator[None]:
    """Within the block, glibc hands out zero-filled memory (``mallopt(M_PERTURB, 0xFF)``).

    fasttext-numpy2 keeps its matrices in an uninitialised aligned buffer, and its random init
    writes only ``thread`` of 10 blocks of the input matrix (upstream fastText's buffer is
    zeroed). So the rest held whatever the heap held: a fit raised "Encountered NaN" at any
    learning rate (every time with ``wordNgrams=1, dim=16`` on toy data, now and then in CI) or
    differed from run to run with ``thread=1``. Zero-filled, the untouched rows start at 0 as
    upstream's do. Other platforms are left as they are, and glibc 2.38+ may still serve a matrix
    under 1 KiB from its thread cache unfilled: for those the NaN retry in ``_train`` remains.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        yield
        return
    libc = ctypes.CDLL(None)
    with _ALLOC_LOCK:
        libc.mallopt(M_PERTURB, 0xFF)  # allocations filled with ~0xFF = 0 (frees with 0xFF)
        try:
            yield
        finally:
            libc.mallopt(M_PERTURB, 0)


def _train(fasttext: Any, attempts: int = 3, **kwargs: Any) -> tuple[Any, float]:
    """``fasttext.train_supervised``, quiet, on zeroed memory; on NaN, retried at half the rate.

    A genuine divergence (too high a learning rate) still raises "Encountered NaN": the next
    attempt halves ``lr`` (with a warning) rather than repeat it.

    Returns:
        The model and the learning rate it was trained with.
    """
    lr = float(kwargs.pop("lr"))
    for attempt in range(attempts):
        try:
            with zeroed_allocations():
                return fasttext.train_supervised(verbose=0, lr=lr, **kwargs), lr
        except RuntimeError as err:
            if "NaN" not in str(err) or attempt == attempts - 1:
                hint = f": lower learning_rate (last tried {lr})" if "NaN" in str(err) else ""
                raise RuntimeError(f"fastText training failed ({err}){hint}") from err
            log.warning("fastText diverged (NaN) at lr=%s; retrying at lr=%s", lr, lr / 2)
            lr /= 2
    raise AssertionError("unreachable")


class FastTextClassifier(TextClassifier):
    """fastText supervised classifier on preprocessed tokens.

    Args:
        recipe (str | list[Any]): ``nlpops.text`` preprocessing recipe.
        lang (str): language code for the recipe.
        max_epochs (int): passes over the data (fastText's ``epoch``; it always runs them all).
        learning_rate (float): fastText's ``lr`` (halved on a diverged run: ``learning_rate_used_``
            says what trained the model).
        word_ngrams (int): longest word n-gram (hashed into ``bucket`` rows).
        dim (int): embedding size.
        bucket (int): hash buckets for n-grams; bounds the model size.
        min_count (int): minimum word count to enter the vocabulary.
        n_jobs (int): training threads, fastText's ``thread`` (one is bit-for-bit reproducible, more are not).
        random_state (int): seed of the shuffle and of fastText's ``seed``.
        quantize (bool): quantize after training (a much smaller ``.ftz``; slightly less accurate).
    """

    def __init__(
        self,
        recipe: str | list[Any] = "minimal",
        lang: str = "en",
        max_epochs: int = 5,
        learning_rate: float = 0.1,
        word_ngrams: int = 2,
        dim: int = 50,
        bucket: int = 200_000,
        min_count: int = 1,
        n_jobs: int = 2,
        random_state: int = 0,
        quantize: bool = False,
    ) -> None:
        self.recipe = recipe
        self.lang = lang
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.word_ngrams = word_ngrams
        self.dim = dim
        self.bucket = bucket
        self.min_count = min_count
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.quantize = quantize

    def _lines(self, texts: list[str]) -> list[str]:
        return [one_line(t) for t in self.preprocessor_.transform(texts)]

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        import fasttext

        self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
        self.class_prior_ = np.bincount(y, minlength=len(self.classes_)) / len(y)
        with tempfile.TemporaryDirectory() as tmp:
            train_file = Path(tmp) / "train.txt"
            lines = [f"{LABEL}{label} {line}\n" for label, line in zip(y, self._lines(texts), strict=True)]
            # fastText's SGD reads the file in order (each thread a slice): a file sorted by label, as
            # head+tail samples are, leaves the model biased towards the last label. Shuffle (seeded).
            order = np.random.default_rng(self.random_state).permutation(len(lines))
            train_file.write_text("".join(lines[i] for i in order), encoding="utf-8")
            self.model_, self.learning_rate_used_ = _train(
                fasttext,
                input=str(train_file),
                epoch=self.max_epochs,
                lr=self.learning_rate,
                wordNgrams=self.word_ngrams,
                dim=self.dim,
                bucket=self.bucket,
                minCount=self.min_count,
                thread=self.n_jobs,
                seed=self.random_state,
            )
        if self.quantize:
            with zeroed_allocations():
                self.model_.quantize(retrain=False, verbose=0)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        labels, probs = self.model_.predict(self._lines(texts), k=-1)
        proba = np.tile(self.class_prior_, (len(texts), 1))  # texts with no known word
        for row, (row_labels, row_probs) in enumerate(zip(labels, probs, strict=True)):
            if len(row_labels):
                proba[row] = 0.0
                proba[row, [int(lab[len(LABEL) :]) for lab in row_labels]] = row_probs
        proba = np.clip(proba, 0.0, None)
        return np.asarray(proba / proba.sum(axis=1, keepdims=True))

    # --- persistence: native fastText file + JSON; pickle carries the file's bytes ---------
    @property
    def _model_file(self) -> str:
        return "model.ftz" if self.quantize else "model.bin"

    def _save_state(self, folder: Path) -> None:
        self.model_.save_model(str(folder / self._model_file))
        joblib.dump(self.preprocessor_, folder / PREPROCESSOR_FILE)
        state = {
            "params": self.get_params(deep=False),
            "classes": [str(c) for c in self.classes_],
            "class_prior": self.class_prior_.tolist(),
            "learning_rate_used": getattr(self, "learning_rate_used_", self.learning_rate),
        }
        (folder / STATE_JSON).write_text(json.dumps(state, indent=2))

    @classmethod
    def _load_state(cls, folder: Path) -> FastTextClassifier:
        state = json.loads((folder / STATE_JSON).read_text())
        model = cls.from_saved_params(state["params"])
        model.classes_ = np.asarray(state["classes"])
        model.class_prior_ = np.asarray(state["class_prior"], dtype=float)
        used = state.get("learning_rate_used", state.get("lr_used"))  # "lr_used": saved before the rename
        model.learning_rate_used_ = float(model.learning_rate if used is None else used)
        model.preprocessor_ = joblib.load(folder / PREPROCESSOR_FILE)
        model.model_ = _read_ft(folder / model._model_file)
        return model

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # a copy: 3.11 returns __dict__
        ft = state.pop("model_", None)
        if ft is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / self._model_file
                ft.save_model(str(path))
                state["_model_bytes"] = path.read_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        blob = state.pop("_model_bytes", None)
        if "lr_used_" in state:  # pickled before the naming table
            state["learning_rate_used_"] = state.pop("lr_used_")
        super().__setstate__(state)
        if blob is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / self._model_file
                path.write_bytes(blob)
                self.model_ = _read_ft(path)
