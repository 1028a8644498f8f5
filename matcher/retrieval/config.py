"""Pipeline configurations: which channels, which encoders, how they are fused. Named in
``models/pipelines.toml``; the configured default is the best measured one (``docs/quality.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError
from matcher.retrieval.fusion import NORMALISATIONS
from matcher.text.tokenize import AnalyzerConfig
from matcher.tomlfile import read_toml

ROUTES = ("ko", "en-ko", "en-en")


@dataclass(frozen=True)
class PipelineConfig:
    """A retrieval pipeline.

    Routes are (query language, document language) pairs: ``ko`` (a Korean query, any document),
    ``en-ko`` (an English query, a Korean document) and ``en-en``. ``weights[route]`` is the lexical
    channel's share of the fused score on that route; the dense channel gets the rest.
    """

    name: str = "hybrid"
    lexical: bool = True
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    k1: float = 1.2
    b: float = 0.75
    dense_en: str | None = "minilm"       # encoder for English query × English document
    dense_multi: str | None = "use-m3"    # encoder for every other pair (multilingual)
    translate: bool = True                # English query words → Korean corpus nouns (uses dense_multi)
    translate_topk: int = 5
    translate_min_cos: float = 0.3
    translate_bigrams: bool = True
    weights: dict[str, float] = field(default_factory=lambda: {"ko": 0.8, "en-ko": 0.4, "en-en": 0.4})
    normalisation: str = "zscore"
    korean_threshold: float = 0.3         # Hangul share at which a text counts as Korean
    candidates: int = 200                 # per-channel candidates on approximate indexes
    description: str = ""

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ConfigError(
                f"pipeline {self.name!r}: normalisation {self.normalisation!r}; valid: {', '.join(NORMALISATIONS)}"
            )
        unknown = set(self.weights) - set(ROUTES)
        if unknown:
            raise ConfigError(f"pipeline {self.name!r}: unknown route(s) {sorted(unknown)}; valid: {', '.join(ROUTES)}")
        for route, w in self.weights.items():
            if not 0.0 <= w <= 1.0:
                raise ConfigError(f"pipeline {self.name!r}: weight {w!r} for route {route!r} must be in [0, 1]")
        if not self.lexical and not (self.dense_en or self.dense_multi):
            raise ConfigError(f"pipeline {self.name!r} has no channel: enable 'lexical' or name a dense encoder")
        if self.translate and not self.dense_multi:
            raise ConfigError(f"pipeline {self.name!r}: 'translate' needs a multilingual 'dense_multi' encoder")

    @property
    def encoders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e for e in (self.dense_en, self.dense_multi) if e))

    def lexical_weight(self, route: str) -> float:
        if not self.lexical:
            return 0.0
        if not self.encoders:
            return 1.0
        return float(self.weights.get(route, 0.5))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["analyzer"] = self.analyzer.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"pipeline {data.get('name', '?')!r}: unknown key(s) {sorted(unknown)}; valid: {sorted(known)}")
        values = dict(data)
        if "analyzer" in values:
            values["analyzer"] = AnalyzerConfig.from_dict(values["analyzer"])
        for key in ("dense_en", "dense_multi"):
            if values.get(key) == "":
                values[key] = None
        return cls(**values)

    @classmethod
    def dense_only(cls, encoder: str) -> PipelineConfig:
        """A single-encoder dense pipeline (what ``--encoder NAME`` asks for)."""
        return cls(name=f"dense:{encoder}", lexical=False, dense_en=encoder, dense_multi=encoder, translate=False,
                   description=f"dense retrieval with encoder {encoder!r} only")


def pipelines_file() -> Path:
    from matcher.encoders.registry import models_dir

    return models_dir() / "pipelines.toml"


def load_pipelines(path: Path | None = None) -> tuple[str, dict[str, PipelineConfig]]:
    """(default name, {name: config}) from ``models/pipelines.toml``."""
    path = path or pipelines_file()
    data = read_toml(path, "pipeline registry", missing_hint=" (set MATCHER_MODELS_DIR)")
    pipelines = {}
    for name, raw in data.get("pipelines", {}).items():
        try:
            pipelines[name] = PipelineConfig.from_dict({**raw, "name": name})
        except TypeError as exc:
            raise ConfigError(f"{path}: pipeline {name!r}: {exc}") from None
    default = data.get("default", "")
    if default not in pipelines:
        raise ConfigError(f"{path}: default pipeline {default!r} is not one of {sorted(pipelines)}")
    return default, pipelines


def resolve_pipeline(name: str | None = None, encoder: str | None = None) -> PipelineConfig:
    """A pipeline by name (default: the registry's default); ``encoder`` alone means dense-only."""
    if encoder and name:
        raise ConfigError(f"give a pipeline ({name!r}) or an encoder ({encoder!r}), not both")
    if encoder:
        return PipelineConfig.dense_only(encoder)
    default, pipelines = load_pipelines()
    name = name or default
    if name.startswith("dense:"):
        return PipelineConfig.dense_only(name.split(":", 1)[1])
    if name not in pipelines:
        raise ConfigError(f"unknown pipeline {name!r}; valid: {', '.join(sorted(pipelines))}, or dense:ENCODER")
    return pipelines[name]
