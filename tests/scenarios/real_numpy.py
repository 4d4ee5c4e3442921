"""Real program 2: a numpy feature pipeline that keeps its intermediates.

Every batch of "sensor readings" is loaded (owning float64/int32 arrays,
an array over a bytes payload with np.frombuffer, a structured array with a
record dtype), normalised (views: slices, transposes, reshapes -- their
.base is the owning array), summarised (numpy scalars: float64, int64,
bool_, a str_), and the batch's results are appended to a module-level
HISTORY list that is never trimmed (the leak).  Every fifth batch the
pipeline builds a debug record that refers to itself (a cycle holding
arrays and views): garbage, whose array memory a gc.collect() frees.
About 60 MB of array data.
"""
import gc
gc.disable()

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # no BLAS thread pool
os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

np = _realtruth.need("numpy", "python3-numpy")

BATCHES = 120
READING = np.dtype([("sensor", "<i4"), ("t", "<f8"), ("value", "<f4"), ("flag", "u1")])

HISTORY = []            # the leak
SCALARS = []
CONFIG = {"scale": np.float64(2.5), "offset": np.int64(-3), "enabled": np.bool_(True),
          "label": np.str_("pipeline-v2"), "window": np.arange(16, dtype=np.int16)}


class DebugRecord:
    def __init__(self, batch, arrays):
        self.batch = batch
        self.arrays = arrays
        self.me = self          # a cycle: garbage once the pipeline drops it


def load(batch, rng):
    raw = rng.standard_normal((200, 64))                       # owning float64
    counts = rng.integers(0, 1000, size=(400,), dtype=np.int32)
    payload = bytes(rng.integers(0, 255, size=4096, dtype=np.uint8))
    frame = np.frombuffer(payload, dtype=np.uint16)             # .base is the bytes
    records = np.zeros(256, dtype=READING)
    records["sensor"] = np.arange(256) + batch
    records["value"] = raw[:4].ravel()[:256]
    return raw, counts, frame, records


def normalise(raw):
    centred = raw - raw.mean(axis=0)                            # owning
    window = centred[10:110:2]                                  # view
    cols = centred.T                                            # view
    flat = centred.reshape(-1)                                  # view (contiguous)
    return centred, window, cols, flat


def summarise(batch, centred, counts, records):
    return {
        "batch": batch,
        "mean": centred.mean(),                                 # np.float64
        "max_count": counts.max(),                              # np.int32
        "total": np.int64(counts.sum()),
        "positive": bool(centred[0, 0] > 0),
        "all_flags": np.bool_(records["flag"].any()),
        "sensor0": records[0],                                  # np.void (structured scalar)
        "label": np.str_("batch-%d" % batch),
    }


def main():
    rng = np.random.default_rng(42)
    for batch in range(BATCHES):
        raw, counts, frame, records = load(batch, rng)
        centred, window, cols, flat = normalise(raw)
        stats = summarise(batch, centred, counts, records)
        if batch % 5 == 4:
            DebugRecord(batch, [raw, window, cols, frame])      # dropped: garbage cycle
            continue
        HISTORY.append({"stats": stats, "window": window, "cols": cols, "frame": frame,
                        "records": records[::4], "counts": counts})
        SCALARS.append(stats["mean"])
        if batch % 10 == 0:
            HISTORY.append({"flat": flat, "copy": flat.copy()})


main()
del main

_realtruth.run("real_numpy")
