"""Write every packet of a plan: meeting pages, participants' agendas, the organiser's grid, ``index.json``.

Layout under ``out``::

    meetings/M001.html, M001.pdf        one page per meeting (demand, coverage and gaps, technologies,
                                        legal status, owners, why license, landscape map)
    agendas/<slug>.pdf, <slug>.ics      one per company and institution of the event
    organiser/grid.html, .pdf, .csv     slots × tables
    map/landscape-<version>.json        the version's map projection (cached, reused by later runs)
    index.json                          every file written, relative to ``out``, and the run's figures

Every file is written atomically (``matcher/files.py``). What a viewer may not see (``access.py``: another
institution's confidential technology for an officer) is left out before anything is computed or written:
no id, title, mark on the map, planner's note or calendar line names it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.access import Viewer, visible_mask
from matcher.errors import NotFoundError
from matcher.files import atomic_write_json, atomic_write_text, replacing
from matcher.licensing import LicenseeRanker
from matcher.matching.demand import DemandMatcher
from matcher.meetings.packets.coverage import Coverage, TechnologyFit, meeting_coverage
from matcher.meetings.packets.grid import grid_csv, grid_rows
from matcher.meetings.packets.ics import agenda_calendar, location, other_parties
from matcher.meetings.packets.landscape import Landscape, projection_for
from matcher.meetings.packets.planfile import Meeting, Participant, Plan, participants
from matcher.meetings.packets.rationale import RationaleMaker
from matcher.meetings.packets.render import Renderer
from matcher.meetings.packets.slugs import unique_slugs
from matcher.records import DemandProfile, Technology
from matcher.retrieval.relevance import RELEVANCE_FLOOR
from matcher.store.versions import IndexVersion

#: called with (packets done, packets in all) every ``every`` packets and at the end
Progress = Callable[[int, int], None]


@dataclass
class PacketsReport:
    """What a run wrote: ``files`` relative to the output directory, in writing order."""

    out: Path
    version: str
    viewer: str
    meetings: int = 0
    agendas: int = 0
    packets: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    @property
    def packets_per_second(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "index_version": self.version, "viewer": self.viewer,
                "meetings": self.meetings, "agendas": self.agendas, "packets": self.packets,
                "seconds": round(self.seconds, 2), "packets_per_second": round(self.packets_per_second, 2),
                "files": list(self.files)}


def viewer_label(viewer: Viewer) -> str:
    return "admin (organiser)" if viewer.is_admin else f"officer of {viewer.institution or 'no institution'}"


class _Files:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[str] = []

    def text(self, rel: str, text: str) -> None:
        atomic_write_text(self.out / rel, text)
        self.written.append(rel)

    def data(self, rel: str, data: bytes) -> None:
        with replacing(self.out / rel) as temp:
            temp.write_bytes(data)
        self.written.append(rel)

    def noted(self, path: Path) -> None:
        self.written.append(path.relative_to(self.out).as_posix())


class PacketWriter:
    """Writes the packets of plans against one index version, as one viewer may see them."""

    def __init__(self, version: IndexVersion, viewer: Viewer | None = None, renderer: Renderer | None = None) -> None:
        self.version = version
        viewer = viewer or Viewer("admin")
        if viewer.institution is not None:  # any spelling → the canonical name; unknown: refused, listing the known
            viewer = Viewer(viewer.role, version.registry.resolve(viewer.institution))
        self.viewer = viewer
        self.visible = visible_mask(version.technologies, self.viewer, version.registry)
        self.matcher = DemandMatcher(version)
        self.rationales = RationaleMaker(LicenseeRanker(version), self.visible)
        self.renderer = renderer or Renderer()
        self._vectors: dict[str, np.ndarray | None] = {}

    # ------------------------------------------------------------------ helpers
    def can_see(self, position: int) -> bool:
        return self.visible is None or bool(self.visible[position])

    def positions(self, plan: Plan) -> dict[str, int]:
        """Every technology id of the plan → its position; an id the version lacks is refused, naming it."""
        out: dict[str, int] = {}
        for m in plan.meetings:
            for tid in m.technologies:
                if tid not in out:
                    try:
                        out[tid] = self.version.position_of(tid)
                    except NotFoundError:
                        raise NotFoundError(f"meeting {m.id}: technology {tid!r} is not in index version "
                                            f"{self.version.name}; re-plan against this version") from None
        return out

    def shown(self, meeting: Meeting, where: dict[str, int]) -> tuple[list[int], int]:
        """The positions of the meeting's technologies the viewer may see, and how many are hidden."""
        visible = [where[t] for t in meeting.technologies if self.can_see(where[t])]
        return visible, len(meeting.technologies) - len(visible)

    def demand_vector(self, demand: DemandProfile) -> np.ndarray | None:
        text = demand.query_text
        if text not in self._vectors:
            retriever = self.version.retriever
            name = retriever.primary_encoder
            self._vectors[text] = retriever.query_vectors(name, [text])[0] if name else None
        return self._vectors[text]

    def coverage(self, demand: DemandProfile | None, positions: list[int]) -> Coverage:
        if demand is None:
            techs = self.version.technologies
            return Coverage((), tuple(TechnologyFit(techs[p], 0.0, (), ()) for p in positions), RELEVANCE_FLOOR)
        return meeting_coverage(self.matcher, demand, positions, self.visible)

    # ------------------------------------------------------------------ pages
    def meeting_page(self, plan: Plan, meeting: Meeting, where: dict[str, int],
                     landscape: Landscape | None) -> str:
        positions, hidden = self.shown(meeting, where)
        company = plan.event.company(meeting.company)
        demand = company.demand if company is not None else None
        coverage = self.coverage(demand, positions)
        ids = [self.version.technologies[p].id for p in positions]
        rationale = self.rationales.make(meeting.company, ids, coverage, meeting.kind == "bundle")
        # the planner's notes only when nothing of the meeting is hidden: a note may name a hidden partner
        why = {} if hidden else {e.technology: e.why for e in meeting.evidence if e.why}
        view = None
        if landscape is not None:
            view = landscape.view(positions, self.demand_vector(demand) if demand is not None else None)
        titles = {t.id: t.title for t in (f.technology for f in coverage.technologies)}
        return self.renderer.html(
            "meeting.html", event=plan.event, meeting=meeting, place=location(plan, meeting), demand=demand,
            coverage=coverage, titles=titles, hidden=hidden, why=why, rationale=rationale, map=view,
            index_version=self.version.name, created=plan.created, viewer=viewer_label(self.viewer))

    def agenda_rows(self, plan: Plan, name: str, where: dict[str, int]) -> list[dict[str, Any]]:
        rows = []
        for m in plan.meetings_of(name):
            positions, hidden = self.shown(m, where)
            techs: list[Technology] = [self.version.technologies[p] for p in positions]
            rows.append({"meeting": m, "others": other_parties(m, name), "technologies": techs, "hidden": hidden})
        return rows

    def agenda_page(self, plan: Plan, participant: Participant, rows: list[dict[str, Any]], ics_name: str) -> str:
        reasons = [u["reason"] for u in plan.unscheduled if u["company"] == participant.name and u["reason"]]
        return self.renderer.html("agenda.html", event=plan.event, participant=participant, rows=rows,
                                  unscheduled=reasons, ics_name=ics_name)

    # ------------------------------------------------------------------ the run
    def write(self, plan: Plan, out: str | Path, *, progress: Progress | None = None, every: int = 25) -> PacketsReport:
        """Write every packet of ``plan`` under ``out`` (see the module docstring)."""
        started = time.perf_counter()
        out = Path(out)
        files = _Files(out)
        where = self.positions(plan)
        people = participants(plan)
        slugs = unique_slugs(p.name for p in people)
        total = len(plan.meetings) + len(people) + 1
        report = PacketsReport(out=out, version=self.version.name, viewer=viewer_label(self.viewer))
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None and (done % every == 0 or done == total):
                progress(done, total)

        projection, cached = projection_for(self.version, out / "map")
        if cached is not None:
            files.noted(cached)
        landscape = Landscape(self.version, projection, self.visible) if projection is not None else None

        for m in plan.meetings:
            html = self.meeting_page(plan, m, where, landscape)
            files.text(f"meetings/{m.id}.html", html)
            files.data(f"meetings/{m.id}.pdf", self.renderer.pdf(html))
            report.meetings += 1
            tick()

        for person in people:
            slug = slugs[person.name]
            rows = self.agenda_rows(plan, person.name, where)
            html = self.agenda_page(plan, person, rows, f"{slug}.ics")
            files.data(f"agendas/{slug}.pdf", self.renderer.pdf(html))
            described = {r["meeting"].id: _describe(r) for r in rows}
            files.data(f"agendas/{slug}.ics", agenda_calendar(plan, person.name, [r["meeting"] for r in rows],
                                                              lambda m, d=described: d[m.id]))
            report.agendas += 1
            tick()

        html = self.renderer.html("grid.html", event=plan.event, rows=grid_rows(plan), meetings=len(plan.meetings),
                                  unscheduled=plan.unscheduled)
        files.text("organiser/grid.html", html)
        files.data("organiser/grid.pdf", self.renderer.pdf(html))
        files.text("organiser/grid.csv", grid_csv(plan))
        tick()

        report.packets = done
        report.seconds = time.perf_counter() - started
        report.files = files.written
        atomic_write_json(out / "index.json", {**report.to_dict(), "plan": plan.source,
                                               "event": plan.event.name, "slugs": slugs}, indent=2)
        return report


def _describe(row: dict[str, Any]) -> str:
    lines = [f"{t.id} {t.title}" for t in row["technologies"]]
    if row["hidden"]:
        lines.append(f"({row['hidden']} more not shown)")
    return "\n".join(lines)


def write_packets(version: IndexVersion, plan: Plan, out: str | Path, *, viewer: Viewer | None = None,
                  progress: Progress | None = None, every: int = 25) -> PacketsReport:
    """Every packet of ``plan`` under ``out`` as ``viewer`` (default: an admin, the organiser) may see it."""
    return PacketWriter(version, viewer).write(plan, out, progress=progress, every=every)
