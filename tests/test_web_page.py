"""The officers' web page in headless Chromium against a real ``matcher serve`` subprocess.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the Python ``playwright`` package (its driver only:
no browser is downloaded). Skips with the reason when either is missing, unless
``MATCHER_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO, REPO

CHROMIUM = Path(os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 90_000          # a first match loads the analyzers; the 2-core CI machine is slow
STARTUP_S = 180


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (Debian package `chromium`; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed (pip install playwright; no browser download needed)"
    return None


def _require_browser() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("MATCHER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MATCHER_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"browser test: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demand(demand_id: str) -> dict:
    for line in (DEMO / "demands.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row["id"] == demand_id:
                return row
    raise AssertionError(f"{demand_id} not in corpora/demo/demands.jsonl")


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or fail under MATCHER_REQUIRE_BROWSER=1) before the session's demo index is built (same scope,
    listed first, so it runs first)."""
    _require_browser()


@pytest.fixture(scope="module")
def server(browser_available, demo_index, tmp_path_factory):
    """``matcher serve`` over the demo index with one officer key: yields (base URL, key)."""
    tmp = tmp_path_factory.mktemp("web")
    keys_file = tmp / "keys.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    created = subprocess.run(
        [sys.executable, "-m", "matcher.cli", "keys", "create", "--role", "officer",
         "--keys-file", str(keys_file), "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert created.returncode == 0, f"keys create failed:\n{created.stdout}\n{created.stderr}"
    key = json.loads(created.stdout)["key"]

    port = _free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve", "--index", str(demo_index),
             "--host", "127.0.0.1", "--port", str(port), "--keys-file", str(keys_file)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"matcher serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"matcher serve not healthy after {STARTUP_S} s:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield base, key
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh page (own sessionStorage) on the app; ``page.errors`` collects uncaught page errors."""
    context = browser.new_context(locale="ko-KR")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))  # type: ignore[attr-defined]
    pg.goto(server[0] + "/")
    yield pg
    context.close()


def _enter_key(page, key: str) -> None:
    page.fill("#key", key)
    page.click("#save-key")


def _submit(page, text: str, requirements: list[str] | None = None) -> None:
    page.fill("#demand", text)
    page.fill("#requirements", "\n".join(requirements or []))
    page.click("#submit")
    page.wait_for_selector("#matches li.match, #matches li.empty, #status .error")


def _assert_results(page) -> None:
    error = page.locator("#status .error")
    assert error.count() == 0, f"page shows an error: {error.first.text_content()}"
    matches = page.locator("#matches li.match")
    assert matches.count() >= 1
    first = matches.first
    assert (first.locator(".title").text_content() or "").strip()
    evidence = first.locator(".evidence")
    assert (evidence.text_content() or "").strip(), "the first match shows no evidence"
    assert first.locator(".institutions").text_content()
    # the bundles request runs beside the match request; wait for its rendering
    page.wait_for_selector("#bundles .bundle, #bundles .empty")
    # licensee candidates load for the top match: a list, "no candidates", or "not available yet"
    page.wait_for_selector("#licensees li.licensee, #licensees li.empty, #licensees li.unavailable")
    assert page.locator("#licensees li.error").count() == 0, page.locator("#licensees").text_content()


def test_korean_demand_shows_matches_bundles_and_licensees(page, server):
    _enter_key(page, server[1])
    page.wait_for_selector("#key-state:not([hidden])")
    assert "officer" in (page.text_content("#key-who") or "")
    demand = _demand("DEMAND-01")
    _submit(page, demand["text"], demand["requirements"])
    _assert_results(page)
    statuses = page.locator("#matches li.match .requirements li")
    assert statuses.count() >= 1                                   # covered requirements listed per match
    bundles = page.locator("#bundles .bundle")
    assert bundles.count() >= 1, page.text_content("#bundles")
    table = bundles.first.locator("table.coverage")
    assert table.locator("th").count() == 3
    rows = table.locator("tbody tr")
    assert rows.count() == len(demand["requirements"])
    assert all(len(rows.nth(i).locator("td").all()) == 3 for i in range(rows.count()))
    # gaps are marked in the table exactly where the text below it says so
    assert table.locator("tr.gap").count() == bundles.first.locator(".gap-mark").count()
    # clicking another match asks for that technology's licensee candidates
    second = page.locator("#matches li.match").nth(1)
    title = (second.locator(".title").text_content() or "").strip()
    second.locator("button.licensee-button").click()
    page.wait_for_function("t => document.getElementById('licensee-target').textContent.includes(t)", arg=title)
    page.wait_for_selector("#licensees li.licensee, #licensees li.empty, #licensees li.unavailable")
    assert page.errors == []  # type: ignore[attr-defined]


def test_english_demand(page, server):
    _enter_key(page, server[1])
    page.wait_for_selector("#key-state:not([hidden])")
    _submit(page, "We need indoor localisation (SLAM) for autonomous mobile robots in a warehouse, "
                  "and a battery management system for long shifts.")
    _assert_results(page)
    assert page.errors == []  # type: ignore[attr-defined]


def test_key_is_kept_for_the_session_and_can_be_changed(page, server):
    _enter_key(page, server[1])
    page.wait_for_selector("#key-state:not([hidden])")
    page.reload()
    page.wait_for_selector("#key-state:not([hidden])")           # sessionStorage kept it
    page.click("#change-key")
    page.wait_for_selector("#key-form:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_wrong_key_shows_an_error(page, server):
    _enter_key(page, "not-a-real-key")
    page.wait_for_selector("#status .error")
    assert "401" in (page.text_content("#status") or "")
    assert page.is_visible("#key-form")
    # submitting without a saved key does not call the API and says why
    page.fill("#demand", "배터리 관리 시스템")
    page.click("#submit")
    page.wait_for_selector("#status .error")
    assert page.locator("#matches li").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_rendering_does_not_interpret_html(page, server):
    """Data is written with textContent: markup in a demand or a result never becomes elements."""
    _enter_key(page, server[1])
    page.wait_for_selector("#key-state:not([hidden])")
    _submit(page, "<img src=x onerror=window.__xss=1> 자율주행 로봇 위치 추정")
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("#matches img, #bundles img").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]

