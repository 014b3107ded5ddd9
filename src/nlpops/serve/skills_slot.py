"""The second model slot: the skills NER pipeline (``NLPOPS_SKILLS_MODEL_URI``), beside the classifier.

Loaded once at startup, in a thread, only when the setting is given, so a service without it never
imports spaCy's pipeline or downloads the model; a failed load leaves the slot empty with the reason,
which the skills routes report (503) while the classifier keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkillsModel:
    """A loaded skills pipeline and where it came from."""

    nlp: Any  # spacy.language.Language
    uri: str
    mode: str  # the served combination (chosen by cross-validation at training)


def _default_loader(uri: str) -> Any:
    from nlpops.skills.model import load_skills_model

    return load_skills_model(uri)


class SkillsSlot:
    """Holds the skills pipeline; ``current`` is None until loaded (or when not configured)."""

    def __init__(self, uri: str | None, loader: Callable[[str], Any] | None = None) -> None:
        self.uri = uri
        self.loader = loader or _default_loader
        self.current: SkillsModel | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the pipeline at ``uri`` (nothing to do without one); a failure is kept in ``error``."""
        if not self.uri:
            return
        from nlpops.skills.ner import served_mode

        with self._lock:
            try:
                nlp = self.loader(self.uri)
                self.current, self.error = SkillsModel(nlp, self.uri, served_mode(nlp)), None
                log.info("skills model loaded from %s (mode %s)", self.uri, self.current.mode)
            except Exception as exc:  # any loader failure: the classifier must keep serving
                self.error = f"{self.uri}: {exc}"
                log.error("skills model not loaded: %s", self.error)
