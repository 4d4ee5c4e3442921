"""Real program 7: a core with 5,000 distinct classes.

A plugin registry generates its record classes at run time (what ORMs,
serializers and RPC stubs do): 5,000 classes made in a loop with type() and
class statements -- plain ones, ones with __slots__, ones with properties
and methods, subclasses of dict/list/tuple/Exception, a few with a
metaclass -- each with a handful of instances.  4,000 stay registered; the
registry forgets the other 1,000 (each class is a reference cycle through
its __mro__ and its __dict__'s descriptors, so they and their instances are
garbage until gc.collect()).  More than 5,000 type objects in one heap.
"""
import gc
gc.disable()

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

NCLASSES = 5000
DROPPED = 1000


class RecordBase:
    def describe(self):
        return "%s(%s)" % (type(self).__name__, self.__dict__)


class SlottedBase:
    __slots__ = ("key",)


class Registered(type):
    """A metaclass that counts its classes."""
    count = 0

    def __new__(mcls, name, bases, ns):
        mcls.count += 1
        return super().__new__(mcls, name, bases, ns)


def make_class(i):
    kind = i % 7
    name = "Rec%05d" % i
    if kind == 0:
        return type(name, (RecordBase,), {"__module__": "plugins.gen%d" % (i % 13), "field_%d" % i: i})
    if kind == 1:
        return type(name, (SlottedBase,), {"__slots__": ("a%d" % i, "b"), "__module__": "plugins.slotted"})
    if kind == 2:
        def getter(self, _i=i):
            return self.__dict__.get("v", _i)
        return type(name, (RecordBase,), {"v": property(getter), "calc": lambda self, x=i: x * 2,
                                          "__module__": "plugins.props"})
    if kind == 3:
        base = (dict, list, tuple, Exception)[i % 4]
        return type(name, (base,), {"__module__": "plugins.builtins"})
    if kind == 4:
        return Registered(name, (RecordBase,), {"__module__": "plugins.meta", "tag": "t%d" % i})
    if kind == 5:
        class Outer:
            class Inner(RecordBase):
                pass
        Outer.__name__ = Outer.__qualname__ = name
        Outer.__module__ = "plugins.nested"
        Outer.Inner.__qualname__ = name + ".Inner"
        Outer.Inner.__module__ = "plugins.nested"
        return Outer
    return type(name, (RecordBase,), {"__module__": "plugins.plain", "__doc__": "record %d" % i})


def instances(cls, i):
    out = []
    for j in range(3):
        if issubclass(cls, SlottedBase):
            o = cls()
            setattr(o, "a%d" % i, j)
            o.b = "b%d" % j
            o.key = (i, j)
        elif issubclass(cls, (dict, list)):
            o = cls()
            if isinstance(o, dict):
                o["k"] = j
            else:
                o.append(j)
        elif issubclass(cls, tuple):
            o = cls((i, j))
        elif issubclass(cls, Exception):
            o = cls("error %d/%d" % (i, j))
        elif hasattr(cls, "Inner"):
            o = cls.Inner()
            o.x = j
        else:
            o = cls()
            o.x = j
            o.name = "obj-%d-%d" % (i, j)
        out.append(o)
    return out


REGISTRY = {}
OBJECTS = {}
for _i in range(NCLASSES):
    _c = make_class(_i)
    _o = instances(_c, _i)
    if _i % 5 != 4:                 # 4,000 kept
        REGISTRY[_c.__name__] = _c
        OBJECTS[_c.__name__] = _o
del _i, _c, _o
assert len(REGISTRY) == NCLASSES - DROPPED

_realtruth.run("real_types")
