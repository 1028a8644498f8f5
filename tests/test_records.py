from __future__ import annotations

import pytest

from matcher.errors import ValidationError
from matcher.records import MAX_FIELD_CHARS, Company, DemandProfile, Institution, Technology


def tech(**kw):
    base = dict(id="KR1020170059992", title="자율주행 로봇", abstract="본 발명은 로봇에 관한 것이다.",
                applicants=("한빛대학교 산학협력단",), institutions=("한빛대학교 산학협력단",), ipc=("G05D 1/02",))
    base.update(kw)
    return Technology(**base)


def test_round_trip_and_hash():
    t = tech(application_date="2017-05-15", title_en="Autonomous robot")
    again = Technology.from_dict(t.to_dict())
    assert again == t
    assert t.content_hash.startswith("sha256:")
    assert tech().content_hash == tech(legal_status="등록").content_hash  # status is not content
    assert tech().content_hash != tech(abstract="다른 내용").content_hash
    assert "Autonomous robot" in t.text and t.owner == "한빛대학교 산학협력단"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "has space"}, "id"),
        ({"title": "  "}, "title"),
        ({"application_date": "2017.05.15"}, "application_date"),
        ({"language": "xx"}, "language"),
        ({"trl": 12}, "trl"),
        ({"abstract": "가" * (MAX_FIELD_CHARS + 1)}, "abstract"),
        ({"ipc": ("G05D", "")}, "ipc"),
        ({"content_hash": "sha256:bad"}, "content_hash"),
    ],
)
def test_invalid_fields_are_named(kw, field):
    with pytest.raises(ValidationError) as info:
        tech(**kw)
    assert info.value.field == field
    assert field in str(info.value)


def test_unknown_field_rejected():
    data = tech().to_dict() | {"colour": "red"}
    with pytest.raises(ValidationError, match="colour"):
        Technology.from_dict(data)


def test_other_records():
    c = Company.from_dict({"name": "주식회사 로보웨이", "aliases": ["(주)로보웨이"], "industry_codes": ["C29280"]})
    assert c.aliases == ("(주)로보웨이",)
    assert Institution(name="가온과학기술원", kind="institute").member
    with pytest.raises(ValidationError, match="kind"):
        Institution(name="x", kind="pub")
    d = DemandProfile(text="물류 로봇", requirements=("SLAM", "배터리"))
    assert "SLAM" in d.query_text
    with pytest.raises(ValidationError, match="text"):
        DemandProfile()


def test_from_stored_equals_from_dict():
    """The unchecked path for a checksummed index version builds the very records the checked one does."""
    records = [tech(application_date="2017-05-15", title_en="Autonomous robot", trl=4, confidential=True),
               tech(id="KR2", applicants=(), institutions=(), ipc=(), inventors=("김",), legal_status="소멸")]
    for record in records:
        data = record.to_dict()
        stored = Technology.from_stored(data)
        assert stored == Technology.from_dict(data) == record and type(stored) is Technology
        assert isinstance(stored.applicants, tuple) and stored.content_hash == record.content_hash
        assert hash(stored) == hash(record)


def test_from_stored_checks_a_row_of_other_fields():
    data = tech().to_dict()
    with pytest.raises(ValidationError, match="colour"):
        Technology.from_stored(data | {"colour": "red"})
    del data["content_hash"], data["trl"]  # an older row: checked, defaults filled, hash computed
    assert Technology.from_stored(data) == tech()
    edited = tech().to_dict() | {"title": "다른 제목"}
    del edited["trl"]
    with pytest.raises(ValidationError, match="content_hash"):
        Technology.from_stored(edited)
