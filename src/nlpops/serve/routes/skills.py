"""The skills routes: extract the skills of postings, and the demanded-skills report of many.

Served from the second model slot (``NLPOPS_SKILLS_MODEL_URI``, :mod:`nlpops.serve.skills_slot`);
without it the API routes are not mounted (404) and the page says how to enable them; a configured
model that failed to load answers 503 with the reason. The classifier routes are unaffected.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from nlpops.serve.deps import HolderDep, SettingsDep
from nlpops.serve.routes.pages import AcceptLanguage, LangQuery, pick_language, render_page
from nlpops.serve.skills_schemas import (
    DemandRow,
    ReportRequest,
    ReportResponse,
    SkillsOfPosting,
    SkillSpan,
    SkillsRequest,
    SkillsResponse,
)
from nlpops.serve.skills_slot import SkillsModel, SkillsSlot
from nlpops.settings import Settings
from nlpops.skills.schema import LABELS

router = APIRouter(prefix="/v1/skills", tags=["skills"])
NOT_CONFIGURED = (
    "no skills model is served: set NLPOPS_SKILLS_MODEL_URI (e.g. models:/skills@champion) and restart"
)


async def get_skills_slot(request: Request) -> SkillsSlot:
    """The app's skills model slot."""
    slot: SkillsSlot = request.app.state.skills
    return slot


async def get_skills_model(slot: Annotated[SkillsSlot, Depends(get_skills_slot)]) -> SkillsModel:
    """The loaded skills pipeline, or 503 saying why there is none."""
    if slot.current is None:
        detail = (
            NOT_CONFIGURED if not slot.uri else f"the skills model is not loaded: {slot.error or 'loading'}"
        )
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail)
    return slot.current


SkillsModelDep = Annotated[SkillsModel, Depends(get_skills_model)]


def check_postings(texts: list[str], settings: Settings) -> None:
    """Refuse too many postings or a posting too long (413, saying the limit)."""
    if len(texts) > settings.skills_max_postings:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(texts)} postings sent; send at most {settings.skills_max_postings} per request",
        )
    for i, text in enumerate(texts):
        if len(text) > settings.skills_max_text_chars:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"posting {i} has {len(text)} characters; the limit is {settings.skills_max_text_chars}",
            )


def skills_of(model: SkillsModel, texts: list[str]) -> list[SkillsOfPosting]:
    """Each posting's skill spans and its mentions per category."""
    from nlpops.skills.model import entities_of

    out = []
    for entities in entities_of(model.nlp, texts):
        spans = [SkillSpan.model_validate(e) for e in entities]
        counts = {label: sum(s.label == label for s in spans) for label in LABELS}
        out.append(SkillsOfPosting(skills=spans, counts=counts))
    return out


@router.post("/extract", response_model=SkillsResponse)
async def extract(body: SkillsRequest, model: SkillsModelDep, settings: SettingsDep) -> SkillsResponse:
    """The skills in one posting or many: label, normalised name and character offsets of each."""
    texts = body.all_texts()
    check_postings(texts, settings)
    postings = await run_in_threadpool(skills_of, model, texts)
    return SkillsResponse(model=model.uri, mode=model.mode, postings=postings)


def demand_report(model: SkillsModel, texts: list[str], top: int) -> ReportResponse:
    """The most demanded skills per category of the distinct non-empty postings."""
    from nlpops.skills.aggregate import demand, extract_skills

    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    postings = pd.DataFrame({"posting": range(len(distinct)), "title": "", "text": distinct})
    tables = demand(extract_skills(model.nlp, postings), top)
    categories = {
        label: [DemandRow.model_validate(row) for row in table.to_dict(orient="records")]
        for label, table in tables.items()
    }
    return ReportResponse(postings=len(distinct), categories=categories)


@router.post("/report", response_model=ReportResponse)
async def report(body: ReportRequest, model: SkillsModelDep, settings: SettingsDep) -> ReportResponse:
    """Per category, the skills most postings ask for (postings, share), as ``nlpops skills report``."""
    check_postings(body.texts, settings)
    if not any(t.strip() for t in body.texts):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "every posting is empty")
    return await run_in_threadpool(demand_report, model, body.texts, body.top)


page_router = APIRouter(include_in_schema=False)


@page_router.get("/skills", response_class=HTMLResponse)
def skills_page(
    request: Request,
    holder: HolderDep,
    settings: SettingsDep,
    slot: Annotated[SkillsSlot, Depends(get_skills_slot)],
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """Paste a posting to see its skills highlighted by category; upload postings for the report."""
    extra = {
        "skills_ready": slot.current is not None,
        "skills_max_postings": settings.skills_max_postings,
        "skills_max_text_chars": settings.skills_max_text_chars,
        "skills_labels": list(LABELS),
    }
    lang_code = pick_language(lang, accept_language)
    return render_page(request, "skills.html", lang_code, holder, settings, extra)
