"""Sub-interpreters (CPython 3.12+): a second interpreter, created by the
main thread, runs code from a second thread of the main interpreter; that
code blocks on a pipe read when the process is dumped.

    python -E -s -B subinterp.py abort|sleep TRUTH.json

The truth (written before the dump, no fork: a fork of a process with
sub-interpreters is not what this pins down) is the kernel thread ids:
    main      threading.get_native_id() of the main thread (the one that
              calls os.abort(), so the one that receives the signal);
    runner    the main interpreter's second thread (the one that runs the
              sub-interpreter's code: the same kernel thread as "sub");
    sub       _thread.get_native_id() seen from inside the sub-interpreter;
    tasks     every kernel thread of the process (/proc/self/task);
    module    the sub-interpreter module used (_interpreters on 3.13+,
              _xxsubinterpreters on 3.12).
Exits with status 2 (no dump) before 3.12.
"""
import json
import os
import sys
import threading
import time

MODE, TRUTH = sys.argv[1], sys.argv[2]

if sys.version_info < (3, 12):
    sys.stderr.write("sub-interpreters with their own thread states need 3.12+\n")
    sys.exit(2)
try:
    import _interpreters as subinterpreters
except ImportError:
    import _xxsubinterpreters as subinterpreters

block_r, block_w = os.pipe()        # the sub-interpreter waits on block_r
tell_r, tell_w = os.pipe()          # it reports its native id on tell_w

INTERP = subinterpreters.create()
CODE = ("import os, _thread\n"
        "os.write(%d, b'%%d\\n' %% _thread.get_native_id())\n"
        "os.read(%d, 1)\n" % (tell_w, block_r))
RUNNER_ID = []


def runner():
    RUNNER_ID.append(threading.get_native_id())
    subinterpreters.run_string(INTERP, CODE)


thread = threading.Thread(target=runner, name="subinterp-runner", daemon=True)
thread.start()
line = b""
while not line.endswith(b"\n"):
    chunk = os.read(tell_r, 64)
    if not chunk:
        break
    line += chunk
time.sleep(0.2)                     # let the sub-interpreter reach its read

truth = {
    "format": "pyheap-e2e-subinterp/1",
    "version": list(sys.version_info[:3]),
    "module": subinterpreters.__name__,
    "main": threading.get_native_id(),
    "runner": RUNNER_ID[0],
    "sub": int(line),
    "tasks": sorted(int(t) for t in os.listdir("/proc/self/task")),
}
with open(TRUTH + ".tmp", "w") as f:
    json.dump(truth, f)
os.replace(TRUTH + ".tmp", TRUTH)

if MODE == "abort":
    os.abort()
print("READY %d" % os.getpid(), flush=True)
time.sleep(600)
