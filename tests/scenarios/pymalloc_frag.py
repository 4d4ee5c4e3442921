"""pymalloc ground truth (tests/e2e/run_pymalloc.py): a known mix of small
objects in most size classes, two thirds of them freed again in a
scattered pattern (fragmentation: pools and arenas pymalloc keeps although
most of their blocks are free), then sys._debugmallocstats() in a forked
child at the dump moment.

    python -E -s -B pymalloc_frag.py {abort|sleep} TRUTH.json

TRUTH.json       what the scenario made (counts; informative)
TRUTH.json.stats sys._debugmallocstats() of the forked child (its stderr)
TRUTH.json.parent.stats  the same printed by the dumped process itself,
                 after the child, immediately before os.abort() (kernel
                 cores only): _debugmallocstats allocates nothing from
                 pymalloc, so this is the dumped state exactly; the child's
                 differs by what the interpreter's after-fork code did.

The file descriptors are opened and the functions bound before the fork:
the child's first Python-level action is the dup2 of its stderr, so the
measurement does not allocate before it counts.
"""
import gc
gc.disable()

import json
import os
import sys
import time

if len(sys.argv) < 3 or sys.argv[1] not in ("abort", "sleep"):
    sys.stderr.write("usage: pymalloc_frag.py {abort|sleep} TRUTH.json\n")
    sys.exit(2)
MODE, PATH = sys.argv[1], os.path.abspath(sys.argv[2])


class Rec:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


# Objects of most size classes up to 512 bytes: bytes of length n take
# 33 + n bytes (size class ceil((33 + n) / 16)), tuples 24 + 8n (+16 for
# the GC head), floats 24, small instances with __slots__.
KEEP = []
made = 0
for rnd in range(3):
    for n in range(0, 470, 7):
        batch = [b"x" * n + bytes([i & 255]) for i in range(300)]
        made += len(batch)
        KEEP.append(batch)
    for n in range(1, 50, 3):
        batch = [tuple(range(i, i + n)) for i in range(200)]
        made += len(batch)
        KEEP.append(batch)
    batch = [float(i) + 0.5 for i in range(20000)]
    made += len(batch)
    KEEP.append(batch)
    batch = [Rec(i, None) for i in range(10000)]
    made += len(batch)
    KEEP.append(batch)

# Free two thirds of every batch, scattered: pools stay in use with most
# blocks free, and whole arenas survive through a few live blocks.
kept = 0
for batch in KEEP:
    del batch[1::3]
    del batch[::2]
    kept += len(batch)
del batch, n, rnd

with open(PATH, "w") as f:
    json.dump({"format": "pyheap-pymalloc-truth/1", "made": made, "kept": kept,
               "hexversion": sys.hexversion}, f)
del f

stats_fd = os.open(PATH + ".stats", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
parent_fd = os.open(PATH + ".parent.stats", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
dup2 = os.dup2
stats = sys._debugmallocstats
exit_ = os._exit
waitpid = os.waitpid
abort = os.abort

pid = os.fork()
if pid == 0:
    dup2(stats_fd, 2)
    stats()
    exit_(0)
waitpid(pid, 0)
if MODE == "abort":
    dup2(parent_fd, 2)
    stats()
    abort()
sys.stdout.write("READY %d\n" % os.getpid())
sys.stdout.flush()
while True:
    time.sleep(3600)
