"""Encoding detection: UTF-8, UTF-8-BOM, CP949/EUC-KR, UTF-16, binary."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from matcher.errors import InputFileError
from matcher.ingest.encoding import decode_bytes, read_text

TEXT = "기술명,출원인\n가상 수소 저장 합금,가나대학교 산학협력단\n똠방각하 뷁 (CP949 전용 음절)\n"


def test_utf8() -> None:
    assert decode_bytes(TEXT.encode("utf-8")) == decode_bytes(TEXT.encode("utf-8"))
    decoded = decode_bytes(TEXT.encode("utf-8"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-8")


def test_utf8_bom() -> None:
    decoded = decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-8-sig")


def test_cp949_including_syllables_outside_euc_kr() -> None:
    decoded = decode_bytes(TEXT.encode("cp949"))
    assert (decoded.text, decoded.encoding) == (TEXT, "cp949")


def test_euc_kr_is_read_as_cp949() -> None:
    text = "가상 기술,가나대학교\n"
    decoded = decode_bytes(text.encode("euc-kr"))
    assert (decoded.text, decoded.encoding) == (text, "cp949")


def test_utf16_with_bom() -> None:
    decoded = decode_bytes(TEXT.encode("utf-16"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-16")


def test_binary_is_refused() -> None:
    with pytest.raises(InputFileError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.csv")


def test_explicit_encoding_is_strict() -> None:
    assert decode_bytes(TEXT.encode("cp949"), "x.csv", "cp949").text == TEXT
    assert decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "x.csv", "utf-8").text == TEXT
    with pytest.raises(InputFileError, match=r"x\.csv: does not decode as utf-8 at byte \d+"):
        decode_bytes(TEXT.encode("cp949"), "x.csv", "utf-8")
    with pytest.raises(InputFileError, match="unknown encoding 'klingon'; valid options: auto"):
        decode_bytes(b"abc", "x.csv", "klingon")


def test_last_resort_guess() -> None:
    text = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve r\u00e9sum\u00e9 \u00e0 la fa\u00e7ade. " * 20
    decoded = decode_bytes(text.encode("latin-1"))
    assert decoded.encoding not in ("utf-8", "cp949")
    assert "br\u00fbl\u00e9e" in decoded.text


def test_read_text_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot be read"):
        read_text(tmp_path / "missing.csv")
