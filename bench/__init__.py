"""Performance tooling: query-plan checks and the load benchmark (see docs/performance.md)."""
