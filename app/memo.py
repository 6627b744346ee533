"""In-process memory of facts that never change once written, so a cache HIT needs no query to authorize.

A job's client is fixed when the job is posted (no endpoint changes it, jobs are never deleted), so
"who owns job 42" can be remembered for the life of the process without any invalidation.
"""

from collections import OrderedDict


class ImmutableFacts:
    """A bounded LRU map for values that never change for a key."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._values: OrderedDict[int, int] = OrderedDict()
        self._max_entries = max_entries

    def get(self, key: int) -> int | None:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def remember(self, key: int, value: int) -> None:
        self._values[key] = value
        if len(self._values) > self._max_entries:
            self._values.popitem(last=False)
