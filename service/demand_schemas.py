"""API shapes of saved demands and alerts (``service/routes/demands.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import DemandRequest


class SavedDemandRequest(DemandRequest):
    """A demand to save (the match request's ``text`` / ``requirements`` / ``filters``) and who gets its alerts."""

    owner: str | None = Field(default=None, max_length=300,
                              description="who gets its alerts: a name, or an e-mail address the digest is mailed to")

    include_inactive: bool = Field(default=False, description="ignored: alerts propose live records only")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "실내 물류 로봇을 위한 위치 추정과 장애물 회피 기술", "filters": {"trl_min": 3},
         "owner": "kim@nuri.ac.kr"}]})


class SavedDemandId(BaseModel):
    id: int = Field(description="the saved demand's id")


class SavedDemand(BaseModel):
    id: int
    owner: str | None
    institution: str | None = Field(description="the institution it is bound to and matched as (None: none)")
    title: str
    text: str
    requirements: list[str]
    filters: dict[str, Any]
    created: str | None


class AlertRow(BaseModel):
    """A technology that entered a saved demand's top k in an index version (once per demand and technology)."""

    id: int
    demand: int = Field(description="the saved demand's id")
    demand_title: str | None
    technology: str = Field(description="the technology's id")
    title: str | None = Field(description="the technology's title")
    institutions: list[str]
    score: float = Field(description="its calibrated relevance to the demand, [0, 1]")
    version: str = Field(description="the index version it entered the top k in")
    message: str | None
    best_sentence: str | None
    created: str | None
