"""HTML from the Jinja2 templates in ``templates/`` (autoescape on), PDF from the same HTML with WeasyPrint.

One :class:`Renderer` per run: the template environment, the font CSS and WeasyPrint's font configuration
are made once and shared by every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from matcher.meetings.packets.fonts import FontChoice, font_css, korean_font


def environment() -> Environment:
    """The packets' template environment: every value escaped (``autoescape=True``), undefined names fail."""
    env = Environment(loader=PackageLoader("matcher.meetings.packets", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda value: f"{float(value):.2f}"
    return env


class Renderer:
    """Renders the packets' pages to HTML text and PDF bytes."""

    def __init__(self, font: FontChoice | None = None) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.env = environment()
        self.font = font or korean_font()
        self.font_config = FontConfiguration()
        # trusted CSS (file paths and family names from fontconfig), not escaped inside <style>
        self.base = {"font_faces": Markup(font_css(self.font)), "font_family": Markup(self.font.css_family)}

    def html(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**self.base, **context)

    def pdf(self, html: str, base_url: Path | None = None) -> bytes:
        from weasyprint import HTML

        document = HTML(string=html, base_url=str(base_url) if base_url else None)
        return bytes(document.write_pdf(font_config=self.font_config))
