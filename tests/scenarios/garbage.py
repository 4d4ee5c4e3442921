"""Garbage: reference cycles nobody can reach, of many shapes.

What a full gc.collect() would free here is recorded by _truth in a forked
child; the tool must find exactly that set in the core.
"""
import functools
import gc
gc.disable()

import _truth


class Node:
    """Instances keep their attributes inline (managed dict)."""
    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class SlotNode:
    __slots__ = ("ident", "peer")

    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class Ring:
    """No methods: a ring of these is its own strongly connected component."""


class LruOwner:
    """Owns a bounded lru_cache whose results point back at it."""


class LruResult:
    def __init__(self, owner):
        self.owner = owner


_LRU_OWNERS = []


def make_lru_cache():
    # No closure: the only way back to the owner is through the results,
    # which only the cache's linked list holds.
    @functools.lru_cache(maxsize=8)
    def cached(x):
        return LruResult(_LRU_OWNERS[-1])
    return cached


class Keeper:
    """Reachable, acyclic instances next to the garbage."""
    def __init__(self, i):
        self.i = i


def build_garbage():
    # 500 two-cycles of Node; every fifth also owns a list that only the
    # garbage references (unreachable without being in a cycle).
    for i in range(500):
        a, b = Node(2 * i), Node(2 * i + 1)
        a.peer, b.peer = b, a
        if i % 5 == 0:
            a.payload = [i, "payload-%d" % i]
    # 40 two-cycles whose instance dicts were materialised: each component
    # is {Node, dict, Node, dict}.
    for i in range(40):
        a, b = Node(-i), Node(-i - 1000)
        a.__dict__, b.__dict__
        a.peer, b.peer = b, a
    # 200 lists containing themselves, 150 dicts containing themselves.
    for i in range(200):
        lst = [i]
        lst.append(lst)
    for i in range(150):
        d = {"i": i}
        d["self"] = d
    # 120 two-cycles through __slots__.
    for i in range(120):
        a, b = SlotNode(i), SlotNode(-i)
        a.peer, b.peer = b, a
    # 30 rings of 7.
    for i in range(30):
        ring = [Ring() for _ in range(7)]
        for k in range(7):
            ring[k].next = ring[(k + 1) % 7]
            ring[k].k = k
        del ring
    # 40 list <-> tuple cycles.
    for i in range(40):
        lst = []
        lst.append((lst, i))
    # 25 recursive closures: function -> closure tuple -> cell -> function.
    for i in range(25):
        def make():
            def again():
                return again
            return again
        make()
    # Issue 9 (missed references): 30 cycles owner -> bounded lru_cache ->
    # (a link of its list) result -> owner. Only lru_cache_tp_traverse
    # visits a link's key and result; a tool that does not walk the list
    # sees the results as held from outside and the cycles as alive.
    for i in range(30):
        owner = LruOwner()
        owner.cached = make_lru_cache()
        _LRU_OWNERS.append(owner)
        for k in range(3):
            owner.cached(k)
        _LRU_OWNERS.pop()
    del owner


build_garbage()
KEEP = [Keeper(i) for i in range(100)]
SAMPLES = _truth.standard_samples() + [("keeper", KEEP[0]), ("keeper-list", KEEP)]

_truth.run("garbage", classes=[Node, SlotNode, Ring, Keeper, LruOwner, LruResult], samples=SAMPLES)
