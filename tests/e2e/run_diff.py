#!/usr/bin/python3
"""End-to-end tests of `pyheap-analyze diff OLD NEW` (issue 14) on two
gcores of ONE process (harness.make_gcore_pair, tests/scenarios/diff_grow.py:
between the dumps diff_app.SESSIONS gains 10,000 __main__.Session
instances, 300 unreachable __main__.Pair cycles appear, __main__.Token
objects stay; the per-class counts at each dump are counted by the process
itself).

    /usr/bin/python3 tests/e2e/run_diff.py --bin PATH [--quick]
        [--cache-dir DIR] [--timeout S] [--interp PATTERN]

Per interpreter:
  cores       diff core1 core2: exit 0, valid against formats/diff.schema.json;
              same_process; count_delta exact for Session, Token (absent or
              0) and Pair; growth[0] is the SESSIONS dict by its path, matched
              by address (the same object, its id() in the process) with
              items_delta exactly the growth; the Pair×2 unreachable group
              is new with 300 instances; deterministic (two runs, same bytes);
  self        diff core1 core1: no growth, no type changed, the verdict says
              "No growth", exit 0 with --fail-on-growth 0;
  fail-on-growth       1KiB -> exit 1, 1GiB -> exit 0;
  fail-on-type-growth  Session:GROWTH-1 -> 1, Session:GROWTH -> 0;
  reports     the same types, growth, groups and verdict from the two
              reports, and from a core and a report mixed (both orders);
  formats     text, md, html written, html without a script;
Once: bad arguments exit 2 with a message (a missing file, one argument, a
bad SIZE, a bad NAME:COUNT, -o naming an input).

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.  --quick: the first interpreter only.
"""

import argparse
import fnmatch
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SCENARIO = "diff_grow"
CLASSES = ("__main__.Session", "__main__.Token", "__main__.Pair")
DIFF_SCHEMA = os.path.join(H.REPO, "formats", "diff.schema.json")


def diff_validator():
    with open(DIFF_SCHEMA) as f:
        schema = json.load(f)
    v = H.jsonschema_validator(schema)
    if v is not None:
        return v
    sys.path.insert(0, H.HERE)
    import schema_check
    schema_check.check_schema(schema)
    return lambda inst: schema_check.validate(inst, schema)


def comparable(d):
    """What must agree whatever the inputs were (cores or reports)."""
    return {"types": d["types"], "growth": d["growth"], "verdict": d["verdict"],
            "unreachable_groups": d["unreachable_groups"], "cycles": d["cycles"]}


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-diff-")
        self.validate = diff_validator()

    def cleanup(self):
        self.cache.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def tool(self, argv):
        r = H.run_tool(self.binary, argv, cwd=self.work, timeout=self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        return r, trouble

    def diff(self, name, old, new, extra=(), want=0):
        """The parsed JSON diff, or None after a FAIL line."""
        out = os.path.join(self.work, name.replace("/", "_") + ".json")
        r, trouble = self.tool(["diff", "-q", "-o", out] + list(extra) + [old, new])
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None
        if r.returncode != want:
            self.rep.fail(name, "exit %s (want %d): %s" % (r.describe(), want,
                                                          r.stderr_text().strip()[-300:]))
            return None
        try:
            with open(out, "rb") as f:
                data = f.read()
            d = H.parse_report_bytes(data, out)
        except (OSError, H.LoadError) as e:
            self.rep.fail(name, str(e))
            return None
        errors = self.validate(d)
        if errors:
            self.rep.fail(name, "diff schema: " + "; ".join(errors[:4]))
            return None
        d["_bytes"] = data
        return d

    def check_cores(self, base, d, t1, t2):
        p = []
        if not d["same_process"]:
            p.append("same_process is false for two gcores of pid %d" % t1["pid"])
        types = {t["name"]: t for t in d["types"]}
        for cls in CLASSES:
            want = t2["counts"][cls] - t1["counts"][cls]
            got = types[cls]["count_delta"] if cls in types else 0
            if got != want:
                p.append("%s count_delta %d, want %d" % (cls, got, want))
            if cls in types and (types[cls]["count_old"], types[cls]["count_new"]) != (
                    t1["counts"][cls], t2["counts"][cls]):
                p.append("%s counts %d -> %d, want %d -> %d" % (
                    cls, types[cls]["count_old"], types[cls]["count_new"],
                    t1["counts"][cls], t2["counts"][cls]))
        self.rep.check(base + "/type-counts", p, ", ".join(
            "%s %+d" % (c, t2["counts"][c] - t1["counts"][c]) for c in CLASSES))

        p = []
        want_path = "sys.modules['%s'].__dict__['%s']" % (t2["module"], t2["name"])
        g = d["growth"][0] if d["growth"] else None
        if g is None:
            p.append("no growth entry")
        else:
            if g["path"] != want_path:
                p.append("growth[0] path %r, want %r" % (g["path"], want_path))
            if g["type"] != "dict" or g["matched_by"] != "address" or not g["same_object"]:
                p.append("growth[0] %s matched_by %s same_object %s" % (
                    g["type"], g["matched_by"], g["same_object"]))
            if g["address_old"] != t1["sessions_id"] or g["address_new"] != t2["sessions_id"]:
                p.append("growth[0] addresses 0x%x/0x%x, want id() 0x%x" % (
                    g["address_old"] or 0, g["address_new"], t2["sessions_id"]))
            want_items = t2["sessions_len"] - t1["sessions_len"]
            if g.get("items_delta") != want_items or g["items_new"] != t2["sessions_len"]:
                p.append("growth[0] items %s -> %s (%+d), want %d -> %d" % (
                    g["items_old"], g["items_new"], g.get("items_delta"), t1["sessions_len"],
                    t2["sessions_len"]))
            if not g.get("retained_delta", 0) > 0:
                p.append("growth[0] retained_delta %s" % g.get("retained_delta"))
        if want_path not in d["verdict"]:
            p.append("verdict does not name %s: %r" % (want_path, d["verdict"]))
        self.rep.check(base + "/growth", p, want_path)

        p = []
        pairs = t2["counts"]["__main__.Pair"] // 2
        # 3.8 - 3.10: each instance has its __dict__ object on the cycle
        sigs = ("__main__.Pair×2", "__main__.Pair×2 + dict×2")
        new = [x for x in d["unreachable_groups"]["new"] if x["signature"] in sigs]
        if len(new) != 1 or new[0]["instances_new"] != pairs or new[0]["instances_old"] != 0:
            p.append("unreachable_groups.new has %s, want one __main__.Pair×2 group of %d" % (
                new, pairs))
        self.rep.check(base + "/unreachable-groups", p, "%d new Pair×2 cycles" % pairs)

    def check_self(self, base, core):
        d = self.diff(base + "/self", core, core, ["--fail-on-growth", "0"])
        if d is None:
            return
        p = []
        if d["growth"] or d["types"] or d["appeared"]:
            p.append("growth %d, types %d, appeared %d entries" % (
                len(d["growth"]), len(d["types"]), len(d["appeared"])))
        if not d["verdict"].startswith("No growth"):
            p.append("verdict %r" % d["verdict"])
        if d["exceeded"]:
            p.append("a threshold exceeded")
        self.rep.check(base + "/self", p, d["verdict"])

    def check_thresholds(self, base, c1, c2, t1, t2):
        grown = t2["counts"]["__main__.Session"] - t1["counts"]["__main__.Session"]
        cases = [
            ("fail-on-growth/exceeded", ["--fail-on-growth", "1KiB"], 1),
            ("fail-on-growth/within", ["--fail-on-growth", "1GiB"], 0),
            ("fail-on-type-growth/exceeded",
             ["--fail-on-type-growth", "__main__.Session:%d" % (grown - 1)], 1),
            ("fail-on-type-growth/within",
             ["--fail-on-type-growth", "__main__.Session:%d" % grown], 0),
        ]
        for name, extra, want in cases:
            d = self.diff(base + "/" + name, c1, c2, extra, want)
            if d is not None:
                self.rep.check(base + "/" + name,
                               [] if d["exceeded"] == bool(want) else ["exceeded %s" % d["exceeded"]],
                               "%s -> exit %d" % (" ".join(extra), want))

    def check_reports(self, base, c1, c2, d):
        reports = []
        for k, core in ((1, c1), (2, c2)):
            out = os.path.join(self.work, "%s-report%d.json" % (base.replace("/", "_"), k))
            r, trouble = self.tool(["-q", "-o", out, core])
            if r.returncode != 0 or trouble:
                self.rep.fail(base + "/reports", "analyze %s: %s %s" % (
                    core, r.describe(), trouble or r.stderr_text().strip()[-200:]))
                return
            reports.append(out)
        probe, _ = self.tool(["diff", "-q", "-o", os.path.join(self.work, "probe.json"),
                              reports[0], reports[1]])
        if probe.returncode == 3 and "not supported by this build" in probe.stderr_text():
            self.rep.skip(base + "/reports", "this build cannot read saved reports yet")
            self.rep.skip(base + "/mixed", "this build cannot read saved reports yet")
            return
        for name, old, new in (("reports", reports[0], reports[1]), ("mixed", c1, reports[1]),
                               ("mixed-reverse", reports[0], c2)):
            got = self.diff(base + "/" + name, old, new)
            if got is None:
                continue
            a, b = comparable(d), comparable(got)
            p = ["%s differs" % k for k in a if a[k] != b[k]]
            self.rep.check(base + "/" + name, p, "same types, growth and groups as the cores")

    def check_formats(self, base, c1, c2):
        for fmt in ("text", "md", "html"):
            out = os.path.join(self.work, "%s.%s" % (base.replace("/", "_"), fmt))
            r, trouble = self.tool(["diff", "-q", "--format", fmt, "-o", out, c1, c2])
            p = []
            if r.returncode != 0 or trouble:
                p.append("%s %s" % (r.describe(), trouble or r.stderr_text().strip()[-200:]))
            else:
                with open(out, encoding="utf-8") as f:
                    text = f.read()
                if "SESSIONS" not in text:
                    p.append("the growing container is not named")
                if fmt == "html" and "<script" in text.lower():
                    p.append("html has a script element")
            self.rep.check(base + "/format-" + fmt, p)

    def interpreter(self, it):
        base = "%s/diff" % it.label
        c1, c2, truth, why = self.cache.get_pair(it.label, it.python, SCENARIO)
        if c1 is None:
            self.rep.fail(base, "no cores: %s" % why)
            return
        try:
            with open(truth + ".1.json") as f:
                t1 = json.load(f)
            with open(truth + ".2.json") as f:
                t2 = json.load(f)
        except (OSError, ValueError) as e:
            self.rep.fail(base, "scenario truth: %s" % e)
            return
        d = self.diff(base + "/cores", c1, c2)
        if d is None:
            return
        again = self.diff(base + "/deterministic", c1, c2)
        if again is not None:
            self.rep.check(base + "/deterministic",
                           [] if again["_bytes"] == d["_bytes"] else ["two runs differ"])
        self.check_cores(base, d, t1, t2)
        self.check_self(base, c1)
        self.check_thresholds(base, c1, c2, t1, t2)
        self.check_reports(base, c1, c2, d)
        self.check_formats(base, c1, c2)

    def bad_arguments(self, core):
        missing = os.path.join(self.work, "does-not-exist.core")
        cases = [
            ("missing-file", ["diff", core, missing], r"does-not-exist"),
            ("one-argument", ["diff", core], r"two inputs"),
            ("bad-size", ["diff", "--fail-on-growth", "50XB", core, core], r"size"),
            ("negative-size", ["diff", "--fail-on-growth", "-5", core, core], r"size"),
            ("bad-type-limit", ["diff", "--fail-on-type-growth", "Session", core, core], r"NAME:COUNT"),
            ("output-is-input", ["diff", "-o", core, core, core], r"input"),
        ]
        import re
        for name, argv, pat in cases:
            r, trouble = self.tool(argv)
            p = []
            if r.returncode != 2:
                p.append("exit %s, want 2" % r.describe())
            if not re.search(pat, r.stderr_text()):
                p.append("message %r does not match %r" % (r.stderr_text().strip()[-200:], pat))
            if trouble:
                p.append("sanitizer: " + trouble)
            self.rep.check("diff/usage/" + name, p, r.stderr_text().strip().split("\n")[0])
        if not os.path.exists(core):
            self.rep.fail("diff/usage/output-is-input", "the core was removed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cache-dir")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--interp", help="only interpreters whose label matches this pattern")
    args = ap.parse_args()
    rep = H.Reporter()
    if not os.path.exists(args.bin):
        rep.fail("diff", "no binary %s" % args.bin)
        return 1
    found, missing = H.matrix_interpreters()
    if args.interp:
        found = [i for i in found if fnmatch.fnmatch(i.label, args.interp)]
    if args.quick:
        found = found[:1]
    for label, why in missing:
        if not args.interp or fnmatch.fnmatch(label, args.interp):
            rep.skip("%s/diff" % label, why)
    if not found:
        rep.skip("diff", "no interpreter")
        return 0
    run = Runner(args, rep)
    try:
        first_core = None
        for it in found:
            run.interpreter(it)
            if first_core is None:
                c1, _, _, _ = run.cache.get_pair(it.label, it.python, SCENARIO)
                first_core = c1
        if first_core:
            run.bad_arguments(first_core)
    finally:
        run.cleanup()
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
