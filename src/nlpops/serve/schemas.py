"""Request and response bodies of the API, in families (``FeedbackCreate`` / ``FeedbackPublic``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)


def _encodable(value: str) -> str:
    """Refuse lone surrogates (``"\\ud800"`` in JSON): no UTF-8 column or hash takes them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"contains a lone surrogate at character {err.start} ({value[err.start]!r}); send valid Unicode"
        ) from None
    return value


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only whitespace; send the text to classify")
    return _encodable(text)


NonBlank = Annotated[str, AfterValidator(_not_blank)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which no stored field accepts")
    return _encodable(value)


StoredStr = Annotated[str, AfterValidator(_no_nul)]  # goes into a database column as is


# --- prediction ------------------------------------------------------------------------------
MAX_TEXTS = 10_000  # far above any max_batch setting: a bound on the work of validating a list


class PredictRequest(BaseModel):
    """One text (``text``) or a batch (``texts``), not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "I love this!"}]})

    text: NonBlank | None = Field(None, description="One text to classify.")
    texts: list[NonBlank] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXTS,
        description="Several texts to classify (1 to max_batch).",
    )
    split_sentences: bool = Field(
        False, description="Also classify each sentence, with the words that weigh most on its label."
    )
    origin: Literal["live", "batch"] = Field(
        "live", description="batch: an uploaded file, left out of the dashboard's live figures."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send exactly one of 'text' (a string) or 'texts' (a list of strings)")
        return self

    def all_texts(self) -> list[str]:
        """The texts to classify, as a list."""
        return [self.text] if self.text is not None else list(self.texts or [])


class WordWeight(BaseModel):
    """How much a word pushes the prediction towards (positive) or away from (negative) the label."""

    word: str
    weight: float


class SentencePrediction(BaseModel):
    """One sentence of a text (``split_sentences``): its label and the words that weigh on it."""

    text: str
    label: str
    probabilities: dict[str, float]
    words: list[WordWeight] = Field(description="Words by |weight|; positive ones push towards the label.")


class PredictionPublic(BaseModel):
    """The model's answer for one text."""

    prediction_id: str = Field(description="Send it back with POST /v1/feedback.")
    label: str
    probabilities: dict[str, float] = Field(description="Probability of each class.")
    sentences: list[SentencePrediction] | None = Field(
        None, description="Only with split_sentences: one prediction per sentence, in order."
    )

    @model_serializer(mode="wrap")
    def _omit_sentences_unless_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.sentences is None:  # the answer keeps its shape without split_sentences
            data.pop("sentences", None)
        return data


class PredictResponse(BaseModel):
    """Predictions in the order of the texts sent."""

    predictions: list[PredictionPublic]
    model_name: str
    model_version: str | None
    latency_ms: float


class ExplainRequest(BaseModel):
    """The text to explain."""

    model_config = ConfigDict(extra="forbid")

    text: NonBlank


class ExplainResponse(BaseModel):
    """LIME explanation of the predicted label."""

    label: str
    probabilities: dict[str, float]
    weights: list[WordWeight] = Field(description="Every explained word, by |weight|.")
    supporting: list[str] = Field(description="Words that push towards the label, strongest first.")
    opposing: list[str] = Field(description="Words that push away from the label, strongest first.")
    model_name: str
    model_version: str | None
    latency_ms: float


# --- feedback --------------------------------------------------------------------------------
RIGHT_LABEL = "The right label: another class when correct is false; none or the predicted one when true."


class FeedbackCreate(BaseModel):
    """A verdict on a prediction."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: StoredStr = Field(max_length=36, description="An id returned by POST /v1/predict.")
    correct: bool
    label: StoredStr | None = Field(None, max_length=200, description=RIGHT_LABEL)


class FeedbackPublic(BaseModel):
    """A stored verdict (the last one given on its prediction)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    prediction_id: str
    correct: bool
    label: str | None
    created_at: datetime
    source: str = Field("user", description="user (the page's thumbs) or review (the review queue).")


class ReviewVerdict(BaseModel):
    """A reviewer's verdict: right, or the right label."""

    model_config = ConfigDict(extra="forbid")

    correct: bool
    label: StoredStr | None = Field(None, max_length=200, description=RIGHT_LABEL)


class ReviewItem(BaseModel):
    """A prediction in the review queue."""

    prediction_id: str
    created_at: datetime
    text: str | None
    label: str
    probabilities: dict[str, float]
    confidence: float
    words: list[WordWeight] = Field(description="Words by |weight|; positive ones push towards the label.")
    user_verdict: FeedbackPublic | None = Field(description="The user's negative verdict, when it is why.")


class ReviewPage(BaseModel):
    """The head of the review queue and its size."""

    items: list[ReviewItem]
    size: int = Field(
        description="Negative user verdicts not reviewed, plus unjudged low-confidence predictions."
    )
    classes: list[str]


class FeedbackExport(FeedbackPublic):
    """A verdict with its prediction, for review and retraining."""

    text: str | None
    text_sha256: str
    predicted_label: str
    probabilities: dict[str, float]
    model_name: str
    model_version: str | None


class FeedbackPage(BaseModel):
    """One page of the feedback export."""

    items: list[FeedbackExport]
    total: int
    limit: int
    offset: int


# --- alerts, model, health -------------------------------------------------------------------
class AlertPublic(BaseModel):
    """An alert the feedback rule fired."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    rule: str
    message: str
    incorrect_count: int
    window_min: float


class ModelInfo(BaseModel):
    """The model served now."""

    name: str
    version: str | None
    alias: str | None
    uri: str
    run_id: str | None
    metrics: dict[str, float]
    classes: list[str]
    trained_on: str | None = Field(None, description="The training data: file and rows.")
    trained_at: datetime | None = Field(None, description="When its training run started (UTC).")


class ReloadResult(BaseModel):
    """What POST /v1/admin/reload did."""

    reloaded: bool
    previous_version: str | None
    version: str | None
    message: str


class Health(BaseModel):
    """Liveness."""

    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    """Readiness: the model is loaded and the database answers."""

    ready: bool
    model_loaded: bool
    database: bool
    reason: str | None = None


# --- dashboard statistics (GET /v1/stats) -----------------------------------------------------
class HourStats(BaseModel):
    """What happened in one UTC hour."""

    hour: datetime = Field(description="Start of the hour, UTC.")
    predictions: dict[str, int] = Field(description="Predictions made, per label (every label, zeros too).")
    total: int = Field(description="Predictions made, all labels.")
    negative_share: float | None = Field(description="Share of the negative label; None without predictions.")
    feedback: int = Field(description="Verdicts given in this hour.")
    feedback_correct: int = Field(description="Verdicts saying the prediction was right.")
    accuracy: float | None = Field(description="feedback_correct / feedback; None without feedback.")
    baseline_share: float | None = Field(None, description="Negative share the spike rule expects here.")
    threshold_share: float | None = Field(None, description="Negative share from which the spike rule fires.")
    spike: bool = Field(False, description="Whether the spike rule fires on this bucket.")


class AlertSummary(BaseModel):
    """An alert as the dashboard shows it (no id: nothing to act on without the admin key)."""

    model_config = ConfigDict(from_attributes=True)

    created_at: datetime
    rule: str
    message: str
    incorrect_count: int
    window_min: float


class StatsResponse(BaseModel):
    """Aggregates of the last ``hours`` hours, one bucket per UTC hour or day, oldest first."""

    since: datetime = Field(description="Start of the first bucket (inclusive), UTC.")
    until: datetime = Field(description="End of the last bucket (exclusive), UTC.")
    hours: int
    labels: list[str] = Field(description="The model's classes first, then other labels seen.")
    negative_label: str | None = Field(description="The label counted as negative, if one is known.")
    buckets: list[HourStats]
    total_predictions: int
    negative_share: float | None
    total_feedback: int
    accuracy: float | None
    alerts: list[AlertSummary] = Field(description="Alerts fired in the period, newest first (at most 50).")
    bucket: Literal["hour", "day"] = "hour"
    top_terms: list[str] = Field(
        default_factory=list, description="Terms over-represented in the last bucket's negatives."
    )
    examples: list[str] = Field(
        default_factory=list, description="A few negative posts of the last bucket (with the admin key only)."
    )
    examples_hidden: bool = Field(False, description="Examples exist but need the admin key.")
    review_queue: int = Field(0, description="Predictions waiting in the review queue.")


class DriftFeature(BaseModel):
    """One feature of the last live drift check."""

    feature: str
    psi: float
    p_value: float
    drifted: bool


class DriftStatus(BaseModel):
    """The last live drift check (``nlpops.drift``: PSI and chi-square per feature)."""

    checked_at: datetime | None
    model_name: str | None = None
    drift_detected: bool | None
    n_current: int = 0
    features: list[DriftFeature]
    reason: str | None = None
