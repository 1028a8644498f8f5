"""Every command of the README's "Using the `matcher` command" block runs verbatim on a fresh clone.

The block's lines that start with ``matcher `` are run in README order (ingest before build, keys before
serve), as real subprocesses (``matcher`` = ``python -m service.cli`` of this checkout), in a temporary
directory laid out like a fresh clone: ``corpora/`` and ``models/`` copied, nothing under ``var/``, and
``../shared`` pointing at the real ``../shared/data`` beside this repository (lines that read it are marked
``shared`` and skip with a reason when it is absent, and so do later lines using what they wrote).

Each must exit 0; where ``--json`` is given, stdout must be valid JSON. ``matcher serve`` is started, waited
for on ``/health``, asked ``/api/me`` with the keys the README's own ``matcher keys create`` lines made (in
the default keys file both use), then stopped. The only argument ever changed is a busy port.

Embeddings go to one cache for every line (``MATCHER_CACHE`` when set, else the user's default cache,
the one the README's ``matcher eval`` line uses), so a second run embeds nothing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SHARED_DATA

MATCHER = [sys.executable, "-m", "service.cli"]
SECTION = "## Using the `matcher` command"


def readme_commands(readme: Path = REPO / "README.md") -> list[str]:
    """The lines starting with ``matcher `` of the first ```bash block after :data:`SECTION`."""
    text = readme.read_text(encoding="utf-8")
    start = text.index(SECTION)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"README.md: no ```bash block after {SECTION!r}"
    return [line.strip() for line in block.group(1).splitlines() if line.strip().startswith("matcher ")]


COMMANDS = readme_commands()
#: every line runs the real ``matcher`` command in a subprocess (the later ones load the models): slow lane
pytestmark = pytest.mark.slow


def _argv(line: str) -> list[str]:
    """The README line as arguments, its trailing ``# comment`` dropped (as bash would)."""
    words = shlex.split(line, comments=True)
    assert words[0] == "matcher", line
    return words[1:]


def _marks(line: str) -> list[Any]:
    marks: list[Any] = []
    if "../shared" in line:
        marks.append(pytest.mark.shared)
    return marks


def _id(n: int, line: str) -> str:
    argv = _argv(line)
    return f"{n:02d}-{'-'.join(a for a in argv[:2] if not a.startswith('-') and '/' not in a)}"


class Clone:
    """The temporary fresh-clone layout and what earlier README lines left for later ones."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.repo = root / "repo"
        self.env = env
        self.skipped: dict[str, str] = {}   # a path written by a skipped line → why it was skipped
        self.outputs: list[str] = []        # stdout of each line run so far


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Clone:
    from matcher.evaluation.harness import default_cache_path

    root = tmp_path_factory.mktemp("readme")
    repo = root / "repo"
    repo.mkdir()
    for name in ("corpora", "models"):
        shutil.copytree(REPO / name, repo / name)
    shutil.copy(REPO / "README.md", repo / "README.md")
    if SHARED_DATA.is_dir():
        (root / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MATCHER_CACHE": os.environ.get("MATCHER_CACHE") or str(default_cache_path()),
    })
    return Clone(root, env)


def _written_paths(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--out", "--index", "--corpus")]


def _skip_if_unavailable(clone: Clone, line: str, argv: list[str]) -> None:
    if "../shared" in line and not SHARED_DATA.is_dir():
        reason = f"real data not available: {SHARED_DATA} is absent (README line: {line.split('  #')[0].strip()})"
        for path in _written_paths(argv):
            clone.skipped[path] = reason
        pytest.skip(reason)
    for path, reason in clone.skipped.items():
        if path in argv:
            pytest.skip(f"uses {path}, written by a skipped line ({reason})")


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise AssertionError("no free port")


def _get(url: str, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _keys_made(clone: Clone) -> dict[str, str]:
    """role → a key printed by the README's ``matcher keys create`` lines run so far (JSON or text)."""
    keys: dict[str, str] = {}
    for out in clone.outputs:
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            found = re.search(r"^(\w+) key .*\n(mk_\S+)", out, re.MULTILINE)
            if found:
                keys.setdefault(found.group(1), found.group(2))
            continue
        if isinstance(data, dict) and isinstance(data.get("key"), str) and data.get("role"):
            keys.setdefault(data["role"], data["key"])
    return keys


def _serve(clone: Clone, argv: list[str]) -> None:
    port_at = argv.index("--port") + 1 if "--port" in argv else None
    wanted = int(argv[port_at]) if port_at else 8000
    port = _free_port(wanted)
    if port != wanted:  # a shared machine may already serve on the README's port
        argv = [*argv[:port_at], str(port), *argv[port_at + 1:]] if port_at else [*argv, "--port", str(port)]
    keys = _keys_made(clone)
    assert keys, "the README has no `matcher keys create` line before `matcher serve`"
    log = clone.root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*MATCHER, *argv], cwd=clone.repo, env=clone.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"matcher serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                # our own server (its log says so): another test run on this machine may hold the README's port
                if "Uvicorn running on" in log.read_text() and _get(base + "/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"no /health within 180 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        for role, key in keys.items():  # the keys file `matcher keys create` wrote is the one served
            status, me = _get(base + "/api/me", key)
            assert status == 200, (role, status, me)
            assert me["role"] == role, me
        assert _get(base + "/api/me")[0] == 401
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.mark.parametrize("line", [pytest.param(c, marks=_marks(c), id=_id(n, c)) for n, c in enumerate(COMMANDS, 1)])
def test_readme_command(clone: Clone, line: str) -> None:
    argv = _argv(line)
    _skip_if_unavailable(clone, line, argv)
    if argv[0] == "serve":
        _serve(clone, argv)
        return
    timeout = 1800 if argv[0] == "eval" else 600
    proc = subprocess.run([*MATCHER, *argv], cwd=clone.repo, env=clone.env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"`{line}` exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    if "--json" in argv:
        try:
            json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"`{line}` --json printed no valid JSON ({exc}):\n{proc.stdout[:2000]}") from None
    clone.outputs.append(proc.stdout)


def test_readme_block_found() -> None:
    """The block exists and holds the commands a new user needs, in a workable order."""
    subcommands = [_argv(c)[0] for c in COMMANDS]
    for needed in ("ingest", "build", "search", "keys", "serve"):
        assert needed in subcommands, f"README.md: no `matcher {needed}` line in {SECTION!r}"
    assert subcommands.index("ingest") < subcommands.index("build") < subcommands.index("search")
    assert subcommands.index("keys") < subcommands.index("serve")
    for line in COMMANDS:  # every file a line reads exists in a fresh clone (or in ../shared)
        argv = _argv(line)
        for i, arg in enumerate(argv):
            if i and argv[i - 1] in ("--spec", "--demand") and (arg.endswith((".json", ".toml"))):
                assert (REPO / arg).is_file(), f"README line names {arg}, which is not in the repository: {line}"
