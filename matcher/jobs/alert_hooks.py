"""``AlertHooks(config)``: what the nightly run calls around a publish, for saved demands and alerts.

It implements the nightly run's hooks protocol structurally (``overlaps``, ``after_publish``,
``on_refused``): the demands' overlap for the gate report, the alerts and digests of a new version, and
an admin alert when a run is refused. The state database is ``[state] database_url`` of the job config,
else ``MATCHER_DATABASE_URL``, else ``state.sqlite`` beside the keys file.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from matcher.jobs.alerts import alerts_for_version, demand_overlaps
from matcher.jobs.config import NightlyConfig
from matcher.jobs.digest import Delivery, deliver, write_digests
from matcher.keys import keys_file_from_env
from matcher.state import alerts as alert_table
from matcher.state.store import StateStore
from matcher.state.url import database_url_from_env
from matcher.store.versions import IndexVersion

log = logging.getLogger("matcher.jobs")
#: the demands' top k compared by the gate's overlap figure
OVERLAP_TOP_K = 10


def state_store(config: NightlyConfig) -> StateStore:
    """The state database of a job config (see the module's docstring)."""
    return StateStore(database_url_from_env(config.state.database_url, keys_file_from_env()))


def refusal_message(report: dict[str, Any]) -> str:
    """One line naming the gate check a refused run failed, with its figures (the nightly report's ``gate``:
    ``{"failed": NAME, "checks": [{"check": NAME, "passed": bool, ...figures}]}``)."""
    gate = report.get("gate") or {}
    failed = gate.get("failed") or report.get("failed") or report.get("check")
    check = next((c for c in gate.get("checks", []) if c.get("check") == failed), {})
    figures = ", ".join(f"{k} {v}" for k, v in check.items() if k not in ("check", "passed"))
    staged, active = report.get("version"), report.get("previous")
    head = f"nightly run refused: staged version {staged} failed the gate check {failed!r}" if failed \
        else f"nightly run refused: {report.get('error') or 'see the report'}"
    return head + (f" ({figures})" if figures else "") + (f"; {active} stays active" if active else "")


class AlertHooks:
    """The nightly hooks of saved demands and alerts over the job config ``config``."""

    def __init__(self, config: NightlyConfig) -> None:
        self.config = config
        self.state = state_store(config)
        self.last_delivery = Delivery()

    def overlaps(self, previous: IndexVersion | None, staged: IndexVersion) -> dict[str, float]:
        """Saved demand id → share of its top 10 in ``previous`` still in its top 10 in ``staged``."""
        return {str(k): v for k, v in demand_overlaps(self.state, previous, staged, OVERLAP_TOP_K).items()}

    def after_publish(self, previous: IndexVersion | None, current: IndexVersion) -> int:
        """Record the alerts of ``current``, write the digests and deliver them; the number of alerts."""
        alerts = self.config.alerts
        rows = alerts_for_version(self.state, previous, current, top_k=alerts.top_k)
        if rows:
            written = write_digests(rows, current.name, self.config.path(alerts.digest_dir))
            log.info("alert digests for %d owner(s) in %s", len(written), self.config.path(alerts.digest_dir))
        self.last_delivery = deliver(rows, current.name, smtp_host=alerts.smtp_host, smtp_port=alerts.smtp_port,
                                     mail_from=alerts.mail_from, webhook_url=alerts.webhook_url)
        return len(rows)

    def on_refused(self, report: dict[str, Any]) -> None:
        """An admin alert with the failed check and the report's figures."""
        version = report.get("staged") or report.get("version")
        figures = json.loads(json.dumps(report, default=str))  # stored as JSON whatever the report holds
        alert_table.insert_admin_alert(self.state, refusal_message(report), figures,
                                       str(version) if version else None)

    def close(self) -> None:
        self.state.close()
