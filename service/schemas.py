"""API shapes (separate from the library's internal records)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=5000, examples=["자율주행 이동로봇의 실내 위치 추정"])
    top_k: int = Field(default=10, ge=1, le=100)


class SearchHit(BaseModel):
    rank: int
    id: str
    score: float
    title: str
    title_en: str = ""
    institution: str
    institutions: list[str]
    applicants: list[str]
    ipc: list[str]
    application_date: str | None = None
    legal_status: str | None = None
    components: dict[str, Any] = Field(
        default_factory=dict, description="how the score was made: route, lexical and dense parts, weights, encoder"
    )


class Health(BaseModel):
    status: str
    index_version: str
    count: int
