#!/usr/bin/env python3
"""The task API against the real binary on the embedded store (SQLite); the checks are in
tests/lib/task_api.py and run on PostgreSQL too (tasks_pg.t)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import done  # noqa: E402
from task_api import check_task_api  # noqa: E402
from tca import App  # noqa: E402

with App() as app:
    check_task_api(app)
done()
