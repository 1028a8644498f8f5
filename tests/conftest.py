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

#: fixtures that load a real model: a test using one (directly or through another fixture) is ``slow``
MODEL_FIXTURES = frozenset({"minilm", "use_m3", "demo_index"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs a real model ``slow``: ``pytest -m "not slow"`` is the fast lane."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_lane_loads_no_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test outside the slow lane that would load real model weights fails, naming the fix."""
    if request.node.get_closest_marker("slow") is None:
        def refuse(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"{request.node.nodeid} loads a real model: mark it slow or use fake_encoders")

        monkeypatch.setattr("matcher.encoders.registry.build_encoder", refuse)


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


@pytest.fixture(scope="session")
def fake_encoders():
    """Deterministic hashed-n-gram encoders under the default pipeline's encoder names (no model weights)."""
    from tests.fakes import fake_encoders as make

    return make()


@pytest.fixture(scope="session")
def fake_demo_index(demo_corpus, fake_encoders, tmp_path_factory):
    """The demo corpus indexed with the default pipeline over fake encoders: the fast lane's index."""
    from matcher.build import build_index

    path = tmp_path_factory.mktemp("fake-demo-index") / "index"
    build_index(demo_corpus, path, encoders=dict(fake_encoders))
    return path


# ---------------------------------------------------------------- state store (matcher/state/)
#: a PostgreSQL database the tests may create throwaway databases in (scripts/pg-throwaway.sh sets it)
TEST_DATABASE_URL_ENV = "MATCHER_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty state database: SQLite in ``tmp_path``, and a new PostgreSQL database when
    ``MATCHER_TEST_DATABASE_URL`` is set (dropped afterwards); the PostgreSQL variant skips otherwise."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    base = os.environ.get(TEST_DATABASE_URL_ENV)
    if not base:
        pytest.skip(f"no PostgreSQL to test against: set {TEST_DATABASE_URL_ENV} "
                    "(e.g. eval \"$(bash scripts/pg-throwaway.sh start)\"; .ci/run does)")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from matcher.state.url import normalise

    url = make_url(normalise(base))
    name = f"matcher_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
