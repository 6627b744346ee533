"""How much to generate: `SeedPlan`, the preset scales, and the command-line options of `marketplace seed`."""

import argparse
import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class SeedPlan:
    """How much to generate; `payments` is the number of jobs funded through escrow."""

    users: int = 300
    jobs: int = 800
    applications: int = 6_000
    payments: int = 300
    reviews: int = 400
    random_seed: int = 42

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "SeedPlan":
        overrides = {name: getattr(args, name, None) for name in COUNTS}
        return dataclasses.replace(
            SCALES[getattr(args, "scale", "demo")],
            random_seed=getattr(args, "random_seed", 42),
            **{name: value for name, value in overrides.items() if value is not None},
        )


COUNTS = ("users", "jobs", "applications", "payments", "reviews")
SCALES = {
    "demo": SeedPlan(),
    "large": SeedPlan(users=50_000, jobs=100_000, applications=1_000_000, payments=100_000, reviews=100_000),
}


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="demo",
        help="preset sizes (large: 50k users, 100k jobs, 1M applications)",
    )
    parser.add_argument("--users", type=_count, metavar="N", help="users to add (about 30%% clients, the rest workers)")
    parser.add_argument("--jobs", type=_count, metavar="N", help="jobs to add")
    parser.add_argument("--applications", type=_count, metavar="N", help="applications to add (roughly)")
    parser.add_argument(
        "--payments",
        type=_count,
        metavar="N",
        help="jobs funded through escrow (at most half the jobs: most stay open)",
    )
    parser.add_argument("--reviews", type=_count, metavar="N", help="reviews to add (capped by the completed jobs)")
    parser.add_argument("--random-seed", type=int, default=42, metavar="N", help="seed of the generator (default 42)")
