"""Decode text files: UTF-8 (with or without BOM), UTF-16 with BOM, CP949/EUC-KR, else a best guess.

Korean Excel "CSV" exports are CP949. The order is strict UTF-8 (``utf-8-sig`` when a BOM is
present), then strict CP949 (a superset of EUC-KR), and charset-normalizer only as a last resort.
Data with NUL bytes and no UTF-16 BOM is binary, not text, and is refused.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import InputFileError

#: Values a source spec may give for ``encoding``.
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp949", "euc-kr")


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text of a file and the encoding that decoded it."""

    text: str
    encoding: str


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def decode_bytes(data: bytes, path: object = "<bytes>", encoding: str = "auto") -> DecodedText:
    """Decode ``data`` with ``encoding`` (strictly) or, for ``'auto'``, detect it.

    Raises :class:`InputFileError` naming ``path`` when the bytes are binary or do not decode.
    """
    if encoding != "auto":
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InputFileError(
                path, f"unknown encoding {encoding!r}; valid options: {', '.join(ENCODINGS)}"
            ) from None
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise InputFileError(
                path,
                f'does not decode as {encoding} at byte {exc.start} ({exc.reason}); try encoding = "auto"',
            ) from None
        return DecodedText(text.removeprefix("\ufeff"), encoding)
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8) :], "utf-8")
        if text is not None:
            return DecodedText(text, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16")
        if text is not None:
            return DecodedText(text, "utf-16")
    if b"\x00" in data[:65536]:
        raise InputFileError(path, "contains NUL bytes: binary data, not a text file")
    text = _strict(data, "utf-8")
    if text is not None:
        return DecodedText(text, "utf-8")
    text = _strict(data, "cp949")
    if text is not None:
        return DecodedText(text, "cp949")
    return _guess(data, path)


def _guess(data: bytes, path: object) -> DecodedText:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise InputFileError(
            path, "is not text in UTF-8, CP949/EUC-KR or any encoding charset-normalizer recognises"
        )
    return DecodedText(str(best), best.encoding)


def read_text(path: Path, encoding: str = "auto") -> DecodedText:
    """Read and decode a text file (see :func:`decode_bytes`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return decode_bytes(data, path, encoding)
