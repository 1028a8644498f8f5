"""Meeting packets end to end (slow: WeasyPrint renders every PDF): ``matcher meetings packets`` in-process
over the fake-encoder demo index — Korean text read back out of the PDFs with pypdf, fonts embedded,
``index.json`` listing every file, progress lines, the map reused from its cache, and an officer's packets
without another institution's confidential technology in any file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from matcher import cli
from tests.fakes import FakeEncoder, fake_encoders

pytestmark = pytest.mark.slow

PLAN = Path(__file__).resolve().parent / "fixtures" / "meetings" / "plan.json"
CONFIDENTIAL = "DEMO-0023"
CONFIDENTIAL_TITLE = "태양광 발전량 예측 기반 ESS 충방전 스케줄링 방법"


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(pdf).pages))


def _run(index: Path, out: Path, *extra: str, capsys: pytest.CaptureFixture[str] | None = None) -> tuple[int, str, str]:
    mp = pytest.MonkeyPatch()
    made = dict(fake_encoders())
    mp.setattr("matcher.encoders.load_encoder", lambda name=None: made.get(name or "minilm") or FakeEncoder(str(name)))
    try:
        code = cli.main(["meetings", "packets", "--index", str(index), "--plan", str(PLAN), "--out", str(out), *extra])
    finally:
        mp.undo()
    if capsys is None:
        return code, "", ""
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture(scope="module")
def admin_out(fake_demo_index, tmp_path_factory):
    out = tmp_path_factory.mktemp("packets") / "admin"
    assert _run(fake_demo_index, out, "--quiet")[0] == 0
    return out


@pytest.fixture(scope="module")
def officer_out(fake_demo_index, tmp_path_factory):
    out = tmp_path_factory.mktemp("packets") / "officer"
    assert _run(fake_demo_index, out, "--role", "officer", "--institution", "Nuri Univ.", "--quiet")[0] == 0
    return out


def test_a_korean_title_reads_back_out_of_the_meeting_pdf(admin_out):
    text = _text(admin_out / "meetings" / "M001.pdf")
    assert "LiDAR-카메라융합SLAM기반실내자율주행이동로봇" in text
    assert "주식회사로보웨이" in text and "한빛대학교산학협력단" in text
    assert len(PdfReader(admin_out / "meetings" / "M001.pdf").pages) == 1  # one page per meeting


def test_fonts_are_embedded(admin_out):
    page = PdfReader(admin_out / "meetings" / "M002.pdf").pages[0]
    fonts = page["/Resources"]["/Font"]
    names = []
    for ref in fonts.values():
        font = ref.get_object()
        names.append(str(font["/BaseFont"]))
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]
    from matcher.meetings.packets.fonts import korean_font

    expected = korean_font().faces[0][0] if korean_font().faces else "NanumGothic"  # fonts-nanum, else the fallback
    assert any(expected.replace(" ", "") in n for n in names), names


def test_every_file_is_written_and_listed(admin_out):
    index = json.loads((admin_out / "index.json").read_text(encoding="utf-8"))
    listed = set(index["files"])
    on_disk = {p.relative_to(admin_out).as_posix() for p in admin_out.rglob("*") if p.is_file()} - {"index.json"}
    assert listed == on_disk
    for mid in ("M001", "M006"):
        assert {f"meetings/{mid}.html", f"meetings/{mid}.pdf"} <= listed
    assert {"organiser/grid.html", "organiser/grid.pdf", "organiser/grid.csv"} <= listed
    assert {"agendas/주-메디센스.pdf", "agendas/주-메디센스.ics", "agendas/누리대학교-산학협력단.ics"} <= listed
    assert index["meetings"] == 6 and index["agendas"] == 9 and index["packets_per_second"] > 0
    assert not [p for p in admin_out.rglob("*.tmp")]
    assert "M004" in _text(admin_out / "organiser" / "grid.pdf")
    agenda = _text(admin_out / "agendas" / "누리대학교-산학협력단.pdf")
    assert "누리대학교산학협력단" in agenda and "09:00–09:30" in agenda


def test_json_output_progress_and_the_cached_map(fake_demo_index, admin_out, tmp_path, capsys):
    out = tmp_path / "again"
    code, stdout, stderr = _run(fake_demo_index, out, "--json", "--every", "4", capsys=capsys)
    assert code == 0
    data = json.loads(stdout)
    assert data["files"] and data["files"][0].startswith("map/landscape-")
    assert re.findall(r"^packets: (\d+)/16", stderr, re.M) == ["4", "8", "12", "16"]
    svg = re.compile(r"<svg.*?</svg>", re.S)
    first = svg.search((admin_out / "meetings" / "M002.html").read_text(encoding="utf-8")).group(0)
    second = svg.search((out / "meetings" / "M002.html").read_text(encoding="utf-8")).group(0)
    assert first == second  # the same map for the same index version
    cache = out / data["files"][0]
    before = cache.stat().st_mtime_ns
    assert _run(fake_demo_index, out, "--quiet")[0] == 0
    assert cache.stat().st_mtime_ns == before  # read back, not fitted again


def test_an_officers_packets_never_name_a_confidential_technology_of_another_institution(officer_out, admin_out):
    assert CONFIDENTIAL in (admin_out / "meetings" / "M005.html").read_text(encoding="utf-8")
    for path in officer_out.rglob("*"):
        if not path.is_file():
            continue
        text = _text(path) if path.suffix == ".pdf" else path.read_bytes().decode("utf-8")
        squeezed = re.sub(r"\s+", "", text)
        assert CONFIDENTIAL not in text and re.sub(r"\s+", "", CONFIDENTIAL_TITLE) not in squeezed, path
    index = json.loads((officer_out / "index.json").read_text(encoding="utf-8"))
    assert index["viewer"] == "officer of 누리대학교 산학협력단"
