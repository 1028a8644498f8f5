"""Jobs that run without a person: the nightly re-index (issue 12) and what it triggers (alerts)."""
