"""Threads: three threads parked in named functions, plus objects that only
a thread's frame keeps alive.

The expected stacks are taken by the interpreter itself
(sys._current_frames(), in _truth.run before the fork): every frame's
co_qualname, co_filename and f_lineno, innermost first.
"""
import gc
gc.disable()

import threading
import time

import _truth


class Node:
    def __init__(self, ident):
        self.ident = ident
        self.peer = None


class Parcel:
    """Instances referenced only from sleeper_beta's frame."""
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


def sleeper_alpha(ready):
    ready.set()
    time.sleep(600)


def sleeper_beta(ready):
    parcels = [Parcel(i) for i in range(64)]
    ring = Node(0)
    ring.peer = Node(1)
    ring.peer.peer = ring          # a cycle held only by this frame
    ready.set()
    time.sleep(600)
    return parcels, ring


def _nap(seconds):
    time.sleep(seconds)


def sleeper_gamma(ready, lock):
    with lock:
        ready.set()
        _nap(600)


LOCK = threading.Lock()
THREADS = []
TARGETS = {}
for name, func, args in (("alpha", sleeper_alpha, ()),
                         ("beta", sleeper_beta, ()),
                         ("gamma", sleeper_gamma, (LOCK,))):
    ready = threading.Event()
    t = threading.Thread(target=func, args=(ready,) + args, name="sleeper-" + name,
                         daemon=True)
    t.start()
    ready.wait()
    THREADS.append(t)
    inner = _nap if func is sleeper_gamma else func
    TARGETS[t.ident] = (inner.__code__, _truth.sleep_line(inner))
del name, func, args, ready, t, inner
_truth.wait_until_parked(THREADS, TARGETS)

KEPT = [Node(i) for i in range(10)]
SAMPLES = _truth.standard_samples() + [("thread-object", THREADS[0]), ("lock", LOCK)]

_truth.run("threads", classes=[Node, Parcel], samples=SAMPLES)
