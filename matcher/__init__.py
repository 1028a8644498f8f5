"""Technology matching for academia–institute commercialisation consortia (the library).

Nothing happens at import time; see ``matcher/README.md`` for what each module does.
"""

from __future__ import annotations

__version__ = "0.1.0"
