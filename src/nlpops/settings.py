"""Runtime settings, read from the environment (prefix ``NLPOPS_``) and an optional ``.env`` file."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_API_KEY_CHARS = 16


class Settings(BaseSettings):
    """Every setting nlpops reads from its environment, in one place."""

    model_config = SettingsConfigDict(env_prefix="NLPOPS_", env_file=".env", extra="ignore")

    # data and tracking
    data_dir: Path = Field(Path("../shared/data"), description="Folder of the real datasets.")
    tracking_uri: str = Field("sqlite:///mlruns.db", description="MLflow store; MLFLOW_TRACKING_URI wins.")
    artifact_root: Path = Field(Path("mlartifacts"), description="Local artifact folder for a sqlite store.")
    num_threads: int = Field(0, description="Torch/BLAS threads; 0 lets the library decide.")
    speed_shortcuts: bool = Field(
        True,
        description="Use the measured shortcuts through scikit-learn's and FastAPI's internals (same "
        "results, tested); false takes the libraries' public paths, e.g. after upgrading them.",
    )

    # serving
    model_uri: str = Field(
        "models:/demo@champion", description="Model the API serves (make demo registers demo)."
    )
    database_url: str = Field("sqlite:///nlpops.db", description="SQLAlchemy URL of the feedback store.")
    api_key: str | None = Field(
        None,
        min_length=MIN_API_KEY_CHARS,
        description="Key of the admin routes (header X-API-Key); unset, the admin routes are off.",
    )
    store_text: bool = Field(True, description="Store prediction texts; False keeps only their SHA-256.")
    reload_interval_s: float = Field(60.0, description="How often the registry alias is polled; 0 = never.")
    model_cache_dir: Path = Field(
        None,  # the validator below fills it in
        validate_default=True,
        description="Downloaded models, and the last one served for cold starts "
        "(default: the user cache folder, nlpops/models).",
    )
    spool_dir: Path | None = Field(
        None,
        description="Where answered predictions are kept until the database has them "
        "(default: the user state folder, nlpops/spool).",
    )
    spool_max_bytes: int = Field(
        1 << 30, ge=1 << 20, description="Disk the spool may use; past it, predictions answer 503."
    )
    db_timeout_s: float = Field(
        1.5, gt=0, description="Longest wait for the database in a request; then 503 + Retry-After."
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, description="Largest request body (413 past it).")
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="Largest request line + headers (431).")
    header_timeout_s: float = Field(10.0, gt=0, description="Time a client has to send its headers.")
    explain_workers: int = Field(1, ge=1, description="Explanations computed at once.")
    explain_processes: bool = Field(
        True,
        description="Compute explanations in worker processes (each loads the model once), so their CPU "
        "work never holds the serving process's interpreter lock; false: threads, no second copy in memory.",
    )
    explain_queue: int = Field(4, ge=0, description="Explanations waiting; past it, 429 + Retry-After.")
    admin_failures_per_min: int = Field(
        5, ge=1, description="Wrong admin keys a client may send per minute before 429."
    )
    max_text_chars: int = 5000
    max_batch: int = 256
    skills_model_uri: str | None = Field(
        None,
        description="Skills NER served by /v1/skills/* and the Skills page (models:/skills@champion); "
        "unset, the skills routes answer 503 and no spaCy pipeline is loaded.",
    )
    skills_max_text_chars: int = Field(20_000, ge=100, description="Longest posting /v1/skills/* takes.")
    skills_max_postings: int = Field(1000, ge=1, description="Most postings per /v1/skills/* request.")
    explain_samples: int = 300
    sentence_model: str = Field(
        "fr_core_news_md",
        description="spaCy model splitting sentences (split_sentences); 'blank:fr' needs none.",
    )

    # alerts
    alert_min_incorrect: int = 3
    alert_window_min: float = 5.0
    alert_cooldown_min: float = 30.0
    spike_window_min: float = Field(5.0, gt=0, description="Live negative-spike rule: window length.")
    spike_baseline_windows: int = Field(24, ge=2, description="Windows the live spike baseline averages.")
    spike_threshold: float = Field(5.0, gt=0, description="Live spike score (Poisson) that fires.")
    spike_min_volume: int = Field(20, ge=1, description="Fewest negative predictions a spike needs.")
    spike_interval_s: float = Field(60.0, ge=0, description="Seconds between live spike checks; 0 = off.")
    drift_interval_s: float = Field(600.0, ge=0, description="Seconds between live drift checks; 0 = off.")
    drift_window: int = Field(1000, ge=50, description="Newest live predictions a drift check reads.")
    alert_webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "nlpops@localhost"
    alert_emails: list[str] = Field(default_factory=list)

    @field_validator("model_cache_dir", mode="before")
    @classmethod
    def _user_cache(cls, value: object) -> object:
        """Unset, the cache goes to the user's cache folder, not into whatever folder a command runs in."""
        return Path(platformdirs.user_cache_dir("nlpops")) / "models" if value is None else value

    def resolved_spool_dir(self) -> Path:
        """The spool folder of this database (one per database URL: never replayed into another)."""
        base = self.spool_dir or Path(platformdirs.user_state_dir("nlpops")) / "spool"
        return base / hashlib.sha256(self.database_url.encode()).hexdigest()[:16]

    def resolved_tracking_uri(self) -> str:
        """The tracking URI in force: ``MLFLOW_TRACKING_URI`` when set, else ours."""
        return os.environ.get("MLFLOW_TRACKING_URI") or self.tracking_uri


def speed_shortcuts() -> bool:
    """Whether the speed shortcuts are on (``NLPOPS_SPEED_SHORTCUTS``; read once per process)."""
    return get_settings().speed_shortcuts


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear it with ``get_settings.cache_clear()``)."""
    return Settings()


def resolve_threads(n: int | None) -> int | None:
    """A model's ``n_jobs``, or ``Settings.num_threads`` when it is None (0: the library's choice)."""
    if n is not None:
        return n
    return get_settings().num_threads or None
