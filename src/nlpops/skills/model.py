"""The skills pipeline as an MLflow model: log it as a pyfunc, load it back from any URI or folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from spacy.language import Language


def entities_of(nlp: Language, texts: list[str]) -> list[list[dict[str, Any]]]:
    """Each text's entities (in the pipeline's served mode): start/end characters, label, text and
    normalised skill name."""
    from nlpops.skills.aggregate import normalise, skill_lookup
    from nlpops.skills.ner import annotate

    lookup = skill_lookup(nlp)
    out = []
    for doc in annotate(nlp, texts):
        out.append(
            [
                {
                    "start": e.start_char,
                    "end": e.end_char,
                    "label": e.label_,
                    "text": e.text,
                    "skill": normalise(e, lookup),
                }
                for e in doc.ents
            ]
        )
    return out


def entities_frame(nlp: Language, texts: list[str]) -> pd.DataFrame:
    """One row per text with its entities as a JSON list (the pyfunc output)."""
    return pd.DataFrame({"entities": [json.dumps(e, ensure_ascii=False) for e in entities_of(nlp, texts)]})


def _pyfunc_class() -> type:
    """Build the pyfunc wrapper lazily so importing nlpops never imports mlflow or spaCy."""
    import mlflow.pyfunc

    class SkillsPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        """MLflow wrapper: a DataFrame with a ``text`` column in, an ``entities`` JSON column out."""

        def load_context(self, context: Any) -> None:
            from nlpops.skills.ner import load_pipeline

            self.nlp = load_pipeline(find_pipeline_folder(Path(context.artifacts["model"])))

        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
            texts = model_input["text"] if isinstance(model_input, pd.DataFrame) else model_input
            return entities_frame(self.nlp, [str(t) for t in texts])

    return SkillsPyfunc


def log_pipeline(nlp: Language, folder: Path, examples: list[str]) -> str:
    """Log a saved spaCy pipeline folder as the active run's pyfunc model; returns its model URI."""
    from nlpops.tracking import log_pyfunc

    example = pd.DataFrame({"text": examples[:2]})
    return log_pyfunc(_pyfunc_class()(), folder, example, entities_frame(nlp, examples[:2]))


def find_pipeline_folder(root: Path) -> Path:
    """The spaCy pipeline folder (``config.cfg`` + ``meta.json``) at or under ``root``."""
    if (root / "config.cfg").is_file() and (root / "meta.json").is_file():
        return root
    hits = sorted(p.parent for p in root.rglob("config.cfg") if (p.parent / "meta.json").is_file())
    if not hits:
        raise FileNotFoundError(f"{root}: no spaCy pipeline (config.cfg + meta.json) in this folder")
    return hits[0]


def load_skills_model(uri: str) -> Language:
    """Load the skills pipeline from a pipeline folder, an MLflow model folder, or a model URI.

    Args:
        uri: a local folder, ``models:/skills@champion``, ``models:/skills/3`` or ``runs:/id/model``.
    """
    from nlpops.skills.ner import load_pipeline

    local = Path(uri)
    if local.exists():
        return load_pipeline(find_pipeline_folder(local))
    if ":/" not in uri:
        raise FileNotFoundError(
            f"{uri}: no such model folder, and not a URI (models:/name@alias, runs:/id/model)"
        )
    from nlpops.tracking import download_model

    folder, _ = download_model(uri)
    return load_pipeline(find_pipeline_folder(folder))
