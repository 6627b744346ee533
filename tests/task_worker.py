"""`python -m tests.task_worker [--concurrency N]`: a worker for the test suite's TaskApp (tests/task_app.py)."""

import argparse

from app.settings import Settings
from app.tasks import work
from tests.task_app import test_queue

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    # Poll often: a retry's backoff ends without a notification, and the tests wait for it.
    work(test_queue, Settings(), concurrency=args.concurrency, fetch_job_polling_interval=0.1)
