"""A participant's agenda as an iCalendar file (RFC 5545, built with ``icalendar``).

One VEVENT per meeting of the participant: DTSTART/DTEND in the event's local time with ``TZID`` = the
event timezone (a VTIMEZONE for it is included), UID stable per meeting (the same meeting has the same UID
in every participant's calendar, and across re-runs), SUMMARY naming the other parties, LOCATION = the
event's location and the table, DTSTAMP = the plan's creation time (so a re-run writes the same file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from icalendar import Calendar
from icalendar import Event as VEvent

from matcher.meetings.packets.planfile import Meeting, Plan

PRODID = "-//consortium-matcher//meeting packets//EN"


def event_key(plan: Plan) -> str:
    """A short stable key of the event (name and date): the UID's middle part."""
    digest = hashlib.sha256(f"{plan.event.name}\n{plan.event.date.isoformat()}".encode()).hexdigest()
    return digest[:12]


def meeting_uid(plan: Plan, meeting: Meeting) -> str:
    return f"{meeting.id}-{event_key(plan)}@consortium-matcher"


def other_parties(meeting: Meeting, participant: str) -> list[str]:
    """Who ``participant`` meets: the company and the institutions of the meeting, itself left out."""
    return [p for p in (meeting.company, *meeting.institutions) if p != participant]


def location(plan: Plan, meeting: Meeting) -> str:
    where = plan.event.location.strip()
    return f"{where}, table {meeting.table}" if where else f"table {meeting.table}"


def _stamp(plan: Plan) -> dt.datetime:
    try:
        created = dt.datetime.fromisoformat(plan.created.replace("Z", "+00:00"))
    except ValueError:
        created = dt.datetime.combine(plan.event.date, dt.time(0, 0), tzinfo=dt.UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(dt.UTC)


def agenda_calendar(plan: Plan, participant: str, meetings: Sequence[Meeting],
                    describe: Callable[[Meeting], str] | None = None) -> bytes:
    """The ``.ics`` bytes of ``participant``'s ``meetings``; ``describe`` gives each event's DESCRIPTION
    (what the viewer may see of its technologies)."""
    event = plan.event
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{event.name} — {participant}")
    cal.add("x-wr-timezone", event.timezone)
    stamp = _stamp(plan)
    for m in meetings:
        start = event.start_of(m.slot)
        end = event.start_of(m.end) if m.end > m.slot else start + dt.timedelta(minutes=event.slot_minutes)
        item = VEvent()
        item.add("uid", meeting_uid(plan, m))
        item.add("dtstamp", stamp)
        item.add("dtstart", start)
        item.add("dtend", end)
        item.add("summary", f"{event.name}: {' / '.join(other_parties(m, participant))} ({m.id})")
        item.add("location", location(plan, m))
        if describe is not None:
            item.add("description", describe(m))
        cal.add_component(item)
    cal.add_missing_timezones()
    return cal.to_ical()
