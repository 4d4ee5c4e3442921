#!/usr/bin/python3
"""End-to-end tests of the report's memory.pymalloc (issue 10) on real cores
of every interpreter of the matrix.

    /usr/bin/python3 tests/e2e/run_pymalloc.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S] [--interp PATTERN]

Scenario tests/scenarios/pymalloc_frag.py allocates a known mix of small
objects in every size class, frees two thirds of them in a scattered
pattern (pools and arenas mostly free: fragmentation), and prints
sys._debugmallocstats() from a forked child at the dump moment
(TRUTH.json.stats) and, for kernel cores, from the dumped process itself
right before os.abort() (TRUTH.json.parent.stats). Checks, per
interpreter (pymalloc/<label>/...):

  frag      against the forked child: arena count exact; allocated bytes
            and available-block bytes within 3%; unused pools within 2;
            used blocks of every size class within max(16, 3%); the
            report's parts add up (allocated + free + overhead =
            arenas x arena_size); no corrupt arena or pool;
  exact     against the dumped process's own numbers (kernel cores):
            everything above exactly, pool headers + quantization + arena
            alignment = overhead_bytes, and the pools of every class;
  malloc    PYTHONMALLOC=malloc: found is false and `how` says pymalloc
            holds no arena;
  arena_slot_count / corrupt_pool_header / free_list_cycle  (hostile)
            in a copy of the core, an arena slot's ntotalpools set to
            12345, a pool's size class index set to 999, or its free list
            made a cycle through its first block: exit 0 within the time
            limit, corrupt >= 1, one pymalloc warning, every other arena
            still counted.

When the report says found=false for an interpreter the line is a SKIP that
quotes the report's reason, never a pass. One line per check:
PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything failed.  --quick:
first interpreter only.
"""

import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corepatch  # noqa: E402
import harness as H  # noqa: E402

SCENARIO = "pymalloc_frag"
HOSTILE_SECONDS = int(os.environ.get("PYHEAP_HOSTILE_SECONDS", "60"))
TOLERANCE = 0.03

CLASS_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")


def _num(text, pattern):
    m = re.search(pattern, text, re.M)
    return int(m.group(1).replace(",", "")) if m else None


def parse_stats(text):
    """The first report of sys._debugmallocstats(): totals and
    {block size: (pools, used blocks, free blocks)}; None if not one."""
    classes = {}
    on = False
    for line in text.split("\n"):
        if line.startswith("class   size"):
            on = True
            continue
        if on and line.startswith("-----"):
            continue
        if on:
            m = CLASS_ROW.match(line)
            if not m:
                break
            _, size, pools, used, avail = (int(x) for x in m.groups())
            classes[size] = (pools, used, avail)
    s = {
        "arenas": _num(text, r"^# arenas allocated current\s+=\s+([\d,]+)"),
        "allocated": _num(text, r"^# bytes in allocated blocks\s+=\s+([\d,]+)"),
        "available": _num(text, r"^# bytes in available blocks\s+=\s+([\d,]+)"),
        "unused_pools": _num(text, r"^(\d+) unused pools \*"),
        "headers": _num(text, r"^# bytes lost to pool headers\s+=\s+([\d,]+)"),
        "quantization": _num(text, r"^# bytes lost to quantization\s+=\s+([\d,]+)"),
        "alignment": _num(text, r"^# bytes lost to arena alignment\s+=\s+([\d,]+)"),
        "classes": classes,
    }
    if not classes or any(v is None for v in s.values()):
        return None
    return s


def within(a, b, rel, floor=0):
    return abs(a - b) <= max(floor, rel * max(abs(b), 1))


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-pymalloc-")
        self.validate = H.report_validator()[1]

    def cleanup(self):
        self.cache.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def core(self, label, python):
        mode = "kernel" if not H.kernel_core_unavailable() else "gcore"
        res = self.cache.get(label, python, SCENARIO, mode)
        if res.core is None and mode == "kernel":
            res = self.cache.get(label, python, SCENARIO, "gcore")
        return res

    def analyze(self, name, core, extra=(), timeout=None):
        """(report, Ran) or (None, Ran) after a FAIL/SKIP line."""
        out = os.path.join(self.work, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".json")
        r = H.run_tool(self.binary, ["-q", "-o", out] + list(extra) + [core], cwd=self.work,
                       timeout=timeout or self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None, r
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None, r
        if r.returncode != 0:
            self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:]))
            return None, r
        try:
            _, rep = H.read_report(out)
        except H.LoadError as e:
            self.rep.fail(name, str(e))
            return None, r
        errors = self.validate(rep)
        if errors:
            self.rep.fail(name, "schema: " + "; ".join(errors[:4]))
            return None, r
        return rep, r

    @staticmethod
    def pymalloc(rep):
        return (rep.get("memory") or {}).get("pymalloc") or {}

    def compare(self, pm, s, exact):
        """Problems of the report's pymalloc against parsed stats s."""
        p = []
        rel = 0 if exact else TOLERANCE
        if pm["arenas"] != s["arenas"]:
            p.append("arenas %d, _debugmallocstats %d" % (pm["arenas"], s["arenas"]))
        for key, truth in (("allocated_bytes", "allocated"), ("available_block_bytes", "available")):
            if not within(pm[key], s[truth], rel):
                p.append("%s %d, _debugmallocstats %d (%+.2f%%)" % (
                    key, pm[key], s[truth], 100.0 * (pm[key] - s[truth]) / max(s[truth], 1)))
        if abs(pm["empty_pools"] - s["unused_pools"]) > (0 if exact else 2):
            p.append("empty_pools %d, unused pools %d" % (pm["empty_pools"], s["unused_pools"]))
        if exact:
            over = s["headers"] + s["quantization"] + s["alignment"]
            if pm["overhead_bytes"] != over:
                p.append("overhead_bytes %d, headers+quantization+alignment %d" % (
                    pm["overhead_bytes"], over))
        mine = {c["block_size"]: c for c in pm["size_classes"]}
        for size in sorted(set(mine) | set(s["classes"])):
            c = mine.get(size, {"pools": 0, "used_blocks": 0})
            pools, used, _ = s["classes"].get(size, (0, 0, 0))
            if not within(c["used_blocks"], used, rel, 0 if exact else 16) or \
                    (exact and c["pools"] != pools):
                p.append("class %d: %d pools %d used, _debugmallocstats %d pools %d used" % (
                    size, c["pools"], c["used_blocks"], pools, used))
        return p

    def frag(self, lab, python):
        name = lab + "/frag"
        res = self.core(lab, python)
        if res.core is None:
            self.rep.fail(name, "no core: %s" % res.error)
            return None
        stats = None
        try:
            with open(res.truth_path + ".stats") as f:
                stats = parse_stats(f.read())
        except OSError as e:
            self.rep.fail(name, "no _debugmallocstats from the child: %s" % e)
            return None
        if stats is None:
            self.rep.fail(name, "the child's _debugmallocstats output is not understood")
            return None
        rep, _ = self.analyze(name, res.core)
        if rep is None:
            return None
        pm = self.pymalloc(rep)
        if not pm.get("found"):
            self.rep.skip(name, "pymalloc not found: %s" % pm.get("how"))
            return None
        p = self.compare(pm, stats, exact=False)
        if pm["allocated_bytes"] + pm["free_bytes"] + pm["overhead_bytes"] != pm["arena_bytes"]:
            p.append("allocated + free + overhead != arena_bytes")
        if pm["corrupt"]:
            p.append("corrupt %d on an intact core" % pm["corrupt"])
        warns = [w for w in rep.get("warnings", []) if "pymalloc" in w]
        if warns:
            p.append("warnings: %s" % warns[:2])
        self.rep.check(name, p, "%s: %d arenas, %d allocated bytes (_debugmallocstats %d), "
                       "%d free, %d overhead" % (pm["how"], pm["arenas"], pm["allocated_bytes"],
                                                 stats["allocated"], pm["free_bytes"],
                                                 pm["overhead_bytes"]))
        self.exact(lab, res, pm)
        return res, rep

    def exact(self, lab, res, pm):
        name = lab + "/exact"
        try:
            with open(res.truth_path + ".parent.stats") as f:
                text = f.read()
        except OSError:
            text = ""
        if res.mode != "kernel" or not text:
            self.rep.skip(name, "no _debugmallocstats of the dumped process (%s core)" % res.mode)
            return
        s = parse_stats(text)
        if s is None:
            self.rep.fail(name, "the dumped process's _debugmallocstats output is not understood")
            return
        self.rep.check(name, self.compare(pm, s, exact=True),
                       "%d arenas, %d allocated bytes" % (s["arenas"], s["allocated"]))

    def malloc(self, lab, python):
        """PYTHONMALLOC=malloc (the harness runs scenarios with -E, which
        ignores it, so this core is made here)."""
        name = lab + "/malloc"
        why = H.kernel_core_unavailable()
        if why:
            self.rep.skip(name, "no kernel core: %s" % why)
            return
        work = os.path.join(self.work, "malloc-" + re.sub(r"[^A-Za-z0-9_.-]", "_", lab))
        os.makedirs(work, exist_ok=True)
        env = dict(os.environ, PYTHONMALLOC="malloc")
        t0 = __import__("time").time()
        r = H.run_process([python, "-s", "-B", "-c",
                           "import os; keep = [str(i) for i in range(5000)]; os.abort()"],
                          cwd=work, timeout=H.SCENARIO_TIMEOUT, env=env, preexec=H._core_limit)
        core = H._find_kernel_core(work, r.pid, t0) if r.pid else None
        if core is None or not r.core_dumped:
            self.rep.fail(name, "no core: %s" % r.describe())
            return
        rep, _ = self.analyze(name, core)
        if rep is None:
            return
        pm = self.pymalloc(rep)
        p = []
        if pm.get("found"):
            p.append("found with %s arenas" % pm.get("arenas"))
        if "holds no arena" not in (pm.get("how") or ""):
            p.append("how %r does not say that pymalloc holds no arena" % pm.get("how"))
        self.rep.check(name, p, pm.get("how", ""))
        os.unlink(core)

    def hostile(self, lab, res, rep):
        """Corrupt a pool of a real core two ways."""
        pm = self.pymalloc(rep)
        dump = os.path.join(self.work, "objects.tsv")
        r = H.run_tool(self.binary, ["-q", "-o", os.devnull, "--dump-objects", dump, res.core],
                       cwd=self.work, timeout=self.args.timeout)
        try:
            rows = H.load_dump_objects(dump) if r.returncode == 0 else {}
        except H.LoadError:
            rows = {}
        floats = sorted(a for a, v in rows.items() if v[0] == "float")
        if len(floats) < 100:
            self.rep.fail(lab + "/hostile", "no float objects in --dump-objects (%s)" % r.describe())
            return
        pool = floats[len(floats) // 2] & ~(pm["pool_size"] - 1)
        image = corepatch.CoreImage(res.core)
        slot = None
        for i in range(pm["arena_slots"]):
            a = pm["arena_table"] + 48 * i
            if image.readable(a, 48) and image.read64(a) and \
                    image.read64(a) <= pool < image.read64(a) + pm["arena_size"]:
                slot = a
        if slot is None:
            self.rep.fail(lab + "/hostile", "the arena of pool 0x%x is not in the table" % pool)
            return
        cases = (
            ("arena_slot_count", lambda c: c.write32(slot + 20, 12345)),
            ("corrupt_pool_header", lambda c: c.write32(pool + 36, 999)),
            ("free_list_cycle", lambda c: (c.write64(pool + 8, pool + 48),
                                           c.write64(pool + 48, pool + 48))),
        )
        for case, patch in cases:
            name = "%s/%s" % (lab, case)
            saved = bytes(image.data)
            patch(image)
            path = os.path.join(self.work, "hostile.core")
            image.save(path)
            image.data = bytearray(saved)
            got, ran = self.analyze(name, path, timeout=HOSTILE_SECONDS)
            os.unlink(path)
            if got is None:
                continue
            g = self.pymalloc(got)
            warns = [w for w in got.get("warnings", []) if w.startswith("pymalloc:")]
            p = []
            if ran.seconds > HOSTILE_SECONDS:
                p.append("took %.1f s" % ran.seconds)
            if not g.get("found") or g.get("corrupt", 0) < 1:
                p.append("corrupt %s (found %s)" % (g.get("corrupt"), g.get("found")))
            elif g["arenas"] != pm["arenas"] - (case == "arena_slot_count"):
                p.append("arenas %d, intact core %d" % (g["arenas"], pm["arenas"]))
            if len(warns) != 1:
                p.append("%d pymalloc warnings: %s" % (len(warns), warns[:3]))
            self.rep.check(name, p, "%.1f s, %s" % (ran.seconds, warns[0] if warns else ""))


def main(argv=None):
    ap = H.runner_parser(__doc__)
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not H.binary_ok(rep, args.bin):
        return 1
    run = Runner(args, rep)
    try:
        interps = H.chosen_interpreters(rep, args, "pymalloc/", "pymalloc/interpreters")
        for i in interps:
            lab = "pymalloc/" + i.label
            got = run.frag(lab, i.python)
            run.malloc(lab, i.python)
            if got:
                run.hostile(lab, *got)
    finally:
        run.cleanup()
    return H.finish(rep, "run_pymalloc")


if __name__ == "__main__":
    sys.exit(main())
