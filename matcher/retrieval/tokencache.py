"""Token cache keyed by (analyzer settings + kiwipiepy version, text hash): unchanged text is analysed once.

It lives in the index's embedding-cache SQLite file (``INDEX/embeddings.sqlite``, see
``matcher/encoders/cache.py``) as its own table, created when absent, so a cache file written before
the table existed keeps working. Each row holds a text's lexical tokens and the Korean nouns met while
analysing it (the term translator's vocabulary is rebuilt from those of all documents), both as JSON
(no pickle).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matcher.encoders.cache import open_cache_db, text_hash
from matcher.text.tokenize import AnalyzerConfig

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    key TEXT PRIMARY KEY,
    tokens TEXT NOT NULL,
    nouns TEXT NOT NULL
)
"""
_CHUNK = 500


@dataclass(frozen=True)
class AnalysedText:
    """One text's lexical tokens and the Korean nouns met while analysing it."""

    tokens: list[str]
    nouns: list[str]


def kiwi_version() -> str:
    """The installed kiwipiepy's version ('' when it is not installed)."""
    try:
        return importlib.metadata.version("kiwipiepy")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return ""


def analyzer_key(config: AnalyzerConfig) -> str:
    """What the tokens of a text depend on besides the text: the analyzer settings and kiwipiepy version."""
    payload = json.dumps({"analyzer": config.to_dict(), "kiwipiepy": kiwi_version()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


class TokenCache:
    """A persistent map (analyzer key, text hash) → :class:`AnalysedText`, in the embedding-cache file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_cache_db(self.path, _SCHEMA)

    @staticmethod
    def key(analyzer: str, text: str) -> str:
        return f"{analyzer}:{text_hash(text)}"

    def get_many(self, analyzer: str, texts: Sequence[str]) -> dict[str, AnalysedText]:
        """The cached analyses of ``texts`` by text (texts not cached are absent)."""
        by_key = {self.key(analyzer, t): t for t in texts}
        keys = list(by_key)
        found: dict[str, AnalysedText] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, tokens, nouns FROM tokens WHERE key IN ({marks})", chunk)
            for key, tokens, nouns in rows:
                found[by_key[key]] = AnalysedText(json.loads(tokens), json.loads(nouns))
        return found

    def put_many(self, analyzer: str, items: Mapping[str, AnalysedText]) -> None:
        """Store the analyses of texts (``items`` by text)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
            [(self.key(analyzer, text), json.dumps(a.tokens, ensure_ascii=False),
              json.dumps(a.nouns, ensure_ascii=False)) for text, a in items.items()],
        )
        self._db.commit()

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0])

    def close(self) -> None:
        self._db.close()
