"""Performance tooling: query-plan checks and the load benchmark (see docs/performance.md).

- plans.py: the query-plan check (`python -m bench.plans`);
- load.py: the load benchmark's entry point (`python -m bench.load`), which uses
  scenarios.py (what is requested: the dataset's populations, the mix, the saturation scenarios),
  server.py (the servers under test: start, readiness, cache fill, /metrics scrape, logs, namespace),
  balancer.py (HAProxy in front of several instances; also tests/test_instances.py),
  raw.py (the raw yardsticks: the same queries and JSON on raw asyncpg, `python -m bench.raw`),
  tools.py (the load generators wrk and hey), metrics.py (/metrics deltas and hit rates),
  running.py (the configurations and one configuration's run), targets.py (the targets of issue #12 and
  their verdicts) and report.py (the docs/performance.md section and the plots).
"""
