"""The organiser's grid: slots down, tables across, one meeting per cell (HTML/PDF via ``grid.html``, CSV here).

A cell names the meeting, its company and its institutions. The CSV is UTF-8 with a byte-order mark (as
the service's exports, so spreadsheet programs read Korean) and text that a spreadsheet would run as a
formula (``= + - @``) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from matcher.meetings.packets.planfile import Meeting, Plan

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class GridRow:
    slot: str
    end: str
    cells: tuple[Meeting | None, ...]  # one per table, table 1 first


def grid_rows(plan: Plan) -> list[GridRow]:
    """One row per slot of the event, one cell per table."""
    event = plan.event
    at = {(m.slot, m.table): m for m in plan.meetings}
    rows = []
    for slot in event.slots:
        cells = tuple(at.get((slot, t)) for t in range(1, event.tables + 1))
        end = next((m.end for m in cells if m is not None), "")
        if not end:
            end = (event.start_of(slot) + timedelta(minutes=event.slot_minutes)).strftime("%H:%M")
        rows.append(GridRow(slot, end, cells))
    return rows


def cell_text(meeting: Meeting | None) -> str:
    if meeting is None:
        return ""
    return f"{meeting.id} {meeting.company} — {' + '.join(meeting.institutions)}"


def _safe(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def grid_csv(plan: Plan) -> str:
    """The grid as CSV text: ``slot,end,table 1,…,table N`` and one row per slot."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["slot", "end", *(f"table {t}" for t in range(1, plan.event.tables + 1))])
    for row in grid_rows(plan):
        writer.writerow([row.slot, row.end, *(_safe(cell_text(m)) for m in row.cells)])
    return "\ufeff" + out.getvalue()
