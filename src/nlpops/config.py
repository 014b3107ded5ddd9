"""Run configs: one YAML per use case, validated by pydantic, with ``--set a.b.c=value`` overrides.

A config names its data, split, preprocessing recipe, metric, registered model name and a
``models:`` mapping from a model name to its ``kind`` and parameters::

    name: sentiment140
    data: {path: "{data_dir}/sentiment140_train_subset_110k.csv.gz", format: sentiment140}
    models:
      tfidf_lr: {kind: tfidf_lr, C: 4.0}

Data paths do not depend on the folder a command runs from: ``{data_dir}`` is the data folder
setting, and a relative path is looked up beside the config file, then in the data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from nlpops.errors import ConfigError
from nlpops.models.registry import MODEL_KINDS, check_params

DATA_DIR = "{data_dir}"  # placeholder of the data folder setting in config paths
Config = TypeVar("Config", bound=BaseModel)


def resolve_data_path(value: str, config_folder: Path) -> Path:
    """A data path written in a config, as a file path that does not depend on the current folder.

    ``{data_dir}`` expands to the data folder; a relative path is looked up beside the config
    file, then in the data folder.

    Raises:
        FileNotFoundError: a relative path found in neither folder (the message names both).
    """
    from nlpops.data.files import data_dir

    path = Path(value.replace(DATA_DIR, str(data_dir()))).expanduser()
    if path.is_absolute():
        return path
    tried = [(config_folder / path).resolve(), (data_dir() / path).resolve()]
    found = next((candidate for candidate in tried if candidate.exists()), None)
    if found is None:
        raise FileNotFoundError(
            f"{value}: no such file beside the config ({tried[0]}) nor in the data folder ({tried[1]}); "
            f"write '{DATA_DIR}/...' for a file of the data folder (NLPOPS_DATA_DIR)"
        )
    return found


class ConfigFile(BaseModel):
    """A config that knows the folder of its file, so that its relative data paths start there.

    :func:`load_config` passes the folder as validation context; a config built in code has no
    file and starts from the current folder.
    """

    _folder: Path = PrivateAttr(default_factory=Path.cwd)

    @model_validator(mode="after")
    def _remember_folder(self, info: ValidationInfo) -> ConfigFile:
        if info.context and "folder" in info.context:
            self._folder = Path(info.context["folder"])
        return self

    def resolve(self, value: str) -> Path:
        """``value``, a path of this config, resolved as :func:`resolve_data_path` says."""
        return resolve_data_path(value, self._folder)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    """Where the data is and how to read it."""

    path: str = Field(
        description="File to load; '{data_dir}' expands to the data folder setting, and a relative "
        "path is looked up beside the config file, then in the data folder."
    )
    format: str | None = Field(None, description="Force a loader (sentiment140, airline, csv, ...).")
    columns: dict[str, str] = Field(default_factory=dict, description="Our column -> file column.")
    limit: int | None = Field(None, ge=1, description="Read only the first N rows.")
    drop_labels: list[str] = Field(default_factory=list, description="Labels whose rows are dropped.")


class SplitConfig(_Strict):
    """How train/val/test are drawn."""

    seed: int = 42
    val_size: float = Field(0.1, gt=0, lt=0.5)
    test_size: float = Field(0.1, gt=0, lt=0.5)
    group_col: str | None = None


class PreprocessingConfig(_Strict):
    """The preprocessing recipe models get unless they name their own."""

    recipe: str = "minimal"
    lang: Literal["en", "fr"] = "en"
    compare: list[str] = Field(default_factory=list, description="Recipes to compare in one run.")


class ModelSpec(BaseModel):
    """A model entry: its ``kind`` plus that kind's hyperparameters (any other key).

    The hyperparameters are checked against the kind's signature when the config is read (the
    members of a ``soft_vote`` too), so a typo fails before any data is loaded; checking imports
    the kind's module (torch for the deep kinds), and a kind whose library is missing is left to
    fail when it is built.
    """

    model_config = ConfigDict(extra="allow")

    kind: str

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in MODEL_KINDS:
            raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(sorted(MODEL_KINDS))}")
        return kind

    @model_validator(mode="after")
    def _known_params(self) -> ModelSpec:
        try:
            check_params(self.kind, self.params)
        except ImportError:  # the kind's library is not installed: building the model says which
            return self
        except (KeyError, TypeError) as exc:  # as ValueError, pydantic names the file and the model
            raise ValueError(exc.args[0]) from None
        return self

    @property
    def params(self) -> dict[str, Any]:
        """Hyperparameters passed to the model's constructor."""
        return dict(self.model_extra or {})


class FloatSpace(_Strict):
    """A float hyperparameter drawn from [low, high], on a log scale if ``log``."""

    type: Literal["float"]
    low: float
    high: float
    log: bool = False


class IntSpace(_Strict):
    """An integer hyperparameter drawn from [low, high] by ``step``."""

    type: Literal["int"]
    low: int
    high: int
    step: int = Field(1, ge=1)
    log: bool = False


class CategoricalSpace(_Strict):
    """A hyperparameter drawn from a list of choices (any YAML value: null, a list, a string…)."""

    type: Literal["categorical"]
    choices: list[Any] = Field(min_length=1)


SearchSpace = Annotated[FloatSpace | IntSpace | CategoricalSpace, Field(discriminator="type")]


class RunConfig(_Strict, ConfigFile):
    """A whole use case: data → split → preprocessing → models → metric → registry name."""

    name: str = Field(description="MLflow experiment name.")
    registered_model: str = Field(description="Registry name the champion is registered under.")
    data: DataConfig
    split: SplitConfig = SplitConfig()
    preprocessing: PreprocessingConfig = PreprocessingConfig()
    metric: Literal["accuracy", "macro_f1", "roc_auc", "pr_auc"] = "macro_f1"
    positive_label: str | None = None
    target_label: str | None = Field(
        None,
        description="The class watches, spikes, the dashboard and drift are about (saved with the model); "
        "default: the class named like one (negative, dissident…).",
    )
    tune_threshold: bool = Field(
        False,
        description="Binary problems: set the decision threshold that maximises F1 of positive_label on val.",
    )
    models: dict[str, ModelSpec] = Field(min_length=1)
    search: dict[str, dict[str, SearchSpace]] = Field(
        default_factory=dict, description="Model name -> hyperparameter -> search space (nlpops tune)."
    )

    @model_validator(mode="after")
    def _check_threshold(self) -> RunConfig:
        if self.tune_threshold and self.positive_label is None:
            raise ValueError("tune_threshold: true needs positive_label (the class whose F1 is maximised)")
        return self

    @model_validator(mode="after")
    def _check_search(self) -> RunConfig:
        for model, space in self.search.items():
            if model not in self.models:
                raise ValueError(f"search.{model}: no model {model!r} in models ({', '.join(self.models)})")
            for param, dist in space.items():
                if isinstance(dist, FloatSpace | IntSpace) and dist.low >= dist.high:
                    raise ValueError(f"search.{model}.{param}: low ({dist.low}) must be < high ({dist.high})")
                if isinstance(dist, FloatSpace | IntSpace) and dist.log and dist.low <= 0:
                    raise ValueError(f"search.{model}.{param}: a log scale needs low > 0")
        return self

    def data_path(self) -> Path:
        """The data file (see :func:`resolve_data_path`)."""
        try:
            return self.resolve(self.data.path)
        except FileNotFoundError as exc:
            raise ConfigError(f"data.path: {exc}") from None


def parse_value(value: str) -> Any:
    """A ``--set`` value: YAML (``2``, ``true``, ``[a, b]``, ``{kind: x}``) when it parses as YAML,
    else the string as typed (``{data_dir}/x.jsonl.gz`` is a path, not a broken YAML mapping)."""
    if not value.strip():
        return None
    if DATA_DIR in value:  # "{data_dir}" alone would parse as the mapping {"data_dir": None}
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["a.b=1", "c=[x, y]"]`` into ``{"a.b": 1, "c": ["x", "y"]}`` (see :func:`parse_value`)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE, e.g. models.tfidf_lr.C=2")
        out[key.strip()] = parse_value(value)
    return out


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a nested dict (creating missing levels)."""
    for dotted, value in overrides.items():
        node = raw
        parts = dotted.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {dotted}: {where} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return raw


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"{path}: {key}: {e['msg']}")
    return "\n".join(lines)


def read_config(
    path: str | Path,
    schema: type[Config],
    overrides: list[str] | dict[str, Any] | None = None,
    empty_ok: bool = False,
) -> Config:
    """Read a YAML config, apply ``--set`` overrides and validate it against ``schema``.

    The config's folder is the validation context, so its relative data paths start there (see
    :class:`ConfigFile`). Every config of nlpops loads through here: the run configs and the skills config.

    Args:
        path: YAML file.
        schema: The pydantic model of the config.
        overrides: ``KEY=VALUE`` strings (from ``--set``) or an already parsed mapping.
        empty_ok: Whether an empty file is a config of defaults (else it is an error).

    Returns:
        The validated config.

    Raises:
        ConfigError: missing/unreadable file, bad YAML, or wrong keys or types (each named with the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found" if not path.exists() else f"{path}: not a file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None and empty_ok:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    if overrides:
        parsed = parse_overrides(overrides) if isinstance(overrides, list) else overrides
        raw = apply_overrides(raw, parsed)
    try:
        return schema.model_validate(raw, context={"folder": path.parent})
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from exc


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> RunConfig:
    """Read, override and validate a run config (see :func:`read_config`)."""
    return read_config(path, RunConfig, overrides)
