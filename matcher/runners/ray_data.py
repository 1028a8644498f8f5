"""The ``ray`` runner: texts encoded on a Ray cluster with Ray Data ``map_batches`` over an actor pool.

``ray.data.from_items`` of (row, text) → ``map_batches(EncodeActor, compute=ActorPoolStrategy(size=N))``
(``matcher/runners/actor.py``: one encoder load per actor, rebuilt on the worker by its registry name) →
the vectors stream back to the driver through Ray's object store, one shard per batch, each handed to the
embedding cache as it arrives; the embed stage merges them into its staged ``embeddings/<encoder>.npy``
as for the local runner. No shared filesystem is needed between the machines.

The cluster: ``address`` (``MATCHER_RAY_ADDRESS``) when given, else ``RAY_ADDRESS``, else the latest
cluster started on this machine with ``ray start``, else a local one started here (and stopped by
:meth:`RayRunner.close`). Ray is an optional dependency (``pip install '.[ray]'``), imported only here.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from matcher.encoders.base import Encoder
from matcher.encoders.cache import Chunk
from matcher.errors import ConfigError
from matcher.runners.actor import KEY, ROW, TEXT, VECTOR, EncodeActor
from matcher.runners.base import EmbedRunner

INSTALL_HINT = "pip install '.[ray]' (Ray Data: ray[data]==2.60.0)"
#: batches per actor a dataset is cut into at least (smaller batches balance the pool and reach the cache sooner)
BATCHES_PER_ACTOR = 4


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


class RayRunner(EmbedRunner):
    """Encodes on a Ray cluster: ``actors`` (0: the cluster's CPUs / ``threads``) actors of ``threads`` CPUs."""

    name = "ray"

    def __init__(self, address: str | None = None, *, actors: int = 0, threads: int = 1,
                 batch_size: int = 0) -> None:
        if not ray_installed():
            raise ConfigError(f"runner 'ray' needs Ray, which is not installed: {INSTALL_HINT}; "
                              "or use runner 'local'")
        if actors < 0 or threads < 1 or batch_size < 0:
            raise ConfigError(f"ray runner: actors must be >= 0 (got {actors}), threads >= 1 (got {threads}), "
                              f"batch_size >= 0 (got {batch_size})")
        self.address = address or None
        self.actors = actors
        self.threads = threads
        self.batch_size = batch_size
        self._started = False
        self.sent = 0

    def check(self, encoder: Encoder) -> None:
        """Only registry encoders can be rebuilt on the workers: anything else is refused."""
        from matcher.encoders.registry import load_registry

        entries = load_registry().entries
        spec = encoder.spec
        if spec not in entries:
            raise ConfigError(
                f"runner 'ray' rebuilds each encoder on the workers by its registry name, and encoder "
                f"{encoder.identity.name!r} (from {spec or 'an object given in code'!r}) is not one; "
                f"registered: {', '.join(sorted(entries))} — or use runner 'local'")
        if entries[spec].backend != encoder.identity.backend:
            raise ConfigError(f"runner 'ray': encoder {spec!r} has backend {encoder.identity.backend!r}, the "
                              f"registry's {spec!r} has {entries[spec].backend!r}; the workers would build another "
                              "encoder — use runner 'local'")

    def _ray(self) -> Any:
        import ray
        import ray.data  # noqa: F401 - ray.data.* below

        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
            self._started = True
        return ray

    def _sizes(self, ray: Any, count: int, chunk_size: int) -> tuple[int, int]:
        """(actors, batch size) for ``count`` texts on the connected cluster."""
        most = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // self.threads)
        batch = self.batch_size or max(1, min(chunk_size, math.ceil(count / (most * BATCHES_PER_ACTOR))))
        return max(1, min(most, math.ceil(count / batch))), batch

    def encode_chunks(self, encoder: Encoder, texts: Sequence[str], *, role: str = "document",
                      chunk_size: int = 512, progress: bool = False) -> Iterator[Chunk]:
        self.check(encoder)
        if not texts:
            return
        ray = self._ray()
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        context.print_on_execution_start = False
        actors, batch = self._sizes(ray, len(texts), chunk_size)
        items = [{ROW: i, TEXT: t} for i, t in enumerate(texts)]
        dataset = ray.data.from_items(items, override_num_blocks=math.ceil(len(texts) / batch))
        vectors = dataset.map_batches(
            EncodeActor, fn_constructor_kwargs={"spec": encoder.spec, "role": role, "threads": self.threads},
            compute=ray.data.ActorPoolStrategy(size=actors), batch_size=batch, batch_format="numpy",
            num_cpus=self.threads)
        self.sent += len(texts)
        expected = encoder.identity.key
        for shard in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            keys = set(shard[KEY].tolist())
            if keys != {expected}:
                raise ConfigError(f"encoder {encoder.spec!r} is {sorted(keys)} on the Ray workers but {expected!r} "
                                  "here: install the same project and models on every machine")
            yield np.asarray(shard[ROW], dtype=np.int64), np.asarray(shard[VECTOR], dtype=np.float32)

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
