"""Ground truth of glibc malloc at the dump moment (stdlib only, CPython 3.8+).

A malloc scenario builds its heap with gc.disable(), parks its threads and
ends with ``_malloctruth.run(name, extra)``, run as

    python -E -s -B SCENARIO.py {abort|sleep} TRUTH.json

like the scenarios of _truth.py (tests/e2e/harness.py makes the cores):

1. os.fork(); the CHILD calls mallinfo2() first thing (its heap is the
   parent's at the fork, plus what CPython's after-fork handlers allocated
   before this line runs: hence the tests' 3% tolerance on these numbers),
   then malloc_info() for the number of arenas (<heap nr=...>), writes
   TRUTH.json and leaves with os._exit(0).
2. The PARENT waits, then calls mallinfo2() itself as the last thing before
   the dump and writes the raw struct with os.write() to TRUTH.json.parent
   (opened before the fork): nothing between that call and os.abort() goes
   through glibc malloc (the ctypes result and the bytes object are small
   enough for pymalloc), so these numbers are exact for the dumped heap.
   A warm-up call before the fork makes ctypes do its one-time allocations
   early.

glibc before 2.33 has no mallinfo2: mallinfo() (int fields) is used and the
truth says so ("mallinfo": "mallinfo").
"""

import ctypes
import ctypes.util
import json
import os
import re
import sys
import time

FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
          "uordblks", "fordblks", "keepcost")


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def mallinfo_function():
    """(callable returning a ctypes struct, its name, ctypes field type)."""
    libc = _libc()
    name, ftype = ("mallinfo2", ctypes.c_size_t) if hasattr(libc, "mallinfo2") else ("mallinfo", ctypes.c_int)

    class MallInfo(ctypes.Structure):
        _fields_ = [(f, ftype) for f in FIELDS]

    fn = getattr(libc, name)
    fn.restype = MallInfo
    fn.argtypes = []
    return fn, name, ftype


def as_dict(mi):
    return {f: int(getattr(mi, f)) for f in FIELDS}


def malloc_info_arenas(path):
    """Number of arenas and the XML of malloc_info(0, f) written to path."""
    libc = _libc()
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    fp = libc.fopen(path.encode(), b"w")
    if not fp:
        return None, ""
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    with open(path) as f:
        xml = f.read()
    return len(re.findall(r'<heap nr="\d+">', xml)), xml


def run(scenario, extra=None):
    if len(sys.argv) < 3 or sys.argv[1] not in ("abort", "sleep"):
        sys.stderr.write("usage: %s {abort|sleep} TRUTH.json\n" % sys.argv[0])
        sys.exit(2)
    mode, path = sys.argv[1], os.path.abspath(sys.argv[2])
    fn, name, ftype = mallinfo_function()
    fn()                                    # warm-up: ctypes' one-time work
    fd = os.open(path + ".parent", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        try:
            child = as_dict(fn())           # first: the numbers of the fork moment
            narenas, _ = malloc_info_arenas(path + ".malloc_info.xml")
            libc = _libc()
            libc.gnu_get_libc_version.restype = ctypes.c_char_p
            truth = {"format": "pyheap-malloc-truth/1", "scenario": scenario,
                     "glibc": libc.gnu_get_libc_version().decode(),
                     "mallinfo": name, "child": child, "arenas": narenas,
                     "extra": extra or {}, "pid": os.getppid(),
                     "python": sys.version.split()[0]}
            with open(path + ".tmp", "w") as f:
                json.dump(truth, f, indent=1, sort_keys=True)
            os.replace(path + ".tmp", path)
            code = 0
        except BaseException:
            import traceback
            with open(path + ".error", "w") as f:
                traceback.print_exc(file=f)
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.stderr.write("truth child failed (status %d), see %s.error\n" % (status, path))
        os._exit(3)
    mi = fn()                               # the parent's numbers: exact
    os.write(fd, bytes(mi))
    os.close(fd)
    if mode == "abort":
        os.abort()
    sys.stdout.write("READY %d\n" % os.getpid())
    sys.stdout.flush()
    while True:
        time.sleep(3600)
