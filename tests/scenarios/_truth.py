"""Ground truth recorded inside the interpreter (CPython 3.8 - 3.12, stdlib only).

Every scenario program in this directory is run as

    python -E -s -B SCENARIO.py MODE TRUTH.json

It calls gc.disable() first, builds its heap, keeps everything it wants alive
in module globals and ends with ``_truth.run(...)``.  run() does:

1. In the process that will be dumped (the PARENT), before forking: record
   what only that process can know -- the Python stack of every other thread
   (sys._current_frames(), taken after the threads are parked), the stack
   the main thread will have at the dump (its innermost line from the code
   object's line table), gc.get_freeze_count() (exact: the threading
   module's fork handlers replace a few frozen objects in the child) and,
   for information, len(gc.get_objects()).  The child inherits these.
2. os.fork().  The CHILD measures, in this order, so that the measuring does
   not disturb what is measured:
     a. n = len(gc.get_objects())            (nothing allocated before it)
     b. per-type counts and bytes of the scenario's own classes, and of every
        GC-tracked type
     c. sys.getsizeof() of the named sample objects, keyed by hex(id(obj))
     d. gc.set_debug(gc.DEBUG_SAVEALL); collected = gc.collect(); the type
        counts / bytes of gc.garbage
     e. when the permanent generation is not empty (gc.freeze(); 3.12 also
        freezes a few hundred objects at start-up): gc.unfreeze(), then the
        scenario classes counted again, now including it
     f. the cycle oracle: the rows of the cycles table (user cycles and the
        module world, formats/REPORT.md) from the strongly connected
        components of the graph that gc.get_referents() (= tp_traverse)
        defines on all GC-tracked objects
   writes everything as JSON to TRUTH.json and leaves with os._exit(0).
3. The PARENT waits for the child, then
     MODE=abort      os.abort()                -> kernel core (ulimit -c)
     MODE=sleep      prints "READY <pid>", sleeps until killed -> gcore
     MODE=selfcheck  measures itself exactly like the child into
                     TRUTH.json.parent.json and exits: the harness compares
                     both files to prove the fork does not perturb the truth.

The child's heap is a copy of the parent's at the fork.  The parent does
almost nothing between the fork and the dump (os.waitpid, then the dump
call), so the child's numbers are the numbers of the dumped heap -- except
that in the child the interpreter has already run its after-fork handlers:
with threads, threading._after_fork() drops a few lock and weakref objects,
so len(gc.get_objects()) can be a few objects lower than in the parent (the
tests allow 0.5% there and compare everything else exactly; the selfcheck
mode measures the difference).
"""

import gc
import os
import sys
import time
import json
import dis
import platform
import sysconfig
import _thread
import collections

TRUTH_FORMAT = "pyheap-e2e-truth/1"
# Largest strongly connected component the cycle oracle records group by
# group.  The interpreter's own big component (module dicts, functions,
# classes with methods) is far larger and is not compared.
MAX_CYCLE_SIZE = 64
MODES = ("abort", "sleep", "selfcheck")


def typename(obj):
    """The report's type name: the text between the quotes of repr(type)."""
    r = type.__repr__(type(obj))
    return r[8:-2] if r.startswith("<class '") and r.endswith("'>") else r


def code_name(code):
    """The function name a frame shows: co_qualname (3.11+); before 3.11
    code objects carry only co_name (what tracebacks print there)."""
    return getattr(code, "co_qualname", code.co_name)


def _ins_lines(code):
    """(instruction, line) pairs from the interpreter's own line table.
    Before 3.11 instructions have no `positions`: an instruction belongs
    to the line of the last line start at or before it."""
    line = None
    for ins in dis.get_instructions(code):
        if hasattr(ins, "positions"):
            line = ins.positions.lineno
        elif ins.starts_line is not None:
            line = ins.starts_line
        yield ins, line


def _attr_line(code, attr):
    """Line of the instruction loading attribute `attr` in `code`, as the
    interpreter's own line table says (so the expected line of a frame
    blocked in that call comes from CPython, not from reading the source)."""
    lines = set()
    for ins, line in _ins_lines(code):
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval == attr:
            lines.add(line)
    if len(lines) != 1:
        raise RuntimeError("%s: expected one load of %r, found lines %r"
                           % (code_name(code), attr, sorted(lines)))
    return lines.pop()


def sleep_line(func):
    """Line of the time.sleep() call inside `func` (used by scenarios)."""
    return _attr_line(func.__code__, "sleep")


def _stack(frame):
    out = []
    while frame is not None:
        code = frame.f_code
        out.append([code_name(code), code.co_filename, frame.f_lineno])
        frame = frame.f_back
    return out


def wait_until_parked(threads, targets, timeout=20.0):
    """Wait until each thread's innermost frame is the target function at
    the target line (the line of its blocking call).  `targets` maps a
    thread's ident to (code object, line)."""
    deadline = time.monotonic() + timeout
    while True:
        frames = sys._current_frames()
        pending = []
        for t in threads:
            code, line = targets[t.ident]
            f = frames.get(t.ident)
            if f is None or f.f_code is not code or f.f_lineno != line:
                pending.append(t.name)
        del frames, f
        if not pending:
            # A thread may have set its line but not yet released the GIL
            # inside the blocking call; give it a moment.
            time.sleep(0.05)
            return
        if time.monotonic() > deadline:
            raise RuntimeError("threads never parked: %s" % ", ".join(pending))
        time.sleep(0.01)


# --------------------------------------------------------------------------
# Sample objects of many kinds: the tests compare their shallow size
# (sys.getsizeof) and their type name with the tool's --dump-objects output.

class SampleManaged:
    """Few attributes: instance values live inline (managed dict, 3.11+)."""
    def __init__(self):
        self.a = 1
        self.b = "two"
        self.c = 3.0

    def describe(self):
        return self.a


class SampleSlots:
    __slots__ = ("a", "b", "c")

    def __init__(self):
        self.a = 1
        self.b = 2
        self.c = None


class SampleSlotsWeak:
    __slots__ = ("a", "__weakref__")

    def __init__(self):
        self.a = "weak"


class SampleWide:
    """40 attributes: more than a shared-keys table holds, so the instance
    gets a real dict."""
    def __init__(self):
        for i in range(40):
            setattr(self, "attr_%02d" % i, i)


class SampleMaterialized:
    """__dict__ asked for: the dict is materialised (split keys)."""
    def __init__(self):
        self.x = 1
        self.y = 2


class SampleListSub(list):
    pass


def _gen():
    yield 1
    yield 2


def _make_closure(value):
    def inner():
        return value
    return inner


def standard_samples():
    """A list of (label, object) of diverse kinds, to be kept alive in a
    module global of the scenario."""
    s = []

    def add(label, obj):
        s.append((label, obj))

    import math
    import collections as coll

    m = SampleManaged()
    add("instance-managed-dict", m)
    add("instance-slots", SampleSlots())
    weak_target = SampleSlotsWeak()
    add("instance-slots-weakref", weak_target)
    import weakref
    add("weakref", weakref.ref(weak_target))
    w = SampleWide()
    add("instance-40-attrs", w)
    add("instance-40-attrs.__dict__", w.__dict__)
    mat = SampleMaterialized()
    add("instance-materialised", mat)
    add("instance-materialised.__dict__ (split keys)", mat.__dict__)
    add("list-subclass-instance", SampleListSub([1, 2, 3]))
    add("bound-method", m.describe)

    add("none", None)
    add("bool-true", True)
    add("int-zero", 0)
    add("int-small", 7)
    add("int-1000", int("1000"))
    add("int-2**62", 2 ** 62)
    add("int-big-2**100", 2 ** 100)
    add("int-negative--(2**70)", -(2 ** 70))
    add("int-huge-7**20000", 7 ** 20000)
    add("float", float("3.14159"))
    add("complex", complex(1, 2))

    add("str-empty", "")
    add("str-ascii", "hello pyheap world")
    add("str-latin1", "caf\u00e9 " * 5)
    add("str-ucs2", "\u03a9mega " * 4)
    add("str-ucs4", "\U0001f600 emoji")
    add("str-big-ascii-100k", "x" * 100000)
    cached = "'" + "\u00e9t\u00e9" * 8 + "'"
    compile(cached, "<utf8>", "eval")   # caches the UTF-8 form in the str
    add("str-latin1-utf8-cached", cached)
    add("str-interned", sys.intern("pyheap_sample_identifier_" + str(7)))

    add("bytes-empty", b"")
    add("bytes-small", b"abc")
    add("bytes-100k", bytes(range(256)) * 400)
    add("bytearray", bytearray(b"abc" * 1000))

    add("list-empty", [])
    add("list-small", [1, 2, 3])
    add("list-1000-exact", list(range(1000)))
    grown = []
    for i in range(1001):
        grown.append(i)
    add("list-1001-appended (over-allocated)", grown)
    add("tuple-empty", ())
    add("tuple-small", (1, "a", None))
    add("tuple-1000", tuple(range(1000)))

    add("dict-empty", {})
    add("dict-small", {"a": 1, "b": 2})
    add("dict-1000", {i: i for i in range(1000)})
    add("dict-mixed-keys", {1: "a", (1, 2): "b", "c": 3})
    add("set-empty", set())
    add("set-small", {1, 2, 3})
    add("set-1000", set(range(1000)))
    add("frozenset-small", frozenset({1, 2}))
    add("frozenset-100", frozenset(range(100)))

    add("function", _gen)
    add("lambda", lambda x: x + 1)
    clo = _make_closure([1, 2])
    add("closure-function", clo)
    add("cell", clo.__closure__[0])
    add("builtin-function", len)
    add("method-descriptor", str.join)
    add("heap-class", SampleManaged)
    add("static-type-int", int)
    add("static-type-deque", coll.deque)
    add("module-sys", sys)
    add("module-math", math)
    add("module-collections", coll)
    add("module-__main__", sys.modules["__main__"])

    add("deque-empty", coll.deque())
    add("deque-100", coll.deque(range(100)))
    add("deque-5000", coll.deque(range(5000)))
    add("ordereddict", coll.OrderedDict((str(i), i) for i in range(50)))
    dd = coll.defaultdict(list)
    for i in range(20):
        dd[i].append(i)
    add("defaultdict", dd)

    g = _gen()
    next(g)
    add("generator-suspended", g)
    add("generator-unstarted", _gen())
    add("range", range(10))
    add("slice", slice(1, 20, 3))
    add("exception", ValueError("boom"))
    return s


# --------------------------------------------------------------------------
# Measuring (runs in the forked child, or in the parent for selfcheck).

def _scenario_type_counts(objs, classes):
    names = {typename_of_class(c) for c in classes}
    counts = {}
    for o in objs:
        t = type(o)
        if t.__module__ in ("__main__", "_truth") or t in classes:
            name = typename(o)
            e = counts.get(name)
            if e is None:
                e = counts[name] = [0, 0]
            e[0] += 1
            e[1] += sys.getsizeof(o)
    for name in names:
        counts.setdefault(name, [0, 0])
    return {k: {"count": v[0], "bytes": v[1]} for k, v in sorted(counts.items())}


def typename_of_class(cls):
    r = type.__repr__(cls)
    return r[8:-2] if r.startswith("<class '") and r.endswith("'>") else r


def _tarjan(n, succ, cut):
    """Iterative Tarjan over vertices 0..n-1 with successor lists succ,
    ignoring the edges into vertices v with cut[v] (cut may be None).
    Returns (comp, ncomp): comp[v] = component number."""
    index = [0] * n          # 0 = unvisited, else discovery order + 1
    low = [0] * n
    onstack = bytearray(n)
    comp = [-1] * n
    stack = []
    counter = ncomp = 0
    for root in range(n):
        if index[root]:
            continue
        work = [(root, 0)]
        while work:
            v, pos = work[-1]
            if pos == 0:
                counter += 1
                index[v] = low[v] = counter
                stack.append(v)
                onstack[v] = 1
            s = succ[v]
            descended = False
            while pos < len(s):
                w = s[pos]
                pos += 1
                if cut is not None and cut[w]:
                    continue
                if not index[w]:
                    work[-1] = (v, pos)
                    work.append((w, 0))
                    descended = True
                    break
                if onstack[w] and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] != index[v]:
                continue
            while True:
                w = stack.pop()
                onstack[w] = 0
                comp[w] = ncomp
                if w == v:
                    break
            ncomp += 1
    return comp, ncomp


def _cycle_oracle(objs, garbage_ids, max_size):
    """The cycles table (formats/REPORT.md, cycles[]) computed over the
    GC-tracked objects in `objs`, with the edges gc.get_referents() reports
    (tp_traverse):

    world objects: type objects, module objects and each module's __dict__;
    Q = SCCs of the graph without the edges into world objects: a Q
        component is a user cycle if it has two members or more or one
        (non-world) member that references itself;
    P = SCCs of the full graph.
    Every object is in one row: its user cycle; else, when its P component
    holds a world object, that component's module-world row (its members
    outside user cycles), a cycle when the P component is non-trivial; else
    its P component (trivial).

    Records every row that is a cycle and has at most max_size members, and
    every row of unreachable objects whatever its size or shape, grouped by
    (sorted member type names, self-reference, unreachable, kind).  Also
    the totals over all cycle rows, and over the user rows."""
    module_type = type(sys)
    index_of = {}
    for i, o in enumerate(objs):
        index_of[id(o)] = i
    n = len(objs)
    get = index_of.get
    world = bytearray(n)
    for i, o in enumerate(objs):
        t = type(o)             # not o.__class__, which a proxy may fake
        if issubclass(t, type):
            world[i] = 1
        elif issubclass(t, module_type):
            world[i] = 1
            j = get(id(object.__getattribute__(o, "__dict__")))
            if j is not None:
                world[j] = 1
    succ = [None] * n
    self_loop = bytearray(n)
    for v in range(n):
        s = []
        for r in gc.get_referents(objs[v]):
            j = get(id(r))
            if j is not None:
                s.append(j)
                if j == v:
                    self_loop[v] = 1
        succ[v] = s
    qcomp, nq = _tarjan(n, succ, world)
    pcomp, np_ = _tarjan(n, succ, None)
    succ = None
    qsize = [0] * nq
    psize = [0] * np_
    pworld = bytearray(np_)
    for v in range(n):
        qsize[qcomp[v]] += 1
        psize[pcomp[v]] += 1
        if world[v]:
            pworld[pcomp[v]] = 1
    rows = {}
    for v in range(n):
        q, p = qcomp[v], pcomp[v]
        if qsize[q] >= 2 or (self_loop[v] and not world[v]):
            key = ("user", q)
        elif pworld[p]:
            key = ("module-world", p)
        else:
            key = ("user", q)
        rows.setdefault(key, []).append(v)
    total_sccs = total_objects = user_sccs = user_objects = 0
    groups = {}
    for (kind, c), members in rows.items():
        if kind == "user":
            cyclic = qsize[c] >= 2 or (len(members) == 1 and self_loop[members[0]])
        else:
            cyclic = psize[c] >= 2 or bool(self_loop[members[0]])
        if cyclic:
            total_sccs += 1
            total_objects += len(members)
            if kind == "user":
                user_sccs += 1
                user_objects += len(members)
        unreachable = [id(objs[w]) in garbage_ids for w in members]
        flag = all(unreachable)
        if any(unreachable) and not flag:
            flag = "mixed"      # impossible for a row; kept visible
        if not (flag or (cyclic and len(members) <= max_size)):
            continue
        sl = len(members) == 1 and bool(self_loop[members[0]])
        key = (tuple(sorted(typename(objs[w]) for w in members)), sl, flag, kind, cyclic)
        g = groups.get(key)
        if g is None:
            g = groups[key] = [0, 0, 0]
        g[0] += 1
        g[1] += len(members)
        g[2] += sum(sys.getsizeof(objs[w]) for w in members)
    out = []
    for (types, sl, flag, kind, cyclic), (inst, nobj, nbytes) in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]), kv[0][3],
                                            kv[0][4])):
        out.append({"types": list(types), "self": sl, "unreachable": flag, "kind": kind,
                    "cycle": cyclic, "instances": inst, "objects": nobj, "bytes": nbytes})
    return {"max_size": max_size, "definition": "rows/1", "total_sccs": total_sccs,
            "total_objects": total_objects, "user_sccs": user_sccs,
            "user_objects": user_objects, "groups": out}


def measure(classes, samples, want_cycles, max_cycle):
    """Return the truth dict.  The first statement must stay the first."""
    t0 = time.monotonic()
    objs = gc.get_objects()
    n = len(objs)                      # (a) nothing allocated before this
    freeze_count = gc.get_freeze_count()   # the child's; see run() for the parent's

    # (b) scenario classes and every tracked type
    scenario_types = _scenario_type_counts(objs, classes)
    tracked = collections.Counter(typename(o) for o in objs)
    del objs

    # (c) sizes of the named samples
    sample_sizes = {}
    for label, obj in samples:
        key = hex(id(obj))
        if key not in sample_sizes:
            sample_sizes[key] = [typename(obj), sys.getsizeof(obj), label]

    # (d) what a full collection finds unreachable
    gc.set_debug(gc.DEBUG_SAVEALL)
    collected = gc.collect()
    gc.set_debug(0)
    garbage = gc.garbage
    g_count = collections.Counter()
    g_bytes = collections.Counter()
    for o in garbage:
        name = typename(o)
        g_count[name] += 1
        g_bytes[name] += sys.getsizeof(o)
    garbage_ids = {id(o) for o in garbage}
    garbage_len = len(garbage)

    # (e) the permanent generation, counted once it is back on the lists
    scenario_types_all = None
    if freeze_count:
        gc.unfreeze()
        objs = gc.get_objects()
        scenario_types_all = _scenario_type_counts(objs, classes)
        del objs

    # (f) cycle oracle over every tracked object (garbage stays alive in
    # gc.garbage; the lists made here are excluded by identity)
    cycles = None
    if want_cycles:
        objs = gc.get_objects()
        mine = {id(objs), id(garbage)}
        objs = [o for o in objs if id(o) not in mine]
        cycles = _cycle_oracle(objs, garbage_ids, max_cycle)
        del objs

    return {
        "gc_objects": n,
        "freeze_count_measured": freeze_count,
        "scenario_types": scenario_types,
        "scenario_types_with_permanent": scenario_types_all,
        "tracked_types": dict(sorted(tracked.items())),
        "samples": sample_sizes,
        "collected": collected,
        "garbage_len": garbage_len,
        "garbage_types": dict(sorted(g_count.items())),
        "garbage_bytes": dict(sorted(g_bytes.items())),
        "garbage_total_bytes": sum(g_bytes.values()),
        "cycles": cycles,
        "measure_seconds": round(time.monotonic() - t0, 3),
    }


def _write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _measure_and_write(path, pre, classes, samples, want_cycles, max_cycle):
    try:
        truth = measure(classes, samples, want_cycles, max_cycle)
        truth.update(pre)
        truth["measured_by"] = "child" if os.getpid() != pre["process"]["pid"] else "parent"
        _write_json(path, truth)
        return 0
    except BaseException:
        import traceback
        with open(path + ".error", "w") as f:
            traceback.print_exc(file=f)
        return 1


def _orig_argv():
    """The interpreter's own command line (sys.orig_argv is new in 3.10;
    before that the kernel's copy in /proc says the same)."""
    if hasattr(sys, "orig_argv"):
        return list(sys.orig_argv)
    with open("/proc/self/cmdline", "rb") as f:
        raw = f.read()
    return [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")[:-1]]


def run(scenario, classes=(), samples=(), cycles=True, max_cycle=MAX_CYCLE_SIZE):
    """The end of every scenario: see the module docstring."""
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        sys.stderr.write("usage: %s {abort|sleep|selfcheck} TRUTH.json\n" % sys.argv[0])
        sys.exit(2)
    mode, path = sys.argv[1], os.path.abspath(sys.argv[2])
    classes = tuple(classes)

    # --- recorded in the parent before the fork ---------------------------
    me = sys._getframe()
    outer = _stack(me.f_back)
    dump_attr = "abort" if mode == "abort" else "sleep"
    main_frames = [[code_name(me.f_code), me.f_code.co_filename,
                    _attr_line(run.__code__, dump_attr)]] + outer
    del me
    main_ident = _thread.get_ident()
    natives = {}
    th = sys.modules.get("threading")
    if th is not None:
        for t in th.enumerate():
            natives[t.ident] = [t.native_id, t.name]
        del t
    threads = []
    current = sys._current_frames()
    for ident in sorted(current):
        if ident != main_ident:
            native, name = natives.get(ident, [None, None])
            threads.append({"ident": ident, "native_id": native, "name": name,
                            "frames": _stack(current[ident])})
    del current
    pre = {
        "format": TRUTH_FORMAT,
        "scenario": scenario,
        "mode": mode,
        "python": {
            "version": platform.python_version(),
            "hexversion": sys.hexversion,
            "implementation": sys.implementation.name,
            "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        },
        "process": {
            "pid": os.getpid(),
            "executable": sys.executable,
            "argv": _orig_argv(),
        },
        "threads": threads,
        "main_thread": {"ident": main_ident,
                        "native_id": _thread.get_native_id(),
                        "frames": main_frames},
    }
    del threads, natives, outer, main_frames
    # Counted last thing before the fork, in the process that is dumped.
    # The permanent generation is exact here (the fork handlers of the
    # threading module replace a few frozen objects in the child).  The
    # object count is informative: the temporary list dies before the fork.
    pre["freeze_count"] = gc.get_freeze_count()
    pre["parent_gc_objects_before_fork"] = len(gc.get_objects())

    pid = os.fork()
    if pid == 0:
        os._exit(_measure_and_write(path, pre, classes, samples, cycles, max_cycle))
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.stderr.write("truth child failed (status %d), see %s.error\n" % (status, path))
        os._exit(3)
    if mode == "abort":
        os.abort()
    elif mode == "sleep":
        sys.stdout.write("READY %d\n" % os.getpid())
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    else:
        os._exit(_measure_and_write(path + ".parent.json", pre, classes,
                                    samples, cycles, max_cycle))
