"""The load benchmark's verdicts and report, on synthetic results (no server, no wrk): the targets of issue #12
are judged by their thresholds, the docs/performance.md section is well-formed, and only its markers' block is
rewritten (bench/targets.py, bench/report.py)."""

from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.report import END_MARK, START_MARK, markdown, write_report
from bench.running import Config, configurations
from bench.targets import evaluate_targets

# Saturation requests/s per configuration and scenario (the mixes follow the job detail).
RPS = {
    "raw@off": {
        "noop": 10_000.0,
        "job_detail": 2_000.0,
        "search": 400.0,
        "reviews": 1_000.0,
        "best_applicants": 500.0,
    },
    "raw@on": {"noop": 10_000.0, "cached_job_detail": 5_500.0},
    "raw@near": {"noop": 10_000.0},
    "off": {"noop": 4_000.0, "job_detail": 1_000.0, "search": 100.0, "reviews": 450.0, "best_applicants": 200.0},
    "on": {"noop": 4_000.0, "job_detail": 5_000.0, "search": 4_000.0, "reviews": 4_000.0, "best_applicants": 3_000.0},
    "near": {"noop": 4_000.0, "job_detail": 9_000.0, "search": 8_000.0, "reviews": 8_000.0},
    "lb1": {"job_detail": 3_000.0},
    "lb2": {"job_detail": 3_600.0},
}


def _run(rps: float, cache: bool, hit_rate: float = 0.9) -> dict[str, Any]:
    return {
        "rps": rps,
        "latency_ms": {"50": 2.0, "99": 30.0},
        "hit_rate": hit_rate if cache else None,
        "statuses": {"200": 100},
        "x_cache": {"HIT": 90, "MISS": 10} if cache else {"BYPASS": 100},
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0},
        "passes": 0,
    }


def _fixed(name: str, path: str, p99: float) -> dict[str, Any]:
    return {"name": name, "path": path, "p50": 1.0, "p90": 2.0, "p99": p99, "rps": 50.0, "statuses": {"200": 150}}


def _results() -> list[dict[str, Any]]:
    results = []
    configs: list[Config] = []
    for config in configurations(2):
        configs.append(config)
        if config.paired:
            configs.append(Config(f"raw@{config.label}", "raw", raw=True, scenarios=config.paired, mixes=False))
    for config in configs:
        label = config.label
        saturation = {name: _run(rps, config.cache) for name, rps in RPS[label].items()}
        if config.mixes:
            rate = 0.96 if label == "near" else 0.9
            saturation |= {name: _run(800.0, config.cache, rate) for name in ("mix_read_only", "mix")}
        if label == "lb2":
            saturation["mix"]["rps"] = 1_000.0
        result: dict[str, Any] = {
            **asdict(config),
            "code": "abc1234",
            "saturation": saturation,
            "fixed_rate": [],
            "server": {"error_lines": 0, "examples": []},
        }
        if label == "off":
            result["fixed_rate"] = [
                _fixed("get_job", "/api/v1/jobs/1", 80.0),
                _fixed("list_skills", "/api/v1/skills", 5.0),
            ]
        if label == "raw@off":
            result["fixed_rate"] = [_fixed("get_job", "/jobs/1", 10.0)]
        if config.counted:
            result["statements"] = [
                {"route": "/api/v1/jobs/{job_id}", "method": "GET", "requests": 9, "mean": 1.0, "max_at_most": 4.0}
            ]
            result["lookups"] = {"mix_read_only": {"/api/v1/jobs/{job_id}": {"hit": 9, "miss": 1}}, "mix": {}}
            result["mix_statuses"] = {"POST /api/v1/jobs/{job_id}/applications": {"201": 4, "409": 1}}
        results.append(result)
    return results


def _report() -> dict[str, Any]:
    results = _results()
    return {
        "command": ".venv/bin/python -m bench.load --quick",
        "mode": "quick",
        "date": "2026-01-02T03:04:05+00:00",
        "runtime_seconds": 60.0,
        "machine": {"nproc": 2, "cpu": "cpu", "kernel": "6.1", "python": "3.11", "load_average_at_start": (0, 0, 0)},
        "tools": {"wrk": "wrk 4.2.0", "hey": "hey", "haproxy": "HAProxy version 2.6"},
        "timing": {"saturation": 3, "warmup": 1, "fill": 30, "fixed": 3, "mix_length": 8000},
        "dataset": "bench",
        "fixed_rate_urls": [("get_job", "/api/v1/jobs/1", []), ("list_skills", "/api/v1/skills", [])],
        "results": results,
        "results_file": "20260102-030405.json",
        "targets": evaluate_targets(results),
    }


def test_targets_are_judged_by_their_thresholds() -> None:
    verdicts = {(t["target"], t["configs"]): t["met"] for t in evaluate_targets(_results())}
    assert verdicts[("uncached GET /jobs/{id} >= 0.5 x its raw yardstick", "off / raw@off")] is True  # exactly 0.5
    assert verdicts[("uncached GET /jobs?q=&near= >= 0.4 x its raw yardstick", "off / raw@off")] is False  # 0.25
    assert verdicts[("uncached GET /users/{id}/reviews >= 0.4 x its raw yardstick", "off / raw@off")] is True  # 0.45
    assert verdicts[("uncached GET /jobs/{id}/best-applicants >= 0.4 x its raw yardstick", "off / raw@off")] is True
    assert verdicts[("cached GET /jobs/{id} (HIT) >= 0.5 x the raw no-op", "on / raw@on")] is True  # 0.5
    assert verdicts[("near-cache HIT GET /jobs/{id} >= 0.85 x the raw no-op", "near / raw@near")] is True  # 0.9
    p99 = ("every read endpoint, uncached: p99 < 50 ms at 50 req/s", "off")
    assert verdicts[p99] is False  # 80 ms
    assert verdicts[("cache hit rate in the realistic mix >= 95%", "on")] is False  # 90 %
    assert verdicts[("cache hit rate in the realistic mix >= 95%", "near")] is True  # 96 %
    assert verdicts[("every read endpoint: at most 3 SQL statements", "off")] is False  # a count of up to 4
    assert verdicts[("2 instances vs 1 behind HAProxy: realistic mix", "lb2 / lb1")] is None  # measured only
    measured = {t["target"]: t["measured"] for t in evaluate_targets(_results())}
    assert measured["2 instances vs 1 behind HAProxy: realistic mix"].startswith("1.25 x")


def test_report_tables_are_well_formed_and_show_each_verdict() -> None:
    section = markdown(_report())
    lines = section.split("\n")
    assert lines[0] == "## 3. Load benchmark"
    # every table row has as many cells as its header
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            assert set(table[1].strip("|").split("|")) == {"---"}, table
            widths = {row.count("|") for row in table}
            assert len(widths) == 1, table
            table = []
    p99 = [line for line in lines if line.startswith("| every read endpoint, uncached")]
    assert [row.rsplit("|", 2)[1].strip() for row in p99] == ["**MISSED**"]
    assert "| get_job | `/api/v1/jobs/1` | **1.0 / 2.0 / 80.0** | 1.0 / 2.0 / 10.0 | 50.0 |" in section
    assert "| list_skills | `/api/v1/skills` | 1.0 / 2.0 / 5.0 | - | 50.0 |" in section
    assert "| uncached / raw: GET /jobs/{id} | 0.50 x (1000 / 2000) |" in section
    assert "| lb2 / lb1: realistic mix | 1.25 x (1000 / 800) |" in section
    assert "- none: no 5xx, no socket errors, no server errors logged." in lines


def test_write_report_replaces_only_the_marked_block(tmp_path: Path) -> None:
    path = tmp_path / "performance.md"
    write_report(path, "first")
    assert path.read_text() == f"# Performance\n\n{START_MARK}\nfirst\n{END_MARK}\n"
    path.write_text(f"intro\n{START_MARK}\nold\n{END_MARK}\noutro\n")
    write_report(path, "new")
    assert path.read_text() == f"intro\n{START_MARK}\nnew\n{END_MARK}\noutro\n"
    path.write_text("no markers\n")
    write_report(path, "added")
    assert path.read_text() == f"no markers\n\n{START_MARK}\nadded\n{END_MARK}\n"
