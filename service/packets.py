"""Briefing packets of stored plans, made on demand (``matcher/meetings/packets/``) for the meetings routes.

Each packet is made from the plan *as the caller sees it* (``matcher/meetings/view.py``: an officer's view
holds only its institution's meetings) against the served index version, by a :class:`PacketWriter` for
the caller's viewer (another institution's confidential technology is left out before anything is
rendered). A meeting PDF is kept under ``ROOT/<plan id>/<version>/<viewer>/`` (``ROOT``: ``packets/``
beside the keys file): a plan never changes, so a second request is a file read. The landscape
projection is cached per version in ``ROOT/map/``. The grid CSV and calendars are cheap and made each time.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from matcher.access import Viewer
from matcher.errors import NotFoundError
from matcher.files import replacing
from matcher.meetings.packets.grid import grid_csv
from matcher.meetings.packets.ics import agenda_calendar
from matcher.meetings.packets.landscape import Landscape, projection_for
from matcher.meetings.packets.planfile import Plan, participants, plan_from_dict
from matcher.meetings.packets.writer import PacketWriter
from matcher.store.versions import IndexVersion


def _viewer_dir(viewer: Viewer) -> str:
    who = hashlib.sha256((viewer.institution or "").encode("utf-8")).hexdigest()[:12]
    return f"{viewer.role}-{who}"


class Packets:
    """Packets of stored plans under ``root`` (see the module docstring); thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._writers: dict[tuple[str, Viewer], PacketWriter] = {}

    def writer(self, version: IndexVersion, viewer: Viewer) -> PacketWriter:
        key = (version.name, viewer)
        with self._lock:
            if key not in self._writers:
                if len(self._writers) > 16:  # old versions and rare viewers: start again
                    self._writers.clear()
                self._writers[key] = PacketWriter(version, viewer)
            return self._writers[key]

    @staticmethod
    def plan(view: dict[str, Any], plan_id: int) -> Plan:
        return plan_from_dict(view, source=f"plan {plan_id}")

    def meeting_pdf(self, version: IndexVersion, viewer: Viewer, plan_id: int, view: dict[str, Any],
                    meeting_id: str) -> bytes:
        """The meeting page's PDF (404 for a meeting the view does not hold)."""
        plan = self.plan(view, plan_id)
        meeting = next((m for m in plan.meetings if m.id == meeting_id), None)
        if meeting is None:
            raise NotFoundError(f"no meeting {meeting_id!r} in plan {plan_id} for this key; valid: "
                                f"{', '.join(m.id for m in plan.meetings) or '(none)'}")
        path = self.root / str(plan_id) / version.name / _viewer_dir(viewer) / f"{meeting.id}.pdf"
        if path.is_file():
            return path.read_bytes()
        writer = self.writer(version, viewer)
        projection, _ = projection_for(version, self.root / "map")
        landscape = Landscape(version, projection, writer.visible) if projection is not None else None
        html = writer.meeting_page(plan, meeting, writer.positions(plan), landscape)
        data = writer.renderer.pdf(html)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_bytes(data)
        return data

    def agenda_ics(self, version: IndexVersion, viewer: Viewer, plan_id: int, view: dict[str, Any],
                   participant: str) -> bytes:
        """A participant's calendar (404 for a name the view does not hold)."""
        plan = self.plan(view, plan_id)
        names = [p.name for p in participants(plan)]
        if participant not in names:
            raise NotFoundError(f"no participant {participant!r} in plan {plan_id} for this key; valid: "
                                f"{', '.join(names) or '(none)'}")
        writer = self.writer(version, viewer)
        rows = writer.agenda_rows(plan, participant, writer.positions(plan))
        described = {r["meeting"].id: _describe(r) for r in rows}
        return agenda_calendar(plan, participant, [r["meeting"] for r in rows], lambda m: described[m.id])

    def grid(self, plan_id: int, view: dict[str, Any]) -> str:
        return grid_csv(self.plan(view, plan_id))


def _describe(row: dict[str, Any]) -> str:
    lines = [f"{t.id} {t.title}" for t in row["technologies"]]
    if row["hidden"]:
        lines.append(f"({row['hidden']} more not shown)")
    return "\n".join(lines)
