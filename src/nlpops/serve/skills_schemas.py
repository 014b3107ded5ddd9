"""Request and response bodies of the skills routes (``/v1/skills/*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlpops.serve.schemas import MAX_TEXTS, NonBlank

SkillLabel = Literal["PROG_LANG", "DB", "PLATFORM", "FRAMEWORKS"]


class SkillsRequest(BaseModel):
    """One posting (``text``) or several (``texts``), not both."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Python, Docker et PostgreSQL sur AWS."}]}
    )

    text: NonBlank | None = Field(None, description="One job posting.")
    texts: list[NonBlank] | None = Field(
        None, min_length=1, max_length=MAX_TEXTS, description="Several postings (1 to skills_max_postings)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SkillsRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send exactly one of 'text' (a string) or 'texts' (a list of strings)")
        return self

    def all_texts(self) -> list[str]:
        """The postings, one or many, as a list."""
        return [self.text] if self.text is not None else list(self.texts or [])


class SkillSpan(BaseModel):
    """One skill mention: where it is (characters), its category, its text and normalised name."""

    start: int
    end: int
    label: SkillLabel
    text: str
    skill: str = Field(description="The normalised name (e.g. 'Kubernetes' for 'K8s').")


class SkillsOfPosting(BaseModel):
    """The skills found in one posting, and how many mentions of each category."""

    skills: list[SkillSpan]
    counts: dict[SkillLabel, int]


class SkillsResponse(BaseModel):
    """One entry per posting, in the order sent."""

    model: str = Field(description="The skills model's URI.")
    mode: str = Field(description="The pipeline combination served (ruler, ner, both, ner_first).")
    postings: list[SkillsOfPosting]


class ReportRequest(BaseModel):
    """Postings to count skills in (e.g. a CSV's text column read by the page)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS, description="The postings' texts.")
    top: int = Field(15, ge=1, le=100, description="Skills listed per category.")


class DemandRow(BaseModel):
    """One skill: how many postings mention it and their share of all postings."""

    skill: str
    postings: int
    share: float


class ReportResponse(BaseModel):
    """The most demanded skills per category (as ``nlpops skills report``)."""

    postings: int = Field(description="Distinct non-empty postings counted.")
    categories: dict[SkillLabel, list[DemandRow]]
