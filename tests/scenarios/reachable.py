"""Reachable: a large live heap with reachable cycles and big objects, and
(apart from what the interpreter's own start-up left) no garbage.

Each Pair two-cycle is its own strongly connected component (Pair has no
methods, so the class never leads back to the module).  Node has methods, so
its instances sit in the interpreter's big component with the module dict.
"""
import gc
gc.disable()

import collections

import _truth


class Pair:
    pass


class Node:
    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, i):
        self.a, self.b, self.c = i, str(i), None


class Managed:
    def __init__(self, i):
        self.x = i
        self.y = float(i)
        self.name = "managed-%d" % i


class Wide:
    def __init__(self, i):
        for k in range(40):
            setattr(self, "field_%02d" % k, i + k)


class Materialized:
    def __init__(self, i):
        self.v = i
        self.w = -i


PAIRS = []
for i in range(300):
    a, b = Pair(), Pair()
    a.other, b.other = b, a
    a.i, b.i = i, -i
    PAIRS.append(a)

NODES = []
for i in range(300):
    a, b = Node(i), Node(-i)
    a.peer, b.peer = b, a
    NODES.append((a, b))

SLOTTED = [Slotted(i) for i in range(200)]
MANAGED = [Managed(i) for i in range(200)]
WIDE = [Wide(i) for i in range(50)]
MATERIALIZED = [Materialized(i) for i in range(50)]
MATERIALIZED_DICTS = [m.__dict__ for m in MATERIALIZED]

BIG_DICT = {i: str(i) for i in range(100000)}
BIG_SET = set(range(0, 150000, 3))
BIG_FROZENSET = frozenset(range(20000))
BIG_STR = "x" * 10000000
BIG_BYTES = b"\x00y" * 2500000
BIG_INTS = [2 ** 10000, -(3 ** 500), 7 ** 100000]
NESTED = [[(i, j) for j in range(10)] for i in range(1000)]
DEQUE = collections.deque(range(5000))
ODICT = collections.OrderedDict((str(i), [i]) for i in range(1000))
DDICT = collections.defaultdict(list)
for i in range(500):
    DDICT[i % 97].append(i)
del a, b, i

SAMPLES = _truth.standard_samples() + [
    ("pair", PAIRS[0]), ("node", NODES[0][0]), ("slotted", SLOTTED[0]),
    ("managed", MANAGED[0]), ("wide", WIDE[0]), ("wide.__dict__", WIDE[0].__dict__),
    ("materialized.__dict__", MATERIALIZED_DICTS[0]),
    ("big-dict-100k", BIG_DICT), ("big-set", BIG_SET), ("big-frozenset", BIG_FROZENSET),
    ("big-str-10MB", BIG_STR), ("big-bytes-5MB", BIG_BYTES),
    ("int-2**10000", BIG_INTS[0]), ("int--(3**500)", BIG_INTS[1]),
    ("int-7**100000", BIG_INTS[2]), ("nested-list", NESTED), ("nested-inner", NESTED[0]),
    ("deque-5000", DEQUE), ("ordereddict-1000", ODICT), ("defaultdict", DDICT),
]

_truth.run("reachable", classes=[Pair, Node, Slotted, Managed, Wide, Materialized],
           samples=SAMPLES)
