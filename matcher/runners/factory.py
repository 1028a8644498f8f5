"""Embed runners by name: ``local`` (this process) or ``ray`` (a Ray cluster)."""

from __future__ import annotations

from matcher.errors import ConfigError
from matcher.runners.base import EmbedRunner
from matcher.runners.local import LocalRunner

RUNNERS = ("local", "ray")


def get_runner(name: str, *, address: str | None = None, actors: int = 0) -> EmbedRunner:
    """The runner ``name``; ``address`` and ``actors`` are the ``ray`` runner's (ignored by ``local``)."""
    if name == "local":
        return LocalRunner()
    if name == "ray":
        from matcher.runners.ray_data import RayRunner

        return RayRunner(address, actors=actors)
    raise ConfigError(f"unknown runner {name!r}; valid: {', '.join(RUNNERS)}")


def configured_runner(name: str | None = None) -> EmbedRunner:
    """The runner ``name`` (default ``MATCHER_RUNNER``), with ``MATCHER_RAY_ADDRESS`` and ``MATCHER_RAY_ACTORS``."""
    from matcher.settings import settings_from_env

    settings = settings_from_env()
    return get_runner(name or settings.runner, address=settings.ray_address, actors=settings.ray_actors)
