"""The results as a reader sees them: the section of docs/performance.md between the bench markers, and the
PNG plots of docs/img/."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.metrics import fmt_rate, metrics_hit_rate
from bench.scenarios import MIX, RAW_SATURATION, SATURATION, SCENARIO_TITLES
from bench.server import pool_size
from bench.targets import HIT_RATE_TARGET, P99_TARGET_MS, config
from bench.tools import FIXED_QPS_PER_WORKER, FIXED_WORKERS, WRK_CONNECTIONS, WRK_THREADS

START_MARK, END_MARK = "<!-- bench:start -->", "<!-- bench:end -->"
ALL_SCENARIOS = tuple(dict.fromkeys([*SATURATION, *RAW_SATURATION, "mix_read_only", "mix"]))


def code_line(results: list[dict[str, Any]]) -> str:
    """The code every configuration ran, or each one's when it changed during the run."""
    versions = {r["code"] for r in results}
    if len(versions) == 1:
        return versions.pop()
    return "changed during the run: " + ", ".join(f"{r['label']} {r['code']}" for r in results)


def title(r: dict[str, Any]) -> str:
    """A configuration as a column title: `label (what it is)`."""
    return f"{r['label']}: {r['title']}"


def plot_throughput(results: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars: saturation requests/s per scenario and configuration, the yardsticks first (log scale)."""
    import matplotlib.pyplot as plt

    scenarios = [name for name in ALL_SCENARIOS if any(name in r["saturation"] for r in results)]
    fig, ax = plt.subplots(figsize=(13, 5.5))
    width = 0.84 / len(results)
    for i, run in enumerate(results):
        xs, values = [], []
        for x, name in enumerate(scenarios):
            if name in run["saturation"]:
                xs.append(x + (i - (len(results) - 1) / 2) * width)
                values.append(run["saturation"][name]["rps"])
        hatch, edge = ("//", "black") if run["raw"] else (None, None)
        bars = ax.bar(xs, values, width, label=title(run), hatch=hatch, edgecolor=edge)
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=6, rotation=90, padding=2)
    ax.set_xticks(range(len(scenarios)), [SCENARIO_TITLES[name] for name in scenarios], rotation=15, ha="right")
    ax.tick_params(axis="x", labelsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_title(
        f"Saturation throughput (wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}), the raw yardsticks (hatched) beside the"
        " project; one machine"
    )
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_fixed_rate(results: list[dict[str, Any]], path: Path) -> None:
    """Horizontal bars: p99 at 50 requests/s per endpoint, per configuration measured so (the yardsticks too)."""
    import matplotlib.pyplot as plt

    runs = [run for run in results if run["fixed_rate"]]
    if not runs:
        return
    names = list(dict.fromkeys(row["name"] for run in runs for row in run["fixed_rate"]))
    fig, ax = plt.subplots(figsize=(9, 8))
    height = 0.8 / len(runs)
    for i, run in enumerate(runs):
        by_name = {row["name"]: row["p99"] for row in run["fixed_rate"]}
        ys = [y + (i - (len(runs) - 1) / 2) * height for y, name in enumerate(names) if name in by_name]
        hatch, edge = ("//", "black") if run["raw"] else (None, None)
        values = [by_name[name] for name in names if name in by_name]
        ax.barh(ys, values, height, label=title(run), hatch=hatch, edgecolor=edge)
    ax.axvline(P99_TARGET_MS, color="red", linestyle="--", label=f"target {P99_TARGET_MS:g} ms")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("p99 latency, ms (log scale)")
    ax.set_title("p99 at 50 requests/s: the project uncached and the raw yardsticks (hatched)")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_hit_rate(results: list[dict[str, Any]], path: Path) -> None:
    """Mix hit rates per cached configuration (wrk), and per route for the cached one counted by /metrics."""
    import matplotlib.pyplot as plt

    cached = [run for run in results if run["cache"] and "mix" in run["saturation"]]
    counted = next((run for run in cached if "lookups" in run), None)
    per_route = counted["lookups"] if counted else {}
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [1, 2]})
    width = 0.38
    for offset, name in ((-width / 2, "mix_read_only"), (width / 2, "mix")):
        values = [100 * (run["saturation"][name]["hit_rate"] or 0.0) for run in cached]
        bars = left.bar([x + offset for x in range(len(cached))], values, width, label=SCENARIO_TITLES[name])
        left.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8)
    left.axhline(100 * HIT_RATE_TARGET, color="red", linestyle="--", label=f"target {HIT_RATE_TARGET:.0%}")
    left.set_xticks(range(len(cached)), [run["label"] for run in cached])
    left.set_ylim(0, 125)
    left.set_ylabel("X-Cache HIT share of cached-route responses, %")
    left.set_title("Mix hit rate (counted by wrk)")
    left.legend(fontsize=8, loc="upper center", ncol=2, framealpha=1)
    routes = sorted({route for lookups in per_route.values() for route in lookups})
    for offset, name in ((-width / 2, "mix_read_only"), (width / 2, "mix")):
        rates = [100 * (metrics_hit_rate({r: per_route.get(name, {}).get(r, {})}) or 0.0) for r in routes]
        bars = right.barh([y + offset for y in range(len(routes))], rates, width, label=SCENARIO_TITLES[name])
        right.bar_label(bars, labels=[f"{v:.0f}%" for v in rates], fontsize=7)
    right.axvline(100 * HIT_RATE_TARGET, color="red", linestyle="--")
    right.set_yticks(range(len(routes)), routes, fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 110)
    right.set_xlabel("hit rate, % (/metrics: a request that waited for a concurrent fill counts as a miss)")
    right.set_title(f"Per route, {counted['label'] if counted else 'n/a'}")
    right.legend(fontsize=8, loc="lower right", framealpha=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(report: dict[str, Any]) -> str:
    """The generated section of docs/performance.md (between the bench markers), section by section."""
    results: list[dict[str, Any]] = report["results"]
    out = [*_header(report), *_targets(report)]
    out += [*_saturation(report), *_ratios(results), *_fixed_rate(report), *_mix(report)]
    for r in results:
        if "lookups" in r and r["cache"]:
            out += _per_route(r)
    out += ["![hit rate](img/bench-hit-rate.png)", ""]
    out += _statements(results)
    out += ["### Anomalies", ""]
    out += [f"- {a}" for a in anomaly_lines(results)] or ["- none: no 5xx, no socket errors, no server errors logged."]
    out += ["", f"Raw results: `docs/bench-results/{report['results_file']}`.", ""]
    return "\n".join(out)


def _row(cells: Sequence[str]) -> str:
    """One markdown table row (an empty cell as `| |`)."""
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _table_head(cells: Sequence[str]) -> list[str]:
    """A markdown table's header row and its separator."""
    return [_row(cells), "|" + "---|" * len(cells)]


def _header(report: dict[str, Any]) -> list[str]:
    """Title, command, date and code, machine, tools and server settings, dataset, configurations."""
    host = report["machine"]
    results = report["results"]
    out = [
        "## 3. Load benchmark",
        "",
        "Generated by `bench/load.py` (this section is rewritten by each run).",
        "",
        f"- Command: `{report['command']}` ({report['mode']} run, {report['runtime_seconds'] / 60:.1f} min)",
        f"- Date: {report['date']}; code: {code_line(results)}",
        f"- Machine: {host['nproc']} cores, {host['cpu']}, Linux {host['kernel']}, Python {host['python']};"
        " load average at start "
        + ", ".join(f"{v:.2f}" for v in host["load_average_at_start"])
        + ". The load generators (wrk, hey) run on the same machine as the servers, HAProxy, PostgreSQL and Redis,"
        " and the machine is shared: numbers are noisy; compare ratios within one run.",
        f"- Tools: {report['tools']['wrk']}; {report['tools']['hey']}; {report['tools'].get('haproxy', 'no haproxy')}."
        " Project: `marketplace serve --no-demo --workers 1` per instance with APP_ENVIRONMENT=production (uvicorn,"
        f" uvloop, httptools, no access log), Redis as the cache, APP_DB_POOL_SIZE {pool_size(1)} (plus as many"
        f" overflow connections; {pool_size(2)} each with 2 instances). Raw yardsticks: `python -m bench.raw`"
        f" (bench/raw.py), the same uvicorn options, an asyncpg pool of {pool_size(1)}.",
        f"- Dataset: {report['dataset']}.",
        "- Configurations, one after the other, each on fresh processes; a `raw@X` column is the raw yardsticks"
        " running beside configuration X, each scenario measured right after X's run of it (the one Redis GET right"
        " after the job detail), so a ratio compares runs seconds apart:",
    ]
    out += [f"  - `{r['label']}`: {r['title']}" for r in results]
    return [*out, ""]


def _targets(report: dict[str, Any]) -> list[str]:
    """The targets table: each target, the configurations compared, the measure and the verdict."""
    out = ["### Targets (issue #12)", "", *_table_head(["target", "configurations", "measured", "result"])]
    verdict = {True: "MET", False: "**MISSED**", None: "measured"}
    out += [_row([t["target"], t["configs"], t["measured"], verdict[t["met"]]]) for t in report["targets"]]
    return [*out, ""]


def _saturation(report: dict[str, Any]) -> list[str]:
    """Requests/s, p50 / p99 and the HIT share per saturation scenario and configuration."""
    results, timing = report["results"], report["timing"]
    out = [
        f"### Saturation throughput (wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, {timing['saturation']} s each)",
        "",
        "requests/s (p50 / p99 latency in ms), and the share of X-Cache HITs. Each scenario rotates over its URLs:"
        " job detail over the 1,000 open jobs with most applicants, search over the 24 most frequent title words x"
        " the 12 cities with most open jobs (`q` and `near`, 50 km), reviews over the 1,000 most-reviewed users,"
        " best applicants over the 200 busiest jobs with their owners' tokens. The raw yardsticks answer the same"
        " URLs without the `/api/v1` prefix. With the cache on, every URL of a scenario (and every read URL of"
        " both mixes, before the mixes) is requested once first, so the run measures the warm cache, as a"
        f" long-running service has it (cold first visits are not misses a steady state has);"
        f" every run follows {timing['warmup']} s of unmeasured wrk.",
        "",
        *_table_head(["scenario", *(r["label"] for r in results)]),
    ]
    for name in ALL_SCENARIOS:
        if not any(name in r["saturation"] for r in results):
            continue
        cells = []
        for r in results:
            run = r["saturation"].get(name)
            if run is None:
                cells.append("-")
                continue
            hits = f", {run['hit_rate']:.0%} HIT" if run["hit_rate"] is not None and r["cache"] else ""
            cells.append(f"{run['rps']:.0f} ({run['latency_ms']['50']:.0f} / {run['latency_ms']['99']:.0f}){hits}")
        out.append(_row([SCENARIO_TITLES[name], *cells]))
    return [*out, "", "![saturation throughput](img/bench-throughput.png)", ""]


def _ratio_rows(results: list[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """(title, numerator label, scenario, denominator label, scenario) of every ratio the report shows."""
    rows = [(f"uncached / raw: {SCENARIO_TITLES[n]}", "off", n, "raw@off", n) for n in SATURATION if n != "noop"]
    rows += [(f"cached / uncached raw: {SCENARIO_TITLES[n]}", "on", n, "raw@off", n) for n in SATURATION[1:]]
    rows += [
        ("cached job detail (HIT) / raw no-op", "on", "job_detail", "raw@on", "noop"),
        ("near-cache job detail (HIT) / raw no-op", "near", "job_detail", "raw@near", "noop"),
        ("raw one Redis GET / raw no-op", "raw@on", "cached_job_detail", "raw@on", "noop"),
        ("cached job detail (HIT) / raw one Redis GET", "on", "job_detail", "raw@on", "cached_job_detail"),
        ("project GET /health / raw no-op", "off", "noop", "raw@off", "noop"),
        ("noise: raw no-op beside on / beside off", "raw@on", "noop", "raw@off", "noop"),
        ("noise: raw no-op beside near / beside off", "raw@near", "noop", "raw@off", "noop"),
    ]
    rows += [(f"cached / uncached: {SCENARIO_TITLES[n]}", "on", n, "off", n) for n in (*SATURATION[1:], "mix")]
    rows += [(f"near on / off: {SCENARIO_TITLES[n]}", "near", n, "on", n) for n in ("job_detail", "search", "mix")]
    behind = sorted((r for r in results if r.get("instances", 0) >= 1), key=lambda r: r["instances"])
    if len(behind) >= 2:
        one, many = behind[0]["label"], behind[-1]["label"]
        rows += [(f"{many} / {one}: {SCENARIO_TITLES[n]}", many, n, one, n) for n in ("job_detail", "mix")]
        rows += [
            (f"HAProxy's cost, {one} / near: {SCENARIO_TITLES[n]}", one, n, "near", n) for n in ("job_detail", "mix")
        ]
    return rows


def _ratios(results: list[dict[str, Any]]) -> list[str]:
    """Throughput ratios between configurations of this run."""
    out = ["Ratios within this run (saturation requests/s):", "", *_table_head(["ratio", "value"])]
    for name, top_label, top, bottom_label, bottom in _ratio_rows(results):
        a, b = config(results, top_label), config(results, bottom_label)
        if a and b and top in a["saturation"] and bottom in b["saturation"]:
            x, y = a["saturation"][top]["rps"], b["saturation"][bottom]["rps"]
            out.append(_row([name, f"{x / y:.2f} x ({x:.0f} / {y:.0f})"]))
    return [*out, ""]


def _fixed_rate(report: dict[str, Any]) -> list[str]:
    """p50 / p90 / p99 at 50 requests/s per endpoint and configuration measured so."""
    results = [r for r in report["results"] if r["fixed_rate"]]
    fixed = report["timing"]["fixed"]
    spacing_ms = 1000 // (FIXED_WORKERS * FIXED_QPS_PER_WORKER)
    out = [
        f"### Fixed rate: 50 requests/s per endpoint, {fixed} s each",
        "",
        f"{FIXED_WORKERS} processes of `hey -z {fixed}s -c 1 -q {FIXED_QPS_PER_WORKER} -o csv`, started"
        f" {spacing_ms} ms apart, so requests arrive evenly every {spacing_ms} ms. (A single `hey -c {FIXED_WORKERS}"
        f" -q {FIXED_QPS_PER_WORKER}` fires its workers in lockstep: bursts of {FIXED_WORKERS} simultaneous requests"
        " every 100 ms, which queue behind each other on the server.) Each hey worker is closed-loop: a response"
        " slower than 100 ms delays that worker's next request, so the achieved rate is shown (the lowest of the"
        " configurations).",
        "",
        "p50 / p90 / p99 in ms, bold when p99 >= 50 ms. One URL per endpoint, the heaviest instance of the dataset"
        " (the busiest open job, the most-reviewed user, the client with the most jobs, ...; from"
        " `bench.plans.scenario_urls`), uncached; the raw yardsticks answer four of them.",
        "",
        *_table_head(["endpoint", "URL", *(r["label"] for r in results), "req/s"]),
    ]
    for name, path, _ in report["fixed_rate_urls"]:
        rows = [next((row for row in r["fixed_rate"] if row["name"] == name), None) for r in results]
        cells = []
        for row in rows:
            if row is None:
                cells.append("-")
                continue
            bold = "**" if row["p99"] >= P99_TARGET_MS else ""
            cells.append(f"{bold}{row['p50']:.1f} / {row['p90']:.1f} / {row['p99']:.1f}{bold}")
        short = path if len(path) <= 60 else path[:57] + "..."
        rate = min(row["rps"] for row in rows if row is not None)
        out.append(_row([name, f"`{short}`", *cells, f"{rate:.1f}"]))
    return [*out, "", "![p99 at 50 requests/s](img/bench-fixed-rate-p99.png)", ""]


def _mix(report: dict[str, Any]) -> list[str]:
    """The realistic mix: how it is drawn, then throughput, latency, statuses and hit rates per configuration."""
    results = [r for r in report["results"] if "mix" in r["saturation"]]
    out = [
        "### The realistic mix",
        "",
        "Drawn with these weights (percent): "
        + ", ".join(f"{kind} {weight}" for kind, weight in MIX.items())
        + ". Job, profile and search choices follow a Zipf law over the busiest jobs, the most-reviewed users, the"
        " most frequent title words and the cities with most jobs; workers apply to hot jobs (a 409 for a duplicate"
        " application is expected); reviews are written once per eligible (job, reviewer, reviewee) triple. The"
        " read-only mix has the same weights without the writes. The mixes follow"
        f" {report['timing']['saturation']} s of unmeasured read-only mix.",
        "",
        *_table_head(["", *(r["label"] for r in results)]),
    ]
    out += [_row([name, *(cell(r) for r in results)]) for name, cell in _MIX_ROWS]
    return [
        *out,
        "",
        "wrk counts the X-Cache header; `/metrics` counts cache lookups, where a request that waited for a concurrent"
        " fill of the same key (single-flight) is a miss although its header says HIT, and requests still in flight"
        " when wrk stops are included.",
        "",
    ]


def _counts(counts: dict[str, int]) -> str:
    """`key: n` pairs in key order."""
    return ", ".join(f"{key}: {n}" for key, n in sorted(counts.items()))


_MIX_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("requests/s", lambda r: f"{r['saturation']['mix']['rps']:.0f}"),
    (
        "p50 / p99 ms",
        lambda r: "{:.0f} / {:.0f}".format(*(r["saturation"]["mix"]["latency_ms"][p] for p in ("50", "99"))),
    ),
    ("status codes", lambda r: _counts(r["saturation"]["mix"]["statuses"])),
    ("X-Cache", lambda r: _counts(r["saturation"]["mix"]["x_cache"])),
    ("hit rate (wrk)", lambda r: fmt_rate(r["saturation"]["mix"]["hit_rate"])),
    ("hit rate, read-only mix (wrk)", lambda r: fmt_rate(r["saturation"]["mix_read_only"]["hit_rate"])),
    ("hit rate (/metrics)", lambda r: fmt_rate(metrics_hit_rate(r.get("lookups", {}).get("mix")))),
    (
        "socket errors (connect/read/write/timeout)",
        lambda r: "/".join(str(r["saturation"]["mix"]["errors"][k]) for k in ("connect", "read", "write", "timeout")),
    ),
]


def _per_route(r: dict[str, Any]) -> list[str]:
    """One cached configuration's lookups per route (from /metrics) and the statuses of its writes."""
    out = [
        f"Per route ({r['label']}, `/metrics`): hit / miss / bypass and hit rate.",
        "",
        *_table_head(["route", "read-only mix", "realistic mix"]),
    ]
    for route in sorted({route for lookups in r["lookups"].values() for route in lookups}):
        cells = []
        for name in ("mix_read_only", "mix"):
            counts = r["lookups"][name].get(route, {})
            rate = fmt_rate(metrics_hit_rate({route: counts}))
            cells.append("{} / {} / {}, {}".format(*(counts.get(k, 0) for k in ("hit", "miss", "bypass")), rate))
        out.append(_row([f"`{route}`", *cells]))
    writes = {route: counts for route, counts in r["mix_statuses"].items() if not route.startswith("GET")}
    return [
        *out,
        "",
        "Writes in the realistic mix (status: count): "
        + "; ".join(f"`{route}` " + _counts(counts) for route, counts in sorted(writes.items()))
        + ".",
        "",
    ]


def _statements(results: list[dict[str, Any]]) -> list[str]:
    """Mean SQL statements per request and route, for the configurations measured with 1 worker."""
    one = [r for r in results if "statements" in r]
    if not one:
        return []
    out = [
        "### SQL statements per request (one instance, whole configuration, from `/metrics`)",
        "",
        "Mean statements per request and the histogram bucket bounding the largest count; with the cache on a"
        " HIT sends none. Behind HAProxy each instance counts its own requests, so this is measured on the"
        " configurations loaded directly.",
        "",
        *_table_head(["route", *(f"{r['label']}: mean (max <=), requests" for r in one)]),
    ]
    for method, route in sorted({(s["method"], s["route"]) for r in one for s in r["statements"]}):
        cells = []
        for r in one:
            row = next((s for s in r["statements"] if (s["method"], s["route"]) == (method, route)), None)
            cells.append(f"{row['mean']:.2f} ({row['max_at_most']:g}), {row['requests']}" if row else "-")
        out.append(_row([f"{method} {route}", *cells]))
    return [*out, ""]


def anomaly_lines(results: list[dict[str, Any]]) -> list[str]:
    """5xx answers, socket errors, replayed writes and server log errors, per configuration."""
    lines = []
    for r in results:
        runs = {**r["saturation"], **{f"50/s {row['name']}": row for row in r["fixed_rate"]}}
        for name, run in runs.items():
            server_errors = sum(n for status, n in run["statuses"].items() if status.startswith("5") or status == "0")
            if server_errors:
                lines.append(
                    f"{r['label']} {name}: {server_errors} responses with 5xx or no status ({run['statuses']})"
                )
            broken = {k: v for k, v in run.get("errors", {}).items() if k != "status" and v}
            if broken:
                lines.append(f"{r['label']} {name}: wrk socket errors {broken}")
        bypassed = {
            name: run["x_cache"]["BYPASS"] for name, run in r["saturation"].items() if "BYPASS" in run["x_cache"]
        }
        if r["cache"] and bypassed:
            lines.append(
                f"{r['label']}: X-Cache BYPASS with the cache on (a Redis call over APP_CACHE_TIMEOUT_MS, or the"
                f" circuit breaker open after such failures): {bypassed}"
            )
        if r.get("cache_backend_errors"):
            lines.append(f"{r['label']}: cache backend errors (/metrics): {r['cache_backend_errors']}")
        if "mix" in r["saturation"] and r["saturation"]["mix"]["passes"]:
            lines.append(f"{r['label']} mix: the request file wrapped around, writes were replayed (409s)")
        if r["server"]["error_lines"]:
            lines.append(
                f"{r['label']}: {r['server']['error_lines']} error lines in the server log, e.g."
                f" `{r['server']['examples'][0][:160]}`"
            )
    return lines


def write_report(path: Path, section: str) -> None:
    """Replace the bench section of `path`, docs/performance.md (create the file with the markers if needed)."""
    block = f"{START_MARK}\n{section}\n{END_MARK}"
    if not path.exists():
        path.write_text(f"# Performance\n\n{block}\n")
        return
    current = path.read_text()
    if START_MARK in current and END_MARK in current:
        head, rest = current.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        path.write_text(head + block + tail)
    else:
        path.write_text(current.rstrip("\n") + "\n\n" + block + "\n")
