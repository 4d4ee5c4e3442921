"""tracemalloc (issue 15): run with -X tracemalloc=10.  20,000 Record
objects are allocated on one line (RECORD_LINE, in load()) and kept in a
module-level list, an accumulation suspect; a few other lines allocate
bytes and str objects.  Ground truth, taken in a forked child before
anything else: tracemalloc.get_traced_memory() and
take_snapshot().statistics('lineno') / ('traceback'), with the traceback
limit.  The parent then aborts (kernel core).  Without tracemalloc the
truth says tracing is off.

    python -X tracemalloc=10 tm_records.py abort TRUTH.json
"""
import gc
import json
import os
import sys
import tracemalloc

gc.disable()


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
    out = {"tracing": tracemalloc.is_tracing()}
    if out["tracing"]:
        cur, peak = tracemalloc.get_traced_memory()
        snap = tracemalloc.take_snapshot()
        out["traced_bytes"], out["peak_bytes"] = cur, peak
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
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.rename(path + ".tmp", path)


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "abort":
        sys.stderr.write("usage: %s abort TRUTH.json\n" % sys.argv[0])
        sys.exit(2)
    path = os.path.abspath(sys.argv[2])
    pid = os.fork()
    if pid == 0:
        try:
            _truth(path)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    os.abort()


main()
