"""why (a): a module-level cache `_CACHE = {}` in a module of its own
(why_cachemod, made at run time) holding 20,000 bytes objects of 1 KB.
The report's top retainer must be that dict, its path must name the module
and `_CACHE`, and its retained size must be within 2% of the sum of
sys.getsizeof of the dict, its keys and its values."""
import gc
gc.disable()

import sys
import types

import _truth
import _whytruth

mod = types.ModuleType("why_cachemod")
sys.modules["why_cachemod"] = mod
mod._CACHE = {}
for i in range(20000):
    mod._CACHE["item:%d" % i] = bytes([i % 251]) * 1000
_total = sys.getsizeof(mod._CACHE) + sum(sys.getsizeof(k) + sys.getsizeof(v)
                                         for k, v in mod._CACHE.items())
_whytruth.write({"cache_id": id(mod._CACHE), "cache_retained": _total,
                 "module": "why_cachemod"})
del _total, mod

_truth.run("why_cache", cycles=False)
