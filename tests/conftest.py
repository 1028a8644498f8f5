"""Shared fixtures: paths, the real-data skip rule, and expensive objects built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO = REPO / "corpora" / "demo"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives beside the repo in ../shared/data)")
    return path


@pytest.fixture(scope="session")
def minilm():
    from matcher.encoders import load_encoder

    return load_encoder("minilm")


@pytest.fixture(scope="session")
def use_m3():
    from matcher.encoders import load_encoder

    return load_encoder("use-m3")


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory):
    """The demo corpus ingested once per session."""
    from matcher.ingest import ingest_paths, write_corpus

    out = tmp_path_factory.mktemp("demo") / "corpus"
    result = ingest_paths([DEMO], spec=DEMO / "sources.toml")
    write_corpus(out, result)
    return out


@pytest.fixture(scope="session")
def demo_index(demo_corpus, minilm, use_m3, tmp_path_factory):
    """The demo corpus indexed once with the default pipeline (tests may rebuild it unchanged)."""
    from matcher.build import build_index

    path = tmp_path_factory.mktemp("demo-index") / "index"
    build_index(demo_corpus, path, encoders={"minilm": minilm, "use-m3": use_m3})
    return path
