"""The targets of issue #12 (and the statement budget kept from issue #4), judged MET or MISSED on one run.

Every ratio is within one run: the project against the raw yardsticks of bench/raw.py measured beside it
(`raw@off` is measured scenario by scenario right after `off`, `raw@on` beside `on`, ...; bench/running.py).
"""

from typing import Any

from bench.metrics import fmt_rate
from bench.scenarios import SCENARIO_TITLES

MAX_STATEMENTS = 3
P99_TARGET_MS = 50.0
HIT_RATE_TARGET = 0.95
# uncached project / raw yardstick, saturation throughput
RAW_SHARE_TARGETS = {"job_detail": 0.5, "search": 0.4, "reviews": 0.4, "best_applicants": 0.4}
CACHED_NOOP_TARGET = 0.5  # cached job detail (a Redis HIT) / raw no-op; one Redis GET is ~0.55x
NEAR_NOOP_TARGET = 0.85  # near-cache HIT / raw no-op


def config(results: list[dict[str, Any]], label: str) -> dict[str, Any] | None:
    """The results of one configuration (by label), if it ran."""
    return next((r for r in results if r["label"] == label), None)


def rps(result: dict[str, Any] | None, scenario: str) -> float | None:
    """Saturation requests/s of a scenario in a configuration, if measured."""
    if result is None or scenario not in result["saturation"]:
        return None
    return float(result["saturation"][scenario]["rps"])


def balanced(results: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The HAProxy configurations: 1 instance and the most instances, if both ran."""
    behind = sorted((r for r in results if r.get("instances", 0) >= 1), key=lambda r: r["instances"])
    return (behind[0], behind[-1]) if len(behind) >= 2 else None


def evaluate_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target: what was compared, the measured value and MET, MISSED or (no threshold) measured."""
    targets: list[dict[str, Any]] = []

    def add(target: str, configs: str, measured: str, met: bool | None) -> None:
        targets.append({"target": target, "configs": configs, "measured": measured, "met": met})

    def share(target: str, labels: str, ours: float | None, theirs: float | None, wanted: float) -> None:
        if ours is None or theirs is None:
            return
        ratio = ours / theirs
        add(target, labels, f"{ratio:.2f} x ({ours:.0f} vs {theirs:.0f} req/s)", ratio >= wanted)

    off, on, near = (config(results, label) for label in ("off", "on", "near"))
    for name, wanted in RAW_SHARE_TARGETS.items():
        share(
            f"uncached {SCENARIO_TITLES[name]} >= {wanted:g} x its raw yardstick",
            "off / raw@off",
            rps(off, name),
            rps(config(results, "raw@off"), name),
            wanted,
        )
    share(
        f"cached GET /jobs/{{id}} (HIT) >= {CACHED_NOOP_TARGET:g} x the raw no-op",
        "on / raw@on",
        rps(on, "job_detail"),
        rps(config(results, "raw@on"), "noop"),
        CACHED_NOOP_TARGET,
    )
    share(
        f"near-cache HIT GET /jobs/{{id}} >= {NEAR_NOOP_TARGET:g} x the raw no-op",
        "near / raw@near",
        rps(near, "job_detail"),
        rps(config(results, "raw@near"), "noop"),
        NEAR_NOOP_TARGET,
    )
    if off and off["fixed_rate"]:
        slow = [r["name"] for r in off["fixed_rate"] if r["p99"] >= P99_TARGET_MS]
        worst = max(off["fixed_rate"], key=lambda r: r["p99"])
        count = len(off["fixed_rate"])
        add(
            f"every read endpoint, uncached: p99 < {P99_TARGET_MS:g} ms at 50 req/s",
            "off",
            f"{count - len(slow)}/{count} under; worst {worst['p99']:.1f} ms ({worst['name']})"
            + (f"; over: {', '.join(slow)}" if slow else ""),
            not slow,
        )
    for cached in (on, near):
        if cached and "mix" in cached["saturation"]:
            rate = cached["saturation"]["mix"]["hit_rate"] or 0.0
            add(
                f"cache hit rate in the realistic mix >= {HIT_RATE_TARGET:.0%}",
                cached["label"],
                fmt_rate(rate),
                rate >= HIT_RATE_TARGET,
            )
    for one in (off, on):
        if one and "statements" in one:
            reads = [r for r in one["statements"] if r["method"] == "GET"]
            if reads:
                worst = max(reads, key=lambda r: r["max_at_most"])
                add(
                    f"every read endpoint: at most {MAX_STATEMENTS} SQL statements",
                    one["label"],
                    f"{len(reads)} read routes, largest count <= {worst['max_at_most']:g} ({worst['route']})",
                    worst["max_at_most"] <= MAX_STATEMENTS,
                )
    pair = balanced(results)
    if pair:
        single, several = pair
        for name in ("mix", "job_detail"):
            ours, theirs = rps(several, name), rps(single, name)
            if ours is not None and theirs is not None:
                add(
                    f"{several['instances']} instances vs 1 behind HAProxy: {SCENARIO_TITLES[name]}",
                    f"{several['label']} / {single['label']}",
                    f"{ours / theirs:.2f} x ({ours:.0f} vs {theirs:.0f} req/s)",
                    None,
                )
    return targets
