"""The model's routes: predict, explain, and what model is served."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from nlpops.models.base import predicted_labels
from nlpops.serve.db import new_id, utcnow
from nlpops.serve.deps import ModelDep, Serving, ServingDep, SettingsDep
from nlpops.serve.explain import explain_saved, explain_text, occlusion_explain, worker_ref
from nlpops.serve.limits import BoundedPool
from nlpops.serve.schemas import (
    ExplainRequest,
    ExplainResponse,
    ModelInfo,
    PredictionPublic,
    PredictRequest,
    PredictResponse,
    SentencePrediction,
    WordWeight,
)
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["model"])
TOO_LARGE = status.HTTP_413_CONTENT_TOO_LARGE


def size_problem(texts: list[str], settings: Settings) -> str | None:
    """What is over ``max_batch`` or ``max_text_chars`` in ``texts``, saying the limit; else None."""
    if len(texts) > settings.max_batch:
        return f"{len(texts)} texts sent; send at most {settings.max_batch} per request"
    for i, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            return (
                f"text {i} has {len(text)} characters; the limit is {settings.max_text_chars}, "
                "shorten or split it"
            )
    return None


def check_sizes(texts: list[str], settings: Settings) -> None:
    """Refuse batches over ``max_batch`` and texts over ``max_text_chars`` (413, saying the limit)."""
    problem = size_problem(texts, settings)
    if problem is not None:
        raise HTTPException(TOO_LARGE, problem)


def _storable(text: str) -> str:
    """The text as a database column takes it: PostgreSQL refuses NUL, stored as U+FFFD (the
    hash is of the text as sent)."""
    return text.replace("\x00", "\ufffd")


def prediction_rows(
    texts: list[str],
    proba: np.ndarray,
    loaded: LoadedModel,
    settings: Settings,
    latency_ms: float,
    origin: str = "live",
) -> list[dict[str, Any]]:
    """One ``predictions`` row (a dict of columns) per text, with a fresh id."""
    classes = [str(c) for c in loaded.model.classes_]
    labels = list(predicted_labels(loaded.model, proba))  # a tuned threshold applies
    now = utcnow()
    return [
        {
            "id": new_id(),
            "created_at": now,
            "text": _storable(text) if settings.store_text else None,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "label": label,
            "probabilities": dict(zip(classes, row.tolist(), strict=True)),
            "model_name": loaded.name,
            "model_version": loaded.version,
            "latency_ms": latency_ms / len(texts),  # per text
            "origin": origin,
        }
        for text, row, label in zip(texts, proba, labels, strict=True)
    ]


MAX_SENTENCES = 200  # per request: each sentence costs (1 + its words) rows through the model


def sentence_predictions(
    loaded: LoadedModel, texts: list[str], settings: Settings
) -> list[list[SentencePrediction]]:
    """Each text's sentences with their label, probabilities and weighed words (not stored)."""
    from nlpops.text.sentences import split_many

    try:
        per_text = split_many(texts, settings.sentence_model)
    except OSError as err:  # the spaCy model is not installed
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from None
    flat = [s for sentences in per_text for s in sentences]
    if len(flat) > MAX_SENTENCES:
        raise HTTPException(
            TOO_LARGE, f"{len(flat)} sentences; split_sentences takes at most {MAX_SENTENCES}"
        )
    explained = iter(occlusion_explain(loaded.model, flat))
    out = []
    for sentences in per_text:
        out.append(
            [
                SentencePrediction(
                    text=sentence,
                    label=label,
                    probabilities=probabilities,
                    words=[WordWeight(word=w, weight=v) for w, v in weights],
                )
                for sentence, (label, probabilities, weights) in zip(sentences, explained, strict=False)
            ]
        )
    return out


async def answer_predict(body: PredictRequest, loaded: LoadedModel, serving: Serving) -> PredictResponse:
    """Classify ``body`` (already size-checked) and queue its rows: the work of POST /v1/predict,
    shared by the route and the fast path (``serve/fastpath.py``)."""
    texts = body.all_texts()
    start = time.perf_counter()

    def to_rows(proba: np.ndarray) -> list[dict[str, Any]]:
        latency_ms = (time.perf_counter() - start) * 1000
        return prediction_rows(texts, proba, loaded, serving.settings, latency_ms, body.origin)

    # The batch's rows are on disk (the spool) before any of its requests is answered.
    rows = await serving.batcher.predict_then(loaded, texts, to_rows)
    latency_ms = (time.perf_counter() - start) * 1000
    for row in rows:
        serving.metrics.predictions.labels(row["label"]).inc()
    sentences = (
        await run_in_threadpool(sentence_predictions, loaded, texts, serving.settings)
        if body.split_sentences
        else None
    )
    return PredictResponse(
        predictions=[
            PredictionPublic(
                prediction_id=r["id"],
                label=r["label"],
                probabilities=r["probabilities"],
                sentences=sentences[i] if sentences is not None else None,
            )
            for i, r in enumerate(rows)
        ],
        model_name=loaded.name,
        model_version=loaded.version,
        latency_ms=latency_ms,
    )


@router.post("/predict", response_model=PredictResponse)
async def predict(body: PredictRequest, loaded: ModelDep, serving: ServingDep) -> PredictResponse:
    """Classify one text or a batch; each answer has a ``prediction_id`` for feedback.

    Concurrent requests share one model call (``serve/batcher.py``) and the rows are stored by a
    background writer (``serve/writer.py``); any later read through the API sees them.
    """
    # A well-formed request is answered by serve/fastpath.py before it gets here, with the same
    # body; this route answers the rest, and every error.
    check_sizes(body.all_texts(), serving.settings)
    return await answer_predict(body, loaded, serving)


@router.post(
    "/explain",
    response_model=ExplainResponse,
    responses={429: {"description": "Too many explanations at once (header Retry-After)"}},
)
async def explain(
    body: ExplainRequest, loaded: ModelDep, settings: SettingsDep, request: Request
) -> ExplainResponse:
    """Explain the predicted label with LIME: word weights, words for and against it.

    Explanations run in a small pool of their own (``explain_workers``, ``explain_queue``): when it
    is full the answer is 429 with ``Retry-After``, and predictions and ``/health`` stay fast. With
    ``explain_processes`` (the default) they run in worker processes that load the served model from
    its folder, so their CPU work does not hold this process's interpreter lock either."""
    check_sizes([body.text], settings)
    start = time.perf_counter()
    pool: BoundedPool = request.app.state.explain_pool
    ref = worker_ref(loaded, settings.explain_processes)
    if ref is not None:
        label, probabilities, weights = await pool.run(
            explain_saved, *ref, body.text, settings.explain_samples, isolate=True
        )
    else:  # threads asked for, or a model held only in memory
        label, probabilities, weights = await pool.run(
            explain_text, loaded.model, body.text, settings.explain_samples
        )
    return ExplainResponse(
        label=label,
        probabilities=probabilities,
        weights=[WordWeight(word=w, weight=v) for w, v in weights],
        supporting=[w for w, v in weights if v > 0],
        opposing=[w for w, v in weights if v < 0],
        model_name=loaded.name,
        model_version=loaded.version,
        latency_ms=(time.perf_counter() - start) * 1000,
    )


@router.get("/model", response_model=ModelInfo)
def model_info(loaded: ModelDep) -> ModelInfo:
    """The model served now: name, version, alias, URI, its run's metrics and its classes."""
    return ModelInfo(
        name=loaded.name,
        version=loaded.version,
        alias=loaded.alias,
        uri=loaded.uri,
        run_id=loaded.run_id,
        metrics=loaded.metrics,
        classes=[str(c) for c in loaded.model.classes_],
        trained_on=loaded.trained_on,
        trained_at=loaded.trained_at,
    )
