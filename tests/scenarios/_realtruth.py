"""Ground truth of the real_* programs (tests/e2e/run_real.py), recorded
inside the interpreter that is dumped.  Stdlib only (ctypes wanted).

Every real_* program is run as

    python -E -s -B real_X.py MODE TRUTH.json [ignored arguments...]

(MODE: abort | sleep | selfcheck, as for tests/scenarios/_truth.py).  It
calls gc.disable() first, imports this module, builds its heap, keeps what
it wants alive in module globals and ends with ``_realtruth.run(NAME)``.

Forking without touching the heap
---------------------------------
os.fork() runs the interpreter's after-fork hooks in the child:
threading._after_fork() stops every other Thread object, clears their
Conditions' waiter deques and replaces threading._active, and
PyThreadState_Clear() of the other threads drops their thread dicts and
contexts.  With threads alive the child's heap would not be the dumped heap.
run() therefore forks by calling the C library's fork() through
ctypes.PyDLL (the GIL stays held and no Python-level hook runs): the child is
a byte copy of the parent at that instant, other threads' states and frames
included.  Without ctypes it falls back to os.fork() and records
``"fork": "os.fork"``.  Between the fork and the dump the parent only waits
(os.waitpid) and then calls os.abort() (or prints READY with os.write and
sleeps, for gcore): nothing it does outlives the call that did it.

What the child records (TRUTH.json, and TRUTH.json.objects.gz)
---------------------------------------------------------------
a. ``gc_objects`` = len(gc.get_objects()) -- the child's first statement;
   ``gc_types``: every type's number of GC-tracked objects.
b. The object closure C0 and, for every object in it, its address, type
   name (the text between the quotes of repr(type)), sys.getsizeof(), whether
   it is GC-tracked, whether it lives in a mapped ELF file (static objects of
   the interpreter or of an extension), its refcount and the number of
   references to it the closure found.  Written as TRUTH.json.objects.gz
   (see write_objects for the format); per-type counts and bytes in
   ``types``.

   Seeds: every object of gc.get_objects(); the stack of every thread (the
   main thread from run()'s frame outwards, the others whole, through
   sys._current_frames() -- which works in the raw-forked child because the
   other thread states were not cleared): each frame's f_code, f_globals,
   f_builtins and the values of f_locals.
   Edges: gc.get_referents(o) (= tp_traverse), type(o), and the references
   tp_traverse does not visit but that the interpreter exposes without
   creating the object referenced (see _extra_refs):
     - dicts: their keys (a dict with str keys visits only its values);
     - types: __dict__ (through the mappingproxy), __mro__, __bases__,
       __base__; heap types also ht_name, ht_qualname and ht_slots;
     - code objects (not GC objects from 3.11): co_consts, co_names,
       co_filename, co_name, co_qualname, co_linetable, co_exceptiontable;
       <= 3.10 co_code, co_varnames, co_cellvars, co_freevars (plain
       fields); 3.11+ co_localsplusnames, co_localspluskinds and the cached
       co_code (raw fields);
     - method/member/getset/wrapper/classmethod descriptors: d_name and
       d_qualname (raw fields); modules: md_name (raw field);
     - weak references: the referent (a weak edge: not counted as a
       reference);
     - numpy.ndarray (not a GC type: get_referents shows nothing): .base and
       .dtype; numpy.dtype: .type, .names, .fields, .metadata, the base and
       shape of .subdtype.
   Raw fields are read with ctypes at offsets calibrated at import time on
   objects made for the purpose (a field is the word that holds the id of
   the object the attribute returns), never from header knowledge; the
   offsets found are in ``calibration``.
     - types: tp_subclasses (3.8 - 3.11: a dict of weak references);
     - thread states: the thread dict (PyThreadState_GetDict), through
       PyInterpreterState_ThreadHead / PyThreadState_Next, as a root;
     - io.BytesIO's buffer, datetime.timezone's offset and name, a range's
       start/stop/step/length (raw fields); datetime/time: tzinfo.
   Not revealed (documented gaps, shown by run_real.py as "hidden"
   tool-only objects): weak proxies' referents, references kept in C
   structs of extension types that neither traverse nor expose them (a
   multidict's identity strings, Cython bytes/bytearray fields, numpy's
   per-DType singletons, a PyModuleDef's m_copy), shared-key strings
   nothing else references, objects held only by C stacks or C globals,
   the 3.12+ interned-strings dict.
c. The collector's unreachable set: gc.set_debug(DEBUG_COLLECTABLE |
   DEBUG_UNCOLLECTABLE) prints one line per object of the initial
   unreachable set (before weakref callbacks and finalizers run) to
   sys.stderr, redirected to TRUTH.json.gclines; ``unreachable``: their
   addresses, ``unreachable_types``: {type: [count, bytes]}.
   That collection is real: afterwards the closure is walked again (C1) and
   ``freed_bytes`` is the getsizeof sum of the objects of C0 that are gone
   (same address and type no longer in C1) -- "all memory the collection
   freed", including non-GC objects only the garbage held.  Two details
   make that exact: a full collection untracks the tuples and dicts it
   finds reachable (they leave gc.get_objects()), so the objects held from
   outside (below) and the static ones are kept in a list across it and
   seed C1 -- they cannot be garbage: more references than the heap shows
   means gc_refs > 0 -- and the reference-count cascade among them is
   replayed afterwards (one whose only owner was garbage, through a
   reference tp_traverse does not visit, is freed for real).
d. Diagnostics (not asserted): ``held_outside`` -- objects of C0 with more
   references than the closure explains (refcount - references found > 0)
   that no interpreter root reaches (sys.modules, the sys and builtins
   dicts, thread stacks, static types), per type with examples: the truth
   side of the report's unexplained_refs suspects; ``python_sizeof``: types
   with a __sizeof__ written in Python.

MODE=selfcheck: the parent measures itself after the child, exactly the
same way, into TRUTH.json.parent.json (run_real.py --selfcheck compares).

Side truth: programs call side(NAME, data) before run() to write
TRUTH.json.NAME.json in the parent (then drop what they passed).
"""

import array
import bisect
import collections
import gc
import gzip
import io
import json
import os
import sys
import time
import types
import weakref
import _thread

try:
    import ctypes
    import _ctypes
except ImportError as _e:          # an interpreter without libffi
    ctypes = None
    _ctypes = None
    _CTYPES_WHY = str(_e)

FORMAT = "pyheap-real-truth/1"
MODES = ("abort", "sleep", "selfcheck")

# Module-level state, so that run()'s frame holds nothing of its own.
STATE = {}


def typename_of_class(cls):
    r = type.__repr__(cls)
    return r[8:-2] if r.startswith("<class '") and r.endswith("'>") else r


def side(name, data):
    """Write TRUTH.json.NAME.json now (in the parent, before the fork)."""
    if len(sys.argv) < 3:
        return
    path = os.path.abspath(sys.argv[2]) + "." + name + ".json"
    with open(path, "w") as f:
        json.dump(data, f)


def need(module, package):
    """Import a library the program needs, or exit 77 naming its Debian
    package (run_real.py turns that into a SKIP)."""
    try:
        return __import__(module)
    except ImportError as e:
        sys.stderr.write("MISSING %s (%s): %s\n" % (package, module, e))
        sys.stderr.flush()
        os._exit(77)


def wait_parked(threads, timeout=30.0):
    """Wait until every thread is blocked for good inside a `wait`/`acquire`
    of the threading module (its innermost Python frame is
    Condition.wait), then a little more for it to enter the C call."""
    deadline = time.monotonic() + timeout
    idents = [t.ident for t in threads]
    while True:
        frames = sys._current_frames()
        pending = [i for i in idents if i not in frames
                   or frames[i].f_code.co_name != "wait"
                   or not frames[i].f_code.co_filename.endswith("threading.py")]
        del frames
        if not pending:
            time.sleep(0.1)
            return
        if time.monotonic() > deadline:
            raise RuntimeError("threads never parked: %r" % pending)
        time.sleep(0.01)


# ---------------------------------------------------------------------------
# Memory map and raw reads (ctypes)

def _maps():
    """[(start, end, path)] of readable mappings; path '' for anonymous."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = parts[0].split("-")
            if parts[1][0] != "r":
                continue
            path = parts[5].strip() if len(parts) > 5 else ""
            out.append((int(lo, 16), int(hi, 16), path))
    return out


def _readable(addr, ranges):
    for lo, hi, _ in ranges:
        if lo <= addr and addr + 16 <= hi:
            return True
    return False


def _word(addr):
    return ctypes.c_uint64.from_address(addr).value


def _obj_at(addr, want_type):
    """The object at addr if its type pointer is want_type, else None."""
    if not addr or addr & 7:
        return None
    if _word(addr + 8) != id(want_type):
        return None
    return _ctypes.PyObj_FromPtr(addr)


def _find_offsets(obj, size, pred, ranges):
    """Offsets (16 .. size) of words of obj that point to an object for
    which pred(word) is true."""
    out = []
    base = id(obj)
    for off in range(16, size, 8):
        w = _word(base + off)
        if w and not w & 7 and _readable(w, ranges) and pred(w):
            out.append(off)
    return out


# ---------------------------------------------------------------------------
# Calibration: the offsets of the raw fields, found on objects made here
# (at import time, in the parent: everything made here is part of the
# dumped heap, and the child sees it identically).

class _CalibSlots:
    __slots__ = ["calib_slot_zeta", "calib_slot_alpha"]


def _calib_code_a(calib_arg_alpha, calib_arg_beta):
    calib_local_gamma = calib_arg_alpha
    return calib_local_gamma, calib_arg_beta


def _calib_code_b(calib_other_delta):
    calib_other_eps = calib_other_delta
    return calib_other_eps


CALIB = {}              # name -> offset (or description) ; stays in the heap
CALIB_NOTES = []
RAW_FIELDS = {}         # C type -> [(offset, type of the object there)]
TSTATE_API = []         # ctypes functions, made before the fork


def _calibrate():
    if ctypes is None:
        CALIB_NOTES.append("no ctypes: raw fields not read (%s)" % _CTYPES_WHY)
        return
    ranges = _maps()

    # heap type: ht_slots (a sorted tuple of the slot names)
    want = ("calib_slot_alpha", "calib_slot_zeta")
    offs = _find_offsets(_CalibSlots, type.__basicsize__,
                         lambda w: (lambda o: o is not None and tuple(o) == want)(_obj_at(w, tuple)),
                         ranges)
    if len(offs) == 1:
        CALIB["ht_slots"] = offs[0]
    else:
        CALIB_NOTES.append("ht_slots: offsets %r" % offs)

    # type: tp_subclasses (3.8 - 3.11: a dict {id: weakref}; 3.12+ keeps
    # the static types' ones in the interpreter)
    class _CalibBase:
        pass

    class _CalibSub(_CalibBase):
        pass
    offs = _find_offsets(
        _CalibBase, type.__basicsize__,
        lambda w: (lambda d: d is not None and any(type(r) is weakref.ref and r() is _CalibSub
                                                   for r in d.values()))(_obj_at(w, dict)),
        ranges)
    if len(offs) == 1:
        CALIB["tp_subclasses"] = offs[0]
    else:
        CALIB_NOTES.append("tp_subclasses: offsets %r" % offs)
    STATE["calib_classes"] = (_CalibBase, _CalibSub)

    # descriptors: d_name, d_qualname
    d = _CalibSlots.__dict__["calib_slot_alpha"]
    name, qual = d.__name__, d.__qualname__
    size = type(d).__basicsize__
    for key, target in (("d_name", name), ("d_qualname", qual)):
        offs = _find_offsets(d, size, lambda w, t=target: w == id(t), ranges)
        if len(offs) == 1:
            CALIB[key] = offs[0]
        else:
            CALIB_NOTES.append("%s: offsets %r" % (key, offs))

    # module: md_name (the same str as __dict__['__name__'] at creation)
    m = types.ModuleType("_realtruth_calib_module")
    offs = _find_offsets(m, type(m).__basicsize__, lambda w: w == id(m.__name__), ranges)
    if len(offs) == 1:
        CALIB["md_name"] = offs[0]
    else:
        CALIB_NOTES.append("md_name: offsets %r" % offs)
    CALIB_NOTES.append("calibration module kept: %s" % m.__name__)
    STATE["calib_module"] = m

    # thread states: the thread dict (PyThreadState_GetDict), reached in
    # the child for every thread through PyInterpreterState_ThreadHead /
    # PyThreadState_Next
    api = ctypes.pythonapi
    api.PyThreadState_Get.restype = ctypes.c_void_p
    api.PyThreadState_GetDict.restype = ctypes.py_object
    # made here, in the parent: ctypes caches function objects in the
    # library object the first time they are named (a mutation the child
    # must not make)
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    TSTATE_API.extend((api.PyInterpreterState_Get, api.PyInterpreterState_ThreadHead,
                       api.PyThreadState_Next))
    ts = api.PyThreadState_Get()
    tsdict = api.PyThreadState_GetDict()
    offs = [off for off in range(0, 1024, 8) if _word(ts + off) == id(tsdict)]
    if len(offs) == 1:
        CALIB["ts_dict"] = offs[0]
    else:
        CALIB_NOTES.append("ts_dict: offsets %r" % offs)
    del tsdict

    # C types whose fields hold objects that neither tp_traverse nor an
    # attribute shows without making a new object
    import io
    import datetime
    b = b"calibration bytes of a BytesIO"
    bio = io.BytesIO(b)
    offs = _find_offsets(bio, type(bio).__basicsize__, lambda w: w == id(b), ranges)
    if len(offs) == 1:
        RAW_FIELDS[io.BytesIO] = [(offs[0], bytes)]
    else:
        CALIB_NOTES.append("BytesIO.buf: offsets %r" % offs)
    del bio, b
    tzname = "Calibration/Zone"
    tz = datetime.timezone(datetime.timedelta(hours=3), tzname)
    offs = _find_offsets(tz, type(tz).__basicsize__, lambda w: w == id(tzname), ranges)
    offs2 = _find_offsets(tz, type(tz).__basicsize__, lambda w: w == id(tz.utcoffset(None)), ranges)
    if len(offs) == 1 and len(offs2) == 1:
        RAW_FIELDS[datetime.timezone] = [(offs2[0], datetime.timedelta), (offs[0], str)]
    else:
        CALIB_NOTES.append("timezone: offsets %r %r" % (offs2, offs))
    del tz
    # range: start, stop, step (attributes) and the cached length (hidden)
    r = range(10 ** 20, 10 ** 20 + 3 * 10 ** 6, 7)
    fields = []
    for v in (r.start, r.stop, r.step):
        offs = _find_offsets(r, type(r).__basicsize__, lambda w, v=v: w == id(v), ranges)
        if len(offs) == 1:
            fields.append((offs[0], int))
    n = len(r)
    offs = [o for o in _find_offsets(r, type(r).__basicsize__,
                                     lambda w: (lambda x: x is not None and x == n)(_obj_at(w, int)),
                                     ranges) if o not in [f[0] for f in fields]]
    if len(fields) == 3 and len(offs) == 1:
        RAW_FIELDS[range] = fields + [(offs[0], int)]
    else:
        CALIB_NOTES.append("range: offsets %r %r" % (fields, offs))
    del r, fields
    CALIB["raw_fields"] = ["%s.%s:%s" % (t.__module__, t.__qualname__, ",".join(
        "%d/%s" % (o, w.__name__) for o, w in f)) for t, f in RAW_FIELDS.items()]

    # code objects, 3.11+: co_localsplusnames, co_localspluskinds, _co_code
    ca = _calib_code_a.__code__
    if hasattr(ca, "_varname_from_oparg"):
        names = []
        while True:
            try:
                names.append(ca._varname_from_oparg(len(names)))
            except IndexError:
                break
        names = tuple(names)
        size = type(ca).__basicsize__
        offs = _find_offsets(ca, size,
                             lambda w: (lambda o: o is not None and o == names)(_obj_at(w, tuple)),
                             ranges)
        if len(offs) == 1:
            CALIB["co_localsplusnames"] = offs[0]
        else:
            CALIB_NOTES.append("co_localsplusnames: offsets %r" % offs)
        cb = _calib_code_b.__code__
        code_bytes = cb.co_code          # cached in the code object (3.11+)
        offs = _find_offsets(cb, size, lambda w: w == id(code_bytes), ranges)
        if len(offs) == 1:
            CALIB["co_code_cached"] = offs[0]
        else:
            # 3.12+: _co_cached points to a struct of four pointers
            cb.co_varnames, cb.co_cellvars, cb.co_freevars
            offs2 = _find_offsets(cb, size, lambda w: _word(w) == id(code_bytes), ranges)
            if len(offs2) == 1:
                CALIB["co_cached_struct"] = offs2[0]
            else:
                CALIB_NOTES.append("cached co_code: offsets %r / struct %r" % (offs, offs2))
        skip = {CALIB.get("co_code_cached"), CALIB.get("co_localsplusnames")}
        offs = [o for o in _find_offsets(
            ca, size,
            lambda w: (lambda o: o is not None and len(o) == len(names) and o is not ca.co_linetable
                       and o is not ca.co_exceptiontable)(_obj_at(w, bytes)),
            ranges) if o not in skip]
        if len(offs) == 1:
            CALIB["co_localspluskinds"] = offs[0]
        else:
            CALIB_NOTES.append("co_localspluskinds: offsets %r" % offs)


_calibrate()


# ---------------------------------------------------------------------------
# The closure

_type_dict = type.__dict__["__dict__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_bases = type.__dict__["__bases__"].__get__
_type_base = type.__dict__["__base__"].__get__
_type_name = type.__dict__["__name__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_dict_keys = dict.keys
_wr_call = weakref.ref.__call__
HEAPTYPE = 1 << 9
HAVE_GC = 1 << 14
_DESCR_TYPES = tuple({type(str.join), type(int.__dict__["real"]), type(type.__dict__["__dict__"]),
                      type(int.__add__), type(dict.__dict__["fromkeys"]),
                      type(_CalibSlots.__dict__["calib_slot_alpha"])})
_CODE = types.CodeType
_MODULE = types.ModuleType
import datetime as _dt
_TZINFO_TYPES = (_dt.datetime, _dt.time)
_OLD_CODE = not hasattr(_calib_code_a.__code__, "_varname_from_oparg")


def _raw(o, key, want_type):
    off = CALIB.get(key)
    if off is None:
        return None
    w = _word(id(o) + off)
    return _obj_at(w, want_type) if w else None


def _numpy_refs(o, t, np, out):
    if issubclass(t, np.ndarray):
        out.append(np.ndarray.base.__get__(o))
        out.append(np.ndarray.dtype.__get__(o))
    elif issubclass(t, np.dtype):
        out.append(o.type)
        out.append(o.names)
        f = o.fields
        if f is not None:
            out.extend(gc.get_referents(f))
        md = o.metadata
        if md is not None:
            out.extend(gc.get_referents(md))
        sub = o.subdtype
        if sub is not None:
            out.extend(sub)


def _extra_refs(o, t, refs):
    """References of o that tp_traverse does not visit:
    (counted, uncounted, weak).  `counted` are strong references the
    interpreter does not show; `uncounted` are references tp_traverse
    already reported (pushed for the walk only); `weak` is a weak
    reference's referent or None.  Never calls Python-level code of the
    object (no isinstance(): a __class__ property, e.g. Django's
    LazyObject, would run)."""
    out = []
    unc = ()
    weak = None
    if issubclass(t, dict):
        keys = list(_dict_keys(o))
        if keys:
            if t is dict:
                visited = len(refs) >= 2 * len(keys)
            else:
                # (no Counter(iterable): its isinstance(x, Mapping) would
                # fill an ABC cache, a pre-existing object, in the child)
                have = set()
                for r in refs:
                    have.add(id(r))
                visited = all(id(k) in have for k in keys)
            if visited:
                unc = keys
            else:
                out.extend(keys)
    if issubclass(t, type):
        out.extend(gc.get_referents(_type_dict(o)))
        out.append(_type_mro(o))
        out.append(_type_bases(o))
        out.append(_type_base(o))
        if ctypes is not None:
            out.append(_raw(o, "tp_subclasses", dict))
        if o.__flags__ & HEAPTYPE:
            out.append(_type_name(o))
            out.append(_type_qualname(o))
            if ctypes is not None:
                out.append(_raw(o, "ht_slots", tuple))
        if refs:
            # heap types: type_traverse visited tp_dict, mro, bases, base
            unc = [x for x in out if any(x is r for r in refs)]
            out = [x for x in out if not any(x is r for r in refs)]
    elif t is _CODE:
        out.extend((o.co_consts, o.co_names, o.co_filename, o.co_name))
        if hasattr(o, "co_qualname"):
            out.append(o.co_qualname)
        if hasattr(o, "co_exceptiontable"):
            out.append(o.co_exceptiontable)
        if hasattr(o, "co_linetable"):
            out.append(o.co_linetable)
        if _OLD_CODE:
            out.extend((o.co_code, o.co_varnames, o.co_cellvars, o.co_freevars))
            if not hasattr(o, "co_linetable"):
                out.append(o.co_lnotab)
        elif ctypes is not None:
            out.append(_raw(o, "co_localsplusnames", tuple))
            out.append(_raw(o, "co_localspluskinds", bytes))
            if "co_code_cached" in CALIB:
                out.append(_raw(o, "co_code_cached", bytes))
            elif "co_cached_struct" in CALIB:
                w = _word(id(o) + CALIB["co_cached_struct"])
                if w:
                    for i in range(4):
                        p = _word(w + 8 * i)
                        if p:
                            out.append(_ctypes.PyObj_FromPtr(p))
    elif t in _DESCR_TYPES:
        if ctypes is not None:
            out.append(_raw(o, "d_name", str))
            out.append(_raw(o, "d_qualname", str))
    elif issubclass(t, _MODULE):
        if ctypes is not None:
            out.append(_raw(o, "md_name", str))
    elif issubclass(t, weakref.ref):
        weak = _wr_call(o)
    elif t in RAW_FIELDS:
        base = id(o)
        for off, want in RAW_FIELDS[t]:
            w = _word(base + off)
            if w:
                out.append(_obj_at(w, want))
    elif t in _TZINFO_TYPES:
        out.append(o.tzinfo)
    else:
        np = sys.modules.get("numpy")
        if np is not None and issubclass(t, (np.ndarray, np.dtype)):
            _numpy_refs(o, t, np, out)
    return [x for x in out if x is not None], unc, weak


def _frame_seeds(frames):
    """The frames themselves (run() gave every frame a frame object before
    the fork), their code, globals, builtins and local values."""
    out = []
    for f in frames:
        out.append(f)
        out.append(f.f_code)
        out.append(f.f_globals)
        out.append(f.f_builtins)
        loc = f.f_locals
        if type(loc) is dict:
            out.extend(dict.values(loc))
    return out


def _tstate_dicts():
    """Every thread state's dict (a root of the tool: thread-local storage
    keys live there), through the C API and the calibrated offset."""
    off = CALIB.get("ts_dict")
    if off is None:
        return []
    get_interp, thread_head, thread_next = TSTATE_API
    out = []
    ts = thread_head(get_interp())
    while ts:
        w = _word(ts + off)
        if w:
            out.append(_obj_at(w, dict))
        ts = thread_next(ts)
    return [d for d in out if d is not None]


def _stack_from(frame):
    out = []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


def _thread_frames():
    """Frames that are roots: the main thread from run()'s frame outwards,
    every other thread whole."""
    me = _thread.get_ident()
    frames = []
    cur = sys._current_frames()
    for ident, top in cur.items():
        if ident == me:
            f = top
            while f is not None and f.f_code is not run.__code__:
                f = f.f_back
            frames.extend(_stack_from(f))
        else:
            frames.extend(_stack_from(top))
    del cur
    return frames


VIA_KINDS = "-rxktw"     # seed, referent, extra, dict key (visited), type, weak


def walk(seeds, exclude, want_edges):
    """Closure of seeds.  Returns (seen {id: obj}, indeg {id: n}, via
    {id: (parent id, kind index in VIA_KINDS)}) -- indeg (references found,
    weak ones excluded) and via only when want_edges."""
    seen = {}
    indeg = collections.Counter() if want_edges else None
    via = {} if want_edges else None
    stack = list(seeds)
    parents = [0] * len(stack)
    kinds = bytearray(len(stack))
    get_referents = gc.get_referents
    while stack:
        o = stack.pop()
        parent = parents.pop()
        kind = kinds.pop()
        i = id(o)
        if i in seen or i in exclude:
            continue
        seen[i] = o
        t = type(o)
        refs = get_referents(o)
        extra, unc, weak = _extra_refs(o, t, refs)
        if want_edges:
            via[i] = (parent, kind)
            for r in refs:
                indeg[id(r)] += 1
            for r in extra:
                indeg[id(r)] += 1
            if t.__flags__ & HEAPTYPE and not any(r is t for r in refs):
                indeg[id(t)] += 1
        n = len(stack)
        stack.extend(refs)
        stack.extend(extra)
        stack.extend(unc)
        stack.append(t)
        if weak is not None:
            stack.append(weak)
        parents.extend([i] * (len(stack) - n))
        kinds.extend(b"\x01" * len(refs) + b"\x02" * len(extra) + b"\x03" * len(unc) + b"\x04"
                     + (b"\x05" if weak is not None else b""))
    return seen, indeg, via


# ---------------------------------------------------------------------------
# Measuring (in the child; in the parent for selfcheck)

class _Names:
    def __init__(self):
        self.by_type = {}       # id(type) -> index
        self.names = []
        self.index = {}         # name -> index

    def of(self, t):
        n = self.by_type.get(id(t))
        if n is None:
            name = typename_of_class(t)
            n = self.index.get(name)
            if n is None:
                n = self.index[name] = len(self.names)
                self.names.append(name)
            self.by_type[id(t)] = n
        return n


def _size(o):
    try:
        return sys.getsizeof(o)
    except Exception:
        return -1


class _Files:
    """Address ranges of mapped files (static objects live there)."""
    def __init__(self):
        r = sorted((lo, hi) for lo, hi, p in _maps() if p.startswith("/"))
        self.lo = [a for a, _ in r]
        self.hi = [b for _, b in r]

    def __contains__(self, addr):
        i = bisect.bisect_right(self.lo, addr) - 1
        return i >= 0 and addr < self.hi[i]


def _bytesio_size(o, seen, off):
    """BytesIO.__sizeof__ adds its buffer's size unless the buffer is
    shared (refcount > 1): take seen's own reference to the buffer away
    while asking."""
    w = _word(id(o) + off)
    if not w or w not in seen:
        return _size(o)
    seen[w] = None
    try:
        return _size(o)
    finally:
        seen[w] = _obj_at(w, bytes)


def _describe(o):
    t = type(o)
    try:
        if t in (str, bytes):
            return "%s len=%d %r" % (t.__name__, len(o), o[:60])
        if t is int:
            return "int %d" % o if abs(o) < 10 ** 30 else "int (big)"
        if t is tuple:
            return "tuple len=%d [%s]" % (len(o), ", ".join(typename_of_class(type(x)) for x in o[:6]))
        if t is dict:
            return "dict len=%d keys %s" % (len(o), [k for k in list(_dict_keys(o))[:6] if type(k) is str])
        if t is list:
            return "list len=%d [%s]" % (len(o), ", ".join(typename_of_class(type(x)) for x in o[:4]))
        if t in (types.FunctionType, types.BuiltinFunctionType):
            return "%s %s" % (t.__name__, o.__qualname__)
        if t is types.MethodType:
            return "method %s of %s" % (o.__func__.__qualname__, typename_of_class(type(o.__self__)))
        if issubclass(t, type):
            return "type %s" % typename_of_class(o)
        if t is types.ModuleType:
            return "module %s" % o.__name__
        if t is types.CodeType:
            return "code %s %s:%d" % (o.co_name, o.co_filename, o.co_firstlineno)
        if t is types.CellType:
            return "cell of %s" % typename_of_class(type(o.cell_contents))
    except Exception as e:          # never let a description fail the truth
        return "%s (%s)" % (typename_of_class(t), type(e).__name__)
    return typename_of_class(t)


def _kept_alive(keep):
    """The objects of `keep` that still have a reference besides keep's:
    real refcount = sys.getrefcount - 3 (keep, the loop variable, the
    argument), then the references of dead kept objects to kept objects are
    taken away until nothing changes."""
    rc = {}
    for o in keep:
        rc[id(o)] = sys.getrefcount(o) - 3
    by_id = {}
    for o in keep:
        by_id[id(o)] = o
    dead = [i for i, n in rc.items() if n <= 0]
    done = set()
    while dead:
        i = dead.pop()
        if i in done:
            continue
        done.add(i)
        o = by_id[i]
        refs = gc.get_referents(o)
        extra, unc, _ = _extra_refs(o, type(o), refs)
        for r in refs + extra:
            j = id(r)
            if j in rc and j not in done:
                rc[j] -= 1
                if rc[j] <= 0:
                    dead.append(j)
    return [o for o in keep if id(o) not in done]


F_GC, F_STATIC, F_UNREACHABLE, F_ROOTED, F_HELD, F_FREED = 1, 2, 4, 8, 16, 32


def measure(path):
    """The truth dict.  The first statement must stay the first, and this
    function must have no cell variables (no comprehension or nested
    function using its locals): 3.11+ makes cells when the frame starts,
    before gc.get_objects() could run.  The list leaves through `box` so
    that no frame keeps it."""
    box = [gc.get_objects()]
    return _measure(box, path)


def _measure(box, path):
    """Everything kept across the collection in (c) is ints in arrays,
    dicts of ints and strs, excluded from the second walk by id: no
    container made here holds a GC-tracked object of its own."""
    objs = box.pop()
    gc_n = len(objs)                                    # (a)
    t0 = time.monotonic()
    names = _Names()
    gc_types = collections.Counter()
    for o in objs:
        gc_types[names.of(type(o))] += 1

    # (b) closure C0
    frames = _thread_frames()
    root_seeds = _frame_seeds(frames) + _tstate_dicts()
    del frames
    seeds = objs + root_seeds
    seen, indeg, via = walk(seeds, {id(objs), id(root_seeds), id(seeds)}, True)
    del seeds
    gc_ids = set(map(id, objs))
    files = _Files()
    n = len(seen)
    addrs = array.array("Q", seen)
    tidx = array.array("I", bytes(4 * n))
    sizes = array.array("q", bytes(8 * n))
    flags = bytearray(n)
    refcnt = array.array("q", bytes(8 * n))
    per_type = {}
    pysizeof = set()
    gc_typed = set()
    static_types = []
    k = 0
    bytesio = RAW_FIELDS.get(io.BytesIO)
    for o in seen.values():
        t = type(o)
        ti = names.of(t)
        if bytesio and t is io.BytesIO:
            s = _bytesio_size(o, seen, bytesio[0][0])
        else:
            s = _size(o)
        a = addrs[k]
        tidx[k] = ti
        sizes[k] = s
        flags[k] = (F_GC if a in gc_ids else 0) | (F_STATIC if a in files else 0)
        e = per_type.get(ti)
        if e is None:
            e = per_type[ti] = [0, 0]
            if type(getattr(t, "__sizeof__", None)) is types.FunctionType:
                pysizeof.add(ti)
            if t.__flags__ & HAVE_GC:
                gc_typed.add(ti)
        e[0] += 1
        e[1] += s
        if issubclass(t, type) and not o.__flags__ & HEAPTYPE:
            static_types.append(o)
        k += 1
    del gc_ids

    # interpreter roots the layout reports (modules, sys, builtins, stacks,
    # static types): for the held-outside diagnostic
    import builtins
    roots = [sys.modules, sys.__dict__, builtins.__dict__] + root_seeds + static_types
    del root_seeds, static_types
    reach, _, _ = walk(roots, {id(roots)}, False)
    reach_ids = set(reach)
    del reach, roots

    # refcounts (seen, the loop variable and the argument hold 3 more;
    # objs one more for GC objects, so it goes first)
    del objs
    k = 0
    for o in seen.values():
        refcnt[k] = sys.getrefcount(o) - 3
        k += 1
    held = {}
    # Kept alive across the collection, to seed the walk after it: objects
    # held from outside and static objects cannot be garbage (an object with
    # more references than the heap shows has gc_refs > 0: the collector
    # treats it as a root), but the collection untracks the tuples and dicts
    # among them, and only C code refers to them.
    keep = []
    k = 0
    for o in seen.values():
        a = addrs[k]
        ex = refcnt[k] - indeg.get(a, 0)
        if flags[k] & F_STATIC:
            keep.append(o)
        if a in reach_ids:
            flags[k] |= F_ROOTED
        elif ex > 0 and not flags[k] & F_STATIC and refcnt[k] < 10 ** 8:
            flags[k] |= F_HELD
            keep.append(o)
            name = names.names[tidx[k]]
            e = held.get(name)
            if e is None:
                e = held[name] = {"objects": 0, "excess": 0, "examples": []}
            e["objects"] += 1
            e["excess"] += ex
            if len(e["examples"]) < 5:
                e["examples"].append([hex(a), refcnt[k], indeg.get(a, 0), _describe(o)])
        k += 1
    held_json = json.dumps(held, sort_keys=True)
    del held, seen, reach_ids, o
    refs_found = array.array("q", (indeg.get(a, 0) for a in addrs))
    via_addr = array.array("Q", (via[a][0] for a in addrs))
    via_kind = bytes(via[a][1] for a in addrs)
    del indeg, via
    row_of = {a: k for k, a in enumerate(addrs)}

    # (c) the collector's unreachable set, then the rest of that collection
    lines_path = path + ".gclines"
    old_stderr = sys.stderr
    out = open(lines_path, "w")
    sys.stderr = out
    gc.set_debug(gc.DEBUG_COLLECTABLE | gc.DEBUG_UNCOLLECTABLE)
    collected = gc.collect()
    gc.set_debug(0)
    sys.stderr = old_stderr
    out.close()
    del out, old_stderr
    nlines = collections.Counter()
    unr_count = collections.Counter()
    unr_bytes = collections.Counter()
    unr_missing = 0
    line = f = None
    with open(lines_path) as f:
        for line in f:
            line = line.rstrip()
            if line.startswith("gc: ") and line.endswith(">"):
                nlines[line.split()[1]] += 1
                k = row_of.get(int(line[:-1].rsplit(None, 1)[1], 16))
                if k is None:
                    unr_missing += 1
                    continue
                flags[k] |= F_UNREACHABLE
                unr_count[tidx[k]] += 1
                unr_bytes[tidx[k]] += sizes[k]
    del line, f

    # `keep` kept its objects alive; some of them lost their last real
    # reference in the collection (an owner that was garbage and referred
    # to them through a reference tp_traverse does not visit): replay the
    # reference-count cascade among the kept objects to find them.
    live = _kept_alive(keep)
    del keep

    # closure C1 after the collection: what of C0 is gone, it freed.  Seeds:
    # the objects of gc.get_objects() that are objects of C0 (same address,
    # same type), the stacks and thread dicts, and the kept objects still
    # really alive; only C0 objects count.
    objs = gc.get_objects()
    frames = _thread_frames()
    seeds = _frame_seeds(frames) + _tstate_dicts() + live
    del frames, live
    for o in objs:
        k = row_of.get(id(o))
        if k is not None and flags[k] & F_GC and names.of(type(o)) == tidx[k]:
            seeds.append(o)
    o = None
    del objs, o
    after, _, _ = walk(seeds, {id(seeds)}, False)
    del seeds
    alive = bytearray(n)
    for a, o in after.items():
        k = row_of.get(a)
        if k is not None and names.of(type(o)) == tidx[k]:
            alive[k] = 1
    o = None
    del after, o
    freed_count = collections.Counter()
    freed_bytes = 0
    for k in range(n):
        if not alive[k]:
            freed_count[tidx[k]] += 1
            freed_bytes += sizes[k]
            flags[k] |= F_FREED

    nm = names.names
    truth = {
        "format": FORMAT,
        "gc_objects": gc_n,
        "gc_types": {nm[t]: c for t, c in sorted(gc_types.items())},
        "objects": n,
        "bytes": sum(s for s in sizes if s > 0),
        "types": {nm[t]: {"count": c, "bytes": b} for t, (c, b) in per_type.items()},
        "unsized": sorted({nm[tidx[k]] for k in range(n) if sizes[k] < 0}),
        "static_objects": sum(1 for f in flags if f & F_STATIC),
        "collected": collected,
        "gc_lines": dict(nlines),
        "unreachable_objects": sum(unr_count.values()),
        "unreachable_not_in_closure": unr_missing,
        "unreachable_bytes": sum(unr_bytes.values()),
        "unreachable_types": {nm[t]: [c, unr_bytes[t]] for t, c in unr_count.items()},
        "freed_objects": sum(freed_count.values()),
        "freed_bytes": freed_bytes,
        "freed_types": {nm[t]: c for t, c in freed_count.items()},
        "held_outside": json.loads(held_json),
        "python_sizeof": sorted(nm[t] for t in pysizeof),
        "gc_type_names": sorted(nm[t] for t in gc_typed),
        "calibration": dict(CALIB),
        "calibration_notes": list(CALIB_NOTES),
        "fork": STATE.get("fork"),
        "measure_seconds": round(time.monotonic() - t0, 2),
    }
    write_objects(path + ".objects.gz", nm, addrs, tidx, sizes, flags, refcnt, refs_found,
                  via_addr, via_kind)
    return truth


def write_objects(path, names, addrs, tidx, sizes, flags, refcnt, refs_found, via_addr, via_kind):
    """First line: a JSON list of the type names; then one line per object
    of C0: address (hex) TAB type index TAB size TAB flags TAB refcount TAB
    references found TAB via.  Flags: g = GC-tracked, s = static (in a
    mapped file), u = in the collector's unreachable set, r = reachable
    from an interpreter root, o = held from outside (refcount above the
    references found, no root reaches it, not static), f = freed by the
    real collection in (c), - = none.  via:
    how the walk first reached the object, KIND:PARENT-ADDRESS (hex), KIND
    one of VIA_KINDS: - seed, r referent (tp_traverse), x a reference
    tp_traverse does not visit (_extra_refs), k a dict key tp_traverse
    visited, t the object's type, w a weak reference's referent.
    The refcount is sys.getrefcount() less the measuring code's own
    references; it is higher than the dumped one for names the measuring
    code looked up (the type attribute cache keeps them) and for the code
    and function objects of the measuring frames."""
    with gzip.open(path, "wt", compresslevel=1) as f:
        f.write(json.dumps(names) + "\n")
        for k in range(len(addrs)):
            fl = flags[k]
            fs = ("g" if fl & F_GC else "") + ("s" if fl & F_STATIC else "") + \
                 ("u" if fl & F_UNREACHABLE else "") + ("r" if fl & F_ROOTED else "") + \
                 ("o" if fl & F_HELD else "") + ("f" if fl & F_FREED else "")
            f.write("%x\t%d\t%d\t%s\t%d\t%d\t%s:%x\n" % (
                addrs[k], tidx[k], sizes[k], fs or "-", refcnt[k], refs_found[k],
                VIA_KINDS[via_kind[k]], via_addr[k]))


def _measure_and_write(path):
    try:
        truth = measure(path)
        truth.update(STATE["pre"])
        truth["measured_by"] = "child" if os.getpid() != STATE["pre"]["pid"] else "parent"
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
        return 0
    except BaseException:
        import traceback
        with open(path + ".error", "w") as f:
            traceback.print_exc(file=f)
        return 1


def _raw_fork():
    f = ctypes.PyDLL(None).fork
    f.restype = ctypes.c_int
    f.argtypes = []
    STATE["fork_fn"] = f
    STATE["fork"] = "libc fork() through ctypes.PyDLL"


def _forked():
    """Fork; the child measures and never returns."""
    fn = STATE.get("fork_fn")
    pid = fn() if fn is not None else os.fork()
    if pid == 0:
        os._exit(_measure_and_write(STATE["path"]))
    if pid < 0:
        os.write(2, b"fork failed\n")
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        os.write(2, b"truth child failed, see TRUTH.json.error\n")
        os._exit(3)


def _materialize_frames():
    """Give every frame of every thread a frame object now, in the dumped
    process (3.11+ makes them lazily; frame objects of running frames are
    not GC-tracked): the child then finds the very objects the core has."""
    for top in sys._current_frames().values():
        f = top
        while f is not None:
            f = f.f_back
    del top, f


def run(name):
    """The end of every real_* program: see the module docstring."""
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        sys.stderr.write("usage: %s {abort|sleep|selfcheck} TRUTH.json\n" % sys.argv[0])
        sys.exit(2)
    STATE["mode"] = sys.argv[1]
    STATE["path"] = os.path.abspath(sys.argv[2])
    STATE["pre"] = {"program": name, "pid": os.getpid(), "mode": sys.argv[1],
                    "python": {"version": sys.version.split()[0], "hexversion": sys.hexversion},
                    "modules": len(sys.modules)}
    _materialize_frames()
    if ctypes is not None:
        _raw_fork()
    else:
        STATE["fork"] = "os.fork (no ctypes: after-fork hooks ran in the child)"
    sys.stdout.flush()
    sys.stderr.flush()
    _forked()
    if STATE["mode"] == "abort":
        os.abort()
    elif STATE["mode"] == "sleep":
        os.write(1, b"READY\n")
        while True:
            time.sleep(3600)
    else:
        os._exit(_measure_and_write(STATE["path"] + ".parent.json"))
