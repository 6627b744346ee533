"""Synthetic marketplace data for demos and load tests (`marketplace seed`, and `serve` on an empty database).

- `plan.py`: how much to generate (`SeedPlan`, the scales, the command-line options);
- `data.py`: the static data (demo logins, job topics, word lists, cities);
- `generator.py`: plans every row from one seeded random stream, keeping the API's invariants;
- `rows.py`: each table's columns and row tuples, in load order;
- `loader.py`: reads what the database holds, COPYs the rows in one transaction, seeds the demo.
"""

from app.seed.loader import seed, seed_demo_if_empty
from app.seed.plan import SCALES, SeedPlan, add_seed_arguments

__all__ = ["SCALES", "SeedPlan", "add_seed_arguments", "seed", "seed_demo_if_empty"]
