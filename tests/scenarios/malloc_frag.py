"""glibc malloc ground truth (tests/e2e/run_malloc.py): many chunks of mixed
sizes through Python (bytes and list item arrays > 512 bytes, ctypes
buffers, numpy arrays when numpy imports), some big enough to be mmapped,
in the main thread and in two more threads (thread arenas: one parked at
the dump, one finished, its arena on the free list); then most of it freed
between survivors, so that glibc keeps it as free chunks
(fragmentation: free-but-kept memory)."""

import ctypes
import gc
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _malloctruth  # noqa: E402

gc.disable()

KEEP = []
FREED = [0]        # bytes handed back to malloc in the fragmentation phases


def mixed(n, seed):
    out = []
    for i in range(n):
        k = (i * 7919 + seed) % 97
        if k < 40:
            out.append(bytes(520 + (i * 37) % 3500))          # malloc: > 512 bytes
        elif k < 60:
            out.append([None] * (70 + (i * 13) % 600))       # item array via malloc
        elif k < 80:
            out.append(ctypes.create_string_buffer(600 + (i * 29) % 2000))
        elif k < 96:
            out.append(bytearray(530 + (i * 41) % 5000))
        else:
            out.append(bytes(140000 + (i % 5) * 70000))      # above the mmap threshold
    return out


def fragment(n, keep_every, seed):
    """Allocate n chunks, keep one in keep_every: the rest becomes free
    chunks between survivors (not returnable to the system)."""
    tmp = [bytes(1024 + ((i * seed) % 64) * 16) for i in range(n)]
    kept = tmp[::keep_every]
    FREED[0] += sum(len(b) for i, b in enumerate(tmp) if i % keep_every)
    del tmp
    return kept


KEEP.append(mixed(4000, 1))
KEEP.append(fragment(20000, 8, 3))
try:
    import numpy
    KEEP.append([numpy.ones(50 + i * 37) for i in range(300)])
    KEEP.append([numpy.zeros(300000 + i) for i in range(3)])      # mmapped buffers
except ImportError:
    numpy = None

ready = threading.Event()
release = threading.Event()
THREAD_KEEP = []


def worker(seed, park):
    THREAD_KEEP.append(mixed(2500, seed))
    THREAD_KEEP.append(fragment(8000, 5, seed))
    if park:
        ready.set()
        release.wait()


# The parked thread first: the finished one then needs an arena of its own
# (an arena on the free list would be reused).
parked = threading.Thread(target=worker, args=(23, True), name="parked", daemon=True)
parked.start()
ready.wait()
done = threading.Thread(target=worker, args=(11, False), name="finished")
done.start()
done.join()

# Heap chunks for run_malloc.py's corruption cases: a bytes object of 520 -
# 4000 bytes is one malloc chunk whose memory starts at the object.
SAMPLES = [hex(id(b)) for b in KEEP[0] if type(b) is bytes and len(b) < 4000][:3]
SAMPLES += [hex(id(b)) for b in THREAD_KEEP[0] if type(b) is bytes and len(b) < 4000][:3]
_malloctruth.run("malloc_frag", {"freed_bytes": FREED[0], "numpy": numpy is not None,
                                 "heap_objects": SAMPLES})
