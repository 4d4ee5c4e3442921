"""Memory scenario: a numpy-heavy program (issue 10).

About 130 MB of array data owned by numpy arrays: 48 big arrays (2 MB of
float64 each: malloc hands them out as mmapped chunks or from the heap,
as its threshold says), 20,000 small arrays (100 float64: heap chunks),
views of them (no data of their own), and arrays over bytes (np.frombuffer:
the data belongs to the bytes object).  The truth's `extra` is the bytes
the owning arrays hold (Σ nbytes) -- what the report must attribute to
numpy.ndarray as native memory.
"""
import gc
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _memtruth  # noqa: E402

try:
    import numpy as np
except ImportError:
    sys.stderr.write("SKIP: numpy is not installed (python3-numpy)\n")
    sys.exit(77)

gc.disable()
BIG = [np.full(262144, float(i)) for i in range(48)]
SMALL = [np.arange(100, dtype=np.float64) + i for i in range(20000)]
VIEWS = [a[::2] for a in BIG[:10]] + [a.reshape(10, 10) for a in SMALL[:1000]]
PAYLOADS = [bytes(range(256)) * 64 for _ in range(100)]
OVER_BYTES = [np.frombuffer(p, dtype=np.uint8) for p in PAYLOADS]

owned = sum(a.nbytes for a in BIG + SMALL)
_memtruth.run("mem_numpy", {"numpy_owned_bytes": owned, "numpy_owning_arrays": len(BIG) + len(SMALL)})
