"""Generic CSV / JSONL / XLSX sources: identity mapping, spec mappings, spec validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from matcher.errors import ConfigError, InputFileError
from matcher.ingest import ingest_paths, load_spec

GENERIC = Path(__file__).parent / "fixtures" / "ingest" / "generic"


def test_identity_csv_without_spec() -> None:
    result = ingest_paths([GENERIC / "technologies.csv"])
    t1, t2, t3 = result.technologies
    assert t1.id == "T-001" and t1.title_en == "Low-power edge AI accelerator"
    assert t1.applicants == ("가나대학교 산학협력단", "주식회사 한빛소재")
    assert t1.institutions == ("가나대학교 산학협력단",)  # derived when the column is empty
    assert t1.ipc == ("G06N 3/063", "G06F 7/544") and t1.trl == 4 and t1.confidential is False
    assert t1.language == "ko" and t1.legal_status == "등록"
    assert t2.language == "en" and t2.confidential is True and t2.trl is None
    assert t3.application_date == "2021-08-05" and t3.institutions == ("다라병원", "가나대학교 산학협력단")
    assert result.report.files[0].format == "csv"


def test_spec_with_declared_sources_reads_every_kind() -> None:
    result = ingest_paths([], spec=GENERIC / "sources.toml")
    assert [t.id for t in result.technologies] == ["T-001", "T-002", "T-003"]
    assert [c.name for c in result.companies] == ["주식회사 한빛소재", "미래테크(주)"]
    assert result.companies[0].products == ("음극재", "코팅 장비")
    assert [(i.name, i.kind, i.member) for i in result.institutions] == [
        ("가나대학교 산학협력단", "university", True),
        ("라마기술연구원", "institute", False),
    ]
    d1, d2 = result.demands
    assert d1.requirements == ("실시간 측정", "비접촉") and d1.filters == {"ipc_prefix": ["H01M"]}
    assert d2.text == "" and d2.requirements == ("환기창 자동 제어",)
    files = [f.file for f in result.report.files]
    assert files == [
        (GENERIC / n).as_posix()
        for n in ("technologies.csv", "companies.csv", "institutions.csv", "demands.jsonl")
    ]


def test_spec_with_a_directory_reads_declared_files_and_notes_the_rest() -> None:
    result = ingest_paths([GENERIC], spec=GENERIC / "sources.toml")
    assert len(result.technologies) == 3 and len(result.demands) == 2
    skipped = [w for w in result.report.warnings if w.field == "(file)"]
    assert [Path(w.file).name for w in skipped] == ["mapped.csv"]
    assert "not declared" in skipped[0].message


def test_pathless_spec_maps_any_given_file() -> None:
    result = ingest_paths([GENERIC / "mapped.csv"], spec=GENERIC / "mapped.toml")
    first, second = result.technologies
    assert first.id == "TLO-101" and first.title == "가상 전고체 전지용 황화물 전해질"
    assert first.applicants == ("가나대학교 산학협력단", "주식회사 한빛소재")  # list_separator ';'
    assert first.ipc == ("H01M 10/0562", "H01M 10/052") and first.application_date == "2020-03-04"
    assert second.application_date is None and second.institutions == ()


def test_unknown_columns_need_a_spec() -> None:
    with pytest.raises(InputFileError) as caught:
        ingest_paths([GENERIC / "mapped.csv"])
    message = str(caught.value)
    assert "--spec" in message and "'기술번호'" in message and "'기술명'" in message


def test_jsonl_identity_and_corpus_reingest(tmp_path: Path) -> None:
    source = ingest_paths([GENERIC / "technologies.csv"])
    path = tmp_path / "techs.jsonl"
    path.write_text(
        "".join(json.dumps(t.to_dict(), ensure_ascii=False) + "\n" for t in source.technologies),
        encoding="utf-8",
    )
    again = ingest_paths([path])

    def strip(techs):
        return [
            {k: v for k, v in t.to_dict().items() if k not in ("source_file", "source_row")} for t in techs
        ]

    assert strip(again.technologies) == strip(source.technologies)
    assert again.technologies[0].source_row == 1 and again.report.files[0].format == "jsonl"


def test_xlsx_through_pandas(tmp_path: Path) -> None:
    frame = pd.read_csv(GENERIC / "technologies.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "techs.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    result = ingest_paths([path])
    assert [t.id for t in result.technologies] == ["T-001", "T-002", "T-003"]
    assert result.technologies[0].trl == 4 and result.report.files[0].encoding == "xlsx"


def test_xlsx_numbers_and_dates_from_cells(tmp_path: Path) -> None:
    path = tmp_path / "numbers.xlsx"
    frame = pd.DataFrame(
        {
            "application_number": [1020210000555],
            "title": ["가상 수처리 필터"],
            "application_date": [pd.Timestamp("2021-04-05")],
        }
    )
    frame.to_excel(path, index=False, engine="openpyxl")
    [tech] = ingest_paths([path]).technologies
    assert tech.id == "KR1020210000555" and tech.application_date == "2021-04-05"


def test_cp949_generic_csv(tmp_path: Path) -> None:
    path = tmp_path / "techs.csv"
    path.write_bytes((GENERIC / "technologies.csv").read_text(encoding="utf-8").encode("cp949"))
    result = ingest_paths([path])
    assert result.report.files[0].encoding == "cp949"
    assert result.technologies[0].applicants[0] == "가나대학교 산학협력단"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[source]]\npath = "a.csv"\nkind = "tech"\n',
            "key 'kind' is 'tech'; valid options: technology, company",
        ),
        (
            '[[source]]\npath = "a.csv"\nformt = "csv"\n',
            "unknown key 'formt'; valid keys: path, kind, format",
        ),
        (
            '[[source]]\npath = "a.csv"\n[source.columns]\nheadline = "x"\n',
            "key 'headline' is not a technology field",
        ),
        (
            '[[source]]\npath = "a.csv"\nencoding = "latin-1"\n',
            "valid options: auto, utf-8, utf-8-sig, cp949, euc-kr",
        ),
        ('[[source]]\npath = "a.pdf"\n', "cannot tell the format of 'a.pdf'"),
        ("[[source]]\n[[source]]\npath = 'b.csv'\n", "#1: key 'path' is missing"),
        ("sources = 1\n", "unknown top-level key 'sources'"),
        ("[[source]\n", "not valid TOML"),
        ("", "declares no sources"),
    ],
)
def test_spec_errors_name_file_key_and_options(tmp_path: Path, text: str, expected: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_spec(spec)
    assert str(spec) in str(caught.value) and expected in str(caught.value)


def test_spec_source_missing_file_is_an_input_error(tmp_path: Path) -> None:
    shutil.copy(GENERIC / "sources.toml", tmp_path / "sources.toml")
    with pytest.raises(InputFileError, match="technologies.csv.*does not exist"):
        ingest_paths([], spec=tmp_path / "sources.toml")


def test_required_columns_from_spec(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("code,name\n1,가상 기술\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[[source]]\npath = "t.csv"\nrequired = ["code", "summary"]\n[source.columns]\nid = "code"\ntitle = "name"\n',
        encoding="utf-8",
    )
    with pytest.raises(
        InputFileError, match="missing required column 'summary'; columns found: 'code', 'name'"
    ):
        ingest_paths([], spec=tmp_path / "s.toml")
