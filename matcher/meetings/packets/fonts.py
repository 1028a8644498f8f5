"""The Korean font of the packets: NanumGothic when installed, else any font fontconfig knows for Korean.

WeasyPrint embeds (a subset of) every font a page uses, so a PDF reads the same on a machine without it and
its Korean text can be extracted. The CSS names ``'NanumGothic'`` first (Debian ``fonts-nanum``; CI's
``.ci/run`` installs it), then the family ``fc-list :lang=ko`` finds, then ``sans-serif``; ``@font-face``
points at the files found so the family resolves even where fontconfig's name matching would not.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PREFERRED = "NanumGothic"
NANUM_DIR = Path("/usr/share/fonts/truetype/nanum")


@dataclass(frozen=True)
class FontChoice:
    """``families``: CSS families in order; ``faces``: (family, weight, file) for ``@font-face`` rules."""

    families: tuple[str, ...]
    faces: tuple[tuple[str, str, Path], ...]

    @property
    def css_family(self) -> str:
        return ", ".join([f"'{f}'" for f in self.families] + ["sans-serif"])


def _fc_list(*args: str) -> list[str]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def korean_font() -> FontChoice:
    """The fonts to name in the packets' CSS (see the module docstring); computed once per process."""
    families: list[str] = [PREFERRED]
    faces: list[tuple[str, str, Path]] = []
    for weight, name in (("normal", "NanumGothic.ttf"), ("bold", "NanumGothicBold.ttf")):
        path = NANUM_DIR / name
        if path.is_file():
            faces.append((PREFERRED, weight, path))
    if not faces:
        for line in _fc_list(f":family={PREFERRED}", "file"):
            faces.append((PREFERRED, "normal", Path(line.rstrip(":"))))
            break
    for line in sorted(_fc_list(":lang=ko", "family", "file")):
        file, _, family = line.partition(": ")
        first = family.split(",")[0].strip()
        if first and first not in families:
            families.append(first)
            if not faces:
                faces.append((first, "normal", Path(file)))
            break
    return FontChoice(tuple(families), tuple(faces))


def font_css(choice: FontChoice | None = None) -> str:
    """``@font-face`` rules for the font files found (a CSS fragment; the family list is ``css_family``)."""
    choice = choice or korean_font()
    rules = [f"@font-face {{ font-family: '{family}'; font-weight: {weight}; src: url('{path.as_uri()}'); }}"
             for family, weight, path in choice.faces]
    return "\n".join(rules)
