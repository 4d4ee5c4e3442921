"""Real program 6: a C-extension reference leak among objects that C code
holds legitimately.

A record cache hands out dicts to a "C extension" (ctypes.pythonapi.Py_IncRef,
exactly what a missing Py_DECREF leaves behind) and then forgets them: 60,000
dicts (each GC-tracked: it holds a list) have one reference nobody owns.
Around them, objects that C code holds on purpose:
  - an sqlite3 connection with a statement cache (3.11: a functools LRU
    cache inside the connection) after 300 distinct statements, cursors and
    rows;
  - functools.lru_cache-wrapped functions with cached results (the results
    are held by the cache's C linked list);
  - three worker threads blocked on a threading.Event (their bootstrap
    objects are held by the C thread runner), a threading.local;
  - struct.Struct, re patterns, a decimal context, an io.BytesIO;
  - the interpreter's own C-held objects (static types, module state, the
    ast module's singletons, ...).
The report must show exactly one unexplained_refs suspect for the leak --
dict, 60,000 objects, 60,000 excess references -- and nothing else.
The leaked addresses are written to TRUTH.json.leak.json before the fork.
"""
import gc
gc.disable()

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

import ctypes  # noqa: E402
import decimal  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import sqlite3  # noqa: E402
import struct  # noqa: E402
import threading  # noqa: E402

LEAKED = 60000

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class RecordCache:
    """Builds records for a C accelerator that forgets to release them."""

    def __init__(self):
        self.handed_out = 0

    def make(self, i):
        return {"id": i, "name": "rec-%d" % i, "tags": ["t%d" % (i % 10)], "score": i * 0.5}

    def hand_to_c(self, rec):
        _incref(rec)          # the C side keeps a reference it never drops
        self.handed_out += 1


CACHE = RecordCache()


def leak_records():
    addrs = []
    for i in range(LEAKED):
        rec = CACHE.make(i)
        CACHE.hand_to_c(rec)
        addrs.append(id(rec))
    return addrs


_addrs = leak_records()
_realtruth.side("leak", {"type": "dict", "objects": len(_addrs), "excess": len(_addrs),
                         "addresses": _addrs})
del _addrs

# -- sqlite3 with a statement cache --------------------------------------
DB = sqlite3.connect(":memory:", cached_statements=128)
DB.execute("create table item (id integer primary key, name text, price real, qty integer)")
DB.executemany("insert into item (name, price, qty) values (?, ?, ?)",
               (("item-%d" % i, i * 1.25, i % 17) for i in range(2000)))
ROWS = []
for i in range(300):
    # distinct statement texts: the cache fills up and evicts
    cur = DB.execute("select id, name, price from item where qty = ? and id > %d" % i, (i % 17,))
    ROWS.append(cur.fetchmany(3))
CURSOR = DB.cursor()
CURSOR.execute("select count(*), sum(price) from item")
TOTAL = CURSOR.fetchone()


# -- functools.lru_cache --------------------------------------------------
@functools.lru_cache(maxsize=512)
def price_table(n):
    return {"n": n, "prices": [n * 1.1, n * 2.2], "label": "table-%d" % n}


@functools.lru_cache(maxsize=None)
def parse_sku(sku):
    parts = sku.split("-")
    return tuple(parts) + (len(parts),)


for _i in range(700):
    price_table(_i % 600)
    parse_sku("sku-%d-%d" % (_i, _i % 7))
del _i


# -- threads and thread-local state ----------------------------------------
threading.stack_size(512 * 1024)     # small stacks: a small gcore core
STOP = threading.Event()
LOCAL = threading.local()
READY = []


def worker(n):
    LOCAL.name = "worker-%d" % n
    state = {"n": n, "seen": []}
    READY.append(state)
    STOP.wait()


THREADS = [threading.Thread(target=worker, args=(n,), name="worker-%d" % n, daemon=True)
           for n in range(3)]
for _t in THREADS:
    _t.start()
del _t
while len(READY) < 3:
    pass
_realtruth.wait_parked(THREADS)

# -- other C-held state -------------------------------------------------
PACKERS = [struct.Struct("<%dI" % n) for n in range(1, 9)]
PATTERNS = [re.compile(r"(?P<key>\w+)=(?P<val>[^;]{%d,})" % n) for n in range(1, 6)]
decimal.getcontext().prec = 40
DEC = decimal.Decimal(1) / decimal.Decimal(7)
BUF = io.BytesIO(b"x" * 10000)

_realtruth.run("real_cext_leak")
