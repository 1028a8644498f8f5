"""The versioned index store: immutable index versions on disk (manifest, atomic publish, CURRENT pointer).

See :mod:`matcher.store.versions`.
"""

from __future__ import annotations

from matcher.store.versions import IndexStore, IndexVersion

__all__ = ["IndexStore", "IndexVersion"]
