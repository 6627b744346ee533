"""HTTP routes, one module per resource; they call services or repositories, never SQL."""

# Every router carries the full prefix itself, so a route's `path` is its whole template (metrics, cache keys).
API_PREFIX = "/api/v1"
