"""API shapes (separate from the library's internal records)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from matcher.access import ROLES
from matcher.errors import ConfigError
from matcher.records import check_iso_date
from matcher.search import check_query_text
from matcher.settings import API_MAX_REQUIREMENT_CHARS as MAX_REQUIREMENT_CHARS
from matcher.settings import API_MAX_REQUIREMENTS as MAX_REQUIREMENTS
from matcher.settings import API_MAX_TEXT_CHARS as MAX_TEXT_CHARS
from matcher.settings import API_MAX_TOP_K as MAX_TOP_K
from matcher.state.times import parse_expiry

# the request limits (longest query, demand text or licensee text; requirements and their length; results)
# are declared with the settings (matcher/settings.py), which derive the default body limit from them

_Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
# every text to search or match with goes through the library's one check (matcher.search.check_query_text)
_Requirement = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REQUIREMENT_CHARS),
                         AfterValidator(lambda v: check_query_text(v, "requirement", MAX_REQUIREMENT_CHARS))]


def _calendar_date(value: str, info: ValidationInfo) -> str:
    check_iso_date(info.field_name or "date", value, what="filter")  # 2020-13-45 is refused
    return value


_Date = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_calendar_date)]


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, examples=["자율주행 이동로봇의 실내 위치 추정"],
                       description=f"≤ {MAX_TEXT_CHARS} characters, with at least one letter or digit")
    top_k: int = Field(default=10, ge=1, le=MAX_TOP_K)

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "웨어러블 생체신호 모니터링", "top_k": 5}]})

    @field_validator("query")
    @classmethod
    def _query_has_text(cls, value: str) -> str:
        return check_query_text(value, "query", MAX_TEXT_CHARS)


class Filters(BaseModel):
    """Filters applied before ranking (keys as in ``matcher.matching.demand.FILTER_KEYS``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"institutions": ["누리대학교 산학협력단"], "ipc_prefixes": ["G06N"], "trl_min": 3}]})

    institutions: list[_Name] | None = Field(default=None, max_length=50,
                                             description="keep technologies of these institutions")
    ipc_prefixes: list[Annotated[str, StringConstraints(min_length=1, max_length=20)]] | None = Field(
        default=None, max_length=50, description="keep technologies with an IPC code starting with one of these")
    date_from: _Date | None = Field(default=None, description="application date >= (a calendar date YYYY-MM-DD)")
    date_to: _Date | None = Field(default=None, description="application date <= (a calendar date YYYY-MM-DD)")
    legal_status: list[_Name] | None = Field(default=None, max_length=20, description="e.g. 등록, 공개")
    trl_min: int | None = Field(default=None, ge=1, le=9)
    trl_max: int | None = Field(default=None, ge=1, le=9)

    @field_validator("date_to")
    @classmethod
    def _dates_in_order(cls, value: str | None, info: ValidationInfo) -> str | None:
        start = info.data.get("date_from")
        if value is not None and start is not None and start > value:
            raise ValueError(f"date_to ({value}) is before date_from ({start})")
        return value

    @field_validator("trl_max")
    @classmethod
    def _trl_in_order(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("trl_min")
        if value is not None and low is not None and low > value:
            raise ValueError(f"trl_max ({value}) is below trl_min ({low})")
        return value


class DemandRequest(BaseModel):
    """A company's demand: free text and/or explicit requirements (at least one), optional filters."""

    # requirements come first so that the check on ``text`` (which needs one of the two) can see them
    requirements: list[_Requirement] | None = Field(
        default=None, max_length=MAX_REQUIREMENTS, examples=[["실내 위치 추정", "장애물 회피"]],
        description=f"explicit requirement facets (otherwise split from the text); at most {MAX_REQUIREMENTS}, "
                    f"each ≤ {MAX_REQUIREMENT_CHARS} chars")
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS, validate_default=True,
                             examples=["실내 물류 로봇을 위한 위치 추정과 장애물 회피 기술이 필요합니다."],
                             description=f"the demand in free text (≤ {MAX_TEXT_CHARS} chars, with letters or digits); "
                                         "needed when there are no requirements")
    filters: Filters | None = None
    include_inactive: bool = Field(
        default=False, description="also propose lapsed, refused, withdrawn and abandoned records (소멸/거절/취하/포기)")

    @field_validator("text")
    @classmethod
    def _text_or_requirements(cls, value: str | None, info: ValidationInfo) -> str | None:
        # the rule of matcher.search.check_demand_texts; the requirements were checked one by one above
        if value is not None and value.strip():
            return check_query_text(value, "text", MAX_TEXT_CHARS)
        if not info.data.get("requirements"):
            raise ValueError("give 'text' (with letters or digits) or 'requirements'; a demand needs at least one")
        return value

    def filter_dict(self) -> dict[str, Any]:
        return self.filters.model_dump(exclude_none=True) if self.filters else {}


class MatchRequest(DemandRequest):
    top_k: int = Field(default=10, ge=1, le=MAX_TOP_K)
    min_relevance: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="leave out matches below this calibrated relevance (default: the service's relevance floor)")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "실내 물류 로봇을 위한 위치 추정과 장애물 회피 기술", "requirements": ["실내 위치 추정", "장애물 회피"],
         "filters": {"trl_min": 3}, "top_k": 5}]})


class BundlesRequest(DemandRequest):
    top_n: int = Field(default=5, ge=1, le=20)

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"requirements": ["웨어러블 생체신호 측정", "심전도 이상 탐지 AI"], "top_n": 3}]})


class LicenseesRequest(BaseModel):
    """Exactly one of ``technology_id``, ``text`` or ``members`` (a bundle's technology ids)."""

    technology_id: str | None = Field(default=None, min_length=1, max_length=128, examples=["DEMO-0001"])
    members: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = Field(
        default=None, min_length=1, max_length=4, description="a bundle: 1–4 technology ids")
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS, validate_default=True,
                             description=f"free text of a technology (≤ {MAX_TEXT_CHARS} chars, with letters or digits)")
    top_k: int = Field(default=10, ge=1, le=MAX_TOP_K)
    include_institutions: bool = Field(
        default=False, description="also propose universities, institutes, hospitals and public bodies")
    include_inactive: bool = Field(
        default=False, description="rank licensees for a lapsed/refused/withdrawn/abandoned technology, and use "
                                   "such records as portfolio evidence")

    model_config = ConfigDict(json_schema_extra={"examples": [{"technology_id": "DEMO-0001", "top_k": 5}]})

    @field_validator("text")
    @classmethod
    def _exactly_one(cls, value: str | None, info: ValidationInfo) -> str | None:
        given = [bool(info.data.get("technology_id")), bool(info.data.get("members")), value is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'technology_id', 'members' or 'text'")
        if value is not None:
            check_query_text(value, "text", MAX_TEXT_CHARS)
        return value


class TechnologySummary(BaseModel):
    """What every result shows about a technology (``Technology.summary()``)."""

    id: str
    title: str
    title_en: str
    institutions: list[str]
    legal_status: str | None = Field(description="KIPRIS legal status (등록, 공개, 소멸, …); null when unknown")
    active: bool = Field(description="false for lapsed, refused, withdrawn and abandoned records")
    application_date: str | None
    registration_date: str | None
    trl: int | None = Field(description="technology readiness level 1-9 when declared")
    ipc: list[str]
    kind: str


class PortfolioEvidence(BaseModel):
    type: Literal["portfolio"]
    id: str
    title: str
    relevance: float = Field(ge=0.0, le=1.0, description="calibrated relevance to the queried technology")
    legal_status: str | None
    active: bool
    ipc: list[str]
    application_date: str | None


class CoapplicationEvidence(BaseModel):
    type: Literal["coapplication"]
    id: str
    title: str
    legal_status: str | None
    detail: str


class DemandEvidence(BaseModel):
    type: Literal["demand"]
    id: str
    text: str
    similarity: float


class IndustryEvidence(BaseModel):
    type: Literal["industry"]
    detail: str
    similarity: float
    codes: list[str]


LicenseeEvidence = Annotated[
    PortfolioEvidence | CoapplicationEvidence | DemandEvidence | IndustryEvidence, Field(discriminator="type")
]


class LicenseeCandidate(BaseModel):
    company: str
    key: str
    kind: str
    aliases: list[str]
    relevance: float = Field(ge=0.0, le=1.0, description="calibrated relevance of its best fitting portfolio patent")
    score: float = Field(description="ranking score: topical fit plus co-application, past demands and industry")
    signals: dict[str, float] = Field(description="each signal's contribution to the score")
    portfolio_size: int
    evidence: list[LicenseeEvidence] = Field(
        description="portfolio patents that fit (relevance, legal status, IPC), joint applications with the owner, "
                    "matching past demands, industry fit")


class LicenseesResponse(BaseModel):
    candidates: list[LicenseeCandidate]
    no_good_match: bool = Field(description="true when no company has a topically fitting patent")
    message: str | None = None
    relevance_floor: float


class RequirementEvidence(BaseModel):
    index: int
    text: str
    relevance: float = Field(description="calibrated relevance of the technology to this requirement")
    covered: bool = Field(description="relevance reaches the floor")


class MatchEvidence(BaseModel):
    requirements: list[RequirementEvidence]
    best_sentence: str | None = Field(description="the technology's sentence closest to the demand")
    shared_terms: list[str]
    ipc: list[str]
    score_components: dict[str, Any] = Field(description="route, languages, lexical and dense parts of the score")


class MatchRow(TechnologySummary):
    relevance: float = Field(ge=0.0, le=1.0, description="calibrated relevance (0-1)")
    score: float = Field(description="raw fused score, for ranking only")
    covers: list[int] = Field(description="requirements (by index) this technology covers above the floor")
    coverage: list[float] = Field(description="relevance per requirement")
    evidence: MatchEvidence


class MatchResponse(BaseModel):
    requirements: list[str]
    matches: list[MatchRow]
    no_good_match: bool = Field(description="true when no technology reaches the relevance floor")
    message: str | None = None
    relevance_floor: float


class CoverRow(BaseModel):
    requirement: int
    text: str
    members: list[str] = Field(description="every member covering this requirement above the floor")
    member: str | None = Field(description="the member that covers it best; null for a gap")
    relevance: float


class ProposalRow(BaseModel):
    kind: Literal["single_institution", "convergence"]
    members: list[str]
    titles: list[str]
    technologies: list[TechnologySummary]
    institutions: list[str]
    relevance: float
    covered: int = Field(description="how many requirements the set covers above the floor")
    score: float
    coverage: list[CoverRow]
    gaps: list[int]


class SingleInstitutionRow(BaseModel):
    institution: str
    members: list[str]
    titles: list[str]
    relevance: float


class BundlesResponse(BaseModel):
    requirements: list[str]
    gaps: list[int] = Field(description="requirements no member technology covers above the relevance floor")
    verdict: Literal["single_institution", "convergence", "partial", "none"]
    message: str
    relevance_floor: float
    single_institution: SingleInstitutionRow | None = Field(
        default=None, description="the institution whose own technologies cover the demand")
    bundles: list[ProposalRow] = Field(
        description="that institution's own set first (kind single_institution), then convergence bundles")


class Me(BaseModel):
    role: str
    institution: str | None = None


class KeyCreateRequest(BaseModel):
    role: Literal["officer", "organiser", "admin"] = Field(description=f"one of {', '.join(ROLES)}")
    institution: _Name | None = Field(default=None, description="bind the key to this institution")
    expires: str | None = Field(default=None, max_length=40, description=(
        "when the key stops working: a date (2027-01-31, 00:00 UTC), a time (2027-01-31T18:00:00+09:00) or a "
        "duration from now (90m, 12h, 30d, 2w); none: never"))
    label: str | None = Field(default=None, max_length=200, description="a note for people (whose key, what for)")

    @field_validator("expires")
    @classmethod
    def _future(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_expiry(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "officer", "institution": "누리대학교 산학협력단"}]})


class KeyInfo(BaseModel):
    id: str
    role: str
    institution: str | None = None
    created: str | None = None
    label: str | None = None
    expires: str | None = Field(default=None, description="UTC; null: never")
    revoked: str | None = Field(default=None, description="UTC; null: not revoked")
    last_used: str | None = Field(default=None, description="UTC, updated at most once a minute per key")
    status: Literal["active", "expired", "revoked"] = "active"


class CreatedKey(KeyInfo):
    key: str = Field(description="the API key; shown once, only its hash is stored")


class Reloaded(BaseModel):
    index_version: str
    swapped: bool


class Problem(BaseModel):
    detail: str
    error: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


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
    registration_date: str | None = None
    legal_status: str | None = None
    active: bool = True
    trl: int | None = None
    relevance: float = Field(default=0.0, ge=0.0, le=1.0, description="calibrated relevance (0-1)")
    components: dict[str, Any] = Field(
        default_factory=dict, description="how the score was made: route, lexical and dense parts, weights, encoder"
    )


ExportFormat = Literal["csv", "xlsx"]


class InstitutionInfo(BaseModel):
    name: str = Field(description="the canonical name (use it in filters)")
    aliases: list[str] = Field(default_factory=list, description="other names and spellings of the institution")
    count: int = Field(description="technologies of the institution the calling key may see")


class Health(BaseModel):
    status: str
    index_version: str
    count: int


class TechnologyRecord(BaseModel):
    """One technology record (``matcher.records.Technology``), in its field order. Officers see only the
    file name of ``source_file``."""

    id: str
    title: str
    abstract: str = ""
    claims: str = ""
    applicants: list[str] = Field(default_factory=list)
    institutions: list[str] = Field(default_factory=list)
    ipc: list[str] = Field(default_factory=list)
    application_number: str | None = None
    application_date: str | None = None
    publication_number: str | None = None
    publication_date: str | None = None
    registration_number: str | None = None
    registration_date: str | None = None
    legal_status: str | None = None
    language: str = "ko"
    title_en: str = ""
    inventors: list[str] = Field(default_factory=list)
    kind: str = "patent"
    trl: int | None = None
    confidential: bool = False
    source_file: str = ""
    source_row: int = 0
    content_hash: str = ""


class TechnologyGroup(BaseModel):
    """A convergence patent group (특허군), restricted to the members the calling key may see."""

    id: str
    label: str
    terms: list[str]
    members: list[str] = Field(description="the visible members' technology ids")
    institutions: list[str] = Field(description="institutions of the visible members")
    size: int = Field(description="number of visible members")
    convergence: bool = Field(description="true when the visible members span two or more institutions")


class ManifestCounts(BaseModel):
    technologies: int
    companies: int | None = None
    institutions: int | None = None
    demands: int | None = None

    model_config = ConfigDict(extra="allow")


class IndexManifest(BaseModel):
    """The served index version's manifest (what ``build_index`` wrote). For officers: counts over the
    technologies the key may see, without the corpus hash, vocabulary size or any server file path; admins
    see it whole. Other keys of the manifest are passed through as they are."""

    version: str = Field(description="the index version's name")
    created_at: str | None = None
    format_version: int | None = None
    count: int = Field(description="technologies (visible to the calling key)")
    counts: ManifestCounts | None = None
    pipeline: dict[str, Any] | None = Field(default=None, description="the retrieval pipeline's configuration")
    encoders: dict[str, dict[str, Any]] | None = Field(default=None, description="encoder identities by name")
    libraries: dict[str, str] | None = None
    groups: dict[str, Any] | None = Field(default=None, description="count and convergence count of the groups")
    retriever: dict[str, Any] | None = Field(default=None, description="BM25, dense and translation parts")

    model_config = ConfigDict(extra="allow")
