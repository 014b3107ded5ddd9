"""The skills config (``configs/skills.yaml``): data files, split, pipeline base, ruler, training."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlpops.config import ConfigFile, read_config


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkillsData(_Strict, ConfigFile):
    """Where the annotated postings and the skill lists are (``{data_dir}`` expands; a relative path
    is looked up beside the config file, then in the data folder).

    The default gold is the reviewed one (every span checked under the annotation guidelines); the
    original doccano export is mostly the seed ruler's unreviewed output.
    """

    annotations: str = "{data_dir}/ner_jobs_doccano_reviewed.jsonl.gz"
    preannotated: str | None = Field(
        "{data_dir}/ner_jobs_entityruler_preannotated.jsonl.gz",
        description="The uncorrected ruler output: tells reviewed texts apart; weak extra data if asked.",
    )
    skill_lists: list[str] = Field(
        default_factory=lambda: [
            "{data_dir}/ner_jobs_skills_languages.csv.gz",
            "{data_dir}/ner_jobs_skills_databases.csv.gz",
            "{data_dir}/ner_jobs_skills_platforms.csv.gz",
            "{data_dir}/ner_jobs_skills_frameworks_tools_etc.csv.gz",
        ]
    )
    aliases: str | None = Field(None, description="Aliases TSV; None: the shipped resources/aliases.tsv.")
    weak_extra: bool = Field(False, description="Add the pre-annotated texts (not in test) as weak data.")

    def path(self, value: str) -> Path:
        """A configured path as a file path (see :func:`nlpops.config.resolve_data_path`)."""
        return self.resolve(value)


class SkillsSplit(_Strict):
    """Split of the DISTINCT texts (the scrape repeats postings)."""

    seed: int = 13
    test_size: float = Field(0.3, gt=0, lt=0.9)


class SkillsCV(_Strict):
    """K-fold cross-validation by distinct text, which chooses the served combination."""

    folds: int = Field(5, ge=0, description="0: no cross-validation (the configured mode is served).")
    seed: int = 13
    models: list[Literal["spacy", "transformer"]] | None = Field(
        None, min_length=1, description="NER kinds cross-validated; None: training.model only."
    )

    @model_validator(mode="after")
    def _folds(self) -> SkillsCV:
        if self.folds == 1:
            raise ValueError("folds must be 0 (off) or at least 2")
        return self


class SkillsTransformer(_Strict):
    """The token-classification transformer (``model: transformer``), fine-tuned on word pieces."""

    checkpoint: str = Field("minilm", description="minilm (offline), a local folder, or a hub id.")
    max_length: int = Field(128, ge=16, le=512, description="Word pieces per window.")
    stride: int = Field(32, ge=0, description="Pieces shared by consecutive windows.")
    max_epochs: int = Field(10, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    batch_size: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _stride_fits(self) -> SkillsTransformer:
        if self.stride > self.max_length // 2:
            raise ValueError(f"stride ({self.stride}) must be at most half of max_length ({self.max_length})")
        return self


class SkillsTraining(_Strict):
    """The statistical part of the pipeline and its training loop."""

    model: Literal["spacy", "transformer"] = Field(
        "spacy", description="spaCy's NER, or a transformer token classifier (``transformer:``)."
    )
    transformer: SkillsTransformer = Field(default_factory=SkillsTransformer)
    base: Literal["blank_en", "blank_fr", "fr_core_news_md"] = "blank_fr"
    ruler: Literal["before", "after", "none"] = "before"
    max_epochs: int = Field(30, ge=1, description="Passes of spaCy's NER over the training texts.")
    dropout: float = Field(0.2, ge=0, lt=1)
    batch_size: int = Field(4, ge=1)
    random_state: int = 0
    context_window: int = Field(8, ge=1, description="Tokens around an ambiguous name searched for cues.")
    learn_lexicon: bool = Field(
        True, description="Add the gold names of the training texts to the ruler (cross-validation decides)."
    )
    lexicon_min_precision: float = Field(
        0.5, ge=0, le=1, description="Share of a learned name's occurrences in training texts that are gold."
    )
    lexicon_refit: bool = Field(
        True,
        description="After the held-out scores, the served ruler relearns its names from every gold text.",
    )

    def tagger_params(self) -> dict[str, Any] | None:
        """The transformer tagger's parameters (seeded like the rest), or None for spaCy's NER."""
        if self.model != "transformer":
            return None
        return self.transformer.model_dump() | {"random_state": self.random_state}


class SkillsConfig(_Strict):
    """Everything ``nlpops skills train`` needs."""

    @property
    def cv_models(self) -> list[str]:
        """The NER kinds cross-validation trains: ``cv.models``, else the configured one."""
        return list(self.cv.models or [self.training.model])

    name: str = Field("skills", description="MLflow experiment.")
    registered_model: str = "skills"
    data: SkillsData = Field(default_factory=SkillsData)
    split: SkillsSplit = Field(default_factory=SkillsSplit)
    training: SkillsTraining = Field(default_factory=SkillsTraining)
    cv: SkillsCV = Field(default_factory=SkillsCV)


def load_skills_config(path: Path, overrides: list[str] | None = None) -> SkillsConfig:
    """Read and validate a skills config (an empty file gives the defaults); ``--set a.b=value``
    overrides are applied first. It loads as the run configs do (:func:`nlpops.config.read_config`).

    Raises:
        ConfigError: missing file, bad YAML, or wrong keys or types (each named with the file).
    """
    return read_config(path, SkillsConfig, overrides, empty_ok=True)
