"""The default worker runs jobs in-process, and a job over its time limit is stopped without
taking the worker down."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq.job import Job, JobStatus

from marketplace.core import jobs
from tests.workers import sample_jobs

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


def test_a_stuck_job_is_stopped_by_its_time_limit(app, app_ctx, tmp_path):
    marker = tmp_path / "after"
    stuck = jobs.enqueue(sample_jobs.sleep_for, 60, queue="default", timeout=2, retry=None)
    after = jobs.enqueue(sample_jobs.touch, str(marker), queue="default", retry=None)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "workers", "--burst", "--no-cron", "default"],
                          cwd=ROOT, capture_output=True, text=True, timeout=90,
                          env={**os.environ, "SECRET_KEY": "t",
                               "LOG_LEVEL": "WARNING"})
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    conn = jobs.redis_connection()
    assert Job.fetch(stuck, connection=conn).get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in (Job.fetch(stuck, connection=conn).latest_result().exc_string
                                     or "")
    assert Job.fetch(after, connection=conn).get_status() == JobStatus.FINISHED
    assert marker.read_text() == "done"
    assert elapsed < 45  # the 60 s job was cut at its 2 s limit, in the same worker process
