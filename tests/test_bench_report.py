"""The load benchmark's verdicts and report, on synthetic results (no server, no wrk): the targets of issue #4
are judged by their thresholds, the docs/performance.md section is well-formed, and only its markers' block is
rewritten (bench/yardsticks.py, bench/report.py)."""

from pathlib import Path
from typing import Any

from bench.report import END_MARK, START_MARK, markdown, write_report
from bench.yardsticks import evaluate_targets

SCENARIOS = ("noop", "job_detail", "search", "best_applicants", "mix_read_only", "mix")


def _run(rps: float, cache: bool) -> dict[str, Any]:
    return {
        "rps": rps,
        "latency_ms": {"50": 2.0, "99": 30.0},
        "hit_rate": 0.9 if cache else None,
        "statuses": {"200": 100},
        "x_cache": {"HIT": 90, "MISS": 10} if cache else {"BYPASS": 100},
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0},
        "passes": 0,
    }


def _result(workers: int, cache: bool, *, p99: float) -> dict[str, Any]:
    speed = 20.0 if cache else 1.0  # cached throughput 20 x uncached, job detail 0.5 x no-op
    rps = {name: 100.0 * speed for name in SCENARIOS} | {"noop": 200.0 * speed}
    result: dict[str, Any] = {
        "workers": workers,
        "cache": cache,
        "label": f"{workers}w-{'on' if cache else 'off'}",
        "code": "abc1234",
        "saturation": {name: _run(rps[name], cache) for name in SCENARIOS},
        "fixed_rate": [
            {
                "name": "get_job",
                "path": "/api/v1/jobs/1",
                "p50": 1.0,
                "p90": 2.0,
                "p99": p99,
                "rps": 50.0,
                "statuses": {"200": 150},
            },
        ],
        "server": {"error_lines": 0, "examples": []},
    }
    if workers == 1:
        result["statements"] = [
            {"route": "/api/v1/jobs/{job_id}", "method": "GET", "requests": 9, "mean": 1.0, "max_at_most": 4.0}
        ]
        result["lookups"] = {"mix_read_only": {"/api/v1/jobs/{job_id}": {"hit": 9, "miss": 1}}, "mix": {}}
        result["mix_statuses"] = {"POST /api/v1/jobs/{job_id}/applications": {"201": 4, "409": 1}}
    return result


def _results() -> list[dict[str, Any]]:
    return [
        _result(1, False, p99=80.0),
        _result(1, True, p99=5.0),
        _result(2, False, p99=20.0),
        _result(2, True, p99=5.0),
    ]


def _report() -> dict[str, Any]:
    results = _results()
    return {
        "command": ".venv/bin/python -m bench.load --quick",
        "mode": "quick",
        "date": "2026-01-02T03:04:05+00:00",
        "runtime_seconds": 60.0,
        "machine": {"nproc": 2, "cpu": "cpu", "kernel": "6.1", "python": "3.11", "load_average_at_start": (0, 0, 0)},
        "tools": {"wrk": "wrk 4.2.0", "hey": "hey"},
        "timing": {"saturation": 3, "warmup": 1, "fill": 30, "fixed": 3, "mix_length": 8000},
        "dataset": "bench",
        "fixed_rate_urls": [("get_job", "/api/v1/jobs/1", [])],
        "results": results,
        "results_file": "20260102-030405.json",
        "targets": evaluate_targets(results),
    }


def test_targets_are_judged_by_their_thresholds() -> None:
    verdicts = {(t["target"], t["workers"]): t["met"] for t in evaluate_targets(_results())}
    p99 = "uncached p99 < 50 ms at 50 req/s, every read endpoint"
    assert verdicts[(p99, 1)] is False  # 80 ms
    assert verdicts[(p99, 2)] is True  # 20 ms
    assert verdicts[("cache hit rate in the mix >= 95%", 1)] is False  # 90 %
    assert verdicts[("cached job detail >= 0.5 x no-op throughput", 2)] is True  # exactly 0.5
    assert verdicts[("cached / uncached throughput >= 10 x: GET /jobs?q=&near=", 1)] is True  # 20 x
    statements = "every read endpoint: at most 3 SQL statements (cache off)"
    assert verdicts[(statements, 1)] is False  # a count of up to 4


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
    targets = [line for line in lines if line.startswith("| uncached p99")]
    assert [row.rsplit("|", 2)[1].strip() for row in targets] == ["**MISSED**", "MET"]
    assert "| get_job | `/api/v1/jobs/1` | **1.0 / 2.0 / 80.0** | 1.0 / 2.0 / 5.0 |" in section
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
