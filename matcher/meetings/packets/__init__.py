"""Briefing packets for technology-exchange meetings: meeting pages, agendas, the organiser's grid (``README.md``)."""

from __future__ import annotations

from matcher.meetings.packets.planfile import Plan, load_plan, plan_from_dict
from matcher.meetings.packets.writer import PacketsReport, PacketWriter, write_packets

__all__ = ["PacketWriter", "PacketsReport", "Plan", "load_plan", "plan_from_dict", "write_packets"]
