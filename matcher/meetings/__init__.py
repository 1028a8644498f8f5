"""Technology-exchange meetings: the event, candidate meetings, the schedule and the packets (``packets/``)."""
