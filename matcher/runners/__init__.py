"""Where a build's embed stage encodes the texts the embedding cache does not hold: ``local`` (this
process) or ``ray`` (Ray Data on a Ray cluster, an optional extra: ``pip install '.[ray]'``)."""

from __future__ import annotations

from matcher.runners.base import EmbedRunner
from matcher.runners.factory import RUNNERS, configured_runner, get_runner
from matcher.runners.local import LocalRunner

__all__ = ["RUNNERS", "EmbedRunner", "LocalRunner", "configured_runner", "get_runner"]
