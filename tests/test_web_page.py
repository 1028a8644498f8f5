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


#: owns a confidential demo record, so a key bound to it sees more than the public count
BOUND_INSTITUTION = "누리대학교 산학협력단"


def _create_key(keys_file: Path, env: dict[str, str], *extra: str, role: str = "officer") -> str:
    created = subprocess.run(
        [sys.executable, "-m", "service.cli", "keys", "create", "--role", role,
         "--keys-file", str(keys_file), "--json", *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert created.returncode == 0, f"keys create failed:\n{created.stdout}\n{created.stderr}"
    return str(json.loads(created.stdout)["key"])


@pytest.fixture(scope="module")
def server(browser_available, demo_index, tmp_path_factory):
    """``matcher serve`` over the demo index with two officer keys and an organiser key: yields (base URL, key,
    key bound to ``BOUND_INSTITUTION``, organiser key)."""
    tmp = tmp_path_factory.mktemp("web")
    keys_file = tmp / "keys.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    key = _create_key(keys_file, env)
    bound_key = _create_key(keys_file, env, "--institution", BOUND_INSTITUTION, "--index", str(demo_index))
    organiser_key = _create_key(keys_file, env, role="organiser")

    port = _free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--index", str(demo_index),
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
        yield base, key, bound_key, organiser_key
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


LICENSEES_DONE = "#licensees li.licensee, #licensees li.empty, #licensees li.unavailable"


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
    page.wait_for_selector(LICENSEES_DONE)
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



# ---------------------------------------------------------------- the officers' working page (issue 10, point 9)

#: a demand many demo technologies answer above the relevance floor (more than one page of five)
BROAD_REQUIREMENTS = ["자율주행 로봇", "배터리 관리", "웨어러블 센서", "딥러닝 신경망"]


def _login(page, key: str) -> None:
    _enter_key(page, key)
    page.wait_for_selector("#key-state:not([hidden])")
    page.wait_for_function("document.getElementById('f-institution').options.length > 1")


def _all_matches(page) -> list[dict]:
    """Every match over all pages: walks the pager from the first page."""
    page.wait_for_selector("#matches li.match, #matches li.empty")
    if not page.is_hidden("#pager"):
        page.click("#page-buttons button[data-page='1']")
    out = []
    while True:
        page.wait_for_function("!document.querySelector('#matches [data-pending]')")
        for li in page.locator("#matches li.match").all():
            out.append({"id": li.get_attribute("data-id"), "rank": int(li.get_attribute("data-rank") or 0),
                        "institutions": li.locator(".institutions").text_content() or "",
                        "facts": li.locator(".facts").text_content() or "",
                        "ipc": li.locator(".ipc").text_content() if li.locator(".ipc").count() else ""})
        if page.is_hidden("#pager") or page.is_disabled("#page-next"):
            return out
        page.click("#page-next")


def test_counts_follow_the_key(page, server):
    base, key, bound, _ = server
    public = httpx.get(f"{base}/health", timeout=10).json()["count"]
    own = httpx.get(f"{base}/api/index", headers={"Authorization": f"Bearer {bound}"}, timeout=10).json()["count"]
    assert own > public, "the demo's confidential records should add to a bound key's count"
    page.wait_for_function("t => document.getElementById('index-info').textContent.includes(t)", arg=f"{public} ")
    _login(page, bound)
    page.wait_for_function("n => document.getElementById('index-info').dataset.count === n", arg=str(own))
    assert f"{own}" in (page.text_content("#index-info") or "")
    page.click("#change-key")
    page.wait_for_function("() => !document.getElementById('index-info').dataset.count")
    _login(page, key)
    page.wait_for_function("n => document.getElementById('index-info').dataset.count === n", arg=str(public))
    assert page.errors == []  # type: ignore[attr-defined]


def test_institution_filter_restricts_every_match(page, server):
    base, key, _, _ = server
    _login(page, key)
    listing = httpx.get(f"{base}/api/institutions", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    name = next(r["name"] for r in listing if r["name"] == "가온과학기술원")
    count = next(r["count"] for r in listing if r["name"] == name)
    options = page.eval_on_selector_all("#f-institution option", "os => os.map(o => o.value)")
    assert name in options and len(options) == len(listing) + 1      # "all" + one per institution
    page.select_option("#f-institution", name)
    _submit(page, "", BROAD_REQUIREMENTS)
    matches = _all_matches(page)
    assert 1 <= len(matches) <= count
    assert all(name in m["institutions"] for m in matches), [m["institutions"] for m in matches]
    assert page.errors == []  # type: ignore[attr-defined]


def _api_matches_answer(server, body: dict) -> dict:
    base, key = server[0], server[1]
    r = httpx.post(f"{base}/api/match", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _api_matches(server, body: dict) -> list[dict]:
    data = _api_matches_answer(server, body)
    return data if isinstance(data, list) else data["matches"]


def test_ipc_trl_and_status_filters(page, server):
    # filter values of the best unfiltered match, so that each filtered answer keeps at least that one
    # (relevance is computed over the filtered candidates, so weaker matches may fall below the floor)
    unfiltered = _api_matches(server, {"requirements": BROAD_REQUIREMENTS, "top_k": 50})
    assert unfiltered
    best = unfiltered[0]
    ipc, top_trl, status = best["ipc"][0][:4], best["trl"], best["legal_status"]
    _login(page, server[1])
    page.fill("#f-ipc", ipc.lower())                                 # case does not matter
    _submit(page, "", BROAD_REQUIREMENTS)
    matches = _all_matches(page)
    assert matches and all(ipc in m["ipc"] for m in matches), [m["ipc"] for m in matches]
    page.fill("#f-ipc", "")
    page.fill("#f-trl-min", str(top_trl))
    _submit(page, "", BROAD_REQUIREMENTS)
    matches = _all_matches(page)
    trls = [int(m["facts"].split("TRL")[-1].strip()) for m in matches]
    assert trls and all(t >= top_trl for t in trls), trls
    page.fill("#f-trl-min", "")
    page.select_option("#f-status", status)
    _submit(page, "", BROAD_REQUIREMENTS)
    matches = _all_matches(page)
    assert matches and all(m["facts"].startswith(status) for m in matches), [m["facts"] for m in matches]
    # a lapsed status switches on "include inactive"; a reversed range is refused before any request
    page.select_option("#f-status", "소멸")
    assert page.is_checked("#f-inactive")
    page.fill("#f-trl-min", "8")
    page.fill("#f-trl-max", "3")
    page.click("#submit")
    page.wait_for_selector("#status .error")
    assert "TRL" in (page.text_content("#status") or "")
    assert page.errors == []  # type: ignore[attr-defined]


def test_detail_panel_and_paging(page, server):
    _login(page, server[1])
    page.select_option("#page-size", "5")
    _submit(page, "", BROAD_REQUIREMENTS)
    _assert_results(page)
    total = len(page.evaluate("state.matches.matches || state.matches"))
    assert total > 5, "the broad demand should fill more than one page"
    assert page.locator("#matches li.match").count() == 5
    assert page.locator("#page-buttons button").count() == -(-total // 5)
    page.click("#page-next")
    page.wait_for_selector("#matches li.match[data-rank='6']")
    assert page.get_attribute("#page-buttons button[aria-current='page']", "data-page") == "2"
    assert page.is_enabled("#page-prev")
    # every result shows legal status, dates and TRL, and a score with its legend
    first = page.locator("#matches li.match").first
    page.wait_for_function("!document.querySelector('#matches [data-pending]')")
    facts = first.locator(".facts").text_content() or ""
    assert "출원 / filed" in facts and "TRL" in facts and first.locator(".badge").count() == 1
    assert first.locator(".score").count() == 1
    assert (page.text_content("#score-legend") or "").strip()
    # the detail panel
    title = (first.locator(".title").text_content() or "").strip()
    tech_id = first.get_attribute("data-id")
    first.locator(".title-link").click()
    page.wait_for_selector("#detail:not([hidden]) #detail-fields dd")
    assert (page.text_content("#detail-title") or "").strip() == title
    fields = page.eval_on_selector_all("#detail-fields dd", "ds => Object.fromEntries(ds.map(d => [d.dataset.field, d.textContent]))")
    assert fields["id"] == tech_id
    for key in ("abstract", "institutions", "ipc", "application_date", "legal_status", "trl", "kind", "applicants"):
        assert key in fields, key
    assert fields["abstract"].strip() not in ("", "–")
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    page.click("#page-prev")
    page.wait_for_selector("#matches li.match[data-rank='1']")
    assert page.errors == []  # type: ignore[attr-defined]


def _download(page, kind: str, fmt: str, tmp_path: Path) -> Path:
    with page.expect_download() as info:
        page.click(f"button.export[data-kind='{kind}'][data-format='{fmt}']")
    download = info.value
    assert download.suggested_filename.startswith(kind) and download.suggested_filename.endswith(f".{fmt}")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return path


def test_exports_download_and_screenshot(page, server, tmp_path):
    import csv
    import io

    import openpyxl

    _login(page, server[1])
    demand = _demand("DEMAND-01")
    _submit(page, demand["text"], demand["requirements"])
    _assert_results(page)
    total = len(page.evaluate("state.matches.matches || state.matches"))
    shown_ids = page.evaluate("(state.matches.matches || state.matches).map(m => m.id)")

    data = _download(page, "matches", "csv", tmp_path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == total and [r["id"] for r in rows] == shown_ids
    assert all(r["legal_status"] for r in rows)

    book = openpyxl.load_workbook(_download(page, "matches", "xlsx", tmp_path))
    values = list(book.active.iter_rows(values_only=True))
    assert values[0][:2] == ("rank", "id") and len(values) == total + 1

    bundles = list(csv.DictReader(io.StringIO(
        _download(page, "bundles", "csv", tmp_path).read_bytes().decode("utf-8-sig"))))
    n_bundles = page.locator("#bundles .bundle").count()
    assert len(bundles) == n_bundles * len(demand["requirements"])

    page.wait_for_selector(LICENSEES_DONE)
    if page.locator("#licensees li.licensee").count():
        sheet = openpyxl.load_workbook(_download(page, "licensees", "xlsx", tmp_path)).active
        assert sheet.max_row == page.locator("#licensees li.licensee").count() + 1

    shot = tmp_path / "officers-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.errors == []  # type: ignore[attr-defined]


def test_clear_messages(page, server):
    _login(page, server[1])
    # a technology the key cannot see (or that does not exist): the licensee panel says so
    page.evaluate("loadLicensees({technology_id: 'NO-SUCH-TECH'}, 'NO-SUCH-TECH')")
    page.wait_for_selector("#licensees li.not-found")
    assert "technology not found or not visible to your key" in (page.text_content("#licensees") or "")
    assert "not available" not in (page.text_content("#licensees") or "")
    # a demand nothing in the demo answers well: "no good match" in a sentence, not an empty list
    _submit(page, "우주 발사체 엔진 연소 시험")
    page.wait_for_selector("#matches li.empty")
    text = page.text_content("#matches") or ""
    assert "no good match" in text.lower(), text
    assert page.is_visible("#matches-message")                    # the service's advice beside it
    # asking for weak matches too shows them, each with its (low) relevance
    page.check("#f-weak")
    _submit(page, "우주 발사체 엔진 연소 시험")
    page.wait_for_selector("#matches li.match")
    values = [int((s or "").strip().rstrip("%")) for s in
              page.eval_on_selector_all("#matches li.match .score", "ss => ss.map(s => s.textContent)")]
    floor = _api_matches_answer(server, {"text": "우주 발사체 엔진 연소 시험"}).get("relevance_floor", 0.3)
    assert values and max(values) < round(floor * 100), values
    assert page.errors == []  # type: ignore[attr-defined]


NEW_MATCH = {"requirements": ["실내 위치 추정"], "no_good_match": False, "message": None, "matches": [
    {"id": f"DEMO-00{i:02d}", "title": f"기술 {i}", "title_en": "", "institutions": ["누리대학교 산학협력단"],
     "legal_status": "등록", "active": True, "application_date": "2020-01-01", "registration_date": "2021-01-01",
     "trl": 4, "ipc": ["G05D 1/02"], "relevance": 0.9 - i / 100, "score": 3.0, "covers": [0], "coverage": [0.8],
     "evidence": {}} for i in range(1, 13)]}
NEW_BUNDLES = {"requirements": ["실내 위치 추정"], "gaps": [], "verdict": "single_institution",
               "message": "누리대학교 산학협력단 covers every requirement",
               "single_institution": {"institution": "누리대학교 산학협력단", "members": ["DEMO-0001"]},
               "bundles": [{"kind": "single_institution", "members": ["DEMO-0001"], "titles": ["기술 1"],
                            "institutions": ["누리대학교 산학협력단"], "score": 0.8,
                            "coverage": [{"requirement": 0, "text": "실내 위치 추정", "members": ["DEMO-0001"],
                                          "member": "DEMO-0001", "relevance": 0.8}], "gaps": []}]}
NEW_LICENSEES = {"no_good_match": False, "message": None, "candidates": [
    {"company": "(주)가온로보틱스", "key": "k", "kind": "company", "aliases": [], "relevance": 0.42, "score": 1.0,
     "signals": {"portfolio": 0.4}, "portfolio_size": 2,
     "evidence": [{"type": "portfolio", "id": "DEMO-0002", "title": "근거 특허", "relevance": 0.6,
                   "legal_status": "등록", "ipc": ["G05D"]}]}]}


def _mock(page, route_map: dict[str, dict]) -> None:
    def answer(body: dict):
        text = json.dumps(body, ensure_ascii=False)
        return lambda route: route.fulfill(status=200, content_type="application/json", body=text)

    for path, body in route_map.items():
        page.route(f"**{path}", answer(body))


def test_contract_shapes_render(page, server):
    """The answers' new object shapes (relevance, verdict, candidates, no_good_match) render correctly."""
    _login(page, server[1])
    _mock(page, {"/api/match": NEW_MATCH, "/api/bundles": NEW_BUNDLES, "/api/licensees": NEW_LICENSEES})
    _submit(page, "실내 위치 추정")
    page.wait_for_selector("#licensees li.licensee")
    first = page.locator("#matches li.match").first
    assert (first.locator(".score").text_content() or "").strip() == "89%"
    assert "share of results with this value that were right" in (page.text_content("#score-legend") or "")
    assert "유효 / live" in (first.locator(".badge").text_content() or "")
    assert page.locator("#matches li.match").count() == 10 and not page.is_hidden("#pager")
    bundles = page.text_content("#bundles") or ""
    assert "one institution covers the whole demand" in bundles and "누리대학교 산학협력단" in bundles
    assert page.locator("#bundles .kind-label.single_institution").count() == 1
    assert "42%" in (page.text_content("#licensees .licensee .score") or "")
    assert "[등록]" in (page.text_content("#licensees") or "")

    page.unroute("**/api/match")
    page.unroute("**/api/licensees")
    _mock(page, {"/api/match": {"requirements": ["x"], "matches": [], "no_good_match": True, "message": None},
                 "/api/licensees": {"candidates": [], "no_good_match": True, "message": None}})
    _submit(page, "실내 위치 추정")
    page.wait_for_selector("#matches li.empty")
    assert "No good match" in (page.text_content("#matches") or "")
    assert page.is_hidden("#pager")
    assert page.errors == []  # type: ignore[attr-defined]


def test_search_box_shows_status_and_opens_detail(page, server):
    _login(page, server[1])
    page.fill("#search-query", "배터리 셀 밸런싱")
    page.click("#search-submit")
    page.wait_for_selector("#search-results li.hit")
    page.wait_for_function("!document.querySelector('#search-results [data-pending]')")
    hits = page.locator("#search-results li.hit")
    assert all((hits.nth(i).locator(".badge").text_content() or "").strip() for i in range(hits.count()))
    hits.first.locator(".title-link").click()
    page.wait_for_selector("#detail:not([hidden]) #detail-fields dd")
    assert page.errors == []  # type: ignore[attr-defined]


def test_alerts_panel_lists_the_keys_alerts(page, server):
    """The Alerts panel (issue 12): the key's alerts from /api/alerts, written as text, never as markup."""
    _mock(page, {"/api/alerts": [{"id": 1, "demand": 7, "demand_title": "<b>실내 물류</b> 로봇", "technology": "DEMO-0001",
                                  "title": "<img src=x onerror=window.__xss=1>위치 추정", "institutions": [],
                                  "score": 0.8123, "version": "v20261129T000000.000000-abcdef", "message": None,
                                  "best_sentence": None, "created": "2026-11-29T00:00:00Z"}]})
    _login(page, server[1])
    page.wait_for_selector("#alerts tbody tr")
    row = page.text_content("#alerts tbody tr") or ""
    assert "DEMO-0001" in row and "#7" in row and "0.81" in row and "v20261129T000000" in row
    assert "<b>실내 물류</b>" in row and page.locator("#alerts img, #alerts b").count() == 0
    assert page.evaluate("window.__xss === undefined")
    page.unroute("**/api/alerts")
    page.click("#alerts-refresh")
    page.wait_for_selector("#alerts-message:has-text('no new matches')")
    assert page.errors == []  # type: ignore[attr-defined]


def test_organiser_plans_an_event_and_sees_the_grid(page, server):
    """The organiser view (issue 13): the demo event pre-filled, planned into a slot × table grid with the
    unscheduled list and the objective beside the greedy baseline, published; the bound officer then sees
    only its institution's meetings. Names are written as text, never as markup."""
    _login(page, server[3])
    page.wait_for_selector("#organiser-section:not([hidden])")
    assert page.is_hidden("#meetings-section")
    page.wait_for_function("document.getElementById('event-json').value.includes('slots')")
    event = json.loads(page.input_value("#event-json"))
    assert event == json.loads((DEMO / "event.json").read_text(encoding="utf-8"))
    trap = "<img src=x onerror=window.__xss=1>주식회사"
    event["companies"].append({"name": trap, "demand": {"text": "zzzz qqqq"}})
    page.fill("#event-json", json.dumps(event, ensure_ascii=False))
    page.fill("#plan-time-limit", "5")
    page.click("#plan-submit")
    page.wait_for_selector("#plan-grid td.meeting", timeout=TIMEOUT_MS * 2)
    assert page.locator("#plan-grid tbody tr").count() == len(event["slots"])
    assert page.locator("#plan-grid thead th").count() == 1 + event["tables"]
    cell = page.text_content("#plan-grid td.meeting") or ""
    assert "↔" in cell and "M0" in cell
    assert "baseline" in (page.text_content("#plan-objective") or "")
    unscheduled = page.text_content("#plan-unscheduled") or ""
    assert trap in unscheduled  # no matching technology: listed with its reason, as text
    assert page.locator("#organiser-section img").count() == 0 and page.evaluate("window.__xss === undefined")
    assert "draft" in (page.text_content("#plan-title") or "")
    assert page.locator("#plan-grid td.meeting button.packet").count() == page.locator("#plan-grid td.meeting").count()
    with page.expect_download() as grid:
        page.click("#plan-grid-csv")
    assert grid.value.suggested_filename.endswith("grid.csv")
    page.click("#plan-publish")
    page.wait_for_selector("#plan-title:has-text('published')")
    assert page.locator("#plans tbody tr").count() >= 1
    meetings = page.locator("#plan-grid td.meeting").count()

    page.click("#change-key")
    _login(page, server[2])  # the officer bound to BOUND_INSTITUTION
    page.wait_for_selector("#meetings-section:not([hidden])")
    assert page.is_hidden("#organiser-section")
    page.wait_for_selector("#my-meetings li.meeting, #meetings-message:has-text('no published')")
    mine = page.locator("#my-meetings li.meeting")
    assert 0 < mine.count() < meetings
    assert all(BOUND_INSTITUTION in (mine.nth(i).text_content() or "") for i in range(mine.count()))
    assert trap not in (page.text_content("#meetings-section") or "")
    with page.expect_download() as agenda:
        page.click("#my-meetings h3 button.packet")
    assert agenda.value.suggested_filename.endswith(".ics")
    assert page.errors == []  # type: ignore[attr-defined]
