"""diff: one process dumped twice (tests/e2e/run_diff.py, harness.py
make_gcore_pair). Between the dumps a known container grows by a known
number of instances and new garbage cycles appear; what stays is left
alone.

    python diff_grow.py TRUTH.json

1. builds diff_app.SESSIONS = {} (a module made at run time) holding
   OLD_SESSIONS __main__.Session instances, diff_app.STABLE = a list of
   STABLE __main__.Token instances; gc disabled;
2. writes TRUTH.json.1.json (per-class instance counts counted now, in this
   process, the dict's id and len) and prints "READY <pid>";
3. waits for a line on stdin, adds GROWTH sessions to the same dict and
   makes PAIRS unreachable cycles of two __main__.Pair objects;
4. writes TRUTH.json.2.json and prints "READY <pid>" again; sleeps until
   killed.
The counts are taken with gc.get_objects() in the dumped process itself;
the temporaries of the counting are gone before READY."""
import gc
gc.disable()

import json
import os
import sys
import time
import types

OLD_SESSIONS = 2000
GROWTH = 10000
STABLE = 500
PAIRS = 300


class Session:
    def __init__(self, i):
        self.ident = i
        self.user = "user-%d" % i


class Token:
    pass


class Pair:
    def __init__(self):
        self.other = None


def counts():
    objs = gc.get_objects()
    out = {"__main__.Session": 0, "__main__.Token": 0, "__main__.Pair": 0}
    for o in objs:
        name = "__main__." + type(o).__name__
        if name in out and type(o).__module__ == "__main__":
            out[name] += 1
    del objs, o
    return out


def grow(n):
    start = len(app.SESSIONS)
    for i in range(start, start + n):
        app.SESSIONS["s%d" % i] = Session(i)


def pairs(n):
    for _ in range(n):
        a, b = Pair(), Pair()
        a.other, b.other = b, a
    del a, b


def record(path):
    data = {"pid": os.getpid(), "counts": counts(), "sessions_id": id(app.SESSIONS),
            "sessions_len": len(app.SESSIONS), "module": "diff_app", "name": "SESSIONS"}
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)
    del data


def ready():
    sys.stdout.write("READY %d\n" % os.getpid())
    sys.stdout.flush()


truth = os.path.abspath(sys.argv[1])
app = types.ModuleType("diff_app")
sys.modules["diff_app"] = app
app.SESSIONS = {}
app.STABLE = [Token() for _ in range(STABLE)]
grow(OLD_SESSIONS)
record(truth + ".1.json")
ready()
sys.stdin.readline()
grow(GROWTH)
pairs(PAIRS)
record(truth + ".2.json")
ready()
while True:
    time.sleep(3600)
