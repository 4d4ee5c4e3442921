"""In-process snapshot and core of the same moment.

Builds garbage of several shapes and reachable objects, then writes a heap
snapshot with formats/pyheap_dump.py from a forked child (path in argv[3]),
then hands over to _truth.run (truth child, then the core).  The snapshot,
the core and the truth must agree on the scenario's classes and on what a
gc.collect() would free.
"""
import gc
gc.disable()

import os
import sys
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "formats"))
import pyheap_dump  # noqa: E402
import _truth  # noqa: E402


class Node:
    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class SlotNode:
    __slots__ = ("ident", "peer", "__weakref__")

    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class Keeper:
    def __init__(self, i):
        self.i = i
        self.data = {"i": i, "name": "keeper-%d" % i}


def build():
    for i in range(300):
        a, b = Node(2 * i), Node(2 * i + 1)
        a.peer, b.peer = b, a
        if i % 3 == 0:
            a.payload = [i, "payload-%d" % i, (i, i + 1)]
    for i in range(100):
        lst = [i]
        lst.append(lst)
    for i in range(80):
        a, b = SlotNode(i), SlotNode(-i)
        a.peer, b.peer = b, a
    # garbage that a weak reference from live data points at
    for i in range(20):
        a, b = SlotNode(1000 + i), SlotNode(2000 + i)
        a.peer, b.peer = b, a
        WEAK.append(weakref.ref(a))


WEAK = []
build()
KEEP = [Keeper(i) for i in range(150)]
KEEP_CYCLE = [Node(-1), Node(-2)]
KEEP_CYCLE[0].peer, KEEP_CYCLE[1].peer = KEEP_CYCLE[1], KEEP_CYCLE[0]

if len(sys.argv) > 3:
    pyheap_dump.dump(sys.argv[3], fork=True, wait=True)

_truth.run("snapshot_agree", classes=[Node, SlotNode, Keeper], samples=[("keeper", KEEP[0])])
