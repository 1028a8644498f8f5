"""The loaded index and encoder the app serves (one place to read them from)."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.encoders import Encoder, load_encoder
from matcher.index import IndexStore, IndexVersion
from matcher.search import Searcher
from service.settings import ServiceSettings


@dataclass
class Engine:
    version: IndexVersion
    encoder: Encoder

    @property
    def searcher(self) -> Searcher:
        return Searcher(self.version, self.encoder)


def load_engine(settings: ServiceSettings) -> Engine:
    store = IndexStore(settings.index)
    manifest = store.read_manifest()
    built = manifest["encoder"]
    encoder = load_encoder(settings.encoder or built.get("model_spec") or built["name"])
    return Engine(version=store.load(encoder_key=encoder.identity.key), encoder=encoder)
