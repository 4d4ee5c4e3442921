"""Real program 5: a job runner that keeps the exceptions of failed jobs.

Each job builds big locals (a str of 20-60 KB, a bytes payload of 8-24 KB,
an untracked dict of str/int values, a list of rows) and fails deep in a
call chain.  The runner stores the exception -- with its __traceback__, so
every frame of the chain stays alive with its locals -- in a module-level
error log that is never trimmed (the leak).  Retries re-raise with
`raise ... from`, chaining exceptions.  Some failures are handled by a
helper that binds the exception to a local of the frame the traceback
holds (`err = e`): exception -> traceback -> frame -> local -> exception, a
cycle; those the runner then forgets are garbage, big locals included (what
gc.collect() frees).  A generator that failed inside a `with` block and a
context manager's __exit__ frame are kept too.
"""
import gc
gc.disable()

import sys
import os
import contextlib
import random

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402


class JobError(Exception):
    def __init__(self, job_id, stage):
        super().__init__("job %d failed at %s" % (job_id, stage))
        self.job_id = job_id
        self.stage = stage


class RetryError(JobError):
    pass


class Job:
    def __init__(self, job_id, size):
        self.job_id = job_id
        self.size = size
        self.state = "new"


ERROR_LOG = []          # the leak: every failure, with its traceback
STATS = {"ok": 0, "failed": 0, "retried": 0, "cycles": 0}
_rng = random.Random(1234)


def parse(job):
    text = ("record-%06d;" % job.job_id) * (job.size // 14)
    fields = {"id": job.job_id, "name": "job-%d" % job.job_id, "owner": "svc-%d" % (job.job_id % 7)}
    return validate(job, text, fields)


def validate(job, text, fields):
    payload = bytes(range(256)) * (job.size // 2560 + 32)
    rows = [(i, "row%d" % i) for i in range(job.size // 1000)]
    if job.job_id % 3 == 0:
        raise JobError(job.job_id, "validate")
    return transform(job, payload, rows, fields)


def transform(job, payload, rows, fields):
    table = {"k%d" % i: i * 3 for i in range(40)}       # str -> int: untracked
    blob = payload[: job.size // 2] + bytes(job.size // 3)
    if job.job_id % 3 == 1:
        raise JobError(job.job_id, "transform")
    return len(blob) + len(table) + len(rows)


def run_job(job):
    try:
        return parse(job)
    except JobError as e:
        if job.job_id % 5 == 0:
            STATS["retried"] += 1
            raise RetryError(job.job_id, "retry") from e
        raise


def keep_cycle(job):
    """Fails, and binds the exception to a local of a frame its own
    traceback holds: a reference cycle."""
    scratch = "scratch-%d-" % job.job_id * 2000
    try:
        run_job(job)
    except JobError as e:
        err = e
        STATS["cycles"] += 1
        return err, len(scratch)
    return None, 0


def failing_gen(job):
    buf = ["line %d of job %d" % (i, job.job_id) for i in range(200)]
    with contextlib.suppress(KeyError):
        yield len(buf)
        run_job(job)
        yield -1


def main():
    kept_cycles = []
    for i in range(600):
        job = Job(i, _rng.randrange(20000, 60000))
        if i % 4 == 3:
            err, _ = keep_cycle(job)
            if err is not None and i % 8 == 7:
                kept_cycles.append(err)     # kept: alive; the others are garbage
            continue
        try:
            run_job(job)
            STATS["ok"] += 1
        except JobError as e:
            STATS["failed"] += 1
            ERROR_LOG.append(e)
        except Exception:
            raise
    gens = []
    for i in range(0, 30, 3):
        g = failing_gen(Job(10000 + i, 30000))
        next(g)
        try:
            next(g)
        except JobError as e:
            ERROR_LOG.append(e)
        gens.append(g)
    return kept_cycles, gens


KEPT, GENS = main()
del main

_realtruth.run("real_traceback")
