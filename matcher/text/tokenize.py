"""Language-aware tokenisation for the lexical channel.

Korean goes through ``kiwipiepy`` morphemes (nouns, roots, foreign words, numbers, verb and adjective
stems), optionally with Hangul character bigrams, which are robust to compound-noun spacing
(``자율주행로봇`` vs ``자율 주행 로봇``). Latin words — English text, and the English terms and acronyms
inside Korean abstracts — are lower-cased, stop-worded and Snowball-stemmed. Mixed text is handled
token by token. Numbers are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from matcher.errors import ConfigError
from matcher.lru import LRU

_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_HAS_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# word characters: hyphenated terms split ("p53-dependent" → p53, depend), measured better on SciFact
_LATIN_WORD = re.compile(r"\w+")
KIWI_TAGS = ("NNG", "NNP", "NNB", "NR", "XR", "SL", "SH", "SN", "VV", "VA")
NOUN_TAGS = frozenset({"NNG", "NNP", "XR"})
DEFAULT_TAGS = ("NNG", "NNP", "NNB", "NR", "XR", "SL", "SH", "SN", "VV", "VA")
#: Texts whose tokens :meth:`Analyzer.analyze` keeps (per analyzer): queries, requirements, titles and
#: the abstract sentences evidence is drawn from recur across requests, and Kiwi costs about a
#: millisecond per sentence (several on a busy machine). 16,384 short token lists: a few MiB.
ANALYZE_CACHE_SIZE = 16384


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def kiwi() -> Any:
    """The process-wide Kiwi analyser, created on first use with workers sized to the machine."""
    from kiwipiepy import Kiwi

    from matcher.runtime import cpu_threads

    return Kiwi(num_workers=cpu_threads())


@dataclass(frozen=True)
class AnalyzerConfig:
    """What the lexical channel indexes; part of the index manifest."""

    korean_tags: tuple[str, ...] = DEFAULT_TAGS
    hangul_bigrams: bool = True
    stem: bool = True
    stopwords: bool = True

    def __post_init__(self) -> None:
        bad = [t for t in self.korean_tags if t not in KIWI_TAGS]
        if bad:
            raise ConfigError(f"unknown kiwi tag(s) {bad}; valid: {', '.join(KIWI_TAGS)}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["korean_tags"] = list(self.korean_tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalyzerConfig:
        return cls(**{**data, "korean_tags": tuple(data.get("korean_tags", DEFAULT_TAGS))})


class Analyzer:
    """Text → tokens. ``analyze_many`` batches the Korean texts through Kiwi's worker pool."""

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        self.config = config or AnalyzerConfig()
        self._tags = frozenset(self.config.korean_tags)
        self._cache: LRU[str, tuple[str, ...]] = LRU(ANALYZE_CACHE_SIZE)

    def latin(self, words: Iterable[str]) -> list[str]:
        out = []
        stop = _stopwords() if self.config.stopwords else frozenset()
        for w in words:
            w = w.lower()
            if w in stop:
                continue
            out.append(w)
        if self.config.stem:
            out = _stemmer().stemWords(out)
        return out

    def latin_surfaces(self, text: str) -> list[tuple[str, str]]:
        """``(token, word)`` for each Latin word of ``text`` the lexical channel keeps.

        ``token`` is what :meth:`latin` makes of the word (lower-cased, Snowball-stemmed: ``batteri``),
        ``word`` the word as written (``batteries``), so a stem can be shown as a whole word. Words
        are the ``\\w+`` runs with any Hangul cut out (``SLAM과`` → ``SLAM``), as Kiwi separates them.
        """
        stop = _stopwords() if self.config.stopwords else frozenset()
        words = [
            piece
            for run in _LATIN_WORD.findall(text)
            for piece in _HANGUL_RUN.split(run)
            if piece and piece.lower() not in stop
        ]
        lowered = [w.lower() for w in words]
        tokens = _stemmer().stemWords(lowered) if self.config.stem else lowered
        return list(zip(tokens, words, strict=True))

    def _bigrams(self, text: str) -> list[str]:
        out = []
        for run in _HANGUL_RUN.findall(text):
            if len(run) == 1:
                out.append("#" + run)
            else:
                out.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
        return out

    def _from_morphemes(self, tokens: Iterable[Any], text: str, nouns: set[str] | None = None) -> list[str]:
        out: list[str] = []
        latin: list[str] = []
        for tok in tokens:
            tag = tok.tag
            if nouns is not None and tag in NOUN_TAGS:
                nouns.add(tok.form)
            if tag not in self._tags:
                continue
            if tag == "SL":
                latin.append(tok.form)
            elif tag == "SN":
                out.append(tok.form)
            elif tag in ("VV", "VA"):
                out.append(tok.form + "다")
            else:
                out.append(tok.form)
        out.extend(self.latin(latin))
        if self.config.hangul_bigrams:
            out.extend(self._bigrams(text))
        return out

    def analyze(self, text: str) -> list[str]:
        """Tokens of one text (cached: the same text is analysed once)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = tuple(self.analyze_many([text])[0])
            self._cache.put(text, cached)
        return list(cached)

    def analyze_many(
        self, texts: Sequence[str], *, progress: bool = False, nouns: set[str] | None = None,
        nouns_by_text: Sequence[set[str]] | None = None,
    ) -> list[list[str]]:
        """Tokens of each text; Korean nouns seen on the way are added to ``nouns`` when given, and each
        text's own to ``nouns_by_text[i]`` when given (one set per text)."""
        if nouns_by_text is not None and len(nouns_by_text) != len(texts):
            raise ValueError("nouns_by_text needs one set per text")
        results: list[list[str] | None] = [None] * len(texts)
        korean = []
        for i, t in enumerate(texts):
            if _HAS_HANGUL.search(t):
                korean.append(i)
            else:  # no Hangul: no need for the morphological analyser
                results[i] = self.latin(_LATIN_WORD.findall(t))
        if korean:
            analysed = kiwi().tokenize([texts[i] for i in korean])
            if progress and len(korean) > 1000:
                from tqdm.auto import tqdm

                analysed = tqdm(analysed, total=len(korean), desc="morphemes", unit="text")
            for i, tokens in zip(korean, analysed, strict=True):
                own = nouns_by_text[i] if nouns_by_text is not None else nouns
                results[i] = self._from_morphemes(tokens, texts[i], own)
                if nouns_by_text is not None and nouns is not None:
                    nouns.update(own)
        return [r or [] for r in results]
