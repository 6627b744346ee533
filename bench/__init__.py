"""Performance tooling: query-plan checks and the load benchmark (see docs/performance.md).

- plans.py: the query-plan check (`python -m bench.plans`);
- load.py: the load benchmark's entry point (`python -m bench.load`), which uses
  scenarios.py (what is requested: the dataset's populations, the mix, the saturation scenarios),
  server.py (the server under test: start, readiness, cache fill, /metrics scrape, log, namespace),
  tools.py (the load generators wrk and hey), metrics.py (/metrics deltas and hit rates),
  running.py (one configuration's run), yardsticks.py (the targets and their verdicts) and
  report.py (the docs/performance.md section and the plots).
"""
