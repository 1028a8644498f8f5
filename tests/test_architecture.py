"""The layers of ARCHITECTURE.md hold (import-linter), a break is reported, every module has a layer, and
nothing outside the retriever reads its fitted state."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the packages under ``root`` with the contracts of its ``pyproject.toml``."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is absent: install the dev extras (scripts/setup.sh)")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_contracts_are_kept():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout


def test_contracts_are_configured():
    assert set(CONFIG["root_packages"]) == {"matcher", "service"}
    layers = CONTRACTS["layers"]
    assert layers["type"] == "layers" and layers["layers"][0] == "service" and layers["layers"][1] == "matcher.cli"
    forbidden = CONTRACTS["no-web-in-matcher"]
    assert forbidden["type"] == "forbidden" and forbidden["source_modules"] == ["matcher"]
    assert set(forbidden["forbidden_modules"]) == {"service", "fastapi", "starlette", "uvicorn"}


def _layer_modules() -> set[str]:
    names = set()
    for layer in CONTRACTS["layers"]["layers"]:
        for part in layer.split("|"):
            part = part.strip()
            if not part.startswith("("):  # "(name)": an optional layer that does not exist yet
                names.add(part)
    return names


def test_every_module_has_a_layer():
    """A new module or package directly under matcher/ must be placed in the layers contract."""
    here = {f"matcher.{p.stem}" for p in (REPO / "matcher").glob("*.py") if p.stem != "__init__"}
    here |= {f"matcher.{p.parent.name}" for p in (REPO / "matcher").glob("*/__init__.py")}
    missing = sorted(here - _layer_modules())
    assert not missing, f"modules without a layer in pyproject.toml [tool.importlinter]: {missing}"


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        ("matcher/records.py", "import service.settings", "matcher.records -> service.settings"),
        ("matcher/retrieval/fusion.py", "import matcher.matching.bundles",
         "matcher.retrieval.fusion -> matcher.matching.bundles"),
        ("matcher/search.py", "import fastapi", "matcher is not allowed to import fastapi"),
    ],
)
def test_a_break_is_reported(tmp_path, module, line, expected):
    """The same contracts over a copy with one import too many: lint-imports fails and names it."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # a deliberate break\n", encoding="utf-8")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout and expected in proc.stdout, proc.stdout


#: HybridRetriever's fitted state: written by fit/load and read in retriever.py alone
FITTED = re.compile(r"\.(n_|korean_|bm25_|dense_|samples_|translator_|tokens_)\b")


def test_retriever_state_is_read_only_by_the_retriever():
    offenders = []
    for top in ("matcher", "service", "bench"):
        for path in sorted((REPO / top).rglob("*.py")):
            if path == REPO / "matcher" / "retrieval" / "retriever.py":
                continue
            for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FITTED.search(text):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {text.strip()}")
    assert not offenders, "use HybridRetriever's public methods instead:\n" + "\n".join(offenders)
