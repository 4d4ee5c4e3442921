"""Memory scenario: a plain-Python program that freed most of what it
allocated (issue 10).

A service's cache of 150,000 records (a dict per record, str and int
values, a list of tags) in a module-level dict; then three records in four
are evicted.  pymalloc keeps the arenas the survivors still touch, and
malloc keeps the freed large chunks (dict tables, big lists): memory held
but not used, which the report must show as free (pymalloc_free,
malloc_free) rather than as used or unexplained.
"""
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _memtruth  # noqa: E402

# `--preload LIB`: run again with LIB preloaded (another allocator than
# glibc's malloc, e.g. jemalloc), in the same process.
if len(sys.argv) > 4 and sys.argv[3] == "--preload":
    lib = sys.argv[4]
    if not os.path.exists(lib):
        sys.stderr.write("SKIP: %s is not installed\n" % lib)
        sys.exit(77)
    env = dict(os.environ, LD_PRELOAD=lib)
    os.execve(sys.executable, [sys.executable] + sys.argv[:3], env)

gc.disable()
CACHE = {}
for i in range(150000):
    CACHE["user:%d" % i] = {"id": i, "name": "user number %d" % i, "email": "u%d@example.org" % i,
                            "score": i * 3.5, "tags": ["t%d" % (i % 13), "t%d" % (i % 17)]}
BIG_LISTS = [list(range(5000)) for _ in range(200)]
for i in range(150000):
    if i % 4:
        del CACHE["user:%d" % i]
del BIG_LISTS[::2]
gc.collect()
_memtruth.run("mem_plain", {"records": len(CACHE)})
