"""Labels: a named function parked in a second thread with locals of known
values, for the layout's labelled roots, frame locals, edge labels and
previews (tests/e2e/run_labels.py, through the CLI's --dump-why).

    python -E -s -B labels.py abort|sleep TRUTH.json

The parent builds everything with the collector off, waits until the
worker sleeps on its marked line, records that line as the interpreter
shows it (sys._current_frames()), then forks.  The child computes ids and
reprs (allocating only in the child), writes TRUTH.json and leaves; the
parent then dumps: os.abort() (abort) or prints READY and sleeps (sleep,
for gcore).
"""
import gc
gc.disable()

import builtins
import collections
import json
import os
import sys
import contextvars
import threading
import time


class Holder:
    def __init__(self):
        self.payload = [1, 2]
        self.name = "holder"


class Slotted:
    __slots__ = ("item",)


BOX = {}


def producer():
    item = ["produced"]
    yield item


def on_dead(ref):
    pass


def worker(ready):
    batch = [Holder(), 7, "x"]
    n = 123456789012345678901234567890
    neg = -42
    big = 10 ** 50
    s = "h\u00e9llo 'world'\n\t" + "z" * 100
    b = b"ab'\x00\xff" * 20
    f = 2.5
    tiny = 1e-07
    huge = 1e22
    yes = True
    nothing = None
    secret = {"key one": batch, 5: n}
    h = batch[0]
    sl = Slotted()
    sl.item = batch
    pair = ("tuple", 1)
    gen = producer()
    next(gen)
    exc = ValueError("bad", 3)
    wref = __import__("weakref").ref(h, on_dead)
    dq = collections.deque(["a", batch])
    meth = h.__init__
    dd = collections.defaultdict(list)
    dd["k"] = batch

    def inner():
        return pair

    BOX["inner"] = inner
    BOX["vals"] = dict(locals())
    ready.set()
    time.sleep(600)  # LABELS-SLEEP
    return inner


def sleep_line():
    with open(__file__) as fh:
        for i, text in enumerate(fh, 1):
            if text.rstrip().endswith("# LABELS-SLEEP") and "def " not in text:
                return i
    raise SystemExit("no LABELS-SLEEP marker")


def main():
    mode, truth_path = sys.argv[1], sys.argv[2]
    ready = threading.Event()
    # The worker runs inside its own contextvars.Context: while it runs, that
    # context is the thread state's `context` (a thread-state root).
    ctx = contextvars.Context()
    BOX["ctx"] = ctx
    t = threading.Thread(target=ctx.run, args=(worker, ready), name="labels-worker", daemon=True)
    t.start()
    ready.wait()
    want = sleep_line()
    deadline = time.time() + 30
    frame = None
    while time.time() < deadline:
        frame = sys._current_frames().get(t.ident)
        if frame is not None and frame.f_code is worker.__code__ and frame.f_lineno == want:
            time.sleep(0.05)
            frame = sys._current_frames().get(t.ident)
            if frame.f_lineno == want:
                break
        time.sleep(0.01)
    line = frame.f_lineno
    local_values = BOX["vals"]
    del frame
    code = worker.__code__
    pid = os.fork()
    if pid == 0:
        try:
            def preview(v):
                if isinstance(v, (bool, type(None), float)):
                    return repr(v)
                if isinstance(v, int):
                    r = repr(v)
                    digits = len(r.lstrip("-"))
                    return r if digits <= 40 else "int with %d digits" % digits
                if isinstance(v, (str, bytes)):
                    return repr(v[:80])
                if isinstance(v, (list, tuple, dict, set, frozenset, collections.deque)):
                    return "len=%d" % len(v)
                return ""
            inner = BOX["inner"]
            truth = {
                "thread_id": t.ident,
                "function": getattr(code, "co_qualname", code.co_name),
                "filename": code.co_filename,
                "line": line,
                "locals": {k: {"addr": hex(id(v)), "preview": preview(v)}
                           for k, v in local_values.items()},
                "names": sorted(local_values),
                "cell": hex(id(inner.__closure__[0])),
                "cell_content": hex(id(inner.__closure__[0].cell_contents)),
                "closure": hex(id(inner.__closure__)),
                "inner_code": hex(id(inner.__code__)),
                "globals": hex(id(worker.__globals__)),
                "holder_payload": hex(id(local_values["h"].payload)),
                "holder_name": hex(id(local_values["h"].name)),
                "holder_dict": hex(id(local_values["h"].__dict__)) if sys.version_info < (3, 11) else None,
                "holder_type": hex(id(Holder)),
                "gen_item": hex(id(local_values["gen"].gi_frame.f_locals["item"])),
                "gen_frame": hex(id(local_values["gen"].gi_frame)) if sys.version_info < (3, 11) else None,
                "exc_args": hex(id(local_values["exc"].args)),
                "on_dead": hex(id(on_dead)),
                "list_type": hex(id(list)),
                "modules": hex(id(sys.modules)),
                "sysdict": hex(id(sys.__dict__)),
                "builtins": hex(id(builtins.__dict__)),
                "int_type": hex(id(int)),
                "context": hex(id(BOX["ctx"])),
                "version": list(sys.version_info[:2]),
            }
            with open(truth_path, "w") as fh:
                json.dump(truth, fh)
        except BaseException:
            import traceback
            with open(truth_path + ".error", "w") as fh:
                traceback.print_exc(file=fh)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    if mode == "abort":
        os.abort()
    sys.stdout.write("READY %d\n" % os.getpid())
    sys.stdout.flush()
    time.sleep(3600)


main()
