#!/usr/bin/python3
"""Labels: the layout's labelled roots, frame locals, edge labels and value
previews against the interpreter, on every interpreter of the matrix.

    run_labels.py --bin BIN [--quick] [--cache-dir DIR] [--prefix P]

For each interpreter: run tests/scenarios/labels.py (a function `worker`
parked in a second thread with known locals), dump a core, run
`BIN --dump-why` on it and compare with what the interpreter recorded:
the exact root labels `<local 'NAME' in FUNC() at FILE:LINE>` (FUNC
co_qualname / co_name, FILE co_filename, LINE f_lineno), the cell of the
closure variable, sys.modules / sys.__dict__ / builtins, the frame locals
threads() reports (names, addresses, previews equal to the interpreter's
repr), and the labels of references out of the locals' values.  One
PASS/FAIL/SKIP line per check.  Stdlib only.
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SCENARIO = "labels"


def parse_dump(path):
    roots, locs, edges = [], [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "root" and len(p) == 5:
                roots.append({"addr": int(p[1], 16), "kind": p[2], "thread": int(p[3], 16),
                              "label": p[4]})
            elif p[0] == "local" and len(p) == 9:
                locs.append({"thread": int(p[1], 16), "frame": int(p[2]), "function": p[3],
                             "filename": p[4], "line": int(p[5]), "name": p[6],
                             "addr": int(p[7], 16), "preview": p[8]})
            elif p[0] == "edge" and len(p) == 5:
                edges.append((int(p[1], 16), int(p[2], 16), p[3], p[4]))
    return roots, locs, edges


def check_interp(rep, cache, work, binary, interp, timeout):
    name = interp.label
    mode = "kernel" if not H.kernel_core_unavailable() else "gcore"
    res = cache.get(name, interp.python, SCENARIO, mode)
    if res.core is None and mode == "kernel":
        res = cache.get(name, interp.python, SCENARIO, "gcore")
    if res.core is None:
        rep.skip(name + "/labels", "no core: %s" % res.error)
        return
    if res.truth is None:
        rep.fail(name + "/labels", res.error or "no truth")
        return
    t = res.truth
    wd = os.path.join(work, name)
    os.makedirs(wd, exist_ok=True)
    dump = os.path.join(wd, "why.tsv")
    r = H.run_tool(binary, ["-q", "-o", os.path.join(wd, "report.json"), "--dump-why", dump,
                            res.core], cwd=wd, timeout=timeout)
    if r.error or r.returncode != 0:
        stderr = r.stderr_text().strip()[-300:] if not r.error else r.error
        if "unsupported" in stderr.lower() or r.returncode == 3:
            rep.skip(name + "/labels", "tool cannot read this core: %s" % stderr)
        else:
            rep.fail(name + "/labels", "tool: %s %s" % (r.describe() if not r.error else "", stderr))
        return
    roots, locs, edges = parse_dump(dump)
    tid = t["thread_id"]
    where = "%s() at %s:%d" % (t["function"], t["filename"], t["line"])

    # 1. interpreter roots
    probs = []
    for kind, label, key in (("modules", "sys.modules", "modules"),
                             ("sysdict", "sys.__dict__", "sysdict"),
                             ("builtins", "builtins", "builtins")):
        want = int(t[key], 16)
        if not any(x["kind"] == kind and x["label"] == label and x["addr"] == want for x in roots):
            probs.append("no root %s %s at %s" % (kind, label, t[key]))
    # The thread state's contextvars context (the worker runs in its own).
    label = "<thread 0x%x context>" % tid
    if not any(x["kind"] == "thread" and x["label"] == label and x["addr"] == int(t["context"], 16)
               for x in roots):
        probs.append("no root %s at %s (thread roots: %s)" % (
            label, t["context"], [(x["label"], hex(x["addr"])) for x in roots if x["kind"] == "thread"][:4]))
    if tuple(t["version"]) >= (3, 12):
        want = int(t["int_type"], 16)
        if not any(x["kind"] == "static_type" and x["label"] == "<class int>" and x["addr"] == want
                   for x in roots):
            probs.append("no static type root <class int> at %s" % t["int_type"])
    rep.check(name + "/labels/interpreter-roots", probs)

    # 2. frame-local roots with exact labels
    probs = []
    for lname, v in sorted(t["locals"].items()):
        label = "<local '%s' in %s>" % (lname, where)
        want = int(v["addr"], 16)
        hits = [x for x in roots if x["label"] == label]
        if not hits:
            near = [x["label"] for x in roots if ("'%s'" % lname) in x["label"]][:2]
            probs.append("no root %r (near: %s)" % (label, near))
        elif not any(x["addr"] == want and x["kind"] == "frame_local" and x["thread"] == tid
                     for x in hits):
            probs.append("%r at %s, want %s" % (label, [hex(x["addr"]) for x in hits], v["addr"]))
    cell_label = "<cell 'pair' in %s>" % where
    if not any(x["label"] == cell_label and x["addr"] == int(t["cell"], 16) and x["kind"] == "frame"
               for x in roots):
        probs.append("no root %r at %s" % (cell_label, t["cell"]))
    # Frames before 3.11 do not hold their function.
    for what in ("globals of", "code of") + (("function",) if tuple(t["version"]) >= (3, 11) else ()):
        label = "<%s %s()>" % (what, t["function"])
        if not any(x["label"] == label and x["thread"] == tid for x in roots):
            probs.append("no root %r" % label)
    rep.check(name + "/labels/frame-roots", probs, "%d roots" % len(roots))

    # 3. frame locals from threads(): names, order-free, values, previews, line
    probs = []
    mine = [x for x in locs if x["thread"] == tid and x["function"] == t["function"]
            and x["filename"] == t["filename"]]
    if not mine:
        probs.append("no locals of %s in thread %#x" % (t["function"], tid))
    else:
        frame0 = min(x["frame"] for x in mine)
        mine = [x for x in mine if x["frame"] == frame0]
        if mine[0]["line"] != t["line"]:
            probs.append("line %d, want %d" % (mine[0]["line"], t["line"]))
        got = {x["name"]: x for x in mine}
        if sorted(got) != sorted(t["names"]):
            probs.append("names %s, want %s" % (sorted(got), sorted(t["names"])))
        for lname, v in sorted(t["locals"].items()):
            g = got.get(lname)
            if g is None:
                continue
            if g["addr"] != int(v["addr"], 16):
                probs.append("%s at %#x, want %s" % (lname, g["addr"], v["addr"]))
            if g["preview"] != v["preview"]:
                probs.append("preview of %s %r, want %r" % (lname, g["preview"], v["preview"]))
    rep.check(name + "/labels/frame-locals", probs, "%d locals" % len(mine))

    # 4. edge labels out of the locals' values
    def addr(lname):
        return int(t["locals"][lname]["addr"], 16)

    want_edges = [
        (addr("batch"), addr("h"), "[0]"),
        (addr("secret"), addr("batch"), "['key one']"),
        (addr("secret"), addr("n"), "[5]"),
        (addr("sl"), addr("batch"), ".item"),
        (addr("inner"), int(t["closure"], 16), ".__closure__"),
        (addr("inner"), int(t["inner_code"], 16), ".__code__"),
        (addr("inner"), int(t["globals"], 16), ".__globals__"),
        (addr("h"), int(t["holder_type"], 16), "<type>"),
    ]
    want_edges += [
        (addr("exc"), int(t["exc_args"], 16), ".args"),
        (addr("wref"), int(t["on_dead"], 16), "<callback>"),
        (addr("dq"), addr("batch"), "[1]"),
        (addr("meth"), addr("h"), ".__self__"),
        (addr("dd"), int(t["list_type"], 16), ".default_factory"),
        (addr("dd"), addr("batch"), "['k']"),
    ]
    if t.get("gen_frame"):
        want_edges.append((addr("gen"), int(t["gen_frame"], 16), "<frame>"))
    else:
        want_edges.append((addr("gen"), int(t["gen_item"], 16), "<frame local 'item'>"))
    if t.get("holder_dict"):
        want_edges.append((addr("h"), int(t["holder_dict"], 16), ".__dict__"))
    else:
        want_edges.append((addr("h"), int(t["holder_payload"], 16), ".payload"))
        want_edges.append((addr("h"), int(t["holder_name"], 16), ".name"))
    probs = []
    by_pair = {}
    for src, dst, label, _ in edges:
        by_pair.setdefault((src, dst), label)
    for src, dst, label in want_edges:
        got = by_pair.get((src, dst))
        if got != label:
            probs.append("%#x -> %#x: %r, want %r" % (src, dst, got, label))
    unlabelled = [e for e in edges if e[2] == "-"]
    if unlabelled:
        probs.append("%d references without a label (first %#x -> %#x)"
                     % (len(unlabelled), unlabelled[0][0], unlabelled[0][1]))
    rep.check(name + "/labels/edges", probs, "%d edges" % len(edges))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true", help="first interpreter only")
    ap.add_argument("--cache-dir", help="keep/reuse cores here (shared with run_e2e.py)")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        rep.fail("labels/binary", "%s is missing or not executable" % binary)
        return 1
    cache = H.CoreCache(args.cache_dir)
    work = tempfile.mkdtemp(prefix="pyheap-labels-")
    try:
        interps, missing = H.matrix_interpreters()
        for label, why in missing:
            rep.skip(label + "/labels", "interpreter unavailable: %s" % why)
        if args.quick:
            interps = interps[:1]
        if not interps:
            rep.fail("labels/interpreters", "no usable interpreter")
        for interp in interps:
            check_interp(rep, cache, work, binary, interp, args.timeout)
    finally:
        cache.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    c = rep.counts
    print("# run_labels: %d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]),
          flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
