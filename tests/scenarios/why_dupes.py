"""why (d): duplicate strings built at run time (not interned): 3,000
copies of 'duplicate-value-%d' % (i % 10) and 1,000 copies of a bytes value.
Also checks the retained-size arithmetic invariants on an ordinary heap."""
import gc
gc.disable()

import sys

import _truth
import _whytruth

DUPES = ["".join(["duplicate-value-", str(i % 10)]) for i in range(3000)]
BDUPES = [bytes(bytearray(b"dup-bytes-payload" * 4)) for _ in range(1000)]
_whytruth.write({
    "str_copies": 3000, "str_distinct": 10,
    "str_wasted": sum(sys.getsizeof(s) for s in DUPES[10:]),
    "bytes_copies": 1000, "bytes_distinct": 1,
    "bytes_wasted": sum(sys.getsizeof(b) for b in BDUPES[1:]),
})

_truth.run("why_dupes", cycles=False)
