"""why (d): duplicate strings built at run time (not interned): 3,000
copies of 'duplicate-value-%d' % (i % 10) and 1,000 copies of a bytes value.
Also checks the retained-size arithmetic invariants on an ordinary heap."""
import gc
gc.disable()

import sys

import _truth
import _whytruth

DUPES = ["".join(["duplicate-value-", str(i % 10)]) for i in range(3000)]
# bytearray * 4: not folded into a code constant (which would be a 1001st copy)
BDUPES = [bytes(bytearray(b"dup-bytes-payload") * 4) for _ in range(1000)]
_whytruth.write({
    "str_copies": 3000, "str_distinct": 10,
    "str_wasted": sum(sys.getsizeof(s) for s in DUPES[10:]),
    "bytes_copies": 1000, "bytes_distinct": 1,
    "bytes_wasted": sum(sys.getsizeof(b) for b in BDUPES[1:]),
    # per value: copies and the sizes of all copies but one
    "str_groups": {v: [DUPES.count(v), sum(sys.getsizeof(s) for s in DUPES if s == v)
                       - sys.getsizeof(v)] for v in sorted(set(DUPES))},
    "bytes_groups": {BDUPES[0].decode(): [len(BDUPES),
                                          sum(sys.getsizeof(b) for b in BDUPES[1:])]},
})

_truth.run("why_dupes", cycles=False)
