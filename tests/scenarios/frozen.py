"""gc.freeze(): objects in the permanent generation are never collected and
are not counted by gc.get_objects() (gc.get_freeze_count() counts them).

Before the freeze: garbage Node pairs (frozen, so NOT unreachable), reachable
Early objects, and holder pairs.  After the freeze: fresh garbage pairs
(unreachable), Late objects, and garbage pairs referenced only from a frozen
holder that is itself garbage -- alive, because references from the
permanent generation are not subtracted.
"""
import gc
gc.disable()

import _truth


class Node:
    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class Early:
    """Instances created before gc.freeze()."""
    def __init__(self, i):
        self.i = i


class Late:
    """Instances created after gc.freeze()."""
    def __init__(self, i):
        self.i = i


def pairs(n, base):
    anchors = []
    for i in range(n):
        a, b = Node(base + 2 * i), Node(base + 2 * i + 1)
        a.peer, b.peer = b, a
        anchors.append(a)
    return anchors


pairs(200, 0)                       # garbage, then frozen: stays alive
EARLY = [Early(i) for i in range(150)]
HOLDERS = pairs(50, 10000)
gc.freeze()

pairs(300, 20000)                   # garbage after the freeze: unreachable
LATE = [Late(i) for i in range(120)]
for holder, late in zip(HOLDERS, pairs(50, 30000)):
    holder.late = late              # frozen -> late pair
del holder, late
HOLDERS = None                      # holder pairs: frozen garbage

SAMPLES = _truth.standard_samples() + [("early", EARLY[0]), ("late", LATE[0])]

_truth.run("frozen", classes=[Node, Early, Late], samples=SAMPLES)
