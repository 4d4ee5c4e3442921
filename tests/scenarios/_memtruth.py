"""Ground truth for the memory section (issue 10), recorded in the process
that is dumped -- stdlib only (ctypes).

Every mem_* scenario builds its heap and ends with ``_memtruth.run(name,
extra)``, run as ``python SCENARIO.py {abort|sleep} TRUTH.json``:

1. In the PARENT, just before the fork: RssAnon, RssFile and VmRSS from
   /proc/self/status (what the kernel says the process holds).
2. The C library's fork() through ctypes (os.fork() would run the
   interpreter's after-fork hooks, which allocate).  The CHILD's heap is the
   parent's at that moment; the child measures, first of all:
     a. mallinfo2() (mallinfo() before glibc 2.33): arena, ordblks, hblks,
        hblkhd, uordblks, fordblks, keepcost -- glibc's own account of
        malloc's memory;
     b. sys._debugmallocstats() into a file (its stderr), parsed: the
        per-size-class table and the "# ..." totals -- pymalloc's own
        account;
   and writes TRUTH.json, then leaves with os._exit(0).
3. The PARENT waits, then aborts (kernel core) or says READY and sleeps
   (gcore).

`extra` is the scenario's own numbers (e.g. the bytes its numpy arrays own),
measured before the fork.
"""
import ctypes
import json
import os
import re
import sys
import time


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                 "fsmblks", "uordblks", "fordblks", "keepcost")]


class MallInfo(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                 "fsmblks", "uordblks", "fordblks", "keepcost")]


LIBC = ctypes.CDLL(None)
if hasattr(LIBC, "mallinfo2"):
    _MALLINFO = LIBC.mallinfo2
    _MALLINFO.restype = MallInfo2
else:
    _MALLINFO = LIBC.mallinfo
    _MALLINFO.restype = MallInfo
_FORK = ctypes.PyDLL(None).fork
_FORK.restype = ctypes.c_int
_FORK.argtypes = []


def mallinfo():
    m = _MALLINFO()
    d = {f: int(getattr(m, f)) for f, _ in m._fields_}
    d["function"] = "mallinfo2" if isinstance(m, MallInfo2) else "mallinfo"
    return d


def status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "RssShmem", "VmRSS", "VmSize"):
                out[k] = int(v.split()[0]) * 1024
    return out


def debugmallocstats(path):
    """sys._debugmallocstats() output (written to fd 2) parsed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = os.dup(2)
    os.dup2(fd, 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
    with open(path) as f:
        text = f.read()
    classes = []
    totals = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
        if m and not totals:
            idx, size, pools, used, avail = map(int, m.groups())
            classes.append({"class": idx, "size": size, "pools": pools,
                            "used_blocks": used, "available_blocks": avail})
            continue
        m = re.match(r"#\s*(.+?)\s*=\s*([\d,]+)\s*$", line)
        if m:
            totals[m.group(1)] = int(m.group(2).replace(",", ""))
    return {"classes": classes, "totals": totals}


def run(name, extra=None):
    if len(sys.argv) < 3 or sys.argv[1] not in ("abort", "sleep"):
        sys.stderr.write("usage: %s {abort|sleep} TRUTH.json\n" % sys.argv[0])
        sys.exit(2)
    mode, path = sys.argv[1], os.path.abspath(sys.argv[2])
    st = status()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = _FORK()
    if pid == 0:
        code = 0
        try:
            mi = mallinfo()
            dm = debugmallocstats(path + ".mallocstats")
            with open(path + ".tmp", "w") as f:
                json.dump({"program": name, "pid": os.getppid(), "status": st,
                           "mallinfo": mi, "pymalloc": dm, "extra": extra or {},
                           "python": sys.version.split()[0]}, f, indent=1)
            os.rename(path + ".tmp", path)
        except BaseException:
            import traceback
            with open(path + ".error", "w") as f:
                traceback.print_exc(file=f)
            code = 1
        os._exit(code)
    _, status_ = os.waitpid(pid, 0)
    if status_ != 0:
        os.write(2, b"truth child failed\n")
        os._exit(3)
    if mode == "abort":
        os.abort()
    os.write(1, b"READY\n")
    while True:
        time.sleep(3600)
