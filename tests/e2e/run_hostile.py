#!/usr/bin/python3
"""Regression tests of issue 11 (hostile and corrupted input, heap walk and
command line): each case corrupts one or two words of a REAL core (generated
at test time through harness.CoreCache, scenario "garbage", kernel core),
or misuses the command line, and checks that the analyzer ends in bounded
time with the documented exit code and an aggregated warning that names the
symptom.

    /usr/bin/python3 tests/e2e/run_hostile.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S] [--interp PATTERN]

Target addresses come from the analyzer's own --dump-objects TSV of the
unmodified core; tests/e2e/corepatch.py maps them to file offsets through
the core's PT_LOAD headers.  One line per case: PASS|FAIL|SKIP
hostile/<interpreter>/<case>[: details].  Exit 1 if anything failed.
--quick: first interpreter only.

Cases (named after the bug they pin down):
  gc_list_cycle       a GC list node's _gc_next points back at an earlier
                      node: the walk cycled 2^28 steps a generation;
  gc_back_links       3,000 broken _gc_prev links: one warning each, each
                      compared with all earlier ones (quadratic; 160,000
                      warnings took 59 s): one aggregated line;
  type_base_cycle     an exception type's tp_base is itself: static_type_info
                      looped forever;
  thread_list_cycle   a thread state is its own successor: 100,000 phantom
                      threads (an 11.7 MB report);
  frame_chain_cycle   a thread's innermost frame is its own caller;
  thread_and_frame_cycle  both: threads x frames steps (> 60 s) before the
                      cycle detection and the frame budget of one pass;
  int64_min_size      ob_size (3.12+: lv_tag) of tuples and int locals set to
                      INT64_MIN: object_size and int_preview negated it (UB;
                      caught when --bin is the ASan+UBSan build);
  waste_no_binaries   no binary found (--sysroot to an empty directory):
                      waste.c called qsort(NULL, 0) (UB, ASan+UBSan build);
  items_misaligned    three lists' ob_item moved 4 bytes: no misaligned load
                      (UBSan), exit 0
  dict_keys_huge      dk_size/dk_log2_size and dk_nentries of three big dicts
                      near 2^40: every loop over their entries hung;
  sizes_huge          list allocated, set mask, bytearray alloc near 2^60: the
                      report said 1.5e18 bytes without a warning;
  finalizer_upper_bound  scenario finalizers.py (cycles with __del__, one
                      kind resurrecting): a resurrecting __del__ made the
                      unreachable count wrong without a word (406 vs 6 on
                      3.11); one warning now gives the count of such objects;
  message_never_initialized  _PyRuntime's interpreter list empty: "no
                      interpreter state found" named no symptom;
  message_not_initialized    sys.modules NULL: "does not match layout";
  message_heap_left_out      sys.modules outside the core's memory (what
                      coredump_filter does to the heap): say so;
  terminal_escape     a class named ESC [2J Node: the summary printed it raw;
                      now through the one terminal escaper (formats/json.c);
  dump_why_redact     --dump-why ignored --redact (str/bytes previews and
                      dict keys in clear);
  interp_list_cycle   the interpreter is its own successor: walked 256 times;
  frame_slots_underflow  every code object's co_framesize read as 0 (3.12+):
                      cpy_frame_slots underflowed to ~2^64 slots; the sizes
                      built from it happened to wrap back, so this is a
                      guard (it passes on the old code too): sizes stay sane;
  output_is_input     -o CORE CORE replaced the core with the report;
                      --save-snapshot/--dump-why CORE truncated it (SIGBUS);
                      a hard link is the same file: exit 2, core intact;
  stdout_closed       the reader of -o - goes away: exit 4, not SIGPIPE;
  file_size_limit     RLIMIT_FSIZE reached: exit 4, not SIGXFSZ, and no
                      half-written report at the output path;
  refuse_3_7_message  a core of CPython 3.7 (pyenv): exit 3 and a message
                      naming the supported range "3.8 - 3.15" (it said
                      "3.8 - 3.12"); once per run, SKIP without a 3.7;
  subinterpreters     scenario subinterp.py (3.12+): a sub-interpreter runs
                      code from a second thread, blocked on a pipe read, at
                      the dump: a warning names the several interpreters
                      (there was none), exactly one thread is marked as
                      having received the signal (3.12: the sub-interpreter's
                      thread state carries the main thread's ids, both were
                      marked), every native_id is a thread of the process,
                      the main thread and the runner thread are reported,
                      the sub-interpreter's thread state carries the native
                      id of the thread that runs it (3.12: the main
                      thread's), ids distinct within each interpreter;
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corepatch  # noqa: E402
import harness as H  # noqa: E402

# A corrupted core must be analysed about as fast as a good one; generous
# for ASan builds and a shared machine, far below the hangs these cases pin.
CASE_SECONDS = int(os.environ.get("PYHEAP_HOSTILE_SECONDS", "60"))


class Skip(Exception):
    pass


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-hostile-")

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)
        self.cache.cleanup()

    def tool(self, args, timeout=None):
        return H.run_tool(self.binary, args, cwd=self.work,
                          timeout=timeout or self.args.timeout)

    # ---- the unmodified core and its objects ----

    def base(self, label, python):
        res = self.cache.get(label, python, "garbage", "kernel")
        if not res.core:
            raise Skip("no core: %s" % (res.error or "unavailable"))
        tsv = os.path.join(self.work, label.replace("/", "_") + ".tsv")
        if not os.path.exists(tsv):
            r = self.tool(["-q", "-o", os.path.join(self.work, "base.json"), "--format", "json",
                           "--dump-objects", tsv, res.core])
            if r.returncode != 0:
                raise Skip("the unmodified core does not analyse: %s" % r.describe())
        return res.core, H.load_dump_objects(tsv)

    def analyse(self, core, extra=()):
        out = os.path.join(self.work, "out.json")
        if os.path.exists(out):
            os.unlink(out)
        t0 = time.monotonic()
        r = self.tool(["-q", "-o", out, "--format", "json"] + list(extra) + [core],
                      timeout=CASE_SECONDS * 2)
        secs = time.monotonic() - t0
        rep = None
        if r.returncode == 0 and os.path.exists(out):
            with open(out) as f:
                rep = json.load(f)
        return r, rep, secs

    def expect_warning(self, name, core, pattern, extra=(), max_lines=None):
        """The analysis ends (exit 0) within CASE_SECONDS with one warning
        matching pattern, and no more than max_lines warnings of it."""
        r, rep, secs = self.analyse(core, extra)
        problems = []
        if r.returncode != 0 or rep is None:
            problems.append("%s after %.1f s; %s" % (r.describe(), secs,
                                                     r.stderr_text().strip()[-300:]))
        else:
            if secs > CASE_SECONDS:
                problems.append("took %.1f s" % secs)
            hits = [w for w in rep["warnings"] if re.search(pattern, w)]
            if not hits:
                problems.append("no warning matches %r (warnings: %s)" %
                                (pattern, rep["warnings"][:5]))
            elif max_lines is not None and len(hits) > max_lines:
                problems.append("%d warning lines match %r, want <= %d" %
                                (len(hits), pattern, max_lines))
        self.rep.check(name, problems, "%.1f s" % secs)
        return rep

    def patched(self, label, core, fn):
        """A copy of core with fn(image, objects) applied."""
        base_core, objs = core
        img = corepatch.CoreImage(base_core)
        fn(img, objs)
        dst = os.path.join(self.work, "patched.core")
        img.save(dst)
        return dst

    def case(self, label, name, fn):
        full = "hostile/%s/%s" % (label, name)
        try:
            fn(full, label)
        except Skip as e:
            self.rep.skip(full, str(e))
        except corepatch.NotMapped as e:
            self.rep.skip(full, "target not in the core: %s" % e)

    # ---- cases ----

    def gc_list_cycle(self, name, label, base):
        def patch(img, objs):
            gcs = sorted(a for a, o in objs.items() if "gc" in o[3])
            if len(gcs) < 100:
                raise Skip("too few GC objects")
            # Node x (its PyGC_Head is 16 bytes before it); its successor
            # y gets _gc_next = x: a two-node cycle that never reaches the
            # list head.
            for x in gcs[len(gcs) // 2:]:
                y = img.read64(x - 16) & ~3
                if img.readable(y) and y != x - 16:
                    img.write64(y, x - 16)
                    return
            raise Skip("no GC node with a readable successor")
        core = self.patched(label, base, patch)
        self.expect_warning(name, core, r"GC generation \d list loops back", max_lines=1)

    def gc_back_links(self, name, label, base):
        def patch(img, objs):
            gcs = sorted(a for a, o in objs.items() if "gc" in o[3])
            if len(gcs) < 3000:
                raise Skip("too few GC objects")
            for x in gcs[:3000]:
                img.write64(x - 8, 0x10)            # _gc_prev: points nowhere
        core = self.patched(label, base, patch)
        rep = self.expect_warning(name, core, r"back links? do(es)? not point", max_lines=1)
        if rep is not None:
            self.rep.check(name + "/lines", [] if len(rep["warnings"]) < 20 else
                           ["%d warning lines" % len(rep["warnings"])])

    def type_base_cycle(self, name, label, base):
        def patch(img, objs):
            for a, o in sorted(objs.items()):
                if o[0].endswith("Error"):
                    t = img.read64(a + 8)
                    img.write64(t + 256, t)     # tp_base = itself
                    return
            raise Skip("no exception instance in the core")
        core = self.patched(label, base, patch)
        self.expect_warning(name, core, r"tp_base chain loops", max_lines=1)

    THREAD_RE = re.compile(r"thread state (0x[0-9a-f]+): next link at (0x[0-9a-f]+), "
                           r"innermost frame (0x[0-9a-f]+), its back link at (0x[0-9a-f]+)")

    def thread_links(self, core):
        """[(tstate, next link, frame, frame back link)] from -vv."""
        r = self.tool(["-vv", "-q", "-o", os.path.join(self.work, "vv.json"), "--format", "json",
                       core])
        found = [tuple(int(x, 16) for x in m.groups())
                 for m in self.THREAD_RE.finditer(r.stderr_text())]
        if not found:
            raise Skip("-vv names no thread state")
        return found

    def thread_list_cycle(self, name, label, base):
        links = self.thread_links(base[0])

        def patch(img, objs):
            ts, nxt, _f, _back = links[0]
            img.write64(nxt, ts)            # the first thread is its own successor
        core = self.patched(label, base, patch)
        rep = self.expect_warning(name + "/warning", core, r"thread list .* loops back",
                                  max_lines=1)
        if rep is not None:
            self.rep.check(name + "/threads", [] if len(rep["threads"]) <= len(links) else
                           ["%d threads reported, the core has %d" %
                            (len(rep["threads"]), len(links))])

    def frame_chain_cycle(self, name, label, base):
        links = [x for x in self.thread_links(base[0]) if x[2]]
        if not links:
            raise Skip("no thread with a frame")

        def patch(img, objs):
            _ts, _nxt, f, back = links[0]
            img.write64(back, f)            # the innermost frame is its own caller
        core = self.patched(label, base, patch)
        self.expect_warning(name, core, r"frame chain of thread state .* loops back",
                            max_lines=1)

    def thread_and_frame_cycle(self, name, label, base):
        links = [x for x in self.thread_links(base[0]) if x[2]]
        if not links:
            raise Skip("no thread with a frame")

        def patch(img, objs):
            ts, nxt, f, back = links[0]
            img.write64(nxt, ts)
            img.write64(back, f)
        core = self.patched(label, base, patch)
        self.expect_warning(name, core, r"loops back", max_lines=2)

    def int64_min_size(self, name, label, base):
        r, rep, _ = self.analyse(base[0])
        ints = [l["address"] for t in (rep or {}).get("threads", []) for fr in t["frames"]
                for l in fr.get("locals") or [] if l.get("type") == "int" and l.get("address")]

        def patch(img, objs):
            tuples = [a for a, o in sorted(objs.items()) if o[0] == "tuple" and o[1] > 64]
            if not tuples and not ints:
                raise Skip("no tuple and no int local")
            for a in tuples[:3] + ints[:3]:
                img.write64(a + 16, 1 << 63)     # ob_size (lv_tag 3.12+) = INT64_MIN
        core = self.patched(label, base, patch)
        r, rep, secs = self.analyse(core)
        problems = []
        if r.returncode != 0 or H.sanitizer_trouble(r.stderr_text()):
            problems.append("%s: %s" % (r.describe(), r.stderr_text().strip()[-400:]))
        self.rep.check(name, problems, "%.1f s" % secs)

    def items_misaligned(self, name, label, base):
        """A list whose ob_item points 4 bytes into its item array: the
        zero-copy item read loaded a misaligned uint64_t (UBSan, found by
        the mutation runner on a corrupted dict); now exit 0, no report."""
        def patch(img, objs):
            lists = [a for a, o in sorted(objs.items()) if o[0] == "list" and o[1] > 64]
            if not lists:
                raise Skip("no list of more than 64 bytes")
            for a in lists[:3]:
                img.write64(a + 24, img.read64(a + 24) + 4)     # ob_item, every version
        core = self.patched(label, base, patch)
        r, rep, secs = self.analyse(core)
        problems = []
        if r.returncode != 0 or H.sanitizer_trouble(r.stderr_text()):
            problems.append("%s: %s" % (r.describe(), r.stderr_text().strip()[-400:]))
        self.rep.check(name, problems, "%.1f s" % secs)

    def waste_no_binaries(self, name, label, base):
        """--sysroot to an empty directory: no binary is found; 3.13+
        still analyse (from _Py_DebugOffsets) and waste.c used to sort
        NULL arrays."""
        empty = os.path.join(self.work, "empty-sysroot")
        os.makedirs(empty, exist_ok=True)
        r, rep, secs = self.analyse(base[0], ["--sysroot", empty])
        problems = []
        if H.sanitizer_trouble(r.stderr_text()) or r.signalled:
            problems.append("%s: %s" % (r.describe(), r.stderr_text().strip()[-400:]))
        elif r.returncode not in (0, 3):
            problems.append("%s (want 0, or 3 for versions that need the binary)" %
                            r.describe())
        self.rep.check(name, problems, r.describe())

    def output_is_input(self, name, label, base):
        """Every output option naming the input (the same path, or a hard
        link to it) is refused with exit 2, and the core is left intact."""
        core = os.path.join(self.work, "input.core")
        shutil.copyfile(base[0], core)
        link = os.path.join(self.work, "input-link.core")
        if os.path.exists(link):
            os.unlink(link)
        os.link(core, link)
        with open(core, "rb") as f:
            before = hashlib.sha256(f.read()).hexdigest()
        out = os.path.join(self.work, "o.json")
        for sub, opt in (("o", ["-o", core]), ("o_link", ["-o", link]),
                         ("save_snapshot", ["-o", out, "--save-snapshot", core]),
                         ("dump_why", ["-o", out, "--dump-why", core]),
                         ("dump_objects_link", ["-o", out, "--dump-objects", link])):
            r = self.tool(["-q"] + opt + [core], timeout=CASE_SECONDS)
            with open(core, "rb") as f:
                after = hashlib.sha256(f.read()).hexdigest()
            problems = []
            if r.returncode != 2:
                problems.append("%s, want exit 2" % r.describe())
            if after != before:
                problems.append("the core was modified")
            self.rep.check("%s/%s" % (name, sub),
                           problems, r.stderr_text().strip()[:120])
            if after != before:
                shutil.copyfile(base[0], core)

    def stdout_closed(self, name, label, base):
        """A report written to a pipe whose reader went away ends with exit
        4 and a message, not with SIGPIPE."""
        import subprocess
        p = subprocess.Popen([self.binary, "-q", "-o", "-", "--format", "json", base[0]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.work,
                             env=H.tool_env(), preexec_fn=H._no_core_limit)
        p.stdout.read(1)
        p.stdout.close()
        try:
            err = p.stderr.read()
            rc = p.wait(timeout=CASE_SECONDS)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.rep.fail(name, "timed out")
            return
        self.rep.check(name, [] if rc == 4 else
                       ["exit %d (negative: a signal), want 4; %s" % (rc, err[-200:])],
                       err.decode("utf-8", "replace").strip()[:120])

    def file_size_limit(self, name, label, base):
        """Past RLIMIT_FSIZE: exit 4, no SIGXFSZ, and no half-written
        report left at the output path."""
        import resource
        out = os.path.join(self.work, "fsize.json")
        if os.path.exists(out):
            os.unlink(out)

        def limit():
            H._no_core_limit()
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        r = H.run_process([self.binary, "-q", "-o", out, "--format", "json", base[0]],
                          cwd=self.work, timeout=CASE_SECONDS, env=H.tool_env(), preexec=limit)
        problems = []
        if r.returncode != 4:
            problems.append("%s, want exit 4" % r.describe())
        if os.path.exists(out):
            problems.append("a partial report was left at the output path")
        self.rep.check(name, problems, r.stderr_text().strip()[:120])

    def dict_keys_huge(self, name, label, base):
        minor = int(re.search(r"3\.(\d+)", label.rsplit("-", 1)[1]).group(1))

        def patch(img, objs):
            dicts = [a for a, o in sorted(objs.items()) if o[0] == "dict" and o[1] > 1000]
            done = 0
            for d in dicts:
                keys = img.read64(d + 32)                   # ma_keys, every version
                if not img.readable(keys, 40):
                    continue
                if minor <= 10:
                    img.write64(keys + 8, 1 << 40)          # dk_size
                    img.write64(keys + 32, (1 << 40) - 1)   # dk_nentries
                else:
                    b = img.read64(keys + 8) & ~0xffff       # dk_log2_size, dk_log2_index_bytes
                    img.write64(keys + 8, b | 40 | (40 << 8))
                    img.write64(keys + 24, (1 << 40) - 1)   # dk_nentries
                done += 1
                if done == 3:
                    return
            if not done:
                raise Skip("no dict of more than 1000 bytes")
        core = self.patched(label, base, patch)
        self.expect_warning(name, core, r"dict keys at 0x[0-9a-f]+ claim", max_lines=1)

    def sizes_huge(self, name, label, base):
        def patch(img, objs):
            done = 0
            for kind, off, value in (("list", 32, 1 << 60), ("set", 32, (1 << 58) - 1),
                                     ("bytearray", 24, 1 << 61)):
                for a, o in sorted(objs.items()):
                    if o[0] == kind:
                        img.write64(a + off, value)     # allocated / mask / alloc
                        done += 1
                        break
            if not done:
                raise Skip("no list, set or bytearray")
        core = self.patched(label, base, patch)
        rep = self.expect_warning(name + "/warning", core, r"its size read from memory",
                                  max_lines=1)
        if rep is not None:
            limit = os.path.getsize(core) * 4
            self.rep.check(name + "/bytes", [] if rep["summary"]["bytes"] < limit else
                           ["summary.bytes %d, more than 4 x the core's size" %
                            rep["summary"]["bytes"]])

    def finalizer_upper_bound(self, name, label, python):
        res = self.cache.get(label, python, "finalizers", "kernel")
        if not res.core:
            raise Skip("no core: %s" % (res.error or "unavailable"))
        r, rep, secs = self.analyse(res.core)
        problems = []
        if rep is None:
            problems.append(r.describe())
        else:
            hits = [w for w in rep["warnings"] if re.search(r"\d+ unreachable objects have "
                                                             r"finalizers", w)]
            if len(hits) != 1:
                problems.append("%d finalizer warnings (want 1): %s" %
                                (len(hits), rep["warnings"][:5]))
            else:
                n = int(hits[0].split()[0])
                if n < 200:
                    problems.append("%d objects with finalizers, the scenario makes 300" % n)
        self.rep.check(name, problems, "%.1f s" % secs)

    def interp_links(self, core):
        r = self.tool(["-vv", "-q", "-o", os.path.join(self.work, "vv.json"), "--format", "json",
                       core])
        t = r.stderr_text()
        head = re.search(r"interpreters head link at (0x[0-9a-f]+)", t)
        mod = re.search(r"interpreter state (0x[0-9a-f]+): sys.modules link at (0x[0-9a-f]+), "
                        r"next link at (0x[0-9a-f]+)", t)
        if not head or not mod:
            raise Skip("-vv names no interpreter links")
        self.interp_next = (int(mod.group(1), 16), int(mod.group(3), 16))
        return int(head.group(1), 16), int(mod.group(2), 16)

    def interp_list_cycle(self, name, label, base):
        self.interp_links(base[0])
        interp, nxt = self.interp_next
        core = self.patched(label, base, lambda img, objs: img.write64(nxt, interp))
        rep = self.expect_warning(name, core, r"interpreter list loops back", max_lines=1)
        if rep is not None:
            self.rep.check(name + "/one", [w for w in rep["warnings"]
                                           if "interpreters (sub-interpreters)" in w])

    def expect_refusal(self, name, core, pattern):
        r, rep, secs = self.analyse(core)
        problems = []
        if r.returncode != 3:
            problems.append("%s, want exit 3" % r.describe())
        if not re.search(pattern, r.stderr_text()):
            problems.append("message does not match %r: %s" % (pattern,
                                                              r.stderr_text().strip()[-300:]))
        self.rep.check(name, problems, r.stderr_text().strip()[:150])

    def message_never_initialized(self, name, label, base):
        head, _mod = self.interp_links(base[0])
        core = self.patched(label, base, lambda img, objs: img.write64(head, 0))
        self.expect_refusal(name, core, r"never initialized, or was finalized")

    def message_not_initialized(self, name, label, base):
        _head, mod = self.interp_links(base[0])
        core = self.patched(label, base, lambda img, objs: img.write64(mod, 0))
        self.expect_refusal(name, core, r"not initialized yet, or was being finalized")

    def message_heap_left_out(self, name, label, base):
        _head, mod = self.interp_links(base[0])

        def patch(img, objs):
            # An address of the process that the core does not hold, as
            # when coredump_filter leaves the anonymous mappings out.
            a = 0x10000
            while img.readable(a, 8):
                a += 0x100000
            img.write64(mod, a)
        core = self.patched(label, base, patch)
        self.expect_refusal(name, core, r"does not hold the Python heap.*coredump_filter")

    def terminal_escape(self, name, label, base):
        """The scenario's class SlotNode renamed "ESC [2J Node" in every
        copy of its name in the core (its type name and its instances'
        type): the summary's type tables printed it raw."""
        def patch(img, objs):
            if not any(o[0].endswith("SlotNode") for o in objs.values()):
                raise Skip("no SlotNode in the core")
            img.data[:] = img.data.replace(b"SlotNode", b"\x1b[2JNode")
        core = self.patched(label, base, patch)
        r = self.tool(["-o", os.path.join(self.work, "esc.json"), "--top", "100000", core],
                      timeout=CASE_SECONDS)
        out = r.stdout
        problems = []
        if r.returncode != 0:
            problems.append(r.describe())
        if b"\x1b" in out:
            problems.append("a raw ESC byte reached standard output")
        if b"\\x1b[2JNode" not in out:
            problems.append("the escaped name \\x1b[2JNode is not in the summary")
        self.rep.check(name, problems)

    def dump_why_redact(self, name, label, base):
        """--dump-why under --redact: no str/bytes contents, no dict keys in
        clear (it ignored --redact)."""
        out = os.path.join(self.work, "why.tsv")
        r = self.tool(["-q", "--redact", "-o", os.path.join(self.work, "w.json"),
                       "--dump-why", out, base[0]], timeout=CASE_SECONDS)
        problems = []
        if r.returncode != 0:
            problems.append(r.describe() + " " + r.stderr_text().strip()[-200:])
        else:
            with open(out, encoding="utf-8", errors="replace") as f:
                leaks = [l.strip() for l in f if re.search(r"\t(b?'|\[')|\[b?'", l)]
            if leaks:
                problems.append("%d lines with contents in clear, e.g. %s" %
                                (len(leaks), leaks[0][:150]))
        self.rep.check(name, problems)

    def frame_slots_underflow(self, name, label, base):
        """co_framesize (3.12+, at +76 of a code object) read as 0:
        cpy_frame_slots underflowed to 2^64 slots, frame and generator
        sizes with it."""
        minor = int(re.search(r"3\.(\d+)", label.rsplit("-", 1)[1]).group(1))
        if minor < 12:
            raise Skip("no co_framesize before 3.12")

        def patch(img, objs):
            codes = [a for a, o in objs.items() if o[0] == "code"]
            if not any(o[0] in ("frame", "generator", "coroutine") for o in objs.values()):
                raise Skip("no frame or generator object")
            for a in codes:
                img.write32(a + 76, 0)
        core = self.patched(label, base, patch)
        r, rep, secs = self.analyse(core)
        problems = []
        if rep is None:
            problems.append(r.describe())
        elif rep["summary"]["bytes"] > os.path.getsize(core) * 4:
            problems.append("summary.bytes %d, more than 4 x the core's size" %
                            rep["summary"]["bytes"])
        self.rep.check(name, problems, "%.1f s" % secs)

    def refuse_3_7_message(self, name):
        """Once per run: a CPython 3.7 core is refused with exit 3 and a
        message naming the supported range 3.8 - 3.15."""
        root = H.pyenv_root()
        versions = os.path.join(root, "versions") if root else None
        found = sorted((v for v in os.listdir(versions) if re.match(r"^3\.7\.\d+$", v)),
                       key=H._version_key) if versions and os.path.isdir(versions) else []
        if not found:
            self.rep.skip(name, "no CPython 3.7 interpreter (pyenv %s/3.7.*/bin/python3.7)" %
                          (versions or "~/.pyenv/versions"))
            return
        python = os.path.join(versions, found[-1], "bin", "python3.7")
        if not os.access(python, os.X_OK):
            self.rep.skip(name, "%s is not executable" % python)
            return
        core, why = H.make_probe_core(python, os.path.join(self.work, "probe-3.7"))
        if core is None:
            self.rep.skip(name, "no core of %s: %s" % (python, why))
            return
        self.expect_refusal(name, core, r"unsupported Python version 3\.7\b.*supports CPython "
                                        r"3\.8 - 3\.15\b")

    def subinterpreters(self, name, label, python):
        minor = int(re.search(r"3\.(\d+)", label.rsplit("-", 1)[1]).group(1))
        if minor < 12:
            raise Skip("sub-interpreters with their own thread states need 3.12+")
        res = self.cache.get(label, python, "subinterp", "kernel")
        if not res.core or not res.truth:
            raise Skip("no core: %s" % (res.error or "no truth"))
        truth = res.truth
        r, rep, secs = self.analyse(res.core)
        if rep is None:
            self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:]))
            return
        threads = rep["threads"]
        ids = [t.get("native_id") for t in threads]
        self.rep.check(name + "/warning", [] if any(
            re.search(r"the process had \d+ interpreters", w) for w in rep["warnings"]) else
            ["no warning names the several interpreters: %s" % rep["warnings"][:5]])
        crashed = [i for i, t in enumerate(threads) if t.get("crashed")]
        problems = []
        if len(crashed) != 1:
            problems.append("%d threads marked crashed (want 1); native ids %s" %
                            (len(crashed), ids))
        elif ids[crashed[0]] != truth["main"]:
            problems.append("the crashed thread has native id %s, the signal went to %d" %
                            (ids[crashed[0]], truth["main"]))
        self.rep.check(name + "/one_crashed", problems, "native ids %s" % ids)
        problems = ["native id %r is not a thread of the process %s" % (i, truth["tasks"])
                    for i in ids if i not in truth["tasks"]]
        for who in ("main", "runner"):
            if truth[who] not in ids:
                problems.append("no thread with the %s thread's native id %d" %
                                (who, truth[who]))
        if ids.count(truth["main"]) == len(ids):
            problems.append("every thread carries the main thread's native id")
        self.rep.check(name + "/native_ids", problems, "truth %s" % {
            k: truth[k] for k in ("main", "runner", "sub", "tasks")})
        # The sub-interpreter's thread state: its innermost frame runs the
        # code given to run_string ("<string>", 3.14+ "<script>").  It runs
        # on the runner thread, whose main-interpreter thread state carries
        # the same native id (one kernel thread, one state per interpreter):
        # ids are distinct within each interpreter, not across them.
        sub = [t for t in threads if t["frames"] and t["frames"][0]["filename"].startswith("<")]
        main = [t for t in threads if t not in sub]
        problems = []
        if not sub:
            problems.append("no thread runs the sub-interpreter's code: %s" %
                            [[f["filename"] for f in t["frames"][:1]] for t in threads])
        for t in sub:
            if t.get("native_id") != truth["sub"]:
                problems.append("the sub-interpreter's thread has native id %s, it runs on %d"
                                % (t.get("native_id"), truth["sub"]))
        for group, what in ((main, "main interpreter"), (sub, "sub-interpreter")):
            gids = [t.get("native_id") for t in group]
            if len(set(gids)) != len(gids):
                problems.append("native ids %s repeat within the %s" % (gids, what))
        self.rep.check(name + "/sub_thread", problems, "sub-interpreter thread on %d" %
                       truth["sub"])

    def run(self, label, python):
        try:
            base = self.base(label, python)
        except Skip as e:
            self.rep.skip("hostile/%s" % label, str(e))
            return
        for name in CASES:
            if name in SCENARIO_CASES:
                self.case(label, name,
                          lambda full, lab, n=name: getattr(self, n)(full, lab, python))
            else:
                self.case(label, name,
                          lambda full, lab, n=name: getattr(self, n)(full, lab, base))


CASES = ("gc_list_cycle", "gc_back_links", "type_base_cycle", "thread_list_cycle", "frame_chain_cycle",
         "thread_and_frame_cycle", "int64_min_size", "items_misaligned", "waste_no_binaries",
         "output_is_input",
         "stdout_closed", "file_size_limit", "dict_keys_huge",
         "sizes_huge", "finalizer_upper_bound", "message_never_initialized",
         "message_not_initialized", "message_heap_left_out", "terminal_escape",
         "dump_why_redact", "interp_list_cycle",
         "frame_slots_underflow", "subinterpreters")
# Cases that make a core of their own scenario.
SCENARIO_CASES = ("finalizer_upper_bound", "subinterpreters")
# Cases run once, not per interpreter of the matrix.
ONCE_CASES = ("refuse_3_7_message",)


def main(argv=None):
    ap = H.runner_parser(__doc__)
    ap.add_argument("--case", action="append", help="only these cases (repeatable)")
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not H.binary_ok(rep, args.bin):
        return 1
    global CASES
    once = ONCE_CASES
    if args.case:
        CASES = tuple(c for c in CASES if c in args.case)
        once = tuple(c for c in once if c in args.case)
    run = Runner(args, rep)
    try:
        interps = H.chosen_interpreters(rep, args, "hostile/", "interpreters")
        for i in interps:
            run.run(i.label, i.python)
        for c in once:
            getattr(run, c)("hostile/" + c)
    finally:
        run.cleanup()
    return H.finish(rep, "run_hostile")


if __name__ == "__main__":
    sys.exit(main())
