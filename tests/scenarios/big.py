"""Benchmark heap (not run by the end-to-end suite; tests/bench.sh uses it).

About 1.5 million objects by default: `big.py MODE TRUTH [RECORDS]`, each
record being a Node with a str, a list, a dict and a tuple, plus garbage
pairs.  The cycle oracle is skipped (too slow in Python at this size).
"""
import gc
gc.disable()

import sys

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
SAMPLES = _truth.standard_samples()

_truth.run("big", classes=[Node, Record], samples=SAMPLES, cycles=False)
