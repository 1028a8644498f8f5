"""Technology-exchange meetings: the event, candidate meetings, the schedule (see ``README.md``) and the
briefing packets (``packets/``).

Import from the modules (``matcher.meetings.schedule.plan_event``, ``…event.load_event``, ``…plan.Plan``):
this package imports nothing itself, so ``matcher`` starts without loading OR-Tools or the engine.
"""
