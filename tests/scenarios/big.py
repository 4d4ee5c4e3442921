"""Benchmark heap (not run by the end-to-end suite; tests/bench.sh uses it).

About 1.5 million objects by default: `big.py MODE TRUTH [RECORDS [baseline]]`,
each record being a Node with a str, a list, a dict and a tuple, plus garbage
pairs (about 11.5 objects a record).  The cycle oracle is skipped (too slow in
Python at this size).

With `baseline`, a forked child first times a pure-Python analysis of the
same heap inside the live process (the gc-module way: the object graph from
gc.get_objects() and gc.get_referents(), CPython's gc arithmetic, Tarjan's
strongly connected components) and writes TRUTH.baseline.json with its CPU
and wall seconds: the number `make bench` compares the tool with.
"""
import gc
gc.disable()

import os
import sys
import time
from array import array

import _truth


class Node:
    def __init__(self, ident, name, tags, meta):
        self.ident = ident
        self.name = name
        self.tags = tags
        self.meta = meta
        self.peer = None


class Record:
    __slots__ = ("key", "value")

    def __init__(self, key, value):
        self.key = key
        self.value = value


RECORDS = int(sys.argv[3]) if len(sys.argv) > 3 else 130000

DATA = []
for i in range(RECORDS):
    n = Node(i * 1000003, "node-%d" % i, [i, i + 1], {"k": i, "t": (i, -i)})
    DATA.append(n)
    if i % 2:
        n.peer = DATA[i - 1]
        DATA[i - 1].peer = n
INDEX = {n.name: n for n in DATA[::3]}
RECS = [Record(i, str(i)) for i in range(RECORDS // 2)]


def garbage(k):
    for i in range(k):
        a, b = Node(i, None, None, None), Node(-i, None, None, None)
        a.peer, b.peer = b, a


garbage(RECORDS // 5)
del n, i


def _graph():
    """Every object: the tracked ones, then what they reach (CSR arrays)."""
    objs = gc.get_objects()
    tracked = len(objs)
    index = {id(o): i for i, o in enumerate(objs)}
    first = array("q", [0])
    dst = array("I")
    get_referents = gc.get_referents
    i = 0
    while i < len(objs):
        for r in get_referents(objs[i]):
            k = id(r)
            j = index.get(k)
            if j is None:
                j = index[k] = len(objs)
                objs.append(r)
            dst.append(j)
        first.append(len(dst))
        i += 1
    del index
    return objs, tracked, first, dst


def _unreachable(objs, tracked, first, dst):
    """gc_refs = refcount - references from tracked objects; propagate."""
    getrefcount = sys.getrefcount
    # objs holds one reference, getrefcount's argument another
    refs = array("q", (getrefcount(objs[i]) - 2 for i in range(tracked)))
    for i in range(tracked):
        for e in range(first[i], first[i + 1]):
            j = dst[e]
            if j < tracked:
                refs[j] -= 1
    alive = bytearray(len(objs))
    stack = [i for i in range(tracked) if refs[i] > 0]
    for i in stack:
        alive[i] = 1
    while stack:
        i = stack.pop()
        for e in range(first[i], first[i + 1]):
            j = dst[e]
            if not alive[j]:
                alive[j] = 1
                stack.append(j)
    return tracked - sum(alive[:tracked])


def _tarjan(n, first, dst):
    """Iterative Tarjan: the number of components with 2+ members."""
    index = array("q", [-1]) * n
    low = array("q", [0]) * n
    onstack = bytearray(n)
    stack, cycles, counter = [], 0, 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, first[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        onstack[root] = 1
        while work:
            v, e = work[-1]
            if e < first[v + 1]:
                work[-1] = (v, e + 1)
                w = dst[e]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack[w] = 1
                    work.append((w, first[w]))
                elif onstack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work and low[v] < low[work[-1][0]]:
                low[work[-1][0]] = low[v]
            if low[v] == index[v]:
                size = 0
                while True:
                    w = stack.pop()
                    onstack[w] = 0
                    size += 1
                    if w == v:
                        break
                cycles += size > 1
    return cycles


def baseline(path):
    """Time the in-process analysis in a forked child (the heap stays as it is)."""
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:
        c0, w0 = time.process_time(), time.monotonic()
        objs, tracked, first, dst = _graph()
        unreachable = _unreachable(objs, tracked, first, dst)
        n = len(objs)
        del objs
        cycles = _tarjan(n, first, dst)
        out = {"cpu_s": time.process_time() - c0, "wall_s": time.monotonic() - w0,
               "objects": n, "tracked": tracked, "edges": len(dst),
               "unreachable": unreachable, "cycles": cycles}
        with open(path + ".baseline.json", "w") as f:
            f.write(repr(out).replace("'", '"') + "\n")
    finally:
        os._exit(0)


if len(sys.argv) > 4 and sys.argv[4] == "baseline":
    baseline(os.path.abspath(sys.argv[2]))
SAMPLES = _truth.standard_samples()

_truth.run("big", classes=[Node, Record], samples=SAMPLES, cycles=False)
