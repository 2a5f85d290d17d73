#!/usr/bin/env python3
"""The task API against the real binary on a real PostgreSQL server (a throwaway cluster):
the same checks as tasks.t (tests/lib/task_api.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import done  # noqa: E402
from task_api import check_task_api  # noqa: E402
from tca import App  # noqa: E402

with PgCluster() as pg, App(env=pg.app_env()) as app:
    check_task_api(app)
done()
