"""tracemalloc (issue 15): run with -X tracemalloc=10.  20,000 Record
objects are allocated on one line (RECORD_LINE, in load()) and kept in a
module-level list, an accumulation suspect; a few other lines allocate
bytes and str objects.  Ground truth, taken in a forked child: first of
all tracemalloc._get_traces() (the copy of the traces table that
take_snapshot() makes), then Snapshot(traces).statistics('lineno') /
('traceback'), the traced memory as the sum of those traces, the peak and
the traceback limit.  The parent waits for the child (EOF on a pipe) and
aborts (kernel core).  Without tracemalloc the truth says tracing is off.

Exactness: between the fork and the two measurements (the child's copy,
the parent's abort) neither process may change a trace.  So the fork is
the C library's fork() through ctypes, not os.fork(), whose after-fork
hooks allocate and free in both processes (new thread locks, threading's
_after_fork...: pyenv 3.11.7 differed by one or two blocks on
<unknown>:0 or an importlib line); it returns nothing (a pid would be a
new int in the parent); the parent waits for EOF on a pipe with
os.readv() into a buffer made before the fork (it returns the int 0;
os.waitpid() would make a tuple, and os.read() on 3.15 sometimes freed an
unrelated block of the import machinery).
What remains is the child's own list of traces (one block on the line
that calls _get_traces) and on 3.8 - 3.10 the frame of _truth(): both are
made fresh, because the list and frame free lists are emptied before the
fork (_HOLD) -- an object taken from a free list is re-attributed by
tracemalloc to the line that takes it (_PyTraceMalloc_NewReference), which
moved one block off a top line of the import machinery.  An interpreter
without a usable ctypes (one unpacked without its libffi) forks with
os.fork().

In `dump` mode the child, forked the same way, writes an in-process
snapshot instead (formats/pyheap_dump.py, dump() in that child; no truth
file): a separate run, since a second fork in the parent would change the
heap the first child measured.

    python -X tracemalloc=10 tm_records.py abort TRUTH.json
    python -X tracemalloc=10 tm_records.py dump SNAPSHOT
"""
import gc
import json
import os
import sys
import tracemalloc

gc.disable()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "formats"))
import pyheap_dump  # noqa: E402

PARENT = os.getpid()
try:
    import ctypes
    _FORK = ctypes.PyDLL(None).fork
    _FORK.restype = None
    _FORK.argtypes = []
except ImportError:
    _FORK = os.fork


class Record:
    def __init__(self, i):
        self.key = i
        self.payload = None


def load(n):
    return [Record(i) for i in range(n)]  # RECORD_LINE


RECORD_LINE = load.__code__.co_firstlineno + 1
_CACHE = load(20000)
_BLOBS = [bytes(1000 + i) for i in range(300)]
_NAMES = ["name-%d" % i * 2 for i in range(5000)]


def _truth(path, top=20):
    traces = tracemalloc._get_traces() if tracemalloc.is_tracing() else None
    out = {"tracing": traces is not None}
    if out["tracing"]:
        snap = tracemalloc.Snapshot(traces, tracemalloc.get_traceback_limit())
        out["traced_bytes"] = sum(t[1] for t in traces)
        out["peak_bytes"] = tracemalloc.get_traced_memory()[1]
        out["max_frames"] = tracemalloc.get_traceback_limit()
        out["traces"] = len(snap.traces)
        out["by_line"] = [[s.traceback[0].filename, s.traceback[0].lineno, s.size, s.count]
                          for s in snap.statistics("lineno")[:top]]
        out["by_traceback"] = [[[[f.filename, f.lineno] for f in reversed(s.traceback)],
                                s.size, s.count] for s in snap.statistics("traceback")[:top]]
    out["record_file"] = load.__code__.co_filename
    out["record_line"] = RECORD_LINE
    out["record_type"] = "__main__.Record"
    out["records"] = len(_CACHE)
    out["version"] = list(sys.version_info[:3])
    out["fork"] = "os.fork" if _FORK is os.fork else "libc"
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.rename(path + ".tmp", path)


def _frame_holder():
    yield


# Free lists emptied (lists: 80; frame objects before 3.11: 200), see above.
_HOLD = []
for _ in range(100):    # a loop: a comprehension's temporary list would be freed
    _HOLD.append([])    # to the free list
for _ in range(250):
    _HOLD.append(_frame_holder())


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("abort", "dump"):
        sys.stderr.write("usage: %s {abort TRUTH.json|dump SNAPSHOT}\n" % sys.argv[0])
        sys.exit(2)
    path = os.path.abspath(sys.argv[2])
    dump = sys.argv[1] == "dump"
    r, w = os.pipe()
    buf = [bytearray(1)]
    sys.stdout.flush()
    sys.stderr.flush()
    _FORK()
    if os.getpid() != PARENT:
        try:
            if dump:
                pyheap_dump.dump(path)
            else:
                _truth(path)
        finally:
            os._exit(0)
    os.close(w)
    os.readv(r, buf)
    os.abort()


main()
