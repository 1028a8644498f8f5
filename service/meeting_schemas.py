"""API shapes of meeting plans (``service/routes/meetings.py``): the request to plan an event, and the plan
JSON of ``matcher/meetings/plan.py`` as typed models (so ``/openapi.json`` documents every field)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: the largest id a stored plan can have (a 32-bit integer: SQLite and PostgreSQL alike)
MAX_PLAN_ID = 2**31 - 1


class PlanRequest(BaseModel):
    """An event to plan (the event file's JSON, ``matcher/meetings/README.md``), optionally re-planned from a
    stored plan whose meetings stay in place where still feasible."""

    event: dict[str, Any] = Field(description="the event: name, date, slots, slot_minutes, tables, companies, "
                                              "institutions, requests (as `corpora/demo/event.json`)")
    pin: int | None = Field(default=None, ge=1, le=MAX_PLAN_ID,
                            description="a stored plan's id: keep its meetings in place where still feasible")
    time_limit: float | None = Field(default=None, gt=0, description=(
        "CP-SAT wall-clock limit in seconds; at most MATCHER_PLAN_TIME_LIMIT, which is also the default"))

    model_config = ConfigDict(json_schema_extra={"examples": [{"event": {
        "name": "상담회", "date": "2026-05-20", "slots": ["09:00", "09:30"], "slot_minutes": 25, "tables": 2,
        "companies": [{"name": "주식회사 로보웨이", "demand": {"text": "실내 자율주행 로봇의 위치 추정"}}],
        "institutions": [{"name": "한빛대"}]}, "time_limit": 10}]})


class EventCompany(BaseModel):
    name: str
    demand: dict[str, Any] = Field(description="{text, requirements, filters}")
    max_meetings: int
    unavailable: list[str]


class EventInstitution(BaseModel):
    name: str = Field(description="canonical name")
    max_meetings: int
    unavailable: list[str]


class EventRequest(BaseModel):
    company: str
    institution: str
    kind: Literal["must", "avoid"]


class PlanEvent(BaseModel):
    name: str
    date: str
    timezone: str
    location: str
    slots: list[str]
    slot_minutes: int
    tables: int
    companies: list[EventCompany]
    institutions: list[EventInstitution]
    requests: list[EventRequest]


class MeetingEvidence(BaseModel):
    technology: str
    title: str
    institution: str
    relevance: float
    requirements: list[str]
    why: str


class PlannedMeeting(BaseModel):
    id: str = Field(description="M001, … in slot and table order")
    slot: str
    end: str
    table: int
    company: str
    institutions: list[str] = Field(description="one (single) or 2–3 (bundle), all at one table")
    kind: Literal["single", "bundle"]
    technologies: list[str]
    score: float
    evidence: list[MeetingEvidence]
    must: bool
    note: str


class UnscheduledEntry(BaseModel):
    company: str
    institution: str | None = Field(default=None, description="set for a must-request that could not be met")
    reason: str


class PlanObjective(BaseModel):
    pins_kept: int
    musts_met: int
    companies_met: int
    meetings: int
    value: int
    total_score: float
    weighted: int


class PlanSolver(BaseModel):
    name: str
    status: str
    seconds: float
    time_limit: float
    seed: int
    workers: int


class SlotTable(BaseModel):
    slot: str
    table: int


class PlanChange(BaseModel):
    id: str
    company: str
    institutions: list[str]
    before: SlotTable
    after: SlotTable | None = Field(description="null: dropped")


class PlanBody(BaseModel):
    """The plan (``matcher/meetings/plan.py``) as the caller may see it (``scope``)."""

    event: PlanEvent
    index_version: str
    created: str
    meetings: list[PlannedMeeting]
    unscheduled: list[UnscheduledEntry]
    objective: PlanObjective
    baseline_objective: PlanObjective = Field(description="the greedy first-fit baseline")
    solver: PlanSolver
    moved: int | None
    kept: int | None
    changes: list[PlanChange]
    scope: Literal["all", "institution"] = Field(
        description="all: the whole plan (organisers, admins); institution: the meetings of the key's institution")


class PlanCounts(BaseModel):
    meetings: int
    companies: int = Field(description="companies with at least one meeting")
    unscheduled: int
    bundles: int


class PlanSummary(BaseModel):
    id: int
    name: str
    date: str
    index_version: str
    created: str | None
    created_by: str | None = Field(default=None, description="the key id that planned it (organisers and admins)")
    status: Literal["draft", "published", "superseded"]
    published: str | None
    pinned_from: int | None
    counts: PlanCounts = Field(description="as the caller sees the plan")


class StoredPlan(PlanSummary):
    plan: PlanBody
