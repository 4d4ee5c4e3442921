"""More than 5,000 distinct types in one heap (issue 9, item 1).

5,000 classes made in a loop (plain, __slots__, subclasses of builtins,
with a metaclass), class i with 1 + i % 3 instances; the last 500 classes
and their instances are dropped (garbage: each class is a cycle through
its __mro__ and __dict__).  The tool used to crash past ~511 distinct types
when its type-address set grew; every class must now be counted exactly,
from the core and from a snapshot saved from it.  All classes live in
__main__, so _truth counts each of them without a 5,000-entry list.
"""
import gc
gc.disable()

import _truth

NCLASSES = 5000
DROPPED = 500


class Meta(type):
    pass


class Slotted:
    __slots__ = ("a",)


def make_class(i):
    kind = i % 5
    name = "Gen%05d" % i
    if kind == 0:
        return type(name, (), {"field": i})
    if kind == 1:
        return type(name, (Slotted,), {"__slots__": ("b",)})
    if kind == 2:
        return type(name, ((dict, list, tuple)[i % 3],), {})
    if kind == 3:
        return Meta(name, (), {"tag": "t%d" % i})
    return type(name, (Exception,), {})


CLASSES = []
INSTANCES = []
for i in range(NCLASSES):
    cls = make_class(i)
    CLASSES.append(cls)
    INSTANCES.append([cls() for _ in range(1 + i % 3)])
del CLASSES[NCLASSES - DROPPED:]
del INSTANCES[NCLASSES - DROPPED:]
del i, cls

SLOTTED = Slotted()
SAMPLES = [("class-0", CLASSES[0]), ("class-4499", CLASSES[-1]),
           ("instance-0", INSTANCES[0][0]), ("instance-4499", INSTANCES[-1][0])]

_truth.run("many_types", classes=[Meta, Slotted], samples=SAMPLES)
