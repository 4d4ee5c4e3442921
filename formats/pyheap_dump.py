"""pyheap_dump: write a heap snapshot of the running Python process.

One stdlib-only file for CPython 3.8 to 3.15.  The snapshot is the format
pyheap-analyze reads (formats/SNAPSHOT.md): every object the cycle collector
knows plus everything reachable from them, with sizes, reference counts,
GC-tracked flags and references, and the Python stack of every thread.

    import pyheap_dump
    pyheap_dump.dump("/tmp/heap.msgpack")             # now, in this process
    pyheap_dump.dump("/tmp/heap.msgpack", fork=True)  # from a forked child
    pyheap_dump.install(path="/tmp/heap-{pid}-{time}.msgpack")  # on SIGUSR2
    pyheap_dump.arm(rss_limit="3G", path="/tmp/heap-{pid}.msgpack")
    pyheap_dump.on_memory_error(path="/tmp/heap-{pid}.msgpack")

    python -m pyheap_dump --help

Then: pyheap-analyze /tmp/heap.msgpack

A path ending in .zst is zstd-compressed (compression.zstd on 3.14+, else
the zstd program).  "{pid}" and "{time}" in a path are replaced.

Without fork=True the dump runs while other threads keep running: what they
change during the dump is seen half-changed.  fork=True dumps a
copy-on-write image of one instant (the threads' stacks are taken just
before the fork) and lets the parent continue.
"""

import gc
import marshal
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import weakref

import _tracemalloc

# Imported now, not at dump time: an import during the dump would create
# objects (and cyclic garbage) that the dumped moment did not have.
try:
    from compression import zstd as _zstd  # 3.14+
except ImportError:
    _zstd = None

__all__ = ["dump", "install", "arm", "on_memory_error", "FORMAT", "VERSION"]

FORMAT = "pyheap-snapshot"
VERSION = 2
WRITER = "pyheap_dump.py %d" % VERSION
CHUNK = 4096            # objects per record
_FLUSH = 1 << 16        # bytes buffered before a write

# Object and edge flags (formats/SNAPSHOT.md; analyzer/graph.h).
OBJ_GC, OBJ_PERMANENT, OBJ_IMMORTAL = 1, 2, 4
EDGE_TRAVERSED, EDGE_WEAK = 1, 2

_THIS_FILE = os.path.normcase(os.path.abspath(__file__)).rstrip("co")
_pack_B = struct.Struct(">B").pack
_pack_H = struct.Struct(">BH").pack
_pack_I = struct.Struct(">BI").pack
_pack_Q = struct.Struct(">BQ").pack
_pack_q = struct.Struct(">Bq").pack
_pack_d = struct.Struct(">Bd").pack


# ---------------------------------------------------------------------------
# A small msgpack encoder (only what the snapshot needs).

class _Packer:
    def __init__(self, out):
        self.out = out
        self.buf = bytearray()

    def flush(self, force=False):
        if self.buf and (force or len(self.buf) >= _FLUSH):
            self.out.write(self.buf)
            self.buf.clear()

    def nil(self):
        self.buf.append(0xC0)

    def bool(self, v):
        self.buf.append(0xC3 if v else 0xC2)

    def uint(self, v, _B=_pack_B):
        b = self.buf
        if v < 0x80:
            b.append(v)
        elif v < 0x100:
            b += b"\xcc" + _B(v)
        elif v < 0x10000:
            b += _pack_H(0xCD, v)
        elif v < 0x100000000:
            b += _pack_I(0xCE, v)
        else:
            b += _pack_Q(0xCF, v)

    def int(self, v):
        if v >= 0:
            if v >= 1 << 64:
                raise OverflowError("integer too large for msgpack")
            self.uint(v)
        elif v >= -32:
            self.buf.append(v & 0xFF)
        else:
            self.buf += _pack_q(0xD3, v)

    def str(self, s):
        data = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        n = len(data)
        b = self.buf
        if n < 32:
            b.append(0xA0 | n)
        elif n < 0x100:
            b += bytes((0xD9, n))
        elif n < 0x10000:
            b += _pack_H(0xDA, n)
        else:
            b += _pack_I(0xDB, n)
        b += data

    def bin(self, data):
        n = len(data)
        if n < 0x100:
            self.buf += bytes((0xC4, n))
        elif n < 0x10000:
            self.buf += _pack_H(0xC5, n)
        else:
            self.buf += _pack_I(0xC6, n)
        self.buf += data

    def array(self, n):
        if n < 16:
            self.buf.append(0x90 | n)
        elif n < 0x10000:
            self.buf += _pack_H(0xDC, n)
        else:
            self.buf += _pack_I(0xDD, n)

    def map(self, n):
        if n < 16:
            self.buf.append(0x80 | n)
        elif n < 0x10000:
            self.buf += _pack_H(0xDE, n)
        else:
            self.buf += _pack_I(0xDF, n)

    def value(self, v):
        """None, bool, int, float, str, bytes, list/tuple, dict."""
        if v is None:
            self.nil()
        elif v is True or v is False:
            self.bool(v)
        elif isinstance(v, int):
            self.int(v)
        elif isinstance(v, float):
            self.buf += _pack_d(0xCB, v)
        elif isinstance(v, str):
            self.str(v)
        elif isinstance(v, (bytes, bytearray)):
            self.bin(v)
        elif isinstance(v, (list, tuple)):
            self.array(len(v))
            for x in v:
                self.value(x)
        elif isinstance(v, dict):
            self.map(len(v))
            for k, x in v.items():
                self.value(k)
                self.value(x)
        else:
            raise TypeError("cannot pack %r" % type(v))

    def record(self, kind, fields):
        """One top-level record: {"t": kind, **fields}."""
        self.map(len(fields) + 1)
        self.str("t")
        self.str(kind)
        for k, v in fields.items():
            self.str(k)
            self.value(v)


# ---------------------------------------------------------------------------
# What the dumper itself holds while it measures an object's refcount.

def _rc_probe(o):
    return sys.getrefcount(o)


def _calibrate():
    """sys.getrefcount(o) in the dump loops minus o's true reference count:
    the list that holds o, the loop variable, the argument of _rc_probe and
    the argument of sys.getrefcount itself (on 3.14+ the last one is often
    borrowed).  Measured, not assumed, with the same code shapes as the
    loops in _Dumper.run: an object that only the list references."""
    lst = [object()]
    c_for = c_while = 0
    for o in lst:
        c_for = _rc_probe(o)
    o = None
    i = 0
    while i < len(lst):
        o = lst[i]
        c_while = _rc_probe(o)
        i += 1
    o = lst = None
    # The probe's true count is 1 (the list); in the dump that list is the
    # dumper's own, so the whole measured value is the correction.
    return c_for, c_while


_CORRECTION = _calibrate()


def _type_kind(t, _module=type(sys)):
    """What instances of t are (SNAPSHOT.md, types): 1 type objects (t is
    a metaclass), 2 modules, 0 anything else."""
    try:
        if issubclass(t, type):
            return 1
        if issubclass(t, _module):
            return 2
    except Exception:
        pass
    return 0


def _typename(t, _repr=type.__repr__):
    r = _repr(t)
    return r[8:-2] if r.startswith("<class '") and r.endswith("'>") else r


def _version_string():
    v = sys.version_info
    s = "%d.%d.%d" % (v.major, v.minor, v.micro)
    if v.releaselevel != "final":
        s += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(v.releaselevel, "?") + str(v.serial)
    return s


def _free_threaded():
    try:
        import sysconfig
        return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    except Exception:
        return False


_FREE_THREADED = _free_threaded()
_OBJECT_TRACEBACK = getattr(_tracemalloc, "_get_object_traceback", None)
# Rows kept of statistics('lineno') and ('traceback'), as pyheap-analyze keeps.
_BY_LINE, _BY_TRACEBACK = 50, 20


def _tracemalloc_stats():
    """What tracemalloc knows now, or None when it is not tracing: totals
    and the top rows of statistics('lineno') / ('traceback') as plain data,
    frames most recent first, marshalled into one bytes object (not
    GC-tracked, so the dump does not list the rows; taken before the dump
    allocates, so its own lists are not among them)."""
    if not _tracemalloc.is_tracing():
        return None
    import tracemalloc  # only when tracing (it imports fnmatch, linecache, pickle)
    snap = tracemalloc.take_snapshot()
    cur, peak = tracemalloc.get_traced_memory()
    out = {"max_frames": tracemalloc.get_traceback_limit(), "traced_bytes": cur,
           "peak_bytes": peak, "traces": len(snap.traces),
           "by_line": [(s.traceback[0].filename, s.traceback[0].lineno, s.size, s.count)
                       for s in snap.statistics("lineno")[:_BY_LINE]],
           "by_traceback": [(tuple((f.filename, f.lineno) for f in reversed(s.traceback)),
                             s.size, s.count)
                            for s in snap.statistics("traceback")[:_BY_TRACEBACK]]}
    snap = None
    return marshal.dumps(out)
_IS_IMMORTAL = getattr(sys, "_is_immortal", None)
_HAS_IMMORTAL = sys.hexversion >= 0x030C0000


def _thread_stacks(skip_self):
    """[(ident, native_id, [(function, filename, line, {name: id})])]
    innermost frame first.  Plain data: ids, not references."""
    natives = {}
    for t in threading.enumerate():
        natives[t.ident] = getattr(t, "native_id", None)
    me = threading.get_ident()
    out = []
    frames = sys._current_frames()
    for ident in sorted(frames):
        f = frames[ident]
        stack = []
        while f is not None:
            code = f.f_code
            if skip_self and ident == me and os.path.normcase(code.co_filename).rstrip("co") == _THIS_FILE:
                f = f.f_back
                continue
            try:
                loc = {str(k): id(v) for k, v in f.f_locals.items()}
            except Exception:
                loc = None
            stack.append((getattr(code, "co_qualname", code.co_name), code.co_filename,
                          f.f_lineno if f.f_lineno is not None else None, loc))
            f = f.f_back
        out.append((ident, natives.get(ident), stack))
    frames = f = None
    return out


class _Dumper:
    def __init__(self, packer, redact, stacks, pid, in_child, tm=None):
        self.p = packer
        self.tm = tm                # _tracemalloc_stats(): bytes or None
        self.tracebacks = None      # filled by run() when tracing
        self.redact = redact
        self.stacks = stacks
        self.pid = pid
        self.in_child = in_child
        self.type_index = {}        # id(type) -> index in the type table
        self.new_types = []         # entries not yet written
        self.nobjects = 0
        self.nrefs = 0
        self.size_errors = 0
        self.warnings = []

    def header(self):
        argv = getattr(sys, "orig_argv", None) or [sys.executable] + list(sys.argv)
        self.p.value({
            "format": FORMAT,
            "version": VERSION,
            "written_by": WRITER,
            "source": "in-process",
            "time": int(time.time()),
            "redacted": bool(self.redact),
            "python": {"version": _version_string(), "hexversion": sys.hexversion,
                       "layout": "in-process", "free_threaded": _FREE_THREADED},
            "process": {"pid": self.pid, "signal": None, "executable": sys.executable or None,
                        "argv": None if self.redact else [str(a) for a in argv]},
        })

    def type_of(self, t):
        k = id(t)
        i = self.type_index.get(k)
        if i is None:
            i = self.type_index[k] = len(self.type_index)
            self.new_types.append([k, _typename(t), getattr(t, "__basicsize__", None),
                                   getattr(t, "__flags__", None), _type_kind(t)])
        return i

    def preview(self, o, t):
        if self.redact:
            return None
        try:
            if t is str:
                return o[:64]
            if t is bytes:
                return o[:32]
            if t is int or t is float:
                r = repr(o)
                return r if len(r) <= 64 else r[:61] + "..."
        except Exception:
            pass
        return None

    def run(self):
        p = self.p
        getrefcount = sys.getrefcount
        get_referents = gc.get_referents
        is_tracked = gc.is_tracked
        getsizeof = sys.getsizeof
        ref_type = weakref.ReferenceType
        c_for, c_while = _CORRECTION

        # Every tracked object, by generation when the counts add up (they
        # do on 3.8-3.13; 3.14's incremental collector reports its spaces).
        # No comprehensions here: on 3.8-3.11 their frames would be listed.
        lists = gens = None
        try:
            l0 = gc.get_objects(generation=0)
            l1 = gc.get_objects(generation=1)
            l2 = gc.get_objects(generation=2)
            lists = [l0, l1, l2]
            gens = (0, 1, 2)
            l0 = l1 = l2 = None
        except (TypeError, ValueError):
            pass
        total = gc.get_objects()
        mine = set()
        mine.add(id(total))
        if lists is not None:
            mine.add(id(lists))
            for x in lists:
                mine.add(id(x))
            x = None
            n = 0
            for o in total:
                if id(o) not in mine:
                    n += 1
            o = None
            if n != len(lists[0]) + len(lists[1]) + len(lists[2]):
                self.warnings.append("generations unknown: gc.get_objects(generation=) did "
                                     "not add up to gc.get_objects()")
                lists = None
        if lists is None:
            lists, gens = [total], (None,)
        total = None
        seen = set()
        mine.add(id(seen))
        mine.add(id(mine))
        for x in mine:
            seen.add(x)
        for lst in lists:
            for o in lst:
                seen.add(id(o))
        o = lst = None
        extra = []
        mine.add(id(extra))
        frozen = gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0

        chunk = _Packer(None)
        mine.add(id(chunk))
        mine.add(id(self.tm))
        nchunk = 0
        # Allocation tracebacks (tuples of (filename, line), most recent
        # first) -> index, made after the object lists (so not in them) and
        # never followed (mine).
        tb_index = {}
        tb_list = []
        mine.add(id(tb_index))
        mine.add(id(tb_list))
        site_of = _OBJECT_TRACEBACK if self.tm is not None else None
        self.tracebacks = tb_list

        def emit(o, rc, flags, gen):
            nonlocal nchunk
            t = type(o)
            ti = self.type_of(t)
            k = id(t)
            if k not in seen:
                seen.add(k)
                extra.append(t)
            refs = get_referents(o)
            ids = []
            kinds = None
            for r in refs:
                k = id(r)
                if k in mine:
                    continue
                ids.append(k)
                if k not in seen:
                    seen.add(k)
                    extra.append(r)
            if issubclass(t, ref_type):
                target = o()
                if target is not None:
                    k = id(target)
                    kinds = bytes([EDGE_TRAVERSED]) * len(ids) + bytes([EDGE_WEAK])
                    ids.append(k)
                    if k not in seen:
                        seen.add(k)
                        extra.append(target)
                del target
            del refs
            try:
                size = getsizeof(o)
            except Exception:
                size = 0
                self.size_errors += 1
            if _HAS_IMMORTAL and (_IS_IMMORTAL(o) if _IS_IMMORTAL else rc >= 1 << 31):
                flags |= OBJ_IMMORTAL
            site = None
            if site_of is not None:
                tb = site_of(o)
                if tb is not None:
                    site = tb_index.get(tb)
                    if site is None:
                        site = tb_index[tb] = len(tb_list)
                        tb_list.append(tb)
                tb = None
            c = chunk
            c.array(9 if site_of is None else 10)
            c.uint(id(o))
            c.uint(ti)
            c.uint(size)
            c.uint(rc if rc > 0 else 0)
            c.uint(flags)
            if gen is None:
                c.nil()
            else:
                c.uint(gen)
            c.array(len(ids))
            for k in ids:
                c.uint(k)
            if kinds is None:
                c.nil()
            else:
                c.bin(kinds)
            pv = self.preview(o, t)
            if pv is None:
                c.nil()
            else:
                c.str(pv) if isinstance(pv, str) else c.bin(pv)
            if site_of is not None:
                if site is None:
                    c.nil()
                else:
                    c.uint(site)
            self.nrefs += len(ids)
            self.nobjects += 1
            nchunk += 1
            if nchunk == CHUNK:
                self.flush_chunk(chunk, nchunk)
                nchunk = 0

        for lst, gen in zip(lists, gens):
            for o in lst:
                # Measured first, before anything of the dumper's refers to it.
                rc = _rc_probe(o)
                emit(o, rc - c_for, OBJ_GC, gen)
        o = None
        # Objects found through references: untracked ones (str, int, ...)
        # and, after gc.freeze(), tracked ones of the permanent generation.
        i = 0
        while i < len(extra):
            o = extra[i]
            rc = _rc_probe(o)
            if frozen and is_tracked(o):
                emit(o, rc - c_while, OBJ_PERMANENT, 3)
            else:
                emit(o, rc - c_while, 0, None)
            i += 1
        o = None
        if nchunk:
            self.flush_chunk(chunk, nchunk)
        self.flush_types()

    def flush_types(self):
        # Emptied in place: a list dropped here would be listed garbage
        # (it is on the GC lists the dump walks).
        if self.new_types:
            self.p.record("types", {"types": self.new_types})
            del self.new_types[:]

    def flush_chunk(self, chunk, n):
        self.flush_types()
        p = self.p
        p.map(2)
        p.str("t")
        p.str("objects")
        p.str("objects")
        p.array(n)
        p.buf += chunk.buf
        chunk.buf.clear()
        p.flush()

    def trailer(self):
        import builtins
        p = self.p
        roots = [[id(sys.modules), "sys.modules"], [id(sys.__dict__), "sys.__dict__"],
                 [id(builtins.__dict__), "builtins.__dict__"]]
        threads = []
        for ident, native, stack in self.stacks:
            frames = []
            for fn, fl, ln, loc in stack:
                frames.append([fn, fl, ln, loc])
                for name, k in (loc or {}).items():
                    roots.append([k, "local %s in %s()" % (name, fn)])
            threads.append({"thread_id": ident, "native_id": native, "crashed": False,
                            "frames": frames})
        p.record("roots", {"roots": roots})
        p.record("threads", {"threads": threads})
        self.allocations()
        w = ["in-process snapshot (pyheap_dump.py): no signal and no crashed thread; "
             "references that tp_traverse does not visit are not seen"]
        if not self.in_child and threading.active_count() > 1:
            w.append("dumped while %d other threads ran: what they changed during the dump "
                     "may be seen half-changed (use fork=True)" % (threading.active_count() - 1))
        if self.size_errors:
            w.append("sys.getsizeof failed for %d objects (size 0)" % self.size_errors)
        p.record("warnings", {"warnings": w + self.warnings})
        p.record("stats", {"unknown_refs": 0, "bad_objects": 0})
        p.record("end", {"objects": self.nobjects, "edges": self.nrefs})
        p.flush(force=True)


    def allocations(self):
        """The allocations record (formats/SNAPSHOT.md): the statistics
        taken before the dump and the tracebacks the objects use."""
        p = self.p
        if self.tm is None:
            p.record("allocations", {"tracing": False})
            return
        st = marshal.loads(self.tm)
        files, fidx = [], {}

        def fi(name):
            i = fidx.get(name)
            if i is None:
                i = fidx[name] = len(files)
                files.append(name)
            return i
        tbs = list(self.tracebacks or ())
        tidx = {tb: i for i, tb in enumerate(tbs)}
        rows = []
        for frames, size, count in st["by_traceback"]:
            i = tidx.get(frames)
            if i is None:
                i = tidx[frames] = len(tbs)
                tbs.append(frames)
            rows.append([i, size, count])
        flat = []
        for tb in tbs:
            one = []
            for name, line in tb or (("<unknown>", 0),):
                one += [fi(name), line]
            flat.append(one)
        by_line = [[fi(name), line, size, count] for name, line, size, count in st["by_line"]]
        p.record("allocations", {
            "tracing": True, "available": True, "reason": None,
            "max_frames": st["max_frames"], "traced_bytes": st["traced_bytes"],
            "peak_bytes": st["peak_bytes"], "traces": st["traces"], "files": files,
            "tracebacks": flat, "by_line": by_line, "by_traceback": rows})


def _expand(path):
    return os.fspath(path).replace("{pid}", str(os.getpid())).replace(
        "{time}", time.strftime("%Y%m%dT%H%M%S"))


class _Zstd:
    """A binary writer that compresses to `path` with zstd."""

    def __init__(self, path):
        self.proc = None
        if _zstd is not None:
            self.f = _zstd.open(path, "wb")
            return
        exe = shutil.which("zstd")
        if exe is None:
            raise RuntimeError("%s: .zst needs compression.zstd (Python 3.14+) or the zstd "
                               "program" % path)
        self.proc = subprocess.Popen([exe, "-q", "-f", "-3", "-o", path], stdin=subprocess.PIPE)
        self.f = self.proc.stdin

    def write(self, b):
        self.f.write(b)

    def close(self):
        self.f.close()
        if self.proc is not None and self.proc.wait() != 0:
            raise RuntimeError("zstd exited with status %d" % self.proc.returncode)


def _write(path, redact, stacks, pid, in_child):
    tm = _tracemalloc_stats()   # first: before the dump allocates anything
    tmp = path + ".part"
    out = _Zstd(tmp) if path.endswith(".zst") else open(tmp, "wb")
    was_enabled = gc.isenabled()
    gc.disable()        # a collection in the middle would change what is dumped
    try:
        p = _Packer(out)
        d = _Dumper(p, redact, stacks, pid, in_child, tm)
        d.header()
        d.run()
        if stacks is None:
            d.stacks = _thread_stacks(skip_self=True)
        d.trailer()
    finally:
        out.close()
        if was_enabled:
            gc.enable()
    os.replace(tmp, path)
    return d


def dump(path, fork=False, redact=False, wait=None):
    """Write a snapshot of this process to `path` ("{pid}", "{time}" are
    expanded; .zst compresses).  Returns the path.

    fork=True: fork, dump from the child (a copy-on-write image of this
    instant) and return at once; wait=True also waits for the child (then
    the call fails if the child failed).  Thread stacks are taken before
    the fork (the child has only one thread)."""
    path = _expand(path)
    if not fork:
        _write(path, redact, None, os.getpid(), False)
        return path
    stacks = _thread_stacks(skip_self=True)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _write(path, redact, stacks, parent, True)
            code = 0
        except BaseException:
            try:
                import traceback
                traceback.print_exc()
            except BaseException:
                pass
        finally:
            os._exit(code)
    del stacks
    if wait:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError("pyheap_dump child %d failed (wait status %d)" % (pid, status))
    else:
        threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True,
                         name="pyheap_dump-reaper").start()
    return path


def install(signal=None, path="pyheap-{pid}-{time}.msgpack", fork=True, redact=False):
    """Dump when the process receives `signal` (default SIGUSR2)."""
    import signal as _signal
    signum = _signal.SIGUSR2 if signal is None else signal

    def handler(sig, frame):
        del frame
        dump(path, fork=fork, redact=redact)
    _signal.signal(signum, handler)
    return handler


def _parse_size(v):
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def _rss_bytes(_page=os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096):
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _page


def arm(rss_limit, path="pyheap-{pid}-{time}.msgpack", interval=1.0, fork=False, redact=False):
    """Start a daemon thread that reads this process's RSS every `interval`
    seconds and dumps once when it exceeds `rss_limit` (bytes, or "512M",
    "3G") -- before the OOM killer strikes.  Returns the thread; its
    .dumped is set to the path once written and .error if dumping failed."""
    limit = _parse_size(rss_limit)
    t = threading.Thread(name="pyheap_dump-arm", daemon=True)
    t.dumped = None
    t.error = None
    stop = threading.Event()
    t.stop = stop.set

    def watch():
        while not stop.wait(interval):
            try:
                rss = _rss_bytes()
            except OSError:
                continue
            if rss > limit:
                try:
                    t.dumped = dump(path, fork=fork, redact=redact, wait=True)
                except BaseException as e:
                    t.error = e
                return
    t.run = watch
    t.start()
    return t


def on_memory_error(path="pyheap-{pid}-{time}.msgpack", redact=False, fork=False):
    """Dump when an uncaught MemoryError reaches the top of the main thread
    (sys.excepthook) or of another thread (threading.excepthook)."""
    prev = sys.excepthook

    def hook(tp, value, tb):
        if issubclass(tp, MemoryError):
            try:
                sys.stderr.write("pyheap_dump: MemoryError, heap snapshot written to %s\n"
                                 % dump(path, fork=fork, redact=redact, wait=True))
            except BaseException as e:
                sys.stderr.write("pyheap_dump: could not write a snapshot: %r\n" % (e,))
        prev(tp, value, tb)
    sys.excepthook = hook
    tprev = getattr(threading, "excepthook", None)
    if tprev is not None:
        def thook(args):
            if issubclass(args.exc_type, MemoryError):
                try:
                    dump(path, fork=fork, redact=redact, wait=True)
                except BaseException:
                    pass
            tprev(args)
        threading.excepthook = thook
    return hook


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        prog="python -m pyheap_dump",
        description="Run a Python script and write a heap snapshot of it (for pyheap-analyze) "
                    "on a signal, when its RSS crosses a limit, on an uncaught MemoryError, "
                    "or when it ends.")
    ap.add_argument("-o", "--output", default="pyheap-{pid}-{time}.msgpack",
                    help="snapshot path ({pid}, {time} expanded; .zst compresses)")
    ap.add_argument("--rss-limit", help="dump once when RSS exceeds this (e.g. 2G)")
    ap.add_argument("--interval", type=float, default=1.0, help="RSS check interval, seconds")
    ap.add_argument("--signal", default="SIGUSR2", help="dump on this signal (default SIGUSR2)")
    ap.add_argument("--at-exit", action="store_true", help="also dump when the script ends")
    ap.add_argument("--redact", action="store_true", help="no argv, no value previews")
    ap.add_argument("--fork", action="store_true", help="dump from a forked child")
    ap.add_argument("script", help="the script to run")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    import runpy
    import signal as _signal
    install(getattr(_signal, a.signal), a.output, fork=a.fork, redact=a.redact)
    on_memory_error(a.output, redact=a.redact)
    if a.rss_limit:
        arm(a.rss_limit, a.output, a.interval, fork=a.fork, redact=a.redact)
    sys.argv = [a.script] + a.args
    script_globals = None
    try:
        # Kept, so that --at-exit sees what the script left behind (on an
        # exception its frames keep it alive through the traceback).
        script_globals = runpy.run_path(a.script, run_name="__main__")
    finally:
        if a.at_exit:
            dump(a.output, redact=a.redact)
        script_globals = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
