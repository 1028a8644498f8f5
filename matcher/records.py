"""Typed, validated records: Technology, Institution, Company, DemandProfile.

Records are frozen dataclasses. ``to_dict``/``from_dict`` mirror each other and are what the
corpus and index directories store (JSON Lines, never pickle). Validation happens in
``__post_init__`` and raises :class:`matcher.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Self

from matcher.errors import ValidationError

#: Longest text accepted in one field; a longer value is rejected, never silently cut.
MAX_FIELD_CHARS = 200_000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z", re.ASCII)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
LANGUAGES = ("ko", "en", "mixed", "other")
#: legal statuses of records that must not be offered for licence: lapsed, refused, withdrawn, abandoned
#: (KIPRIS 소멸 / 거절 / 취하 / 포기, their English names and common variants). Anything else — 등록, 공개,
#: 출원, unknown — counts as live.
INACTIVE_STATUSES = frozenset(
    "소멸 거절 취하 포기 무효 거절결정 거절확정 소멸(등록료불납) 등록료불납 존속기간만료 "
    "lapsed expired refused rejected withdrawn abandoned invalidated dead inactive".split()
)


def is_active(legal_status: str | None) -> bool:
    """Whether a record with this legal status may be offered (``None`` or an unknown status: yes)."""
    if not legal_status:
        return True
    status = re.sub(r"\s+", "", legal_status).casefold()
    return status not in INACTIVE_STATUSES and not status.startswith(("소멸", "거절", "취하", "포기"))


def _check_text(name: str, value: object, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"field {name!r} must be text, got {type(value).__name__}", field=name)
    if required and not value.strip():
        raise ValidationError(f"field {name!r} is empty", field=name)
    if len(value) > MAX_FIELD_CHARS:
        raise ValidationError(
            f"field {name!r} is {len(value):,} characters, over the limit of {MAX_FIELD_CHARS:,}", field=name
        )
    return value


def check_iso_date(name: str, value: object, *, what: str = "field", field: str | None = None) -> None:
    """``value`` must be ``None`` or a real calendar date written ``YYYY-MM-DD`` (``2020-13-45`` is not);
    ``what`` words the message ("field", "filter"); the error's field is ``field`` (default ``name``)."""
    if value is None:
        return
    ok = isinstance(value, str) and bool(_ISO_DATE.match(value))
    if ok:
        try:
            datetime.date.fromisoformat(value)  # type: ignore[arg-type]
        except ValueError:
            ok = False
    if not ok:
        raise ValidationError(f"{what} {name!r} must be a calendar date YYYY-MM-DD, got {value!r}",
                              field=field or name)


def _check_date(name: str, value: str | None) -> None:
    check_iso_date(name, value)


def _check_tuple(name: str, value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(f"field {name!r} must be a tuple of non-empty strings, got {value!r}", field=name)


class _Serialisable:
    """``to_dict``/``from_dict`` for frozen dataclasses whose sequences are tuples."""

    _tuple_fields: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValidationError(
                f"unknown field(s) {sorted(unknown)} for {cls.__name__}; valid fields: {sorted(names)}",
                field=sorted(unknown)[0],
            )
        kwargs = {k: (tuple(v) if k in cls._tuple_fields and isinstance(v, list) else v) for k, v in data.items()}
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from: file and 1-based data row (or XML item number)."""

    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file}:{self.row}"


@dataclass(frozen=True, slots=True)
class Technology(_Serialisable):
    """A patent or a technology description owned by one or more applicants."""

    id: str
    title: str
    abstract: str = ""
    claims: str = ""
    applicants: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    ipc: tuple[str, ...] = ()
    application_number: str | None = None
    application_date: str | None = None
    publication_number: str | None = None
    publication_date: str | None = None
    registration_number: str | None = None
    registration_date: str | None = None
    legal_status: str | None = None
    language: str = "ko"
    title_en: str = ""
    inventors: tuple[str, ...] = ()
    kind: str = "patent"
    trl: int | None = None
    confidential: bool = False
    source_file: str = ""
    source_row: int = 0
    content_hash: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("applicants", "institutions", "ipc", "inventors")

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValidationError(
                f"field 'id' must be 1-128 letters, digits or ._:- (starting alphanumeric), got {self.id!r}",
                field="id",
            )
        _check_text("title", self.title, required=True)
        for name in ("abstract", "claims", "title_en"):
            _check_text(name, getattr(self, name))
        for name in ("applicants", "institutions", "ipc", "inventors"):
            _check_tuple(name, getattr(self, name))
        for name in ("application_date", "publication_date", "registration_date"):
            _check_date(name, getattr(self, name))
        if self.language not in LANGUAGES:
            raise ValidationError(f"field 'language' must be one of {LANGUAGES}, got {self.language!r}", field="language")
        if self.kind not in ("patent", "utility", "description"):
            raise ValidationError(
                f"field 'kind' must be one of ('patent', 'utility', 'description'), got {self.kind!r}", field="kind"
            )
        if self.trl is not None and (not isinstance(self.trl, int) or not 1 <= self.trl <= 9):
            raise ValidationError(f"field 'trl' must be an integer 1-9, got {self.trl!r}", field="trl")
        expected = content_hash(self)
        if not self.content_hash:
            object.__setattr__(self, "content_hash", expected)
        elif self.content_hash != expected:
            raise ValidationError(
                f"field 'content_hash' is {self.content_hash!r} but the content hashes to {expected!r}",
                field="content_hash",
            )

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Self:
        """A record as :meth:`to_dict` wrote it, built without validation nor re-hashing its content.

        Only for rows whose bytes are vouched for — a published index version's records file whose
        SHA-256 matches its manifest (``matcher/store/versions.py``): they were validated when built.
        A row without exactly the fields of this class goes through :meth:`from_dict` (checked)."""
        if data.keys() != _TECHNOLOGY_FIELDS:
            return cls.from_dict(data)
        tech = object.__new__(cls)
        for name, value in data.items():
            _set_field(tech, name, tuple(value) if type(value) is list else value)
        return tech

    @property
    def source(self) -> SourceRef:
        return SourceRef(self.source_file, self.source_row)

    @property
    def text(self) -> str:
        """The document text that is embedded and indexed: title, English title, abstract."""
        parts = [self.title]
        if self.title_en and self.title_en not in self.title:
            parts.append(self.title_en)
        if self.abstract:
            parts.append(self.abstract)
        return "\n".join(parts)

    @property
    def active(self) -> bool:
        """False for lapsed, refused, withdrawn or abandoned records (:data:`INACTIVE_STATUSES`)."""
        return is_active(self.legal_status)

    def summary(self) -> dict[str, Any]:
        """What every result shows about a technology: identity, owners, status, dates, TRL, IPC."""
        return {
            "id": self.id,
            "title": self.title,
            "title_en": self.title_en,
            "institutions": list(self.institutions or self.applicants),
            "legal_status": self.legal_status,
            "active": self.active,
            "application_date": self.application_date,
            "registration_date": self.registration_date,
            "trl": self.trl,
            "ipc": list(self.ipc),
            "kind": self.kind,
        }

    @property
    def owner(self) -> str:
        """The first owning institution, else the first applicant, else ''."""
        if self.institutions:
            return self.institutions[0]
        return self.applicants[0] if self.applicants else ""


_TECHNOLOGY_FIELDS = frozenset(f.name for f in fields(Technology))
_set_field = object.__setattr__  # a frozen dataclass's own __init__ sets its fields this way
_HASHED_FIELDS = ("title", "title_en", "abstract", "claims", "applicants", "ipc")


def content_hash(tech: Technology) -> str:
    """SHA-256 over the fields that change what is embedded or shown as the technology's content."""
    payload = json.dumps({k: getattr(tech, k) for k in _HASHED_FIELDS}, ensure_ascii=False, sort_keys=True)
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Institution(_Serialisable):
    """A member (or non-member) university, hospital or public research institute."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "university"
    member: bool = True

    _tuple_fields: ClassVar[tuple[str, ...]] = ("aliases",)
    KINDS: ClassVar[tuple[str, ...]] = ("university", "institute", "hospital", "government", "other")

    def __post_init__(self) -> None:
        _check_text("name", self.name, required=True)
        _check_tuple("aliases", self.aliases)
        if self.kind not in self.KINDS:
            raise ValidationError(f"field 'kind' must be one of {self.KINDS}, got {self.kind!r}", field="kind")


@dataclass(frozen=True, slots=True)
class Company(_Serialisable):
    """A company that may bring demands or license technologies."""

    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    industry_codes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    _tuple_fields: ClassVar[tuple[str, ...]] = ("aliases", "industry_codes", "products")

    def __post_init__(self) -> None:
        _check_text("name", self.name, required=True)
        _check_text("description", self.description)
        for name in ("aliases", "industry_codes", "products"):
            _check_tuple(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class DemandProfile(_Serialisable):
    """A company's technology need: free text, optional explicit requirements, optional filters."""

    text: str = ""
    requirements: tuple[str, ...] = ()
    filters: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    company: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("requirements",)

    def __post_init__(self) -> None:
        _check_text("text", self.text)
        _check_tuple("requirements", self.requirements)
        if not self.text.strip() and not self.requirements:
            raise ValidationError("a demand needs 'text' or 'requirements'; both are empty", field="text")
        if not isinstance(self.filters, dict):
            raise ValidationError(f"field 'filters' must be an object, got {self.filters!r}", field="filters")

    @property
    def query_text(self) -> str:
        """Text used for a single whole-demand query."""
        return "\n".join([self.text, *self.requirements]).strip()
