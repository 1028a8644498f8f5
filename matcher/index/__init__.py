"""Vector indexes: one interface, several backends, a factory by name (the versioned store is ``matcher.store``)."""

from __future__ import annotations

from matcher.index.base import VectorIndex
from matcher.index.factory import BACKENDS, create_index

__all__ = ["BACKENDS", "VectorIndex", "create_index"]
