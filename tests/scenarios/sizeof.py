"""Types with their own __sizeof__ (issue 9, item 2): every sample below
must be sized exactly as sys.getsizeof says, on every interpreter.

Stdlib C types whose __sizeof__ adds what they own (buffered files,
BytesIO, struct.Struct, array.array, decimal.Decimal), subclasses that find
a builtin's __sizeof__ through their MRO (str, int, dict, list, metaclass
instances), frames (running and finished).  A class whose __sizeof__ is
written in Python cannot be reproduced offline: the report must name it in
its warning instead (checked by run_e2e: sizeof-warning).  The cycle
oracle is off: this scenario is about sizes (an abc class of decimal's
numbers registration forms a 5-object component that the tool's fuller
graph merges into a larger one -- a matter for the cycles checks).
"""
import gc
gc.disable()

import array
import collections
import decimal
import io
import os
import struct
import sys
import tempfile

import _truth

# Import-time garbage (abc classes dropped while the modules above were
# imported) is not what this scenario is about.
gc.collect()


class StrSub(str):
    pass


class IntSub(int):
    pass


class DictSub(dict):
    pass


# Outside __main__ (their sizes are checked as samples): without binaries,
# 3.13+ cores show a phantom Meta instance (a static type object in the
# binary's data read through a stale header) -- an older no-binaries
# imprecision, not a size matter.
class Meta(type):
    __module__ = "sizemeta"


class WithMeta(metaclass=Meta):
    __module__ = "sizemeta"
    x = 1


class PySized:
    """A __sizeof__ written in Python: not reproducible offline (outside
    __main__, so that _truth does not compare its bytes)."""
    __module__ = "pysized"

    def __sizeof__(self):
        return 12345


def finished_frame():
    return sys._getframe()


TMPDIR = tempfile.mkdtemp(prefix="pyheap-sizeof-")
READER = open(__file__, "rb")
WRITER = open(os.devnull, "wb")
RANDOM = open(os.path.join(TMPDIR, "random.bin"), "w+b")
RANDOM.write(b"r" * 100)
SMALLBUF = open(__file__, "rb", buffering=100)

BYTESIO_EMPTY = io.BytesIO()
BYTESIO_WRITTEN = io.BytesIO()
BYTESIO_WRITTEN.write(b"w" * 5000)
SHARED = b"s" * 3000
BYTESIO_SHARED = io.BytesIO(SHARED)
STRINGIO = io.StringIO("text " * 100)

STRUCTS = [struct.Struct("<IHq10s"), struct.Struct(""), struct.Struct("3d2i?")]
ARRAYS = [array.array("d", range(1000)), array.array("b"), array.array("q", [1, 2, 3]),
          array.array("B", b"xyz" * 100)]
for _i in range(37):
    ARRAYS[2].append(_i)

DECIMALS = [decimal.Decimal("1.5"), decimal.Decimal("3" * 200), decimal.Decimal(7) ** 300]

SUBS = [StrSub("hello"), StrSub("h\u00e9llo" * 10), StrSub(""), IntSub(10 ** 30),
        DictSub(a=1, b=2), Meta, WithMeta]
RUNNING_FRAME = sys._getframe()
FINISHED_FRAME = finished_frame()
PYSIZED = [PySized() for _ in range(3)]
WITHMETA = WithMeta()

# ctypes (when the interpreter has it): 3.8 - 3.12 keep a ctypes type's
# layout in its dict, a StgDict with its own __sizeof__; 3.13 moved it
# into the type (a StgInfo), sized by _ctypes.CType_Type.__sizeof__.
STGDICTS = []
CTYPES = []
try:
    import ctypes

    class CPoint(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double * 3)]

    CTYPES = [ctypes.c_int, CPoint, ctypes.c_double * 3, ctypes.POINTER(CPoint)]
    for _t in CTYPES:
        STGDICTS += [r for r in gc.get_referents(_t) if type(r).__name__ == "StgDict"]
    del _t
except ImportError:
    pass
del _i

SAMPLES = [
    ("BufferedReader", READER), ("BufferedWriter", WRITER), ("BufferedRandom", RANDOM),
    ("BufferedReader-100", SMALLBUF),
    ("FileIO", READER.raw),
    ("BytesIO-empty", BYTESIO_EMPTY), ("BytesIO-written", BYTESIO_WRITTEN),
    ("BytesIO-shared", BYTESIO_SHARED), ("StringIO", STRINGIO),
    ("Struct-4codes", STRUCTS[0]), ("Struct-empty", STRUCTS[1]), ("Struct-3", STRUCTS[2]),
    ("array-d-1000", ARRAYS[0]), ("array-b-empty", ARRAYS[1]), ("array-q-appended", ARRAYS[2]),
    ("array-B-300", ARRAYS[3]),
    ("Decimal-small", DECIMALS[0]), ("Decimal-200-digits", DECIMALS[1]),
    ("Decimal-power", DECIMALS[2]),
    ("str-subclass", SUBS[0]), ("str-subclass-latin1", SUBS[1]), ("str-subclass-empty", SUBS[2]),
    ("int-subclass", SUBS[3]), ("dict-subclass", SUBS[4]), ("metaclass", SUBS[5]),
    ("class-with-metaclass", SUBS[6]),
    ("frame-running", RUNNING_FRAME), ("frame-finished", FINISHED_FRAME),
] + [("StgDict-%d" % i, d) for i, d in enumerate(STGDICTS)] + [
    ("ctypes-type-%d" % i, t) for i, t in enumerate(CTYPES)]

_truth.run("sizeof", classes=[StrSub, IntSub, DictSub],
           samples=SAMPLES, cycles=False)
