#!/usr/bin/python3
"""End-to-end tests of "why is it alive" (report/2: roots, retained sizes,
labelled paths, leak suspects, frame locals), on real cores of every
interpreter of the matrix.

    /usr/bin/python3 tests/e2e/run_why.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S] [--interp PATTERN]

Scenarios (tests/scenarios/why_*.py; each writes TRUTH.json.why.json with
the numbers only it knows, then ends with _truth.run()):

  why_cache  module-level _CACHE = {} (module why_cachemod) holding 20,000
             bytes objects of 1 KB: the first retained.top entry is that
             dict, its retained size is within 2% of the sum of
             sys.getsizeof of the dict, its keys and values; an accumulation
             suspect names it; with labelled roots/edges its path names the
             module and _CACHE;
  why_leak   5,000 instances given an extra reference with
             ctypes.pythonapi.Py_IncRef, then dropped: an unexplained_refs
             suspect of that type, 5,000 objects, 5,000 excess references;
  why_local  a cycle kept only by the local `batch` of hold_batch() in a
             second thread: its retainer's path starts at
             <local 'batch' in hold_batch() ...>; the thread's frame lists
             the local. SKIP when the binary's roots carry no labels (the
             layout has no labelled_roots yet);
  why_dupes  duplicate strings/bytes built at run time: counts and wasted
             bytes exact when the report has waste (SKIP otherwise);
  demo_service  the program `make demo` dumps (an order service memoizing
             every quote in shop.pricing._QUOTE_CACHE): the first leak
             suspect is that dict, by address and by path, holding exactly
             the quotes the program made, and no other accumulation suspect.

Every report: schema-valid; retained.top_level_bytes == heap_bytes; heap
and unrooted objects/bytes add up to the summary; no per-type retained size
exceeds the heap total.

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.  --quick: first interpreter only.
"""

import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SCENARIOS = ("why_cache", "why_leak", "why_local", "why_dupes", "demo_service")


def labels(path):
    return [e["label"] for e in path]


def has_labelled_locals(rep):
    """True when some path label or root label comes from labelled roots."""
    if (rep.get("roots") or {}).get("labelled"):
        return True
    for t in rep["retained"]["top"]:
        if any(l.startswith("<local") for l in labels(t["path"])):
            return True
    for s in rep["leak_suspects"]:
        if any(l.startswith("<local") for l in labels(s["path"])):
            return True
    return False


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-why-")
        self.validate = H.report_validator()[1]

    def cleanup(self):
        self.cache.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def core(self, label, python, scenario):
        mode = "kernel" if not H.kernel_core_unavailable() else "gcore"
        res = self.cache.get(label, python, scenario, mode)
        if res.core is None and mode == "kernel":
            res = self.cache.get(label, python, scenario, "gcore")
        return res

    def analyze(self, name, label, python, scenario, extra=()):
        """(report, why-truth) or (None, None) after a FAIL/SKIP line."""
        res = self.core(label, python, scenario)
        if res.core is None:
            self.rep.fail(name, "no core: %s" % res.error)
            return None, None
        if res.truth is None:
            res.load_truth()
        try:
            with open(res.truth_path + ".why.json") as f:
                why = json.load(f)
        except (OSError, ValueError, TypeError) as e:
            self.rep.fail(name, "scenario truth missing: %s" % e)
            return None, None
        out = os.path.join(self.work, "%s-%s%s.json" % (label.replace("/", "_"), scenario,
                                                         "-".join(extra)))
        r = H.run_tool(self.binary, ["-q", "-o", out] + list(extra) + [res.core], cwd=self.work,
                       timeout=self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None, None
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None, None
        if r.returncode != 0:
            self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:]))
            return None, None
        try:
            _, rep = H.read_report(out)
        except H.LoadError as e:
            self.rep.fail(name, str(e))
            return None, None
        errors = self.validate(rep)
        if errors:
            self.rep.fail(name, "schema: " + "; ".join(errors[:4]))
            return None, None
        return rep, why

    def invariants(self, name, rep):
        p = []
        ret, s = rep["retained"], rep["summary"]
        if rep.get("schema") != "pyheap-analyze.report/3":
            p.append("schema %r" % rep.get("schema"))
        if ret["top_level_bytes"] != ret["heap_bytes"]:
            p.append("sum of top-level retained %d != heap total %d" % (
                ret["top_level_bytes"], ret["heap_bytes"]))
        if ret["heap_bytes"] + ret["unrooted_bytes"] != s["bytes"]:
            p.append("heap %d + unrooted %d bytes != summary %d" % (
                ret["heap_bytes"], ret["unrooted_bytes"], s["bytes"]))
        if ret["heap_objects"] + ret["unrooted_objects"] != s["objects"]:
            p.append("heap %d + unrooted %d objects != summary %d" % (
                ret["heap_objects"], ret["unrooted_objects"], s["objects"]))
        for t in ret["types"]:
            if t["retained_bytes"] > ret["heap_bytes"]:
                p.append("type %s retains %d > heap total %d" % (
                    t["name"], t["retained_bytes"], ret["heap_bytes"]))
        prev = None
        for t in ret["top"]:
            if t["retained"] > ret["heap_bytes"] or t["retained"] < t["shallow"]:
                p.append("top %s: retained %d (shallow %d, heap %d)" % (
                    t["type"], t["retained"], t["shallow"], ret["heap_bytes"]))
            if prev is not None and t["retained"] > prev:
                p.append("top not sorted by retained")
            prev = t["retained"]
        for x in rep["leak_suspects"]:
            if not x["sentence"]:
                p.append("suspect without a sentence")
        self.rep.check(name, p, "heap %d objects, %d bytes; %d unrooted" % (
            ret["heap_objects"], ret["heap_bytes"], ret["unrooted_objects"]))

    def demo_service(self, label, python):
        base = "%s/demo_service" % label
        rep, why = self.analyze(base + "/report", label, python, "demo_service")
        if rep is None:
            return
        self.invariants(base + "/invariants", rep)
        p = []
        sus = rep["leak_suspects"]
        want_path = "sys.modules['%s'].__dict__['%s']" % (why["leak_module"], why["leak_name"])
        if not sus:
            p.append("no leak suspect")
        else:
            s = sus[0]
            got_path = "".join(labels(s["path"]))
            if s["kind"] != "accumulation" or s["address"] != why["leak_id"]:
                p.append("first suspect is %s %s at %s, not the %s dict 0x%x" % (
                    s["kind"], s["type"], s["address"], why["leak_name"], why["leak_id"]))
            if got_path != want_path:
                p.append("first suspect's path %r, want %r" % (got_path, want_path))
            holds = s.get("holds") or {}
            if holds.get("type") != "shop.pricing.Quote" or holds.get("count") != why["quotes"]:
                p.append("first suspect holds %s, want %d shop.pricing.Quote" % (holds, why["quotes"]))
            others = [x["sentence"] for x in sus[1:] if x["kind"] == "accumulation"]
            if others:
                p.append("other accumulation suspects: %s" % others[:3])
        self.rep.check(base + "/suspect", p, want_path)

    def why_cache(self, label, python):
        base = "%s/why_cache" % label
        rep, why = self.analyze(base + "/report", label, python, "why_cache")
        if rep is None:
            return
        self.invariants(base + "/invariants", rep)
        top = rep["retained"]["top"]
        p = []
        if not top:
            p.append("no top retainers")
        else:
            t = top[0]
            if t["address"] != why["cache_id"]:
                p.append("top retainer is %s at 0x%x (retained %d), not the _CACHE dict 0x%x" % (
                    t["type"], t["address"], t["retained"], why["cache_id"]))
            want = why["cache_retained"]
            if abs(t["retained"] - want) > 0.02 * want:
                p.append("retained %d, in-process sum of getsizeof %d (more than 2%% apart)" % (
                    t["retained"], want))
        acc = [x for x in rep["leak_suspects"] if x["kind"] == "accumulation"
               and x.get("address") == why["cache_id"]]
        if not acc:
            p.append("no accumulation suspect for the _CACHE dict")
        elif not (acc[0].get("holds") or {}).get("type") == "bytes" or \
                acc[0]["holds"]["count"] != 20000:
            p.append("the suspect holds %r, not 20000 bytes" % acc[0].get("holds"))
        self.rep.check(base + "/top-retainer", p, "retained %d vs %d in-process" % (
            top[0]["retained"], why["cache_retained"]) if top else "")
        if not top:
            return
        text = " ".join(labels(top[0]["path"]))
        if not rep["roots"]["edge_labels"]:
            self.rep.skip(base + "/path-labels",
                          "the layout gives no edge labels (edge_label is NULL until the "
                          "why-plugin branch merges); path is %r" % text)
        else:
            self.rep.check(base + "/path-labels",
                           [] if (why["module"] in text and "_CACHE" in text)
                           else ["path %r does not name both %s and _CACHE" % (text, why["module"])],
                           text)
        red, _ = self.analyze(base + "/redact", label, python, "why_cache", ["--redact"])
        if red is None:
            return
        p = []
        if red["process"]["argv"] is not None:
            p.append("argv kept under --redact")
        texts = [l for x in red["retained"]["top"] + red["leak_suspects"] for l in labels(x["path"])]
        texts += [x["sentence"] for x in red["leak_suspects"]]
        for t in texts:
            if "_CACHE" in t or "item:" in t:
                p.append("dict key string shown under --redact: %r" % t)
                break
        self.rep.check(base + "/redact", p)

    def why_leak(self, label, python):
        base = "%s/why_leak" % label
        rep, why = self.analyze(base + "/report", label, python, "why_leak")
        if rep is None:
            return
        self.invariants(base + "/invariants", rep)
        if why.get("skip"):
            self.rep.skip(base + "/unexplained-refs", why["skip"])
            return
        sus = [x for x in rep["leak_suspects"]
               if x["kind"] == "unexplained_refs" and x["type"] == why["type"]]
        p = []
        if not sus:
            p.append("no unexplained_refs suspect of type %s (suspects: %s)" % (
                why["type"], [(x["kind"], x["type"]) for x in rep["leak_suspects"]]))
        else:
            x = sus[0]
            if x["objects"] != why["objects"]:
                p.append("objects %d != %d" % (x["objects"], why["objects"]))
            if x["excess_refs"] != why["excess"]:
                p.append("excess %d != %d" % (x["excess_refs"], why["excess"]))
        self.rep.check(base + "/unexplained-refs", p, sus[0]["sentence"] if sus else "")

    def why_local(self, label, python):
        base = "%s/why_local" % label
        rep, why = self.analyze(base + "/report", label, python, "why_local")
        if rep is None:
            return
        self.invariants(base + "/invariants", rep)
        if not has_labelled_locals(rep):
            self.rep.skip(base + "/local-path",
                          "the binary's roots carry no labels (no path label starts with "
                          "'<local'; labelled_roots is NULL until the why-plugin branch merges)")
            self.rep.skip(base + "/frame-locals", "no labelled roots, so no frame locals")
            return
        fn, loc = why["function"], why["local"]
        cands = [x for x in rep["retained"]["top"] + rep["leak_suspects"]
                 if x["path"] and (x.get("holds") or {}).get("type", x["type"]) in (why["type"], "list")]
        ok = [x for x in cands if x["path"][0]["label"].startswith("<local")
              and "'%s'" % loc in x["path"][0]["label"] and fn in x["path"][0]["label"]]
        self.rep.check(base + "/local-path",
                       [] if ok else ["no retainer of the cycle with a path from <local '%s' in %s...>: %s"
                                      % (loc, fn, [labels(x["path"])[:3] for x in cands[:5]])],
                       " ".join(labels(ok[0]["path"])) if ok else "")
        frames = [f for t in rep["threads"] for f in t["frames"] if f["function"].endswith(fn)]
        locs = [l for f in frames for l in f["locals"] if l["name"] == loc]
        p = []
        if not frames:
            p.append("no frame of %s" % fn)
        elif not locs:
            p.append("frame of %s has no local %r: %s" % (fn, loc, [l["name"] for f in frames
                                                                  for l in f["locals"]]))
        elif locs[0]["type"] != "list" or locs[0]["retained"] < 2000 * 2000:
            p.append("local %r: %s" % (loc, locs[0]))
        self.rep.check(base + "/frame-locals", p)

    def why_dupes(self, label, python):
        base = "%s/why_dupes" % label
        rep, why = self.analyze(base + "/report", label, python, "why_dupes")
        if rep is None:
            return
        self.invariants(base + "/invariants", rep)
        waste = rep.get("waste") or {}
        if not waste.get("available"):
            self.rep.skip(base + "/duplicates",
                          "the report has no waste analysis (waste.available is false)")
            return
        p = []
        for kind, copies, wasted in (("str", why["str_copies"], why["str_wasted"]),
                                     ("bytes", why["bytes_copies"], why["bytes_wasted"])):
            rows = waste.get("duplicate_" + kind) or {}
            if rows.get("wasted_bytes", 0) < wasted:
                p.append("%s wasted %s < %d" % (kind, rows.get("wasted_bytes"), wasted))
            # each of the scenario's values: exact copies and wasted bytes
            truth = why.get(kind + "_groups") or {}
            top = {}
            for t in rows.get("top") or []:
                pv = t.get("preview", "")
                if kind == "bytes" and pv.startswith("b"):
                    pv = pv[1:]
                top[pv.strip("'\"")] = t
            for value, (n, w) in sorted(truth.items()):
                t = top.get(value)
                if t is None:
                    p.append("%s %r not among the top duplicates %s" % (kind, value, sorted(top)))
                elif t.get("copies") != n or t.get("wasted_bytes") != w:
                    p.append("%s %r: copies %s wasted %s, want %d and %d"
                             % (kind, value, t.get("copies"), t.get("wasted_bytes"), n, w))
        self.rep.check(base + "/duplicates", p)


def main(argv=None):
    ap = H.runner_parser(__doc__)
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not H.binary_ok(rep, args.bin):
        return 1
    run = Runner(args, rep)
    try:
        interps = H.chosen_interpreters(rep, args, "why/", "interpreters")
        for i in interps:
            lab = "why/" + i.label
            run.why_cache(lab, i.python)
            run.why_leak(lab, i.python)
            run.why_local(lab, i.python)
            run.why_dupes(lab, i.python)
            run.demo_service(lab, i.python)
    finally:
        run.cleanup()
    return H.finish(rep, "run_why")


if __name__ == "__main__":
    sys.exit(main())
