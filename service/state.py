"""The loaded index and encoder the app serves (one place to read them from)."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.index import IndexVersion
from matcher.search import Searcher, open_index
from service.settings import ServiceSettings


@dataclass
class Engine:
    version: IndexVersion

    @property
    def searcher(self) -> Searcher:
        return Searcher(self.version)


def load_engine(settings: ServiceSettings) -> Engine:
    return Engine(version=open_index(settings.index, settings.encoder))
