"""Meeting packets' throughput: a synthetic plan of N companies × M meetings over an index, every packet
written (meeting pages HTML+PDF, agendas PDF+ics, the grid), packets/s and per-kind seconds.

The plan reuses the index's saved demands (``demands.jsonl``: the demo's eight) round-robin under made-up
company names, each meeting one or two of the demand's top matches (a bundle when two institutions), so the
pages have real coverage, rationale and map work. Timing only, never quality.

    .venv/bin/python bench/packets.py --index var/demo/index --companies 200 --json
    .venv/bin/python bench/packets.py --fake --companies 40      # the demo corpus over fake encoders
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def synthetic_plan(version, companies: int, per_company: int, tables: int) -> dict:
    from matcher.matching.demand import DemandMatcher

    demands = version.demands
    matcher = DemandMatcher(version)
    tops = {}
    for d in demands:
        tops[d.id] = [m.technology for m in matcher.match(d, 6).matches]
    slots_needed = -(-companies * per_company // tables)
    slots = [f"{9 + (i * 20) // 60:02d}:{(i * 20) % 60:02d}" for i in range(slots_needed)]
    meetings, cos, insts = [], [], {}
    cell = 0
    for c in range(companies):
        d = demands[c % len(demands)]
        name = f"합성기업 {c + 1:03d}"
        cos.append({"name": name, "demand": {"text": d.text, "requirements": list(d.requirements)},
                    "max_meetings": per_company, "unavailable": []})
        techs = tops[d.id] or [version.technologies[0]]
        for k in range(per_company):
            chosen = [techs[k % len(techs)]]
            if k % 2 and len(techs) > k + 1 and techs[k + 1].owner != chosen[0].owner:
                chosen.append(techs[k + 1])
            owners = list(dict.fromkeys(t.owner for t in chosen))
            for o in owners:
                insts[o] = {"name": o, "max_meetings": 99, "unavailable": []}
            slot = slots[cell // tables]
            meetings.append({"id": f"M{len(meetings) + 1:04d}", "slot": slot, "table": cell % tables + 1,
                             "company": name, "institutions": owners,
                             "kind": "bundle" if len(chosen) > 1 else "single",
                             "technologies": [t.id for t in chosen], "score": 0.5, "evidence": []})
            cell += 1
    return {"event": {"name": "벤치마크 기술교류회", "date": "2026-06-01", "timezone": "Asia/Seoul",
                      "location": "벤치 홀", "slots": slots, "slot_minutes": 20, "tables": tables,
                      "companies": cos, "institutions": list(insts.values())},
            "index_version": version.name, "created": "2026-05-01T00:00:00+00:00",
            "meetings": meetings, "unscheduled": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="an index directory (its encoders are loaded)")
    parser.add_argument("--fake", action="store_true", help="build the demo corpus over fake encoders instead")
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--per-company", type=int, default=3)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from matcher.meetings.packets import PacketWriter, plan_from_dict
    from matcher.store import IndexStore

    work = Path(tempfile.mkdtemp(prefix="bench-packets-"))
    if args.fake:
        from matcher.build import build_index
        from matcher.ingest import ingest_paths, write_corpus
        from tests.fakes import fake_encoders

        demo = REPO / "corpora" / "demo"
        write_corpus(work / "corpus", ingest_paths([demo], spec=demo / "sources.toml"))
        encoders = dict(fake_encoders())
        build_index(work / "corpus", work / "index", encoders=encoders)
        version = IndexStore(work / "index").load(encoders)
    elif args.index:
        version = IndexStore(args.index).load()
    else:
        parser.error("give --index DIR or --fake")
    plan = plan_from_dict(synthetic_plan(version, args.companies, args.per_company, args.tables))
    started, cpu = time.perf_counter(), time.process_time()
    report = PacketWriter(version).write(plan, work / "out", progress=lambda d, t: sys.stderr.write(f"{d}/{t}\n"),
                                         every=100)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    pdfs = sum(1 for f in report.files if f.endswith(".pdf"))
    data = {"index_version": version.name, "technologies": len(version.technologies), "companies": args.companies,
            "meetings": report.meetings, "agendas": report.agendas, "packets": report.packets, "pdfs": pdfs,
            "files": len(report.files), "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "packets_per_cpu_second": round(report.packets / cpu, 2), "load_average": round(os.getloadavg()[0], 1),
            "packets_per_second": round(report.packets / seconds, 2), "pdfs_per_second": round(pdfs / seconds, 2),
            "out": str(work / "out")}
    sys.stdout.write((json.dumps(data, ensure_ascii=False) if args.json else
                      "\n".join(f"{k}: {v}" for k, v in data.items())) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
