"""What the nightly run calls out to: saved-demand overlaps before activation, alerts after it, and the
refusal notice. :func:`default_hooks` is what ``matcher nightly`` uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matcher.jobs.config import NightlyConfig
    from matcher.store.versions import IndexVersion


class NightlyHooks(Protocol):
    def overlaps(self, previous: IndexVersion | None, staged: IndexVersion) -> dict[str, float]:
        """Saved demand id → overlap of its top 10 between ``previous`` and ``staged`` (recorded in the report)."""
        ...

    def after_publish(self, previous: IndexVersion | None, current: IndexVersion) -> int:
        """Called once ``current`` is active; the number of alerts created."""
        ...

    def on_refused(self, report: dict[str, Any]) -> None:
        """Called when the gate refused the staged version (``report``: the run's report)."""
        ...


class NoHooks:
    """Hooks that do nothing (no saved demands, no alerts)."""

    def overlaps(self, previous: IndexVersion | None, staged: IndexVersion) -> dict[str, float]:
        return {}

    def after_publish(self, previous: IndexVersion | None, current: IndexVersion) -> int:
        return 0

    def on_refused(self, report: dict[str, Any]) -> None:
        return None


def default_hooks(config: NightlyConfig) -> NightlyHooks:
    """The hooks of a run with ``config``: saved demands' overlaps, alerts and digests, refusal notices
    (:class:`matcher.jobs.alert_hooks.AlertHooks` over the config's state database)."""
    from matcher.jobs.alert_hooks import AlertHooks

    return AlertHooks(config)
