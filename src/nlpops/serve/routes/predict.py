"""The model's routes: predict, explain, and what model is served."""

from __future__ import annotations

import hashlib
import logging
import time

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nlpops.serve.db import Prediction, new_id
from nlpops.serve.deps import MetricsDep, ModelDep, SessionDep, SettingsDep
from nlpops.serve.explain import explain_text
from nlpops.serve.schemas import (
    ExplainRequest,
    ExplainResponse,
    ModelInfo,
    PredictionPublic,
    PredictRequest,
    PredictResponse,
    WordWeight,
)
from nlpops.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["model"])
TOO_LARGE = status.HTTP_413_CONTENT_TOO_LARGE


def check_sizes(texts: list[str], settings: Settings) -> None:
    """Refuse batches over ``max_batch`` and texts over ``max_text_chars`` (413, saying the limit)."""
    if len(texts) > settings.max_batch:
        raise HTTPException(
            TOO_LARGE, f"{len(texts)} texts sent; send at most {settings.max_batch} per request"
        )
    for i, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            raise HTTPException(
                TOO_LARGE,
                f"text {i} has {len(text)} characters; the limit is {settings.max_text_chars}, "
                "shorten or split it",
            )


def store_predictions(session: Session, rows: list[Prediction]) -> None:
    """Save the predictions; a database failure is logged, never fatal to the answer."""
    try:
        session.add_all(rows)
        session.commit()
    except SQLAlchemyError as err:
        session.rollback()
        log.warning("could not store %d predictions: %s", len(rows), str(err).splitlines()[0])


@router.post("/predict", response_model=PredictResponse)
def predict(
    body: PredictRequest, loaded: ModelDep, settings: SettingsDep, session: SessionDep, metrics: MetricsDep
) -> PredictResponse:
    """Classify one text or a batch; each answer has a ``prediction_id`` for feedback."""
    texts = body.all_texts()
    check_sizes(texts, settings)
    start = time.perf_counter()
    proba = loaded.model.predict_proba(texts)
    latency_ms = (time.perf_counter() - start) * 1000
    classes = [str(c) for c in loaded.model.classes_]
    rows = [
        Prediction(
            id=new_id(),
            text=text if settings.store_text else None,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            label=classes[int(row.argmax())],
            probabilities={c: float(p) for c, p in zip(classes, row, strict=True)},
            model_name=loaded.name,
            model_version=loaded.version,
            latency_ms=latency_ms / len(texts),  # per text
        )
        for text, row in zip(texts, proba, strict=True)
    ]
    store_predictions(session, rows)
    for row in rows:
        metrics.predictions.labels(row.label).inc()
    return PredictResponse(
        predictions=[
            PredictionPublic(prediction_id=r.id, label=r.label, probabilities=r.probabilities) for r in rows
        ],
        model_name=loaded.name,
        model_version=loaded.version,
        latency_ms=latency_ms,
    )


@router.post("/explain", response_model=ExplainResponse)
def explain(body: ExplainRequest, loaded: ModelDep, settings: SettingsDep) -> ExplainResponse:
    """Explain the predicted label with LIME: word weights, words for and against it."""
    check_sizes([body.text], settings)
    start = time.perf_counter()
    label, probabilities, weights = explain_text(loaded.model, body.text, settings.explain_samples)
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
    )
