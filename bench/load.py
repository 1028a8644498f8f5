"""Load check: requests/s and p50/p99 latency of ``POST /api/search|match|bundles`` against ``matcher serve``.

    .venv/bin/python bench/load.py [--endpoint search|match|bundles|page] [--index DIR] [--clients 8]
                                   [--duration 20] [--warmup 5] [--fresh] [--json]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --key KEY      # an already running server
    .venv/bin/python bench/load.py --server-code /work/main ...              # serve another checkout's code

Starts ``matcher serve`` as a subprocess over ``--index`` (default ``var/demo/index``, built the way
``scripts/demo.sh`` builds it when absent) with a fresh officer key in a temporary keys file, waits for
``/health``, warms up, then ``--clients`` threads (one ``httpx.Client`` each) send the fixed query (search)
or demand (match, bundles) list round-robin for ``--duration`` seconds. ``page`` posts what the officers'
page posts for one demand: match, then bundles with the same body (both latencies are counted).
``--fresh`` makes every request body distinct (a request number is appended to the query, or to the
demand's text and to each of its requirements, then listed explicitly), so no result, score-table or
vector cache can answer it: the cost of a demand never seen before. Client and server share
the machine's cores, as they do on the 2-core box the numbers in bench/README.md come from. The suite
never runs this.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
DEMO_INDEX = REPO / "var" / "demo" / "index"

# Written for this benchmark (not taken from any corpus): technology needs a company might type.
QUERIES = [
    "물류창고 자율주행 로봇의 실내 위치 추정",
    "리튬이온 이차전지 양극 활물질 제조 방법",
    "전기차 배터리 상태 추정과 열 관리",
    "웨어러블 생체신호 측정 패치",
    "딥러닝 기반 의료 영상 진단 보조",
    "반도체 소자의 누설 전류 감소 구조",
    "무선 전력 전송 코일 설계",
    "미세먼지 저감을 위한 공기 정화 필터",
    "수처리용 분리막과 오염 저감",
    "면역항암 항체 및 약물 전달 기술",
    "스마트 팜 작물 생육 모니터링 센서",
    "건축물 콘크리트 균열 탐지",
    "해양 선박의 연료 절감 장치",
    "음성 인식을 이용한 대화형 서비스",
    "indoor localisation for autonomous mobile robots",
    "solid electrolyte for all-solid-state batteries",
    "low-power wireless sensor network for factories",
    "anomaly detection in ECG signals on the device",
    "hydrogen fuel cell catalyst with less platinum",
    "image recognition of defects on a production line",
    "blockchain based data sharing between hospitals",
    "biodegradable polymer packaging material",
]

# Written for this benchmark (not taken from any corpus): demands as a company or an officer might write
# them, two to four requirements each, Korean, English and mixed; with the requirements an officer would
# list for each (sent only by --fresh, see drive()).
DEMANDS: list[tuple[str, list[str]]] = [
    ("물류센터용 자율주행 로봇을 개발 중입니다. 실내 위치 추정과 장애물 회피 기술, 그리고 다중 로봇 경로 계획이 필요합니다.",
     ["실내 위치 추정", "장애물 회피", "다중 로봇 경로 계획"]),
    ("전기차 배터리 팩의 열 관리 및 배터리 잔존 수명 예측 기술을 찾고 있습니다.",
     ["배터리 팩 열 관리", "배터리 잔존 수명 예측"]),
    ("웨어러블 패치로 심전도를 측정하고, 부정맥을 자동으로 검출하는 인공지능 기술이 필요합니다.",
     ["웨어러블 심전도 측정 패치", "부정맥 자동 검출 인공지능"]),
    ("1. 스마트팜 작물 생육 모니터링 센서\n2. 양액 자동 공급 제어\n3. 병해충 영상 진단",
     ["스마트팜 작물 생육 모니터링 센서", "양액 자동 공급 제어", "병해충 영상 진단"]),
    ("반도체 공정의 웨이퍼 결함 검사와 공정 데이터 기반 불량 예측 기술을 도입하려 합니다.",
     ["웨이퍼 결함 검사", "공정 데이터 기반 불량 예측"]),
    ("수처리용 분리막의 오염 저감 기술과 저에너지 해수 담수화 공정을 함께 검토하고 있습니다.",
     ["분리막 오염 저감", "저에너지 해수 담수화"]),
    ("우리 회사는 화장품 원료 회사로서 천연물 유래 항산화 소재, 피부 흡수 촉진 제형, 안정성 평가 기술이 필요합니다.",
     ["천연물 유래 항산화 소재", "피부 흡수 촉진 제형", "화장품 안정성 평가"]),
    ("We need indoor SLAM for warehouse robots and a battery management system that predicts remaining range.",
     ["indoor SLAM for warehouse robots", "battery management with remaining range prediction"]),
    ("Looking for low-power wireless sensor nodes for factory equipment and on-device anomaly detection "
     "of vibration signals.",
     ["low-power wireless sensor nodes", "on-device vibration anomaly detection"]),
    ("Our company makes medical imaging software; we want AI-assisted lesion detection in chest X-rays and "
     "secure sharing of imaging data between hospitals.",
     ["lesion detection in chest X-rays", "secure medical image sharing between hospitals"]),
    ("hydrogen fuel cell catalysts with less platinum; durable membrane electrode assemblies; stack cooling",
     ["low-platinum fuel cell catalyst", "durable membrane electrode assembly", "fuel cell stack cooling"]),
    ("저희는 식품 포장재 업체입니다. biodegradable packaging film과 항균 코팅 기술, 그리고 산소 차단층 기술을 찾습니다.",
     ["biodegradable packaging film", "항균 코팅", "산소 차단층"]),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def matcher_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "service.cli", *args]


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def ensure_demo_index(env: dict[str, str]) -> None:
    """Build var/demo/index as scripts/demo.sh does, when it is absent."""
    if (DEMO_INDEX / "CURRENT").exists():
        return
    print("building the demo index (as scripts/demo.sh does) ...", file=sys.stderr)
    run(matcher_cmd("ingest", "corpora/demo", "--spec", "corpora/demo/sources.toml",
                    "--out", "var/demo/corpus", "--quiet"), env)
    run(matcher_cmd("build", "--corpus", "var/demo/corpus", "--index", str(DEMO_INDEX), "--quiet"), env)


def wait_healthy(base: str, proc: subprocess.Popen | None, log: Path | None, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"matcher serve exited ({proc.returncode}):\n{log.read_text()[-3000:] if log else ''}")
        try:
            r = httpx.get(f"{base}/health", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{base}/health not ready after {timeout:.0f} s")
        time.sleep(0.5)


def is_korean(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (q in [0, 100]), in ms to 0.1; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return round(sorted_values[rank - 1], 1)


ROUTES = {"search": ["/api/search"], "match": ["/api/match"], "bundles": ["/api/bundles"],
          "page": ["/api/match", "/api/bundles"]}


Item = str | tuple[str, list[str]]  # a query, or a demand with the requirements an officer would list


def body_for(route: str, item: Item, top_k: int, number: int | None = None) -> dict:
    """The request body of ``route`` for one query or demand.

    ``number`` (``--fresh``) is appended to the query, or to a demand's text and to each of its listed
    requirements (sent explicitly then), so every text the server encodes is one it has not seen."""
    text, reqs = (item, []) if isinstance(item, str) else item
    tag = "" if number is None else f" {number}"
    if route == "/api/search":
        return {"query": text + tag, "top_k": top_k}
    body: dict = {"text": text + tag}
    if number is not None and reqs:
        body["requirements"] = [r + tag for r in reqs]
    return {**body, "top_k": top_k} if route == "/api/match" else {**body, "top_n": 5}


def drive(base: str, key: str, texts: list[Item], clients: int, seconds: float, top_k: int, *,
          endpoint: str = "search", fresh: bool = False, counter: list[int] | None = None) -> dict:
    """``clients`` threads post texts round-robin until the deadline; latencies in ms of 200 answers."""
    latencies: list[list[tuple[float, bool, str]]] = [[] for _ in range(clients)]  # (ms, Korean?, route)
    statuses: list[Counter] = [Counter() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    counter = counter if counter is not None else [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            i = n * 7  # clients start at different texts
            start.wait()
            while time.perf_counter() < stop_at[0]:
                item = texts[i % len(texts)]
                text = item if isinstance(item, str) else item[0]
                i += 1
                number = None
                if fresh:  # a request number nobody asked before: no cache can answer it
                    with lock:
                        counter[0] += 1
                        number = counter[0]
                for route in ROUTES[endpoint]:
                    t = time.perf_counter()
                    try:
                        code = client.post(route, json=body_for(route, item, top_k, number)).status_code
                    except httpx.HTTPError as exc:
                        code = type(exc).__name__
                    ms = (time.perf_counter() - t) * 1000
                    statuses[n][code] += 1
                    if code == 200:
                        latencies[n].append((ms, is_korean(text), route))

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start.wait()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(ms for per in latencies for ms, _, _ in per)
    korean = sorted(ms for per in latencies for ms, ko, _ in per if ko)
    other = sorted(ms for per in latencies for ms, ko, _ in per if not ko)
    codes = sum(statuses, Counter())
    ok = codes.get(200, 0)
    out = {
        "requests": sum(codes.values()),
        "ok": ok,
        "errors": sum(v for k, v in codes.items() if k != 200),
        "statuses": {str(k): v for k, v in sorted(codes.items(), key=lambda kv: str(kv[0]))},
        "seconds": round(elapsed, 2),
        "rps": round(ok / elapsed, 1),
        "p50_ms": percentile(lat, 50),
        "p90_ms": percentile(lat, 90),
        "p99_ms": percentile(lat, 99),
        "max_ms": round(lat[-1], 1) if lat else None,
        "p50_ms_korean_texts": percentile(korean, 50),
        "p50_ms_english_texts": percentile(other, 50),
    }
    if len(ROUTES[endpoint]) > 1:
        for route in ROUTES[endpoint]:
            per_route = sorted(ms for per in latencies for ms, _, r in per if r == route)
            name = route.rsplit("/", 1)[-1]
            out[f"{name}_p50_ms"] = percentile(per_route, 50)
            out[f"{name}_p99_ms"] = percentile(per_route, 99)
    return out


def start_server(index: Path, code_dir: Path, env: dict[str, str], tmp: Path, timeout: float = 300,
                 prefix: list[str] | None = None, workers: int = 1) -> tuple[subprocess.Popen, str, str, float, dict]:
    """``matcher serve`` over ``index`` (running ``code_dir``'s code) with a fresh officer key in ``tmp``, its
    output in ``tmp/serve.log``: (process, base URL, key, seconds from spawn until ``/health`` answers, health).
    ``prefix`` runs the server under another command (a profiler); the process is then that command's.
    ``workers`` > 1: ``--workers``; the health check then waits until every worker answers (``/health``'s pid)."""
    keys_file = tmp / "keys.json"
    key = json.loads(run(matcher_cmd("keys", "create", "--role", "officer",
                                     "--keys-file", str(keys_file), "--json"), env))["key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "serve.log"
    t = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*(prefix or []), *matcher_cmd("serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port),
                                           "--keys-file", str(keys_file), "--workers", str(workers))],
            cwd=code_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        health = wait_healthy(base, proc, log, timeout)
        while log.read_text(errors="replace").count("Application startup complete") < workers:
            if proc.poll() is not None or time.perf_counter() - t > timeout:
                raise SystemExit(f"not every one of {workers} workers started:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    except BaseException:
        stop_server(proc)
        raise
    return proc, base, key, round(time.perf_counter() - t, 1), health


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def warm_up(base: str, key: str, texts: list[Item], endpoint: str, top_k: int, *, fresh: bool = False,
            counter: list[int] | None = None) -> None:
    """Every text once, one at a time (``fresh``: numbered like the measured ones, so caches stay cold)."""
    counter = counter if counter is not None else [0]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300) as client:
        for q in texts:
            number = None
            if fresh:
                counter[0] += 1
                number = counter[0]
            for route in ROUTES[endpoint]:
                r = client.post(route, json=body_for(route, q, top_k, number))
                if r.status_code != 200:
                    raise SystemExit(f"warm-up {route} failed: {r.status_code} {r.text[:500]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=sorted(ROUTES), default="search",
                        help="what to load: search (queries), match or bundles (demands), page (match + bundles)")
    parser.add_argument("--index", type=Path, default=DEMO_INDEX, help="index directory (default var/demo/index)")
    parser.add_argument("--url", help="use this running server instead of starting one (needs --key)")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("--server-code", type=Path, default=REPO,
                        help="checkout whose code 'matcher serve' runs (default: this one), e.g. main for a before run")
    parser.add_argument("--queries", type=Path,
                        help="file with one query or demand per line (default: the built-in list of the endpoint)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (threads), default 4")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds, default 20")
    parser.add_argument("--warmup", type=float, default=5, help="warm-up seconds (not measured), default 5")
    parser.add_argument("--fresh", action="store_true",
                        help="every request text distinct (a request number appended): no cache can answer")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if args.clients < 1 or args.duration <= 0:
        parser.error("--clients must be ≥ 1 and --duration > 0")
    texts: list[Item] = list(QUERIES) if args.endpoint == "search" else list(DEMANDS)
    if args.queries:
        texts = [q.strip() for q in args.queries.read_text(encoding="utf-8").splitlines() if q.strip()]
        if not texts:
            parser.error(f"{args.queries} holds no queries")

    code_dir = args.server_code.resolve()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(code_dir)}
    proc: subprocess.Popen | None = None
    counter = [0]
    with tempfile.TemporaryDirectory(prefix="matcher-load-") as tmp:
        try:
            if args.url:
                if not args.key:
                    parser.error("--url needs --key")
                base, key = args.url.rstrip("/"), args.key
                health = wait_healthy(base, None, None, timeout=10)
            else:
                index = args.index.resolve()
                if index == DEMO_INDEX.resolve():
                    ensure_demo_index(env)
                proc, base, key, startup_s, health = start_server(index, code_dir, env, Path(tmp))
            # warm-up: every text once, then the concurrent pattern for --warmup seconds
            warm_up(base, key, texts, args.endpoint, args.top_k, fresh=args.fresh, counter=counter)
            if args.warmup > 0:
                drive(base, key, texts, args.clients, args.warmup, args.top_k, endpoint=args.endpoint,
                      fresh=args.fresh, counter=counter)
            load_before = os.getloadavg()[0]
            result = drive(base, key, texts, args.clients, args.duration, args.top_k, endpoint=args.endpoint,
                           fresh=args.fresh, counter=counter)
            load_after = os.getloadavg()[0]
        finally:
            if proc is not None:
                stop_server(proc)

    out = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "endpoint": " + ".join(f"POST {r}" for r in ROUTES[args.endpoint]),
        "server_code": None if args.url else str(code_dir),
        "index": str(args.url or args.index),
        "index_version": health.get("index_version"),
        "technologies": health.get("count"),
        "texts": len(texts),
        "fresh": args.fresh,
        "clients": args.clients,
        "top_k": args.top_k,
        "warmup_s": args.warmup,
        **({} if args.url else {"server_startup_s": startup_s}),
        "loadavg_1m_before_after": [round(load_before, 2), round(load_after, 2)],  # others sharing the CPU?
        **result,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"{out['endpoint']} on {out['index']} ({out['technologies']} technologies), "
              f"{args.clients} clients{', fresh texts' if args.fresh else ''}, {result['seconds']} s: "
              f"{result['rps']} req/s, p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, "
              f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms, "
              f"errors {result['errors']} of {result['requests']}; "
              f"1-min load average before/after {out['loadavg_1m_before_after']}")


if __name__ == "__main__":
    main()
