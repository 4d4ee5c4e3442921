"""Finalizers: unreachable cycles whose objects have __del__, one of which
resurrects what it holds. gc.collect() runs the finalizers first and keeps
what they resurrect, so the core's arithmetic can only give an upper bound:
the report must say so (tests/e2e/run_hostile.py, finalizer_upper_bound).
"""
import gc
gc.disable()

import _truth

_RESURRECTED = []


class Mortal:
    def __init__(self, i):
        self.i = i
        self.peer = None
        self.load = [i] * 10

    def __del__(self):
        pass


class Phoenix:
    def __init__(self, i):
        self.i = i
        self.peer = None
        self.load = [i] * 10

    def __del__(self):
        _RESURRECTED.append(self)


def build():
    for i in range(100):
        a, b = Mortal(i), Mortal(-i)
        a.peer, b.peer = b, a
    for i in range(50):
        a, b = Phoenix(i), Phoenix(-i)
        a.peer, b.peer = b, a


build()
_truth.run("finalizers", classes=(Mortal, Phoenix))
