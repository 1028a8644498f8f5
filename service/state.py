"""The loaded index and encoder the app serves (one place to read them from)."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.encoders import Encoder
from matcher.index import IndexVersion
from matcher.search import Searcher, open_index
from service.settings import ServiceSettings


@dataclass
class Engine:
    version: IndexVersion
    encoder: Encoder

    @property
    def searcher(self) -> Searcher:
        return Searcher(self.version, self.encoder)


def load_engine(settings: ServiceSettings) -> Engine:
    version, encoder = open_index(settings.index, settings.encoder)
    return Engine(version=version, encoder=encoder)
