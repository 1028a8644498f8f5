"""Vector indexes (one interface, several backends, a factory by name) and the versioned index store."""

from __future__ import annotations

from matcher.index.base import VectorIndex
from matcher.index.factory import BACKENDS, create_index
from matcher.index.store import IndexStore, IndexVersion

__all__ = ["BACKENDS", "IndexStore", "IndexVersion", "VectorIndex", "create_index"]
