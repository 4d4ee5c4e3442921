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
             changes the child's heap before it measures); by_traceback
             top 10 the same tracebacks, counts exact;
             traced_bytes within 1% of get_traced_memory()[0]; the
             accumulation suspect holding the 20,000 Record objects says
             they were allocated at the scenario's line (allocated_at and
             the sentence), and types[] gives that line for the Record type.
             A stripped 3.8 - 3.11 binary (no .symtab: the traces are file
             statics) must instead say tracing, available false, and name
             the reason in exactly one warning.
  without    the report says tracing false and nothing else.

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.  --quick: first interpreter only.
"""
import argparse
import fnmatch
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


def fingerprint(python, flags):
    h = hashlib.sha256()
    with open(os.path.join(H.SCENARIO_DIR, SCENARIO + ".py"), "rb") as f:
        h.update(f.read())
    real = os.path.realpath(python)
    st = os.stat(real)
    h.update(("%s|%d|%d|%r" % (real, st.st_size, int(st.st_mtime), flags)).encode())
    return h.hexdigest()[:12]


def make_core(python, workdir, flags, timeout):
    """(core path, truth dict, error)."""
    core, truth_path = os.path.join(workdir, "core"), os.path.join(workdir, "truth.json")
    if os.path.exists(core) and os.path.exists(truth_path):
        with open(truth_path) as f:
            return core, json.load(f), None
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    why = H.kernel_core_unavailable()
    if why:
        return None, None, why
    t0 = time.time()
    argv = [python, "-E", "-s", "-B"] + list(flags) + [
        os.path.join(H.SCENARIO_DIR, SCENARIO + ".py"), "abort", truth_path]
    r = H.run_process(argv, cwd=workdir, timeout=timeout, preexec=H._core_limit)
    found = H._find_kernel_core(workdir, r.pid, t0)
    if found is None or not r.core_dumped:
        return None, None, "no core: %s; stderr: %s" % (r.describe(), r.stderr_text().strip()[-300:])
    if found != core:
        os.replace(found, core)
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

    def report(self, name, interp, flags):
        """(report, truth) or (None, None) after a FAIL/SKIP line."""
        workdir = os.path.join(self.root, interp.label, "%s%s-%s" % (
            SCENARIO, "-tm" if flags else "", fingerprint(interp.python, flags)))
        core, truth, err = make_core(interp.python, workdir, flags, self.args.timeout)
        if core is None:
            self.rep.fail(name, err)
            return None, None
        out = os.path.join(workdir, "report.json")
        r = H.run_tool(self.binary, ["-q", "-o", out, core], cwd=workdir, timeout=self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None, None
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None, None
        if r.returncode != 0:
            self.rep.fail(name, "exit %d: %s" % (r.returncode, r.stderr_text().strip()[-300:]))
            return None, None
        try:
            _, rep = H.read_report(out)
        except H.LoadError as e:
            self.rep.fail(name, str(e))
            return None, None
        problems = self.validate(rep)
        if problems:
            self.rep.fail(name, "schema: " + "; ".join(problems[:3]))
            return None, None
        return rep, truth

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

    def stripped_ok(self, name, interp, rep):
        a = rep["allocations"]
        tm = [w for w in rep["warnings"] if w.startswith("tracemalloc:")]
        problems = []
        if a.get("available") is not False or "stripped" not in a.get("reason", ""):
            problems.append("allocations %r: expected available false naming the stripped binary" % a)
        if len(tm) != 1:
            problems.append("%d tracemalloc warnings, expected 1" % len(tm))
        self.rep.check(name, problems, "stripped %s: %s" % (interp.version, a.get("reason", "")[:90]))

    def by_line(self, name, a, truth):
        rows = [[x["filename"], x["line"], x["bytes"], x["count"]] for x in a["by_line"][:TOP]]
        want = truth["by_line"][:TOP]
        problems, worst = [], 0.0
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
            if g[3] != w[3]:
                problems.append("%s:%d count %d, truth %d" % (g[0], g[1], g[3], w[3]))
        detail = "%d lines equal, bytes max error %.3f%%, counts exact" % (len(rows), 100 * worst)
        self.rep.check(name, problems, detail)

    def by_traceback(self, name, a, truth):
        got = [[[[f["filename"], f["line"]] for f in x["frames"]], x["bytes"], x["count"]]
               for x in a["by_traceback"][:TOP]]
        want = truth["by_traceback"][:TOP]
        problems = ["row %d: %s:%s, truth %s:%s" % (i, g[0][0], g[1:], w[0][0], w[1:])
                    for i, (g, w) in enumerate(zip(got, want))
                    if g[0] != w[0] or abs(g[1] - w[1]) > 0.01 * w[1] or g[2] != w[2]]
        if len(got) != len(want):
            problems.append("%d rows, truth %d" % (len(got), len(want)))
        self.rep.check(name, problems, "%d tracebacks equal, counts exact" % len(got))

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
            if stripped and tuple(truth["version"][:2]) < (3, 12):
                self.stripped_ok(lab + "/stripped", interp, rep)
            else:
                self.rep.fail(lab + "/on", "traces not available: %s" % a.get("reason"))
            return
        err = abs(a["traced_bytes"] - truth["traced_bytes"]) / truth["traced_bytes"]
        self.rep.check(lab + "/traced_bytes", [] if err <= 0.01 else [
            "traced_bytes %d, get_traced_memory %d" % (a["traced_bytes"], truth["traced_bytes"])],
            "%d vs %d (%.4f%%), max_frames %d" % (a["traced_bytes"], truth["traced_bytes"],
                                                  100 * err, a["max_frames"]))
        self.by_line(lab + "/by_line", a, truth)
        self.by_traceback(lab + "/by_traceback", a, truth)
        self.sites(lab + "/sites", rep, truth)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true", help="first interpreter only")
    ap.add_argument("--cache-dir", help="keep/reuse cores here")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--interp", action="append", help="only interpreters matching (repeatable)")
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not os.access(args.bin, os.X_OK):
        rep.fail("binary", "%s is missing or not executable" % args.bin)
        return 1
    run = Runner(args, rep)
    try:
        interps, missing = H.matrix_interpreters()
        for label, why in missing:
            rep.skip("tracemalloc/" + label, "interpreter unavailable: %s" % why)
        interps = [i for i in interps
                   if not args.interp or any(fnmatch.fnmatchcase(i.label, p) for p in args.interp)]
        if args.quick:
            interps = interps[:1]
        if not interps:
            rep.fail("interpreters", "no usable CPython interpreter found")
        for i in interps:
            lab = "tracemalloc/" + i.label
            run.tracing(lab, i)
            run.without(lab, i)
    finally:
        run.cleanup()
    c = rep.counts
    print("# run_tracemalloc: %d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]),
          flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
