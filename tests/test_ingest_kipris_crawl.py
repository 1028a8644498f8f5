"""KIPRIS crawl CSV reader: decorated headers, overflowing description, IPC list-strings, CP949."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matcher.errors import InputFileError
from matcher.ingest import ingest_paths
from matcher.ingest.kipris_crawl import CRAWL_COLUMNS, looks_like_crawl, normalize_header, parse_ipc
from matcher.ingest.spec import load_spec

FIXTURE = Path(__file__).parent / "fixtures" / "ingest" / "crawl_sample.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


def _without_source(records) -> list[dict]:
    return [{k: v for k, v in t.to_dict().items() if k != "source_file"} for t in records]


def test_headers_are_recognised() -> None:
    assert normalize_header("출원인  NGRAM") == "출원인"
    assert normalize_header("출원날짜DATETIME") == "출원날짜"
    assert normalize_header(" STORED") == ""
    assert normalize_header("IPC넘버") == "IPC넘버"
    assert looks_like_crawl(["특허명 TEXT", "출원번호 NUMERIC"])
    assert not looks_like_crawl(["id", "title"])


def test_ipc_list_strings() -> None:
    assert parse_ipc("['A01G 9/24 G05B 13/02  .... ', 'A01G 9/24|G05B 13/02|G06Q 50/02']") == (
        "A01G 9/24", "G05B 13/02", "G06Q 50/02",
    )  # fmt: skip
    assert parse_ipc("['B62B 3/02 B62B 5/06 ']") == ("B62B 3/02", "B62B 5/06")
    assert parse_ipc("['G01N 33/02']") == ("G01N 33/02",)
    assert parse_ipc("") == ()


def test_rows_become_technologies() -> None:
    result = ingest_paths([FIXTURE])
    report = result.report
    assert (report.read, report.ingested, report.duplicates, report.rejected) == (4, 3, 1, 0)
    assert report.files[0].format == "kipris-crawl" and report.files[0].encoding == "utf-8"
    first, cart, salt = result.technologies
    assert first.id == "KR1020210000101"  # float '1020210000101.0'
    assert first.title == "스마트팜 환기창 제어 장치 및 방법"
    assert first.title_en == "APPARATUS AND METHOD FOR CONTROLLING VENTILATION WINDOW OF SMART FARM"
    assert first.abstract == (
        "본 발명은 가상의 스마트팜 제어 장치에 관한 것이다, 온도 센서와 습도 센서를 포함하며, "
        "제어부는 생육 모델에 따라 환기창을 여닫는다."
    )  # the overflowing cells are joined back with ','
    assert first.ipc == ("A01G 9/24", "G05B 13/02", "G06Q 50/02")
    assert first.applicants == ("가나대학교 산학협력단", "미래테크(주)")
    assert first.institutions == ("가나대학교 산학협력단",)
    assert first.inventors == ("홍길동", "김영희")
    assert first.application_date == "2021-03-02"
    assert first.registration_number is None and first.registration_date is None
    assert (first.publication_number, first.publication_date) == ("1020220030101", "2022-09-15")
    assert first.legal_status is None
    assert cart.kind == "utility" and cart.id == "KR2020190000202"
    assert cart.applicants == ("주식회사 한빛소재", "가나대학교 산학협력단")
    assert cart.publication_date is None and cart.registration_date == "2020-06-01"
    assert salt.title_en == "" and salt.applicants == ("홍길동", "성춘향") and salt.institutions == ()
    [dup] = report.duplicates_list
    assert (dup.row, dup.kept_row) == (3, 1)


def test_cp949_copy_gives_the_same_records(tmp_path: Path) -> None:
    copy = tmp_path / "crawl_cp949.csv"
    copy.write_bytes(FIXTURE.read_text(encoding="utf-8").encode("cp949"))
    utf8, cp949 = ingest_paths([FIXTURE]), ingest_paths([copy])
    assert cp949.report.files[0].encoding == "cp949"
    assert _without_source(cp949.technologies) == _without_source(utf8.technologies)


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace("출원번호 NUMERIC", "번호")
    path = tmp_path / "no_number.csv"
    path.write_text(text, encoding="utf-8")
    spec = REPO / "corpora" / "specs" / "kipris-crawl-csv.toml"
    with pytest.raises(InputFileError) as caught:  # the only file: nothing usable
        ingest_paths([path], spec=spec)
    message = str(caught.value)
    assert (
        "missing required column '출원번호'" in message and "'번호'" in message and "'특허명 TEXT'" in message
    )
    good = tmp_path / "good.csv"
    good.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    report = ingest_paths([good, path], spec=spec).report  # among a good file: a reject entry
    [reject] = report.rejects
    assert (reject.file, reject.row, reject.field) == (path.as_posix(), 0, "(file)")
    assert (
        report.files[1].rejected == 4 and report.read == report.ingested + report.duplicates + report.rejected
    )


def test_spec_file_documents_the_default_mapping() -> None:
    [source] = load_spec(REPO / "corpora" / "specs" / "kipris-crawl-csv.toml")
    assert source.format == "kipris-crawl" and source.applicant_split == "spaces"
    assert source.columns == CRAWL_COLUMNS
    with_spec = ingest_paths([FIXTURE], spec=REPO / "corpora" / "specs" / "kipris-crawl-csv.toml")
    assert _without_source(with_spec.technologies) == _without_source(ingest_paths([FIXTURE]).technologies)


def _inu() -> Path:
    path = SHARED / "kipris-inu" / "inu_patents_dev.csv"
    if not path.is_file():
        pytest.skip(f"real data not present at {path}")
    return path


@pytest.mark.shared
def test_real_inu_csv_every_row_accounted_for() -> None:
    path = _inu()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in list(csv.reader(handle))[1:] if any(c.strip() for c in r)]
    result = ingest_paths([path])
    report = result.report
    assert report.read == len(rows)
    assert report.read == report.ingested + report.duplicates + report.rejected
    numbers = {r[3].strip().removesuffix(".0") for r in rows}
    assert report.ingested == len(numbers) == len(result.technologies)
    assert all(t.id.startswith("KR") and len(t.id) == 15 for t in result.technologies)
    assert all(t.title and t.ipc and t.application_date for t in result.technologies)
    assert sum(bool(t.title_en) for t in result.technologies) >= 0.9 * len(result.technologies)


@pytest.mark.shared
def test_real_inu_csv_as_cp949_gives_the_same_records(tmp_path: Path) -> None:
    path = _inu()
    text = path.read_text(encoding="utf-8-sig")
    copy = tmp_path / "inu_cp949.csv"
    # like Korean Excel, characters CP949 lacks (a few, e.g. U+30FB) are saved as '?'
    copy.write_bytes(text.encode("cp949", errors="replace"))
    lossy = tmp_path / "inu_lossy_utf8.csv"
    lossy.write_text(copy.read_bytes().decode("cp949"), encoding="utf-8")
    utf8, cp949, same_text = ingest_paths([path]), ingest_paths([copy]), ingest_paths([lossy])
    assert cp949.report.files[0].encoding == "cp949"
    assert utf8.report.files[0].encoding in ("utf-8", "utf-8-sig")
    assert _without_source(cp949.technologies) == _without_source(same_text.technologies)
    assert [t.id for t in cp949.technologies] == [t.id for t in utf8.technologies]
    changed = [
        a.id for a, b in zip(utf8.technologies, cp949.technologies, strict=True)
        if _without_source([a]) != _without_source([b])
    ]  # fmt: skip
    lost = {ch for ch in text if ch.encode("cp949", errors="replace") == b"?" and ch != "?"}
    assert all(any(ch in a.text for ch in lost) for a in utf8.technologies if a.id in changed)
    assert cp949.report.to_dict()["by_file"][0]["read"] == utf8.report.to_dict()["by_file"][0]["read"]


def test_crawl_format_in_a_spec_splits_applicants_on_spaces(tmp_path: Path) -> None:
    spec = tmp_path / "crawl.toml"
    spec.write_text('[[source]]\nformat = "kipris-crawl"\n', encoding="utf-8")
    result = ingest_paths([FIXTURE], spec=spec)
    assert result.technologies[0].applicants == ("가나대학교 산학협력단", "미래테크(주)")
    spec.write_text('[[source]]\nformat = "kipris-crawl"\nrequired = ["대리인"]\n', encoding="utf-8")
    assert ingest_paths([FIXTURE], spec=spec).report.ingested == 3
    spec.write_text('[[source]]\nformat = "kipris-crawl"\nrequired = ["청구항"]\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="missing required column '청구항'"):
        ingest_paths([FIXTURE], spec=spec)
