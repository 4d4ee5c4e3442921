#!/usr/bin/python3
"""End-to-end tests: real interpreters, real cores, ground truth from inside.

    /usr/bin/python3 tests/e2e/run_e2e.py --bin PATH [--quick] [--interp LABEL]...
        [--scenario NAME]... [--cache-dir DIR] [--prefix P] [--timeout S]
        [--results FILE]

For every interpreter of the matrix (harness.matrix_interpreters(): the
system's /usr/bin/python3.X, pyenv builds of 3.8+, and what tests/provision.sh
provisioned into its cache, e.g. debian-bookworm-3.11, pyenv-3.12.1,
debian-sid-3.14; missing ones are SKIPs) and every scenario (tests/scenarios:
garbage, reachable, threads, frozen) it generates a kernel core (os.abort())
and, for some scenarios, a gcore core, runs the tool on it and compares the
report with the truth the scenario recorded in a forked child
(tests/scenarios/_truth.py).  One line per check:
PASS|FAIL|SKIP <interp>/<scenario>/<core kind>/<check>[: details].

Which versions the tool supports: an interpreter whose minor version the
tool's --list-layouts claims is tested in full (a refusal is then a FAIL).
Any other one is asked once, with a core of `python -c 'import os;
os.abort()'`: when the tool refuses it as an unsupported Python version
(exit 3), the interpreter is one SKIP naming the version; when it analyzes
it, the interpreter is tested in full; anything else is a FAIL.

Exit 1 if anything failed.  --quick: first interpreter only (the system's
3.11), kernel cores only (the ASan pass of tests/run.sh).  --interp takes
labels or shell patterns (debian-sid-*).  --results FILE: per interpreter
label, version, source, build kind, counts and status (verified, failed,
unsupported, unavailable) as JSON, for tests/supported_versions.py.
"""

import argparse
import collections
import fnmatch
import json
import re
import time
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

GC_TOLERANCE = 0.005        # summary.gc_objects vs the child's len(gc.get_objects())
SIG_MAX_ENTRIES = 6         # formats/REPORT.md, "Signature"


# ----------------------------------------------------------------------------
# Signatures (formats/REPORT.md)

def signature(types, self_loop):
    counts = collections.Counter(types)
    names = sorted(counts, key=lambda n: (-counts[n], n.encode("utf-8")))
    parts = []
    for i, name in enumerate(names):
        if i == SIG_MAX_ENTRIES:
            parts.append("… (+%d types)" % (len(names) - i))
            break
        parts.append(name if counts[name] == 1 else "%s×%d" % (name, counts[name]))
    s = " + ".join(parts)
    if len(types) == 1 and self_loop:
        s += " (self)"
    return s


# ----------------------------------------------------------------------------
# Helpers

def by_name(entries):
    out = {}
    for e in entries or []:
        if isinstance(e, dict) and "name" in e:
            out[e["name"]] = e
    return out


def canon(obj):
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def frames_of(thread):
    return [[f.get("function"), f.get("filename"), f.get("line")] for f in thread.get("frames") or []]


def fmt_frames(frames, limit=4):
    s = " < ".join("%s@%s:%s" % (fn, os.path.basename(str(fl)), ln) for fn, fl, ln in frames[:limit])
    return s + (" < ..." if len(frames) > limit else "")


def mb(n):
    return "%.1f MB" % (n / 1e6)


def tool_version(binary):
    r = H.run_tool(binary, ["--version"], cwd="/", timeout=60)
    if r.returncode != 0:
        return None
    return r.stdout_text().strip()


# ----------------------------------------------------------------------------
# Schema self-test (no binary needed)

def minimal_report():
    return {
        "schema": "pyheap-analyze.report/3",
        "tool": {"name": "pyheap-analyze", "version": "0"},
        "input": {"path": "core", "kind": "core", "bytes": 1, "compressed": False},
        "python": {"version": "3.11.2", "hexversion": 51052784, "layout": "cpython-3.11",
                   "free_threaded": False},
        "process": {"pid": None, "signal": None, "executable": None, "argv": None},
        "summary": {k: 0 for k in ("objects", "gc_objects", "bytes", "unreachable_objects",
                                   "unreachable_bytes", "unreachable_freed_objects", "cycles",
                                   "cycle_objects", "edges", "permanent_objects",
                                   "conservative_objects")},
        "types": [{"name": "dict", "count": 1, "bytes": 64, "unreachable": 0}],
        "unreachable": {"types": [], "groups": []},
        "cycles": [{"signature": "list (self)", "instances": 1, "objects": 1, "bytes": 72,
                    "unreachable": True, "kind": "user"}],
        "threads": [{"thread_id": 1, "native_id": None,
                     "frames": [{"function": "f", "filename": "x.py", "line": None,
                                 "locals": []}]}],
        "warnings": [],
        "roots": {"interpreter": 0, "held_from_outside": 0, "held_from_outside_bytes": 0,
                  "labelled": False, "edge_labels": False},
        "retained": {"heap_objects": 0, "heap_bytes": 0, "top_level_bytes": 0,
                     "unrooted_objects": 0,
                     "unrooted_bytes": 0, "types": [], "top": []},
        "leak_suspects": [],
        "held_by_c": {"objects": 0, "bytes": 0, "types": []},
        "waste": {"available": False},
        "memory": {"available": False, "reason": "snapshot"},
        "allocations": {"tracing": False},
        "future_key": {"anything": True},
    }


def schema_selftest(rep):
    """Both validators accept a minimal report and reject broken ones."""
    try:
        schema = H.load_schema()
    except (OSError, ValueError) as e:
        rep.fail("schema/load", "%s: %s" % (H.SCHEMA_PATH, e))
        return None
    validators = []
    try:
        validators.append(("schema_check.py", H.fallback_validator(schema)))
    except Exception as e:  # the schema uses something the fallback lacks
        rep.fail("schema/fallback-validator", "schema_check.py rejects the schema: %s" % e)
    try:
        js = H.jsonschema_validator(schema)
    except Exception as e:
        rep.fail("schema/jsonschema", "python3-jsonschema rejects the schema: %s" % e)
        js = None
    if js is not None:
        validators.append(("python3-jsonschema", js))
    else:
        rep.skip("schema/jsonschema-agrees",
                 "python3-jsonschema not importable by %s (tests/deps.sh all installs it); "
                 "reports are validated with tests/e2e/schema_check.py" % sys.executable)

    def mutate(path, value=None, delete=False):
        r = minimal_report()
        node = r
        for k in path[:-1]:
            node = node[k]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return r
    bad = {
        "missing summary": mutate(["summary"], delete=True),
        "missing threads[].frames": mutate(["threads", 0, "frames"], delete=True),
        "wrong schema": mutate(["schema"], "pyheap-analyze.report/1"),
        "negative count": mutate(["types", 0, "count"], -1),
        "bool as count": mutate(["summary", "objects"], True),
        "string pid": mutate(["process", "pid"], "12"),
        "null python.version": mutate(["python", "version"], None),
        "kind not in enum": mutate(["input", "kind"], "heap"),
        "unreachable as string": mutate(["cycles", 0, "unreachable"], "yes"),
        "cycle kind not in enum": mutate(["cycles", 0, "kind"], "world"),
        "missing cycle kind": mutate(["cycles", 0, "kind"], delete=True),
        "missing process.argv": mutate(["process", "argv"], delete=True),
        "warnings not strings": mutate(["warnings"], [1]),
    }
    for vname, v in validators:
        problems = []
        errs = v(minimal_report())
        if errs:
            problems.append("minimal valid report rejected: %s" % errs[:3])
        for what, inst in bad.items():
            if not v(inst):
                problems.append("accepted a report with %s" % what)
        rep.check("schema/self-test/%s" % vname, problems,
                  "accepts a valid report, rejects %d broken ones" % len(bad))
    # The preferred validator (python3-jsonschema when importable) first.
    return list(reversed(validators))


# ----------------------------------------------------------------------------
# One core

class CoreCase:
    def __init__(self, ctx, label, scenario, mode, res):
        self.ctx = ctx
        self.rep = ctx.rep
        self.label, self.scenario, self.mode = label, scenario, mode
        self.res = res
        self.truth = res.truth
        self.core = res.core
        self.work = os.path.join(os.path.dirname(res.core), "out-" + ctx.run_id)
        self.report = None
        self.raw = None
        self.dump = None

    def name(self, check):
        return "%s/%s/%s/%s" % (self.label, self.scenario, self.mode, check)

    def check(self, check, problems, detail=""):
        return self.rep.check(self.name(check), problems, detail)

    def run(self, args, sub, timeout=None):
        d = os.path.join(self.work, sub)
        os.makedirs(d, exist_ok=True)
        return H.run_tool(self.ctx.binary, args, cwd=d, timeout=timeout or self.ctx.timeout), d

    @staticmethod
    def run_problem(r):
        if r.error or r.timed_out or r.signalled:
            return r.describe()
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            return "sanitizer: " + trouble
        if r.returncode != 0:
            return "%s: %s" % (r.describe(), r.stderr_text().strip()[-400:])
        return None

    # -- the main run ---------------------------------------------------------

    def analyze(self):
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        r, d = self.run(["-q", "-o", "report.json", "--dump-objects", "objects.tsv", self.core], "a")
        problem = self.run_problem(r)
        if problem:
            self.rep.fail(self.name("analyze"), problem)
            return False
        try:
            self.raw, self.report = H.read_report(os.path.join(d, "report.json"))
        except H.LoadError as e:
            self.rep.fail(self.name("analyze"), "exit 0 but %s" % e)
            return False
        if not isinstance(self.report, dict):
            self.rep.fail(self.name("analyze"), "report is not a JSON object")
            return False
        nwarn = len(self.report.get("warnings") or [])
        self.rep.ok(self.name("analyze"), "%.1f s, peak RSS %.0f MB, %d warning(s)%s" % (
            r.seconds, r.maxrss_kb / 1024.0, nwarn,
            (": " + "; ".join(str(w) for w in self.report["warnings"][:3])) if nwarn else ""))
        self.a_dir = d
        return True

    def go(self):
        if not self.analyze():
            self.rep.skip(self.name("*"), "the remaining checks of this core need a report (analyze failed)")
            return
        self.safe("schema", self.c_schema)
        self.safe("header", self.c_header)
        self.safe("python", self.c_python)
        self.safe("process", self.c_process)
        self.safe("consistency", self.c_consistency)
        self.safe("gc-objects", self.c_gc_objects)
        self.safe("permanent", self.c_permanent)
        self.safe("scenario-types", self.c_scenario_types)
        self.safe("unreachable-count", self.c_unreachable_count)
        self.safe("unreachable-types", self.c_unreachable_types)
        self.safe("unreachable-bytes", self.c_unreachable_bytes)
        self.safe("types-unreachable", self.c_types_unreachable)
        self.safe("unreachable-groups", self.c_unreachable_groups)
        self.safe("cycles", self.c_cycles)
        self.safe("dump-objects", self.c_dump)
        if self.dump is not None:
            self.safe("sample-sizes", self.c_sample_sizes)
            self.safe("sample-types", self.c_sample_types)
        else:
            self.rep.skip(self.name("sample-*"), "no usable --dump-objects file (see dump-objects)")
        self.safe("threads-main", self.c_threads_main)
        self.safe("threads-stacks", self.c_threads_stacks)
        if self.scenario == "threads":
            self.safe("threads-named", self.c_threads_named)
        if self.scenario == "many_types":
            self.safe("snapshot-types", self.c_snapshot_types)
        if self.scenario == "sizeof":
            self.safe("sizeof-warning", self.c_sizeof_warning)
        self.safe("thread-ids", self.c_thread_ids)
        self.safe("determinism", self.c_determinism)
        self.safe("default-output", self.c_default_output)
        self.safe("json-stdout", self.c_json_stdout)
        self.safe("text-stdout", self.c_text_stdout)
        self.safe("zstd-core", self.c_zstd_core)
        minor = tuple(int(x) for x in self.truth["python"]["version"].split(".")[:2])
        if minor >= (3, 13) and self.mode == "kernel":
            self.safe("no-binaries", self.c_no_binaries)
        if not self.ctx.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def safe(self, check, fn):
        """A check that trips over a malformed report FAILs, never crashes."""
        try:
            fn(check)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
            self.rep.fail(self.name(check), "report shape unexpected: %s: %s" % (type(e).__name__, e))

    # -- checks ---------------------------------------------------------------

    def c_schema(self, check):
        if not self.ctx.validators:
            self.check(check, ["no usable schema validator (see schema/* above)"])
            return
        (vname, validate), others = self.ctx.validators[0], self.ctx.validators[1:]
        p = ["%s" % e for e in validate(self.report)]
        for oname, other in others:
            if bool(other(self.report)) != bool(p):
                p.append("%s and %s disagree on this report" % (vname, oname))
        self.check(check, p, "valid (%s)" % ", ".join(n for n, _ in self.ctx.validators))

    def c_header(self, check):
        r, p = self.report, []
        if r.get("schema") != "pyheap-analyze.report/3":
            p.append("schema %r" % r.get("schema"))
        tool = r.get("tool") or {}
        if tool.get("name") != "pyheap-analyze":
            p.append("tool.name %r" % tool.get("name"))
        if self.ctx.version is not None and str(tool.get("version")) not in self.ctx.version:
            p.append("tool.version %r not in --version output %r" % (tool.get("version"), self.ctx.version))
        inp = r.get("input") or {}
        if inp.get("path") != self.core:
            p.append("input.path %r, given %r" % (inp.get("path"), self.core))
        if inp.get("kind") != "core":
            p.append("input.kind %r" % inp.get("kind"))
        size = os.path.getsize(self.core)
        if inp.get("bytes") != size:
            p.append("input.bytes %r, file has %d" % (inp.get("bytes"), size))
        if inp.get("compressed") is not False:
            p.append("input.compressed %r for a plain core" % inp.get("compressed"))
        self.check(check, p)

    def c_python(self, check):
        py, t, p = self.report.get("python") or {}, self.truth["python"], []
        if py.get("version") != t["version"]:
            p.append("version %r, interpreter says %r" % (py.get("version"), t["version"]))
        if py.get("hexversion") != t["hexversion"]:
            p.append("hexversion %r, sys.hexversion %r" % (py.get("hexversion"), t["hexversion"]))
        minor = ".".join(t["version"].split(".")[:2])
        if not isinstance(py.get("layout"), str) or minor not in py.get("layout"):
            p.append("layout %r does not name %s" % (py.get("layout"), minor))
        if py.get("free_threaded") is not t["free_threaded"]:
            p.append("free_threaded %r, build says %r" % (py.get("free_threaded"), t["free_threaded"]))
        self.check(check, p, "%s %s" % (py.get("version"), py.get("layout")))

    def c_process(self, check):
        pr, t, p = self.report.get("process") or {}, self.truth["process"], []
        if pr.get("pid") != t["pid"]:
            p.append("pid %r, process was %d" % (pr.get("pid"), t["pid"]))
        if self.mode == "kernel" and pr.get("signal") != 6:
            p.append("signal %r, the process died of SIGABRT (6)" % pr.get("signal"))
        exe = pr.get("executable")
        # An interpreter from another distribution runs through its own
        # dynamic loader (ld-linux PROGRAM): the process's executable and
        # argv[0] are then the loader's, not sys.executable.
        via_loader = isinstance(exe, str) and os.path.basename(exe).startswith("ld-linux")
        if not isinstance(exe, str):
            p.append("executable %r (the core's NT_FILE names it)" % exe)
        elif os.path.realpath(exe) != os.path.realpath(t["executable"]) and not via_loader:
            p.append("executable %r, sys.executable %r" % (exe, t["executable"]))
        argv = pr.get("argv")
        if argv is not None and via_loader:
            if not (isinstance(argv, list) and argv and argv[0] == exe):
                p.append("argv %r does not start with the loader %r" % (argv, exe))
        elif argv is not None:
            full = " ".join(t["argv"])
            if not (isinstance(argv, list) and argv and full.startswith(" ".join(argv))):
                p.append("argv %r is not (a prefix of) %r" % (argv, t["argv"]))
        self.check(check, p, "pid %s signal %s" % (pr.get("pid"), pr.get("signal")))

    def c_consistency(self, check):
        r, p = self.report, []
        s = r["summary"]
        types = r["types"]
        names = [t["name"] for t in types]
        if len(set(names)) != len(names):
            dup = [n for n, c in collections.Counter(names).items() if c > 1]
            p.append("duplicate type names %s" % dup[:5])
        order = sorted(types, key=lambda t: (-t["bytes"], t["name"].encode("utf-8")))
        if [t["name"] for t in order] != names:
            first = next(i for i, (a, b) in enumerate(zip(order, types)) if a is not b)
            p.append("types[] not sorted by bytes desc, name: position %d is %r (%d bytes), expected %r" % (
                first, types[first]["name"], types[first]["bytes"], order[first]["name"]))
        for key, field in (("objects", "count"), ("bytes", "bytes"), ("unreachable_objects", "unreachable")):
            total = sum(t[field] for t in types)
            if total != s[key]:
                p.append("sum types[].%s = %d != summary.%s = %d" % (field, total, key, s[key]))
        if any(t["count"] < 1 for t in types):
            p.append("types[] lists types with no objects")
        ut = r["unreachable"]["types"]
        if [t["name"] for t in ut] != [t["name"] for t in sorted(
                ut, key=lambda t: (-t["bytes"], t["name"].encode("utf-8")))]:
            p.append("unreachable.types[] not sorted by bytes desc, name")
        if any(t["count"] < 1 for t in ut):
            p.append("unreachable.types[] lists types with no unreachable object")
        if sum(t["count"] for t in ut) != s["unreachable_objects"]:
            p.append("sum unreachable.types[].count = %d != summary.unreachable_objects = %d" % (
                sum(t["count"] for t in ut), s["unreachable_objects"]))
        # summary.unreachable_bytes is everything gc.collect() frees: the
        # unreachable set (unreachable.types[]) and what only it keeps alive.
        if sum(t["bytes"] for t in ut) > s["unreachable_bytes"]:
            p.append("sum unreachable.types[].bytes = %d > summary.unreachable_bytes = %d" % (
                sum(t["bytes"] for t in ut), s["unreachable_bytes"]))
        if s["unreachable_freed_objects"] < s["unreachable_objects"]:
            p.append("summary.unreachable_freed_objects %d < unreachable_objects %d" % (
                s["unreachable_freed_objects"], s["unreachable_objects"]))
        ug = r["unreachable"]["groups"]
        if sum(g["objects"] for g in ug) != s["unreachable_objects"]:
            p.append("sum unreachable.groups[].objects = %d != summary.unreachable_objects = %d" % (
                sum(g["objects"] for g in ug), s["unreachable_objects"]))
        cy = r["cycles"]
        if sum(c["instances"] for c in cy) != s["cycles"]:
            p.append("sum cycles[].instances = %d != summary.cycles = %d" % (
                sum(c["instances"] for c in cy), s["cycles"]))
        if sum(c["objects"] for c in cy) != s["cycle_objects"]:
            p.append("sum cycles[].objects = %d != summary.cycle_objects = %d" % (
                sum(c["objects"] for c in cy), s["cycle_objects"]))
        if s["gc_objects"] + s["permanent_objects"] > s["objects"]:
            p.append("gc_objects %d + permanent_objects %d > objects %d" % (
                s["gc_objects"], s["permanent_objects"], s["objects"]))
        sigs = collections.Counter((c["signature"], c["unreachable"], c.get("kind")) for c in cy)
        dups = [k for k, v in sigs.items() if v > 1]
        if dups:
            p.append("cycles[] has repeated (signature, unreachable, kind): %s" % dups[:3])
        user = [c for c in cy if c.get("kind") == "user"]
        for key, field in (("user_cycles", "instances"), ("user_cycle_objects", "objects"),
                           ("user_cycle_bytes", "bytes")):
            if key in s and sum(c[field] for c in user) != s[key]:
                p.append("sum of the user rows' %s = %d != summary.%s = %d" % (
                    field, sum(c[field] for c in user), key, s[key]))
        kinds = [c.get("kind") for c in cy]
        if kinds != sorted(kinds, key=lambda k: k != "user"):
            p.append("cycles[]: a module-world row comes before a user row")
        self.check(check, p, "%d objects, %d types, %d edges" % (s["objects"], len(types), s["edges"]))

    def c_gc_objects(self, check):
        got = self.report["summary"]["gc_objects"]
        want = self.truth["gc_objects"]
        parent = self.truth.get("parent_gc_objects_before_fork")
        diff = abs(got - want)
        detail = "report %d, child len(gc.get_objects()) %d, parent before fork %s (diff %.3f%%)" % (
            got, want, parent, 100.0 * diff / max(want, 1))
        self.check(check, [detail] if diff > GC_TOLERANCE * want else [], detail)

    def c_no_binaries(self, check):
        """3.13+: with no binary on disk (an empty --sysroot) the runtime is
        found by scanning the core for _Py_DebugOffsets; the run degrades
        (static type names live in the binaries) but must say so, know the
        exact version and walk the same GC lists."""
        empty = os.path.join(self.work, "empty-root")
        os.makedirs(empty, exist_ok=True)
        r, d = self.run(["-q", "--sysroot", empty, "-o", "report.json", self.core], "nobin")
        problem = self.run_problem(r)
        if problem:
            self.check(check, [problem])
            return
        _, rep = H.read_report(os.path.join(d, "report.json"))
        p = []
        if (rep.get("python") or {}).get("version") != self.truth["python"]["version"]:
            p.append("version %r, interpreter %r" % ((rep.get("python") or {}).get("version"),
                                                     self.truth["python"]["version"]))
        if not any("scanning the core for _Py_DebugOffsets" in str(w) for w in rep.get("warnings") or []):
            p.append("no warning that _PyRuntime was found by scanning")
        got, want = rep["summary"]["gc_objects"], self.report["summary"]["gc_objects"]
        if got != want:
            p.append("gc_objects %d, %d with the binaries" % (got, want))
        want_types = self.truth.get("scenario_types_with_permanent") or self.truth["scenario_types"]
        have = by_name(rep["types"])
        for name, w in sorted(want_types.items()):
            if (have.get(name) or {}).get("count") != w["count"]:
                p.append("%s: %r objects, interpreter %d" % (name, (have.get(name) or {}).get("count"), w["count"]))
        self.check(check, p, "%.1f s, gc_objects %d, %d warning(s)" % (
            r.seconds, got, len(rep.get("warnings") or [])))

    def c_permanent(self, check):
        got = self.report["summary"]["permanent_objects"]
        want = self.truth["freeze_count"]
        p = [] if got == want else ["permanent_objects %d, gc.get_freeze_count() %d" % (got, want)]
        self.check(check, p, "%d" % got)

    def c_scenario_types(self, check):
        want = self.truth.get("scenario_types_with_permanent") or self.truth["scenario_types"]
        have = by_name(self.report["types"])
        p = []
        for name, w in sorted(want.items()):
            h = have.get(name)
            hc, hb = (h["count"], h["bytes"]) if h else (0, 0)
            if hc != w["count"] or hb != w["bytes"]:
                p.append("%s: report %d objects / %d bytes, interpreter %d / %d" % (
                    name, hc, hb, w["count"], w["bytes"]))
        self.check(check, p, ", ".join("%s=%d" % (n.split(".")[-1], w["count"])
                                       for n, w in sorted(want.items()) if not n.startswith("_truth.")))

    def c_sizeof_warning(self, check):
        """A __sizeof__ the tool cannot reproduce (written in Python) is
        named in one aggregated warning, never sized silently."""
        ws = [str(w) for w in self.report.get("warnings") or [] if "__sizeof__" in str(w)]
        p = []
        if len(ws) != 1:
            p.append("%d warnings about __sizeof__ (want 1): %r" % (len(ws), ws))
        elif "pysized.PySized (3 objects)" not in ws[0]:
            p.append("the warning does not name pysized.PySized (3 objects): %r" % ws[0])
        self.check(check, p, ws[0][:200] if len(ws) == 1 else "")

    def c_snapshot_types(self, check):
        """Issue 9: every one of 5,000 classes counted exactly again after a
        --save-snapshot round trip (the snapshot path builds its own type
        table)."""
        r, d = self.run(["-q", "-o", "core.json", "--save-snapshot", "heap.msgpack.zst", self.core], "s")
        problem = self.run_problem(r)
        if problem:
            self.check(check, ["saving the snapshot: " + problem])
            return
        r, d2 = self.run(["-q", "-o", "snap.json", os.path.join(d, "heap.msgpack.zst")], "s2")
        problem = self.run_problem(r)
        if problem:
            self.check(check, ["analyzing the snapshot: " + problem])
            return
        _, snap = H.read_report(os.path.join(d2, "snap.json"))
        want = self.truth.get("scenario_types_with_permanent") or self.truth["scenario_types"]
        have = by_name(snap["types"])
        p = []
        for name, w in sorted(want.items()):
            h = have.get(name)
            hc, hb = (h["count"], h["bytes"]) if h else (0, 0)
            if hc != w["count"] or hb != w["bytes"]:
                p.append("%s: snapshot report %d objects / %d bytes, interpreter %d / %d" % (
                    name, hc, hb, w["count"], w["bytes"]))
        if len(snap["types"]) != len(self.report["types"]):
            p.append("snapshot report has %d types, core report %d" % (
                len(snap["types"]), len(self.report["types"])))
        self.check(check, p[:10], "%d types" % len(want))

    def c_unreachable_count(self, check):
        got = self.report["summary"]["unreachable_objects"]
        want = self.truth["collected"]
        p = [] if got == want else ["summary.unreachable_objects %d, gc.collect() returned %d (%+d)" % (
            got, want, got - want)]
        if self.truth["garbage_len"] != want:
            p.append("truth itself inconsistent: len(gc.garbage) %d != collected %d" % (
                self.truth["garbage_len"], want))
        self.check(check, p, "%d" % got)

    def _compare_counts(self, got, want, what):
        p = []
        for name in sorted(set(got) | set(want)):
            if got.get(name, 0) != want.get(name, 0):
                p.append("%s: report %d, %s %d" % (name, got.get(name, 0), what, want.get(name, 0)))
        return p

    def c_unreachable_types(self, check):
        got = {t["name"]: t["count"] for t in self.report["unreachable"]["types"]}
        p = self._compare_counts(got, self.truth["garbage_types"], "gc.garbage")
        self.check(check, p, "%d types" % len(got))

    def c_unreachable_bytes(self, check):
        got = {t["name"]: t["bytes"] for t in self.report["unreachable"]["types"]}
        p = self._compare_counts(got, self.truth["garbage_bytes"], "sum of getsizeof over gc.garbage")
        # The unreachable set's own bytes are exact; summary.unreachable_bytes
        # adds what only that set keeps alive (checked against a real
        # gc.collect() by run_real.py's freed_bytes), so it is at least that.
        s = self.report["summary"]["unreachable_bytes"]
        u = sum(got.values())
        if s < self.truth["garbage_total_bytes"]:
            p.insert(0, "summary.unreachable_bytes %d, below the interpreter's unreachable set %d" % (
                s, self.truth["garbage_total_bytes"]))
        self.check(check, p, "%d bytes in the unreachable set, %d freed with what only it holds" % (u, s))

    def c_types_unreachable(self, check):
        got = {t["name"]: t["unreachable"] for t in self.report["types"] if t["unreachable"]}
        p = self._compare_counts(got, self.truth["garbage_types"], "gc.garbage")
        self.check(check, p)

    def _oracle(self):
        cyc = self.truth.get("cycles")
        if cyc is None:
            return None
        return cyc["groups"]

    def c_unreachable_groups(self, check):
        groups = self._oracle()
        if groups is None:
            self.rep.skip(self.name(check), "the scenario did not run the cycle oracle")
            return
        want = collections.defaultdict(lambda: [0, 0, 0])
        for g in groups:
            if g["unreachable"] is True:
                w = want[signature(g["types"], g["self"])]
                w[0] += g["instances"]
                w[1] += g["objects"]
                w[2] += g["bytes"]
        got = collections.defaultdict(lambda: [0, 0, 0])
        for g in self.report["unreachable"]["groups"]:
            x = got[g["signature"]]
            x[0] += g["instances"]
            x[1] += g["objects"]
            x[2] += g["bytes"]
        p = []
        for sig in sorted(set(want) | set(got)):
            if want.get(sig) != got.get(sig):
                p.append("%r: report %s, interpreter %s (instances, objects, bytes)" % (
                    sig, got.get(sig, "absent"), want.get(sig, "absent")))
        self.check(check, p, "%d groups" % len(want))

    def c_cycles(self, check):
        groups = self._oracle()
        if groups is None:
            self.rep.skip(self.name(check), "the scenario did not run the cycle oracle")
            return
        if self.truth["cycles"].get("definition") != "rows/1":
            self.rep.skip(self.name(check), "the cached truth predates the user/module-world rows")
            return
        want = collections.defaultdict(lambda: [0, 0, 0])
        has_type = {}
        for g in groups:
            if g["unreachable"] == "mixed" or not g["cycle"]:
                continue
            key = (signature(g["types"], g["self"]), bool(g["unreachable"]), g["kind"])
            w = want[key]
            w[0] += g["instances"]
            w[1] += g["objects"]
            w[2] += g["bytes"]
            has_type[key] = has_type.get(key, False) or "type" in g["types"]
        got = {}
        for c in self.report["cycles"]:
            got[(c["signature"], c["unreachable"], c.get("kind"))] = [
                c["instances"], c["objects"], c["bytes"]]
        p = []
        nuser = 0
        for key in sorted(want):
            w, g = want[key], got.get(key)
            nuser += key[2] == "user"
            if g == w:
                continue
            # Static types are not GC objects: gc.get_referents() cannot see
            # their references, the tool's full graph can, so a module-world
            # component of the same shape made of a static type adds to a
            # group that has a `type` member.  There the interpreter's count
            # is a lower bound.  User rows hold no type object: exact.
            if (g is not None and key[2] == "module-world" and has_type[key] and not key[1]
                    and all(a >= b for a, b in zip(g, w))):
                continue
            p.append("%r%s [%s]: report %s, interpreter %s (instances, objects, bytes)" % (
                key[0], " (unreachable)" if key[1] else "", key[2], g or "absent", w))
        limit = self.truth["cycles"]["max_size"]
        for key, g in sorted(got.items()):
            # The oracle records every garbage row, and every user cycle of
            # up to `limit` objects.
            if key not in want and (key[1] or (key[2] == "user" and g[1] <= limit * g[0])):
                p.append("%r%s [%s]: report %s, interpreter has no such cycle" % (
                    key[0], " (unreachable)" if key[1] else "", key[2], g))
        tr = self.truth["cycles"]
        s = self.report["summary"]
        if "user_cycles" in s and s["user_cycles"] != tr["user_sccs"]:
            p.append("summary.user_cycles %d, interpreter %d" % (s["user_cycles"], tr["user_sccs"]))
        if "user_cycle_objects" in s and s["user_cycle_objects"] != tr["user_objects"]:
            p.append("summary.user_cycle_objects %d, interpreter %d" % (
                s["user_cycle_objects"], tr["user_objects"]))
        self.check(check, p, "%d groups of rows up to %d objects (%d user), all garbage rows; "
                   "%d user cycles, %d objects" % (len(want), limit, nuser, tr["user_sccs"],
                                                   tr["user_objects"]))

    def c_dump(self, check):
        path = os.path.join(self.a_dir, "objects.tsv")
        try:
            self.dump = H.load_dump_objects(path)
        except H.LoadError as e:
            self.check(check, ["%s: %s" % (path, e)])
            return
        rows = self.dump.values()
        s = self.report["summary"]
        p = []
        n = len(self.dump)
        if n != s["objects"]:
            p.append("%d lines, summary.objects %d" % (n, s["objects"]))
        unr = sum(1 for r in rows if r[4])
        if unr != s["unreachable_objects"]:
            p.append("%d unreachable lines, summary.unreachable_objects %d" % (unr, s["unreachable_objects"]))
        size = sum(r[1] for r in rows)
        if size != s["bytes"]:
            p.append("sizes sum to %d, summary.bytes %d" % (size, s["bytes"]))
        gc_n = sum(1 for r in rows if "gc" in r[3] and "permanent" not in r[3])
        if gc_n != s["gc_objects"]:
            p.append("%d lines flagged gc (not permanent), summary.gc_objects %d" % (gc_n, s["gc_objects"]))
        perm = sum(1 for r in rows if "permanent" in r[3])
        if perm != s["permanent_objects"]:
            p.append("%d lines flagged permanent, summary.permanent_objects %d" % (perm, s["permanent_objects"]))
        bad = sum(1 for r in rows if r[4] and ("gc" not in r[3] or "permanent" in r[3]))
        if bad:
            p.append("%d unreachable lines are not on a (non-permanent) GC list" % bad)
        per_type = collections.Counter(r[0] for r in rows)
        have = {t["name"]: t["count"] for t in self.report["types"]}
        if per_type != collections.Counter(have):
            diff = [k for k in set(per_type) | set(have) if per_type.get(k, 0) != have.get(k, 0)]
            p.append("type counts differ from types[] for %s" % sorted(diff)[:5])
        self.check(check, p, "%d objects" % n)

    def c_sample_sizes(self, check):
        p, n = [], 0
        for addr_s, (tname, size, label) in sorted(self.truth["samples"].items(), key=lambda kv: kv[1][2]):
            row = self.dump.get(int(addr_s, 16))
            n += 1
            if row is None:
                p.append("%s (%s %s) missing from --dump-objects" % (label, tname, addr_s))
            elif row[1] != size:
                p.append("%s (%s %s): tool %d, sys.getsizeof %d" % (label, tname, addr_s, row[1], size))
        self.check(check, p, "%d objects" % n)

    def c_sample_types(self, check):
        p = []
        for addr_s, (tname, size, label) in sorted(self.truth["samples"].items(), key=lambda kv: kv[1][2]):
            row = self.dump.get(int(addr_s, 16))
            if row is not None and row[0] != tname:
                p.append("%s %s: tool says %r, repr(type) says %r" % (label, addr_s, row[0], tname))
        self.check(check, p, "%d objects" % len(self.truth["samples"]))

    def _threads(self):
        return [t for t in self.report["threads"] if isinstance(t, dict)]

    def c_threads_main(self, check):
        want = self.truth["main_thread"]["frames"]
        stacks = [frames_of(t) for t in self._threads()]
        p = []
        if want not in stacks:
            p.append("no thread has the main thread's stack %s; report has %s" % (
                fmt_frames(want), " | ".join(fmt_frames(s) for s in stacks) or "no threads"))
        self.check(check, p, fmt_frames(want))

    def _cut_threads(self):
        """Native ids of threads whose stack the tool reports as cut by a
        zero-filled frame (gdb's gcore cannot read thread stacks that
        glibc >= 2.42 protects with guard regions; kernel cores can)."""
        cut = set()
        # One line per kind of warning (analyzer/warnings.c): the first
        # thread starts the line, the next ones are its examples.
        for w in self.report.get("warnings") or []:
            for m in re.finditer(r"thread (\d+): the frame at 0x[0-9a-f]+ reads as zeros", str(w)):
                if self.mode == "gcore":
                    cut.add(int(m.group(1)))
        return cut

    def _stack_match(self, x, frames, cut):
        got = frames_of(x)
        if got == frames:
            return True
        return x.get("native_id") in cut and len(got) > 0 and frames[:len(got)] == got

    def c_threads_stacks(self, check):
        threads = self._threads()
        stacks = [frames_of(t) for t in threads]
        cut = self._cut_threads()
        p = []
        want_n = 1 + len(self.truth["threads"])
        if len(stacks) != want_n:
            p.append("%d threads in the report, the interpreter had %d" % (len(stacks), want_n))
        for t in self.truth["threads"]:
            if not any(self._stack_match(x, t["frames"], cut) for x in threads):
                near = [s for s in stacks if s and s[0][0] == t["frames"][0][0]]
                p.append("thread %s: stack %s not found%s" % (
                    t["name"], fmt_frames(t["frames"]),
                    ("; closest %s" % fmt_frames(near[0])) if near else ""))
        self.check(check, p, "%d threads%s" % (want_n, (
            "; %d cut where the gcore core has zero-filled stack memory (see warnings)" % len(cut))
            if cut else ""))

    def c_threads_named(self, check):
        expect = {}
        for t in self.truth["threads"]:
            for fn, fl, ln in t["frames"]:
                if fn.startswith("sleeper_"):
                    expect[fn] = (fl, ln)
        p = []
        if sorted(expect) != ["sleeper_alpha", "sleeper_beta", "sleeper_gamma"]:
            p.append("truth lacks a sleeper: %s" % sorted(expect))
        frames = [f for t in self._threads() for f in frames_of(t)]
        for fn, (fl, ln) in sorted(expect.items()):
            if [fn, fl, ln] not in frames:
                seen = [f[2] for f in frames if f[0] == fn]
                p.append("%s at %s:%d not in any thread (report lines for it: %s)" % (
                    fn, os.path.basename(fl), ln, seen or "none"))
        self.check(check, p, " ".join("%s:%d" % (fn, v[1]) for fn, v in sorted(expect.items())))

    def c_thread_ids(self, check):
        threads = self._threads()
        p = []
        recorded = [dict(self.truth["main_thread"], name="main")] + self.truth["threads"]
        cut = self._cut_threads()
        for t in recorded:
            match = [x for x in threads if self._stack_match(x, t["frames"], cut)]
            if not match:
                p.append("%s: no thread with its stack to compare ids" % t["name"])
                continue
            x = match[0]
            if x.get("thread_id") != t["ident"]:
                p.append("%s: thread_id %r, threading.get_ident() %d" % (t["name"], x.get("thread_id"), t["ident"]))
            if x.get("native_id") != t["native_id"]:
                p.append("%s: native_id %r, get_native_id() %r" % (t["name"], x.get("native_id"), t["native_id"]))
        self.check(check, p)

    def c_determinism(self, check):
        r, d = self.run(["-q", "-o", "report.json", "--dump-objects", "objects.tsv", self.core], "b")
        problem = self.run_problem(r)
        if problem:
            self.check(check, ["second run: " + problem])
            return
        p = []
        with open(os.path.join(d, "report.json"), "rb") as f:
            raw_b = f.read()
        if raw_b != self.raw:
            p.append("report differs between two runs (%d vs %d bytes)" % (len(self.raw), len(raw_b)))
        with open(os.path.join(d, "objects.tsv"), "rb") as f1, \
                open(os.path.join(self.a_dir, "objects.tsv"), "rb") as f2:
            if f1.read() != f2.read():
                p.append("--dump-objects output differs between two runs")
        self.check(check, p, "byte-identical report and object dump")

    def c_default_output(self, check):
        r, d = self.run([self.core], "c")
        problem = self.run_problem(r)
        if problem:
            self.check(check, [problem])
            return
        p = []
        expected = os.path.join(d, os.path.basename(self.core) + ".pyheap.json.zst")
        if not os.path.exists(expected):
            p.append("%s not written (cwd has %s)" % (os.path.basename(expected), sorted(os.listdir(d))))
        else:
            with open(expected, "rb") as f:
                head = f.read(4)
            if head != H.ZSTD_MAGIC:
                p.append("%s is not zstd (starts %r)" % (os.path.basename(expected), head))
            else:
                try:
                    raw, _ = H.read_report(expected)
                    if raw != self.raw:
                        p.append("decompressed report differs from the -o report.json one")
                except H.LoadError as e:
                    p.append(str(e))
        if not r.stdout.strip():
            p.append("no text summary on stdout")
        self.check(check, p, "%s, %d bytes of summary" % (os.path.basename(expected), len(r.stdout)))

    def c_json_stdout(self, check):
        r, d = self.run(["-q", "--format", "json", "-o", "-", self.core], "d")
        problem = self.run_problem(r)
        if problem:
            self.check(check, [problem])
            return
        p = []
        if r.stdout != self.raw:
            p.append("stdout (%d bytes) differs from the report file (%d bytes)" % (len(r.stdout), len(self.raw)))
        if os.listdir(d):
            p.append("files written with -o -: %s" % sorted(os.listdir(d)))
        self.check(check, p)

    def c_text_stdout(self, check):
        r, d = self.run(["-q", "--format", "text", "-o", "-", self.core], "e")
        problem = self.run_problem(r)
        if problem:
            self.check(check, [problem])
            return
        p = []
        text = r.stdout_text()
        if not text.strip():
            p.append("empty text report")
        if text.lstrip().startswith("{"):
            p.append("--format text printed JSON")
        if os.listdir(d):
            p.append("files written with -o -: %s" % sorted(os.listdir(d)))
        self.check(check, p, "%d lines" % len(text.splitlines()))

    def c_zstd_core(self, check):
        try:
            zcore = self.ctx.cache.compressed(self.core)
        except (RuntimeError, OSError) as e:
            self.check(check, ["cannot compress the core: %s" % e])
            return
        r, d = self.run(["-q", "-o", "report.json", zcore], "z")
        problem = self.run_problem(r)
        if problem:
            self.check(check, [problem])
            return
        try:
            _, rz = H.read_report(os.path.join(d, "report.json"))
        except H.LoadError as e:
            self.check(check, [str(e)])
            return
        p = []
        a = dict(self.report)
        z = dict(rz)
        a.pop("input", None)
        iz = z.pop("input", None) or {}
        if canon(a) != canon(z):
            diff = [k for k in sorted(set(a) | set(z)) if canon(a.get(k)) != canon(z.get(k))]
            p.append("report differs (besides input) in %s" % diff)
        if iz.get("compressed") is not True:
            p.append("input.compressed %r" % iz.get("compressed"))
        if iz.get("path") != zcore:
            p.append("input.path %r, given %r" % (iz.get("path"), zcore))
        if iz.get("bytes") != os.path.getsize(zcore):
            p.append("input.bytes %r, compressed file has %d" % (iz.get("bytes"), os.path.getsize(zcore)))
        self.check(check, p, "%s -> %s" % (mb(os.path.getsize(self.core)), mb(os.path.getsize(zcore))))


# ----------------------------------------------------------------------------

def check_truth(rep, name, res, label):
    t = res.truth
    p = []
    if t.get("format") != "pyheap-e2e-truth/1":
        p.append("unknown truth format %r" % t.get("format"))
    if t.get("measured_by") != "child":
        p.append("measured by %r, not the forked child" % t.get("measured_by"))
    if t.get("collected") != t.get("garbage_len"):
        p.append("gc.collect() returned %s but gc.garbage has %s objects" % (t.get("collected"), t.get("garbage_len")))
    want_minor = label.split("-")[-1][:4]
    if not t["python"]["version"].startswith(want_minor):
        p.append("interpreter is %s, expected %s" % (t["python"]["version"], want_minor))
    return rep.check(name, p, "gc_objects=%d collected=%d permanent=%d threads=%d" % (
        t.get("gc_objects", -1), t.get("collected", -1), t.get("freeze_count", -1), 1 + len(t.get("threads", []))))


def selfcheck(rep, label, python, scenario, workdir):
    """The oracle itself: the child's numbers equal the parent's, measured
    after the child exited (so the fork does not perturb the truth)."""
    name = "%s/%s/oracle-selfcheck" % (label, scenario)
    child, parent, err = H.run_selfcheck(python, scenario, workdir)
    if err:
        rep.fail(name, err)
        return
    p = []
    for key in ("collected", "garbage_types", "garbage_bytes", "scenario_types",
                "scenario_types_with_permanent", "samples", "threads", "main_thread"):
        if child.get(key) != parent.get(key):
            p.append("%s differs between child and parent" % key)
    # Cycle groups exactly; the whole-heap totals, like gc_objects, within
    # the tolerance (3.15's child has one more object in some cycle).
    cc, pc = child.get("cycles"), parent.get("cycles")
    if isinstance(cc, dict) and isinstance(pc, dict):
        for key in sorted(set(cc) | set(pc)):
            a, b = cc.get(key), pc.get(key)
            if (key in ("total_objects", "total_sccs", "user_objects", "user_sccs")
                    and isinstance(a, int) and isinstance(b, int)):
                if abs(a - b) > GC_TOLERANCE * max(b, 1):
                    p.append("cycles.%s child %d, parent %d" % (key, a, b))
            elif a != b:
                p.append("cycles.%s differs between child and parent" % key)
    elif cc != pc:
        p.append("cycles differs between child and parent")
    a, b = child["gc_objects"], parent["gc_objects"]
    if abs(a - b) > GC_TOLERANCE * b:
        p.append("gc_objects child %d, parent %d" % (a, b))
    rep.check(name, p, "child and parent agree; gc_objects %d vs %d, permanent %d vs %d" % (
        a, b, child["freeze_count_measured"], parent["freeze_count_measured"]))


class Ctx:
    pass


def claimed_minors(binary):
    """The CPython minor versions the tool's --list-layouts claims, e.g.
    {"3.11", "3.12"}, from ranges like "CPython 3.11.0 - 3.12.x" or layout
    names like "cpython-3.13".  (set, None) or (set(), why)."""
    r = H.run_tool(binary, ["--list-layouts"], cwd="/", timeout=60)
    if r.returncode != 0:
        return set(), "--list-layouts: %s" % r.describe()
    out = set()
    for line in r.stdout_text().splitlines():
        for a, b, c, d in re.findall(r"(\d+)\.(\d+)(?:\.[0-9a-z+]+)?\s*(?:-|–|\.\.)\s*(\d+)\.(\d+)", line):
            if a == c == "3":
                out.update("3.%d" % m for m in range(int(b), int(d) + 1))
        for b in re.findall(r"\bcpython-3\.(\d+)\b", line, flags=re.I):
            out.add("3." + b)
    return out, None


def support_gate(ctx, interp, root):
    """None when `interp` is to be tested in full, else "unsupported"
    (one SKIP printed) or "failed" (one FAIL printed)."""
    if interp.minor in ctx.claimed:
        return None
    name = "%s/supported" % interp.label
    core, why = H.make_probe_core(interp.python, os.path.join(root, interp.label, "probe-core"))
    if core is None:
        ctx.rep.fail(name, "cannot make a core to ask the tool about %s: %s" % (interp.version, why))
        return "failed"
    r = H.run_tool(ctx.binary, ["-q", "-o", "-", "--format", "json", core],
                   cwd=os.path.dirname(core), timeout=ctx.timeout)
    err = r.stderr_text()
    if r.returncode == 3 and re.search(r"unsupported Python version", err):
        ctx.rep.skip(name, "Python %s (%s) is not supported by this build of the tool "
                     "(--list-layouts claims %s): %s" % (
                         interp.version, interp.describe(),
                         ", ".join(sorted(ctx.claimed, key=H._version_key)) or "nothing",
                         err.strip().splitlines()[-1][:200] if err.strip() else "exit 3"))
        return "unsupported"
    if r.returncode == 0:
        H.note("%s: Python %s is not claimed by --list-layouts but the tool analyzes it; "
               "testing it in full" % (interp.label, interp.version))
        return None
    ctx.rep.fail(name, "Python %s: the tool neither analyzes nor refuses it as unsupported: %s; %s" % (
        interp.version, CoreCase.run_problem(r) or r.describe(), err.strip()[-300:]))
    return "failed"


def write_results(path, ctx, rows):
    data = {
        "format": "pyheap-analyze.e2e-results/1",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool": ctx.version,
        "binary": ctx.binary,
        "claimed": sorted(ctx.claimed, key=H._version_key),
        "scenarios": ctx.scenarios,
        "interpreters": rows,
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the pyheap-analyze binary")
    ap.add_argument("--quick", action="store_true", help="first interpreter only, kernel cores only")
    ap.add_argument("--interp", action="append",
                    help="only interpreters with this label or shell pattern (repeatable)")
    ap.add_argument("--scenario", action="append", help="only this scenario (repeatable)")
    ap.add_argument("--cache-dir", help="keep/reuse cores here (default: a temporary directory)")
    ap.add_argument("--prefix", default="", help="prefix for every check name (e.g. asan/)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per tool run")
    ap.add_argument("--keep", action="store_true", help="keep the tool's outputs next to the cached cores")
    ap.add_argument("--results", help="write per-interpreter results (JSON) here")
    args = ap.parse_args(argv)

    rep = H.Reporter(args.prefix)
    ctx = Ctx()
    ctx.rep = rep
    ctx.binary = os.path.abspath(args.bin)
    ctx.timeout = args.timeout
    ctx.run_id = "%d" % os.getpid()
    ctx.validators = schema_selftest(rep) or []
    ctx.version = tool_version(ctx.binary) if os.path.exists(ctx.binary) else None
    if not os.access(ctx.binary, os.X_OK):
        rep.fail("binary", "%s does not exist or is not executable; every analysis below fails" % ctx.binary)

    scenarios = args.scenario or list(H.SCENARIOS)
    for s in scenarios:
        if not os.path.exists(os.path.join(H.SCENARIO_DIR, s + ".py")):
            ap.error("no scenario %s in %s" % (s, H.SCENARIO_DIR))
    interps, missing = H.matrix_interpreters()

    def selected(label):
        return not args.interp or any(fnmatch.fnmatchcase(label, pat) for pat in args.interp)

    rows = []
    for label, why in missing:
        if selected(label):
            rep.skip(label, "interpreter unavailable: %s" % why)
            rows.append({"label": label, "status": "unavailable", "reason": why})
    interps = [i for i in interps if selected(i.label)]
    if args.quick:
        interps = interps[:1]
    if not interps:
        rep.fail("interpreters", "no usable CPython interpreter found")
    ctx.claimed, why = claimed_minors(ctx.binary) if os.access(ctx.binary, os.X_OK) else (set(), "no binary")
    if why:
        rep.fail("layouts", "cannot ask the tool which versions it supports: %s" % why)
    ctx.scenarios = scenarios
    H.note("matrix: %s; the tool claims %s" % (
        ", ".join("%s (%s)" % (i.label, i.version) for i in interps) or "nothing",
        ", ".join(sorted(ctx.claimed, key=H._version_key)) or "nothing"))

    kernel_why = H.kernel_core_unavailable()
    cache = H.CoreCache(args.cache_dir)
    ctx.cache = cache
    ctx.keep = args.keep
    try:
        for interp in interps:
            label, python = interp.label, interp.python
            row = {"label": label, "version": interp.version, "minor": interp.minor,
                   "source": interp.source, "kind": interp.kind, "stripped": interp.stripped,
                   "python": python}
            rows.append(row)
            gate = support_gate(ctx, interp, cache.root)
            if gate is not None:
                row["status"] = gate
                continue
            before = dict(rep.by_first.get(label, {"PASS": 0, "FAIL": 0, "SKIP": 0}))
            for scenario in scenarios:
                selfcheck(rep, label, python, scenario,
                          os.path.join(cache.root, label, "selfcheck-%s-%s" % (scenario, ctx.run_id)))
                modes = ["kernel"]
                if scenario in H.GCORE_SCENARIOS and not args.quick:
                    modes.append("gcore")
                for mode in modes:
                    prefix = "%s/%s/%s" % (label, scenario, mode)
                    if mode == "kernel" and kernel_why:
                        rep.skip(prefix, "kernel cores unavailable: %s; using gcore instead" % kernel_why)
                        if "gcore" in modes:
                            continue
                        mode = "gcore"
                        prefix = "%s/%s/%s" % (label, scenario, mode)
                    res = cache.get(label, python, scenario, mode)
                    if res.core is None and mode == "kernel" and res.error and "no core appeared" in res.error:
                        rep.skip(prefix, "%s; using gcore instead" % res.error)
                        if "gcore" in modes:
                            continue
                        mode = "gcore"
                        prefix = "%s/%s/%s" % (label, scenario, mode)
                        res = cache.get(label, python, scenario, mode)
                    if res.core is None:
                        rep.fail(prefix + "/core", res.error)
                        continue
                    rep.ok(prefix + "/core", "%s in %.1f s%s" % (
                        mb(os.path.getsize(res.core)), res.seconds, " (cached)" if res.cached else ""))
                    if res.truth is None:
                        rep.fail(prefix + "/truth", res.error)
                        continue
                    if not check_truth(rep, prefix + "/truth", res, label):
                        continue
                    CoreCase(ctx, label, scenario, mode, res).go()
            after = rep.by_first.get(label, {"PASS": 0, "FAIL": 0, "SKIP": 0})
            for k in ("PASS", "FAIL", "SKIP"):
                row[k.lower()] = after[k] - before.get(k, 0)
            row["status"] = "failed" if row["fail"] or not row["pass"] else "verified"
    finally:
        ctx.cache = None
        cache.cleanup()
        if args.results:
            try:
                write_results(args.results, ctx, rows)
            except OSError as e:
                rep.fail("results", "cannot write %s: %s" % (args.results, e))
    c = rep.counts
    print("# run_e2e: %d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]), flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
