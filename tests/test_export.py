"""Export of answers to CSV / XLSX (service/export.py) and the export and institutions routes."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from matcher.institutions import InstitutionRegistry
from matcher.keys import KeyStore
from matcher.records import Institution, Technology
from service import export
from service.app import create_app
from service.institutions import institution_listing
from service.settings import ServiceSettings
from service.state import load_engine

RECORDS = {
    "T1": {"id": "T1", "title": "배터리 관리", "legal_status": "등록", "application_date": "2020-01-02",
           "registration_date": "2021-03-04", "trl": 5, "institutions": ["누리대학교 산학협력단"], "ipc": ["H01M"]},
    "T2": {"id": "T2", "title": "실내 SLAM", "legal_status": "소멸", "application_date": "2015-05-06",
           "registration_date": None, "trl": None, "institutions": ["한빛대학교 산학협력단"], "ipc": ["G05D"]},
}


def lookup(tech_id: str):
    return RECORDS.get(tech_id)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(data: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


# ---------------------------------------------------------------- pure flattening

OLD_MATCH = {"requirements": ["SLAM", "배터리"], "matches": [
    {"id": "T1", "score": 3.2, "title": "배터리 관리", "title_en": "BMS", "institutions": ["누리대학교 산학협력단"],
     "covers": [1], "coverage": [0.1, 0.9], "evidence": {"best_sentence": "문장", "ipc": ["H01M 10/42"]}}]}
NEW_MATCH = {"requirements": ["SLAM"], "no_good_match": False, "message": None, "matches": [
    {"id": "T2", "score": 2.0, "relevance": 0.81, "title": "실내 SLAM", "title_en": "", "institutions": ["한빛대"],
     "legal_status": "소멸", "active": False, "application_date": "2015-05-06", "registration_date": None,
     "trl": None, "ipc": ["G05D"], "covers": [0], "coverage": [0.9], "evidence": {}}]}


def test_match_rows_old_shape_is_filled_from_the_records():
    [row] = export.match_rows(OLD_MATCH, lookup)
    assert row["rank"] == 1 and row["id"] == "T1" and row["relevance"] is None and row["score"] == 3.2
    assert row["legal_status"] == "등록" and row["active"] is True and row["trl"] == 5
    assert row["application_date"] == "2020-01-02" and row["registration_date"] == "2021-03-04"
    assert row["covers"] == "배터리" and row["coverage"] == "SLAM: 0.10; 배터리: 0.90"
    assert row["ipc"] == "H01M 10/42" and row["institutions"] == "누리대학교 산학협력단"


def test_match_rows_new_shape_keeps_the_response_values():
    [row] = export.match_rows(NEW_MATCH, lookup)
    assert row["relevance"] == 0.81 and row["active"] is False and row["legal_status"] == "소멸"
    assert export.match_rows({"requirements": ["x"], "matches": [], "no_good_match": True}) == []


def test_bundle_rows_both_shapes():
    old = {"requirements": ["SLAM", "배터리"], "single_institution": None, "bundles": [
        {"members": ["T2", "T1"], "titles": ["실내 SLAM", "배터리 관리"], "institutions": ["a", "b"], "score": 1.5,
         "coverage": [{"requirement": 0, "text": "SLAM", "member": "T2", "score": 0.7},
                      {"requirement": 1, "text": "배터리", "member": "T1", "score": 0.2}], "gaps": [1]}]}
    rows = export.bundle_rows(old, lookup)
    assert [r["requirement"] for r in rows] == [1, 2]
    assert rows[0]["member_ids"] == "T2" and rows[0]["legal_status"] == "소멸" and rows[0]["active"] is False
    assert rows[1]["gap"] is True and rows[0]["gap"] is False and rows[1]["relevance"] == 0.2
    new = {"requirements": ["SLAM"], "verdict": "single_institution", "message": "one covers", "gaps": [],
           "bundles": [{"kind": "single_institution", "members": ["T1"], "titles": ["배터리 관리"], "institutions": ["a"],
                        "score": 0.9, "coverage": [{"requirement": 0, "text": "SLAM", "members": ["T1"],
                                                    "member": "T1", "relevance": 0.77}], "gaps": []}]}
    [row] = export.bundle_rows(new, lookup)
    assert row["verdict"] == "single_institution" and row["kind"] == "single_institution"
    assert row["relevance"] == 0.77 and row["member_institutions"] == "누리대학교 산학협력단" and row["trl"] == 5


def test_licensee_rows_list_and_object_shapes():
    cand = {"company": "(주)가온로보틱스", "key": "k", "kind": "company", "aliases": ["가온로보틱스", "(주)가온로보틱스"],
            "score": 1.2, "signals": {"portfolio": 0.9}, "portfolio_size": 3,
            "evidence": [{"type": "portfolio", "id": "T1", "title": "배터리 관리", "similarity": 0.61},
                         {"type": "industry", "codes": ["C28"]}]}
    for response in ([cand], {"candidates": [{**cand, "relevance": 0.4}], "no_good_match": False}):
        [row] = export.licensee_rows(response, lookup)
        assert row["company"] == "(주)가온로보틱스" and row["aliases"] == "가온로보틱스"
        assert row["evidence_ids"] == "T1" and row["evidence_relevance"] == "0.610"
        assert row["evidence_legal_status"] == "등록" and row["evidence_application_date"] == "2020-01-02"
    assert export.licensee_rows({"candidates": [], "no_good_match": True}) == []


def test_files_csv_bom_and_xlsx_with_korean_and_no_formulas():
    rows = export.match_rows({"requirements": ["x"], "matches": [
        {"id": "T9", "title": "=HYPERLINK(\"http://evil\")", "score": 1.0, "institutions": ["누리대"], "covers": [],
         "coverage": []}]})
    parsed = _csv_rows(export.to_csv(rows, export.MATCH_COLUMNS))
    assert parsed[0]["title"].startswith("'=") and parsed[0]["institutions"] == "누리대"
    assert list(parsed[0]) == list(export.MATCH_COLUMNS)
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rows, export.MATCH_COLUMNS, "matches")))
    sheet = book.active
    assert sheet.title == "matches" and sheet.cell(2, 3).data_type == "s"
    assert sheet.cell(2, 3).value == "=HYPERLINK(\"http://evil\")" and sheet.cell(2, 5).value == "누리대"
    with pytest.raises(ValueError, match="valid: csv, xlsx"):
        export.render("matches", {"matches": []}, "pdf")
    with pytest.raises(ValueError, match="valid: matches, bundles, licensees"):
        export.rows_for("jobs", {}, lookup)


def test_xlsx_drops_control_characters_it_cannot_hold():
    """A demand text may hold control characters (the schema fuzzer sent ``"0\x1f"``): the XLSX file leaves
    them out instead of failing (500); the CSV keeps the text as it is."""
    rows = export.bundle_rows({"requirements": ["0\x1f"], "bundles": [{"members": ["T1"], "coverage": [
        {"requirement": 0, "text": "0\x1f", "members": ["T1"], "member": "T1", "relevance": 0.5}]}]})
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rows, export.BUNDLE_COLUMNS, "bundles"))).active
    texts = [c.value for c in sheet[2] if isinstance(c.value, str)]
    assert "0" in texts and not any("\x1f" in t for t in texts)
    assert "0\x1f" in export.to_csv(rows, export.BUNDLE_COLUMNS).decode("utf-8-sig")


def test_institution_listing_groups_spellings_and_respects_visibility():
    techs = [Technology(id=f"T{i}", title="t", institutions=names) for i, names in enumerate([
        ("누리대학교 산학협력단",), ("누리대학교산학협력단",), ("누리대학교 산학협력단", "한빛대학교"), ("한빛대",), ("기타연구원",)])]
    registry = InstitutionRegistry([Institution(name="한빛대학교 산학협력단", aliases=("한빛대", "한빛대학교"))], techs)
    listing = {r.name: r.to_dict() for r in institution_listing(techs, None, registry)}
    assert listing["누리대학교 산학협력단"]["count"] == 3
    assert listing["누리대학교 산학협력단"]["aliases"] == ["누리대학교산학협력단"]
    assert listing["한빛대학교 산학협력단"]["count"] == 2 and "한빛대" in listing["한빛대학교 산학협력단"]["aliases"]
    import numpy as np

    hidden = institution_listing(techs, np.array([True, True, True, True, False]), registry)
    assert "기타연구원" not in {r.name for r in hidden}


# ---------------------------------------------------------------- the routes

@pytest.fixture(scope="module")
def keys_file(tmp_path_factory):
    return tmp_path_factory.mktemp("export-keys") / "keys.json"


@pytest.fixture(scope="module")
def client(fake_demo_index, keys_file, fake_encoders):
    key = KeyStore(keys_file).create("officer")[0]
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys_file, reload_interval=0)
    app = create_app(settings, engine=load_engine(settings, dict(fake_encoders)))
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


DEMAND = {"requirements": ["실내 자율주행 SLAM", "배터리 관리 시스템"], "top_k": 5}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_matches_route(client, fmt):
    r = client.post(f"/api/export/matches?format={fmt}", json=DEMAND)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(export.MEDIA_TYPES[fmt].split(";")[0])
    assert f'.{fmt}"' in r.headers["content-disposition"] and "attachment" in r.headers["content-disposition"]
    rows = _csv_rows(r.content) if fmt == "csv" else _xlsx_rows(r.content)
    api = client.post("/api/match", json=DEMAND).json()
    assert [row["id"] for row in rows] == [m["id"] for m in api["matches"]]
    assert all(row["legal_status"] for row in rows)          # filled from the records where the answer lacks it


def test_export_bundles_and_licensees_routes(client):
    r = client.post("/api/export/bundles?format=csv", json={**{k: v for k, v in DEMAND.items() if k != "top_k"},
                                                            "top_n": 2})
    assert r.status_code == 200, r.text
    rows = _csv_rows(r.content)
    api = client.post("/api/bundles", json={"requirements": DEMAND["requirements"], "top_n": 2}).json()
    assert len(rows) == sum(len(b["coverage"]) for b in api["bundles"])
    r = client.post("/api/export/licensees?format=xlsx", json={"technology_id": "DEMO-0001", "top_k": 3})
    assert r.status_code == 200, r.text
    rows = _xlsx_rows(r.content)
    api = client.post("/api/licensees", json={"technology_id": "DEMO-0001", "top_k": 3}).json()
    assert [row["company"] for row in rows] == [c["company"] for c in export.licensee_candidates(api)]


def test_export_errors(client):
    assert client.post("/api/export/matches?format=pdf", json=DEMAND).status_code == 422
    assert client.post("/api/export/jobs", json=DEMAND).status_code in (404, 405)
    r = client.post("/api/export/licensees?format=csv", json={"technology_id": "NO-SUCH-ID"})
    assert r.status_code == 404
    assert client.post("/api/export/matches", json=DEMAND, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_institutions_route(client):
    r = client.get("/api/institutions")
    assert r.status_code == 200
    listing = r.json()
    names = [row["name"] for row in listing]
    assert "누리대학교 산학협력단" in names and all(row["count"] >= 1 for row in listing)
    assert client.get("/api/institutions", headers={"Authorization": "Bearer wrong"}).status_code == 401
