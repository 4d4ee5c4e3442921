#!/usr/bin/python3
"""End-to-end tests of the `allocations` section (issue 15: tracemalloc's
traces recovered from the core), on real cores of every interpreter of the
matrix.

    /usr/bin/python3 tests/e2e/run_tracemalloc.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S] [--interp PATTERN]

Scenario tests/scenarios/tm_records.py, run twice per interpreter:

  -X tracemalloc=10  a forked child records get_traced_memory() and
             take_snapshot().statistics('lineno') / ('traceback') before
             anything else, the parent aborts. Checks: the report's
             allocations.by_line top 10 are the same (filename, line) rows in
             the same order, bytes within 1%, counts exact (the scenario
             forks with the C library's fork(), so no after-fork hook
             changes the child's heap before it measures; where ctypes is
             missing -- an interpreter without its libffi; bullseye's
             before tests/provision.sh unpacked libffi7 too -- it falls
             back to os.fork() and counts may differ by 0.1% or 3 blocks
             (the hooks allocate and free a fixed handful: bullseye's
             <unknown>:0 line, 571 vs 570, in one CI run), which the
             PASS line says; one block apart on a line of 1,000 or more,
             seen once on 3.13 in CI, is named in the PASS line too);
             by_traceback top 10 the same tracebacks,
             counts exact (same fallback);
             traced_bytes within 1% of get_traced_memory()[0]; the
             accumulation suspect holding the 20,000 Record objects says
             they were allocated at the scenario's line (allocated_at and
             the sentence), and types[] gives that line for the Record type.
             Stripped 3.8 - 3.11 binaries (Debian's; no .symtab: the traces
             are file statics found by the plugin's validated scan) get the
             same exact checks, and no tracemalloc warning.
  without    the report says tracing false and nothing else.

Snapshots (format 2), in both runs:

  snapshot   the core's --save-snapshot analyzed: its `allocations` equals
             the core report's, and so do the per-object sites
             (types[].top_allocation, allocated_at of leak suspects and top
             retainers).
  inprocess  a second run of the scenario (`dump` mode) has its hook-free
             child write an in-process snapshot with formats/pyheap_dump.py
             and aborts: the snapshot's heap is that core's, and its by_line and
             by_traceback top 10 are the core report's rows in the same
             order, bytes within 1%, counts within 0.1% or 3 blocks (the dumper's own
             calls before it takes the statistics reuse a few free-listed
             objects, which tracemalloc re-attributes to the dumper's
             lines), traced_bytes within 1%, and the Record type's
             top_allocation is the scenario's line (not on 3.11, whose
             get_object_traceback() subtracts only the GC header, not the
             managed-dict pre-header, and finds no trace for instances);
             without tracing, `allocations` is {"tracing": false}.

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.  --quick: first interpreter only.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SCENARIO = "tm_records"
TOP = 10
FEW = 3  # blocks the dumper (in-process snapshot) or os.fork()'s hooks may move


def fingerprint(python, flags):
    h = hashlib.sha256()
    with open(os.path.join(H.SCENARIO_DIR, SCENARIO + ".py"), "rb") as f:
        h.update(f.read())
    real = os.path.realpath(python)
    st = os.stat(real)
    h.update(("%s|%d|%d|%r" % (real, st.st_size, int(st.st_mtime), flags)).encode())
    return h.hexdigest()[:12]


def make_core(python, workdir, flags, timeout, mode="abort"):
    """(core path, truth dict, error); in `dump` mode the truth is {} and
    the in-process snapshot is workdir/inprocess.msgpack."""
    core, truth_path = os.path.join(workdir, "core"), os.path.join(workdir, "truth.json")
    snap = os.path.join(workdir, "inprocess.msgpack")
    out = snap if mode == "dump" else truth_path
    if os.path.exists(core) and os.path.exists(out):
        if mode == "dump":
            return core, {}, None
        with open(truth_path) as f:
            return core, json.load(f), None
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    why = H.kernel_core_unavailable()
    if why:
        return None, None, why
    t0 = time.time()
    argv = [python, "-E", "-s", "-B"] + list(flags) + [
        os.path.join(H.SCENARIO_DIR, SCENARIO + ".py"), mode, out]
    r = H.run_process(argv, cwd=workdir, timeout=timeout, preexec=H._core_limit)
    found = H._find_kernel_core(workdir, r.pid, t0)
    if found is None or not r.core_dumped:
        return None, None, "no core: %s; stderr: %s" % (r.describe(), r.stderr_text().strip()[-300:])
    if found != core:
        os.replace(found, core)
    if mode == "dump":
        return (core, {}, None) if os.path.exists(snap) else (None, None, "no snapshot written")
    try:
        with open(truth_path) as f:
            return core, json.load(f), None
    except (OSError, ValueError) as e:
        return None, None, "truth missing: %s" % e


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.root = args.cache_dir or tempfile.mkdtemp(prefix="pyheap-tm-")
        self.own = not args.cache_dir
        self.validate = H.report_validator()[1]

    def cleanup(self):
        if self.own:
            shutil.rmtree(self.root, ignore_errors=True)

    def report(self, name, interp, flags, mode="abort"):
        """(report, truth) or (None, None) after a FAIL/SKIP line."""
        workdir = os.path.join(self.root, interp.label, "%s%s%s-%s" % (
            SCENARIO, "-tm" if flags else "", "-dump" if mode == "dump" else "",
            fingerprint(interp.python, flags)))
        core, truth, err = make_core(interp.python, workdir, flags, self.args.timeout, mode)
        if core is None:
            self.rep.fail(name, err)
            return None, None
        more = ["--save-snapshot", "core.msgpack"] if mode == "abort" else []
        rep = self.analyze(name, workdir, core, "report.json", more)
        if rep is None:
            return None, None
        self.workdir = workdir
        return rep, truth

    def analyze(self, name, workdir, inp, out, more=()):
        """The tool's report of inp (validated), or None after a FAIL/SKIP."""
        out = os.path.join(workdir, out)
        r = H.run_tool(self.binary, ["-q", "-o", out] + list(more) + [inp], cwd=workdir,
                       timeout=self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None, None
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None
        if r.returncode != 0:
            self.rep.fail(name, "exit %d: %s" % (r.returncode, r.stderr_text().strip()[-300:]))
            return None
        try:
            _, rep = H.read_report(out)
        except H.LoadError as e:
            self.rep.fail(name, str(e))
            return None
        problems = self.validate(rep)
        if problems:
            self.rep.fail(name, "schema: " + "; ".join(problems[:3]))
            return None
        return rep

    @staticmethod
    def sites_of(rep):
        return {"types": {t["name"]: t.get("top_allocation") for t in rep["types"]},
                "suspects": [s.get("allocated_at") for s in rep.get("leak_suspects", [])],
                "retainers": [t.get("allocated_at") for t in
                              (rep.get("retained") or {}).get("top", [])]}

    def snapshot(self, lab, core_rep):
        """The core's --save-snapshot gives the same allocations and sites."""
        name = lab + "/snapshot"
        rep = self.analyze(name, self.workdir, os.path.join(self.workdir, "core.msgpack"),
                           "snapshot-report.json")
        if rep is None:
            return
        problems = []
        if rep["allocations"] != core_rep["allocations"]:
            problems.append("allocations differ: %s vs core %s" % (
                json.dumps(rep["allocations"])[:200], json.dumps(core_rep["allocations"])[:200]))
        got, want = self.sites_of(rep), self.sites_of(core_rep)
        for k in sorted(want):
            if got[k] != want[k]:
                problems.append("%s sites differ" % k)
        nsites = sum(1 for v in want["types"].values() if v)
        self.rep.check(name, problems, "allocations identical, sites of %d types, %d suspects "
                       "identical" % (nsites, len(want["suspects"])))

    def inprocess(self, lab, interp, flags, truth):
        """pyheap_dump.py's snapshot of the heap of the dump run's core."""
        name = lab + "/inprocess"
        core_rep, _ = self.report(name, interp, flags, "dump")
        if core_rep is None:
            return
        rep = self.analyze(name, self.workdir, os.path.join(self.workdir, "inprocess.msgpack"),
                           "inprocess-report.json")
        if rep is None:
            return
        a, c = rep["allocations"], core_rep["allocations"]
        if not c.get("tracing"):
            self.rep.check(name, [] if a == {"tracing": False} else [
                "allocations %r, expected tracing false" % (a,)], "tracing: false")
            return
        if not a.get("available"):
            self.rep.fail(name, "allocations not available: %r" % (a,))
            return
        def near(g, w):
            # a few blocks (or 0.1%) apart: the dumper reuses free-listed
            # objects before it takes the statistics (CI once saw 513/514)
            return (abs(g["bytes"] - w["bytes"]) <= 0.01 * w["bytes"] and
                    abs(g["count"] - w["count"]) <= max(FEW, 0.001 * w["count"]))
        key = lambda x: [x["filename"], x["line"], x["bytes"], x["count"]]  # noqa: E731
        problems, worst = [], 0
        for i, (g, w) in enumerate(zip(a["by_line"][:TOP], c["by_line"][:TOP])):
            worst = max(worst, abs(g["count"] - w["count"]))
            if key(g)[:2] != key(w)[:2] or not near(g, w):
                problems.append("by_line row %d: %s, core %s" % (i, key(g), key(w)))
        frames = lambda x: [[f["filename"], f["line"]] for f in x["frames"]]  # noqa: E731
        problems += ["by_traceback row %d differs" % i for i, (g, w) in
                     enumerate(zip(a["by_traceback"][:TOP], c["by_traceback"][:TOP]))
                     if frames(g) != frames(w) or not near(g, w)]
        if len(a["by_line"]) < TOP:
            problems.append("%d by_line rows" % len(a["by_line"]))
        err = abs(a["traced_bytes"] - c["traced_bytes"]) / c["traced_bytes"]
        if err > 0.01:
            problems.append("traced_bytes %d, core %d" % (a["traced_bytes"], c["traced_bytes"]))
        top = [t.get("top_allocation") for t in rep["types"] if t["name"] == truth["record_type"]]
        site = [truth["record_file"], truth["record_line"]]
        v311 = tuple(truth["version"][:2]) == (3, 11)
        if not v311 and (not top or not top[0] or [top[0]["filename"], top[0]["line"]] != site):
            problems.append("types[%s].top_allocation %r" % (truth["record_type"], top))
        self.rep.check(name, problems, "by_line and by_traceback top %d the core's rows (counts "
                       "at most %d apart), traced_bytes %.3f%% apart, %s"
                       % (TOP, worst, 100 * err, "no object sites in-process on 3.11" if v311
                          else "Record allocated at line %d" % site[1]))

    def without(self, lab, interp):
        name = lab + "/off"
        rep, truth = self.report(name, interp, [])
        if rep is None:
            return
        a = rep.get("allocations")
        problems = []
        if truth.get("tracing"):
            problems.append("the scenario traced without -X tracemalloc")
        if a != {"tracing": False}:
            problems.append("allocations is %r, expected {'tracing': false}" % (a,))
        if any("tracemalloc" in w for w in rep["warnings"]):
            problems.append("a tracemalloc warning without tracemalloc")
        self.rep.check(name, problems, "tracing: false")
        self.snapshot(lab + "/off", rep)
        self.inprocess(lab + "/off", interp, [], truth)

    def by_line(self, name, a, truth):
        rows = [[x["filename"], x["line"], x["bytes"], x["count"]] for x in a["by_line"][:TOP]]
        want = truth["by_line"][:TOP]
        problems, worst, off_by_one = [], 0.0, []
        if len(rows) != len(want):
            problems.append("%d rows, truth %d" % (len(rows), len(want)))
        for i, (g, w) in enumerate(zip(rows, want)):
            if g[:2] != w[:2]:
                problems.append("row %d is %s:%d, truth %s:%d" % (i, g[0], g[1], w[0], w[1]))
                continue
            err = abs(g[2] - w[2]) / max(w[2], 1)
            worst = max(worst, err)
            if err > 0.01:
                problems.append("%s:%d bytes %d, truth %d" % (g[0], g[1], g[2], w[2]))
            if g[3] != w[3] and not (self.hooks(truth) and abs(g[3] - w[3]) <= self.hook_slack(w[3])):
                if self.one_block(g[3], w[3]):
                    off_by_one.append("%s:%d %d/%d" % (g[0], g[1], g[3], w[3]))
                else:
                    problems.append("%s:%d count %d, truth %d" % (g[0], g[1], g[3], w[3]))
        detail = "%d lines equal, bytes max error %.3f%%, counts %s" % (
            len(rows), 100 * worst, self.counts_kept(truth))
        if off_by_one:
            detail += " except one block on %s (tool/truth)" % ", ".join(off_by_one)
        self.rep.check(name, problems, detail)

    @staticmethod
    def one_block(got, want):
        """One block apart on a line of at least 1,000: seen once in a CI
        run on 3.13 (an importlib line, 7455 vs 7456) after the truth was
        made hook-free; named in the PASS line when it happens."""
        return want >= 1000 and abs(got - want) == 1

    @classmethod
    def counts_kept(cls, truth):
        """How exact the counts were asked to be, for the PASS lines."""
        if cls.hooks(truth):
            return "within 0.1%% or %d blocks (no ctypes: truth after os.fork()'s hooks)" % FEW
        return "exact"

    @staticmethod
    def hook_slack(want):
        """Blocks the truth may differ by after os.fork()'s hooks: they
        allocate and free a few blocks whatever the line's size."""
        return max(FEW, 0.001 * want)

    @staticmethod
    def hooks(truth):
        """The truth was taken after os.fork() and its after-fork hooks."""
        return truth.get("fork") == "os.fork"

    def by_traceback(self, name, a, truth):
        got = [[[[f["filename"], f["line"]] for f in x["frames"]], x["bytes"], x["count"]]
               for x in a["by_traceback"][:TOP]]
        want = truth["by_traceback"][:TOP]
        problems = ["row %d: %s:%s, truth %s:%s" % (i, g[0][0], g[1:], w[0][0], w[1:])
                    for i, (g, w) in enumerate(zip(got, want))
                    if g[0] != w[0] or abs(g[1] - w[1]) > 0.01 * w[1] or
                    abs(g[2] - w[2]) > (self.hook_slack(w[2]) if self.hooks(truth) else 0)]
        if len(got) != len(want):
            problems.append("%d rows, truth %d" % (len(got), len(want)))
        self.rep.check(name, problems, "%d tracebacks equal, counts %s" % (
            len(got), self.counts_kept(truth)))

    def sites(self, name, rep, truth):
        site = [truth["record_file"], truth["record_line"]]
        problems = []
        sus = [s for s in rep["leak_suspects"] if s["kind"] == "accumulation"
               and (s.get("holds") or {}).get("type") == truth["record_type"]]
        if not sus:
            problems.append("no accumulation suspect holding %s" % truth["record_type"])
        else:
            at = sus[0].get("allocated_at") or {}
            if [at.get("filename"), at.get("line")] != site or at.get("objects") != truth["records"]:
                problems.append("allocated_at %r, expected %s:%d x %d" % (at, site[0], site[1],
                                                                          truth["records"]))
            if "allocated at %s:%d" % tuple(site) not in sus[0]["sentence"]:
                problems.append("the sentence does not name the site: %r" % sus[0]["sentence"])
        t = [x for x in rep["types"] if x["name"] == truth["record_type"]]
        top = t[0].get("top_allocation") if t else None
        if not top or [top["filename"], top["line"]] != site:
            problems.append("types[%s].top_allocation %r" % (truth["record_type"], top))
        self.rep.check(name, problems, "%d Record objects allocated at line %d" % (truth["records"],
                                                                                  site[1]))

    def tracing(self, lab, interp):
        rep, truth = self.report(lab + "/on", interp, ["-X", "tracemalloc=10"])
        if rep is None:
            return
        a = rep["allocations"]
        if not truth.get("tracing") or not a.get("tracing"):
            self.rep.fail(lab + "/on", "tracing: truth %s, report %s" % (truth.get("tracing"),
                                                                         a.get("tracing")))
            return
        stripped = interp.stripped is True or interp.stripped == "yes"
        if not a.get("available"):
            self.rep.fail(lab + "/on", "traces not available%s: %s" % (
                " (stripped)" if stripped else "", a.get("reason")))
            return
        err = abs(a["traced_bytes"] - truth["traced_bytes"]) / truth["traced_bytes"]
        tm = [w for w in rep["warnings"] if w.startswith("tracemalloc:")]
        self.rep.check(lab + "/traced_bytes", ([] if err <= 0.01 else [
            "traced_bytes %d, truth %d" % (a["traced_bytes"], truth["traced_bytes"])]) + [
            "warning: " + w for w in tm],
            "%d vs %d (%.4f%%), max_frames %d%s" % (
                a["traced_bytes"], truth["traced_bytes"], 100 * err, a["max_frames"],
                ", stripped: tables found by the scan"
                if stripped and tuple(truth["version"][:2]) < (3, 12) else ""))
        self.by_line(lab + "/by_line", a, truth)
        self.by_traceback(lab + "/by_traceback", a, truth)
        self.sites(lab + "/sites", rep, truth)
        self.snapshot(lab, rep)
        self.inprocess(lab, interp, ["-X", "tracemalloc=10"], truth)


def main(argv=None):
    ap = H.runner_parser(__doc__, "keep/reuse cores here")
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not H.binary_ok(rep, args.bin):
        return 1
    run = Runner(args, rep)
    try:
        interps = H.chosen_interpreters(rep, args, "tracemalloc/", "interpreters")
        for i in interps:
            lab = "tracemalloc/" + i.label
            run.tracing(lab, i)
            run.without(lab, i)
    finally:
        run.cleanup()
    return H.finish(rep, "run_tracemalloc")


if __name__ == "__main__":
    sys.exit(main())
