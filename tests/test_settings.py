"""The one settings model (matcher/settings.py): every ``MATCHER_*`` variable declared once and documented in
the generated docs/settings.md; read when asked; bad values named with what is valid; the service's view."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from matcher import settings
from matcher.errors import ConfigError
from matcher.settings import SettingsFields, checked, env_name, settings_from_env
from service.settings import ServiceSettings
from tests.conftest import REPO

DOCS = REPO / "docs" / "settings.md"
#: variables that are not settings of the library or the service: the test suite's and the setup script's
NOT_SETTINGS = {
    "MATCHER_TEST_DATABASE_URL",  # tests/conftest.py: a PostgreSQL server to test against
    "MATCHER_REQUIRE_BROWSER",  # tests/test_web_page.py: fail instead of skip without a browser (.ci/run)
    "MATCHER_CHROMIUM",  # tests/test_web_page.py: the browser binary
    "MATCHER_VENV",  # scripts/setup.sh: the virtual environment's directory
    "MATCHER_INTERNAL_WORKER_LOAD_FILE",  # service/balance.py: set by `matcher serve --workers N` for its workers
}
VARIABLE = re.compile(r"\bMATCHER_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
SEARCHED = ("matcher", "service", "scripts", "bench", "tests", "docs", ".ci")
SUFFIXES = {".py", ".md", ".sh", ".toml", ""}


def _table_script():
    spec = importlib.util.spec_from_file_location("settings_table", REPO / "scripts" / "settings_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mentions() -> dict[str, set[str]]:
    """Every ``MATCHER_*`` name in the code, scripts and docs → the files that mention it."""
    files = [REPO / "README.md", REPO / "ARCHITECTURE.md"]
    for folder in SEARCHED:
        files += [p for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix in SUFFIXES
                  and "__pycache__" not in p.parts]
    found: dict[str, set[str]] = {}
    for path in files:
        for name in VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def test_the_docs_table_is_the_generated_one():
    assert DOCS.read_text(encoding="utf-8") == _table_script().render(), (
        "docs/settings.md is out of date: PYTHONPATH=. python scripts/settings_table.py > docs/settings.md")


def test_every_variable_is_a_declared_setting():
    declared = {env_name(name) for name in SettingsFields.model_fields}
    unknown = {name: sorted(where) for name, where in _mentions().items()
               if name not in declared and name not in NOT_SETTINGS}
    assert not unknown, f"MATCHER_* names that are not settings (declare them in matcher/settings.py): {unknown}"


def test_every_setting_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name, field in SettingsFields.model_fields.items():
        assert field.description, f"setting {name} has no help"
        assert f"| `{name}` | `{env_name(name)}` |" in text, f"{env_name(name)} is not in docs/settings.md"
    for readme in (REPO / "README.md", REPO / "service" / "README.md"):
        assert "docs/settings.md" in readme.read_text(encoding="utf-8"), f"{readme} does not link the settings"


def test_nothing_is_read_at_import_and_changes_take_effect(monkeypatch):
    monkeypatch.setenv("MATCHER_KEEP_VERSIONS", "4")
    assert settings_from_env().keep_versions == 4
    monkeypatch.setenv("MATCHER_KEEP_VERSIONS", "6")
    assert settings_from_env().keep_versions == 6
    assert settings_from_env(keep_versions=2).keep_versions == 2  # an override (a flag) wins
    monkeypatch.setenv("MATCHER_KEEP_VERSIONS", "  ")
    assert settings_from_env().keep_versions == settings.default_of("keep_versions")  # blank: unset
    assert checked().keep_versions == 3  # no environment at all


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("MATCHER_RELOAD_INTERVAL", "x", r"MATCHER_RELOAD_INTERVAL must be a number of seconds >= 0, got 'x'"),
    ("MATCHER_INDEX_BACKEND", "annoy", r"MATCHER_INDEX_BACKEND must be one of exact, flat, hnsw, ivf, auto, "
                                       r"got 'annoy'"),
    ("MATCHER_AUDIT_QUERIES", "maybe", r"MATCHER_AUDIT_QUERIES must be true or false \(1, true, yes, on / 0, "
                                       r"false, no, off\), got 'maybe'"),
    ("MATCHER_LEASE_SECONDS", "0", r"MATCHER_LEASE_SECONDS must be a number of seconds > 0, got '0'"),
    ("MATCHER_COMPUTE_SLOTS", "-1", r"MATCHER_COMPUTE_SLOTS must be a whole number >= 0, got '-1'"),
])
def test_a_bad_variable_is_named_with_what_is_valid(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{expected}$"):
        settings_from_env()


def test_a_bad_argument_is_named_too():
    with pytest.raises(ConfigError, match=r"^keep_versions \(MATCHER_KEEP_VERSIONS\) must be a whole number >= 1, "
                                          r"got 0$"):
        settings_from_env(keep_versions=0)
    with pytest.raises(ConfigError, match="'colour' is not a setting; valid: index, encoder"):
        checked(colour="red")
    with pytest.raises(ConfigError, match="^reload_interval .* got -1"):
        ServiceSettings(index=Path("x"), reload_interval=-1)


def test_lenient_thread_settings_fall_back(monkeypatch):
    monkeypatch.setenv("MATCHER_THREADS", "many")
    monkeypatch.setenv("MATCHER_QUERY_THREADS", "0")
    monkeypatch.setenv("MATCHER_ENCODE_SLOTS", "-2")
    s = settings_from_env()
    assert (s.threads, s.query_threads, s.encode_slots) == (None, 1, None)


def test_the_service_view_has_the_models_defaults(monkeypatch, tmp_path):
    for name in SettingsFields.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    s = ServiceSettings(index=Path("x"))
    assert (s.reload_interval, s.max_body_bytes, s.audit_queries) == (2.0, settings.DEFAULT_MAX_BODY_BYTES, False)
    assert s.keys_file == Path("var/keys.json") and s.audit_log == Path("var/audit.jsonl")
    assert s.database_url == "sqlite:///var/state.sqlite"
    assert ServiceSettings.from_env().index == Path("var/demo/index")
    monkeypatch.setenv("MATCHER_INDEX", str(tmp_path))
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql://app:secret@db/matcher")
    s = ServiceSettings.from_env(keys_file=tmp_path / "keys.json")
    assert s.index == tmp_path and s.audit_log == tmp_path / "audit.jsonl"
    assert "secret" not in repr(s) and "secret" not in repr(settings_from_env())


def test_the_backend_choices_are_the_factorys():
    from typing import get_args

    from matcher.index.factory import BACKENDS

    assert set(get_args(settings.IndexBackend)) == {*BACKENDS, "auto"}
