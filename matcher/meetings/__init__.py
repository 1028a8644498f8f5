"""Matchmaking events: who should meet whom, and when (see ``matcher/meetings/README.md``).

Import from the modules (``matcher.meetings.schedule.plan_event``, ``…event.load_event``, ``…plan.Plan``):
this package imports nothing itself, so ``matcher`` starts without loading OR-Tools or the engine.
"""
