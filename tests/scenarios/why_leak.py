"""why (b): 5,000 instances of a class get one extra reference each with
ctypes.pythonapi.Py_IncRef (what a C extension's missing Py_DECREF does),
then every Python reference to them is dropped.  The report must show a
leak suspect of kind unexplained_refs for that type: 5,000 objects, 5,000
excess references."""
import gc
gc.disable()

try:
    import ctypes
except ImportError as e:    # e.g. an unpacked interpreter without its libffi
    ctypes = None
    _why_not = "ctypes unavailable in this interpreter: %s" % e

import _truth
import _whytruth


class LeakedThing:
    def __init__(self, i):
        self.i = i


if ctypes is not None:
    _incref = ctypes.pythonapi.Py_IncRef
    _incref.argtypes = [ctypes.py_object]
    _incref.restype = None
    _things = [LeakedThing(i) for i in range(5000)]
    for _t in _things:
        _incref(_t)
    del _t, _things
    _whytruth.write({"type": _truth.typename_of_class(LeakedThing), "objects": 5000,
                     "excess": 5000})
else:
    _whytruth.write({"skip": _why_not})

_truth.run("why_leak", classes=[LeakedThing], cycles=False)
