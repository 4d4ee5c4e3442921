#!/usr/bin/python3
"""End-to-end tests of heap snapshots (formats/SNAPSHOT.md).

    /usr/bin/python3 tests/e2e/run_snapshot.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S]

1. round trip: for every scenario core (the cores run_e2e.py uses, shared
   through --cache-dir), `--save-snapshot` then analyzing the snapshot gives
   the same report as the core, apart from `input`;
2. agreement: tests/scenarios/snapshot_agree.py writes an in-process
   snapshot (formats/pyheap_dump.py, fork=True) and then dumps a core at the
   same moment: the scenario's class counts and the unreachable counts of
   both reports and of the interpreter's own gc.collect() agree exactly;
3. the dumper on every interpreter found (Debian 3.11, pyenv 3.8+, Debian
   3.13-3.15 extracted into ~/.cache/pyheap-analyze when present):
   dump(fork=True), dump() in-process, .zst output, checked against
   gc.collect() in a forked child; arm() in a process that grows past an
   RSS limit;
4. malformed snapshots: truncated at every record boundary, wrong types,
   huge lengths, unknown version: exit 3 with the byte offset, no crash.

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.  --quick: first interpreter only (the ASan pass).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

FORMATS = os.path.join(H.REPO, "formats")
DUMPER_TIMEOUT = 180


# ----------------------------------------------------------------------------
# msgpack: just enough to find the top-level records of a snapshot

def _skip(buf, off):
    """Offset after the msgpack value at `off` (iterative)."""
    pending = 1
    while pending:
        pending -= 1
        b = buf[off]
        off += 1
        if b <= 0x7f or b >= 0xe0 or b in (0xc0, 0xc2, 0xc3):
            continue
        if 0x80 <= b <= 0x8f:
            pending += 2 * (b & 0x0f)
        elif 0x90 <= b <= 0x9f:
            pending += b & 0x0f
        elif 0xa0 <= b <= 0xbf:
            off += b & 0x1f
        elif b in (0xcc, 0xd0):
            off += 1
        elif b in (0xcd, 0xd1):
            off += 2
        elif b in (0xce, 0xd2, 0xca):
            off += 4
        elif b in (0xcf, 0xd3, 0xcb):
            off += 8
        elif b in (0xd9, 0xc4):
            off += 1 + buf[off]
        elif b in (0xda, 0xc5):
            off += 2 + int.from_bytes(buf[off:off + 2], "big")
        elif b in (0xdb, 0xc6):
            off += 4 + int.from_bytes(buf[off:off + 4], "big")
        elif b == 0xdc:
            pending += int.from_bytes(buf[off:off + 2], "big")
            off += 2
        elif b == 0xdd:
            pending += int.from_bytes(buf[off:off + 4], "big")
            off += 4
        elif b == 0xde:
            pending += 2 * int.from_bytes(buf[off:off + 2], "big")
            off += 2
        elif b == 0xdf:
            pending += 2 * int.from_bytes(buf[off:off + 4], "big")
            off += 4
        else:
            raise ValueError("unexpected byte 0x%02x at %d" % (b, off - 1))
    return off


def record_offsets(buf):
    out = []
    off = 0
    while off < len(buf):
        out.append(off)
        off = _skip(buf, off)
    return out


# ----------------------------------------------------------------------------

def mb(n):
    return "%.2f MB" % (n / 1e6)


def without_input(rep):
    """The report minus `input`, and minus what a snapshot cannot carry
    (formats/REPORT.md, "Snapshots"): edge labels of paths (a snapshot's are
    all <ref>), hence the sentences that quote paths, local previews, and the
    waste analysis (it needs the values' contents; a snapshot says
    available: false), the memory section (report/3: the process's memory
    is not in a snapshot) with the native bytes it gives retainers and
    suspects, and the growth candidates (exact item counts and labelled
    paths)."""
    out = json.loads(json.dumps({k: v for k, v in rep.items() if k != "input"}))
    if isinstance(out.get("roots"), dict):
        out["roots"].pop("edge_labels", None)
    paths = [x for x in (out.get("retained") or {}).get("top") or []]
    paths += [x for x in out.get("leak_suspects") or []]
    for x in paths:
        for e in (x.get("path") or [])[1:]:
            e["label"] = "<ref>"
        x.pop("sentence", None)
        x.pop("retained_native", None)
        x.pop("native_bytes", None)
    for t in out.get("threads") or []:
        for f in t.get("frames") or []:
            for loc in f.get("locals") or []:
                loc["preview"] = None
    out.pop("waste", None)
    out.pop("memory", None)
    # Growth candidates are chosen and named by item counts and labelled
    # paths, which only a core has exactly (a snapshot's labels are <ref>).
    out.pop("growth_candidates", None)
    return out


def diff_reports(a, b):
    probs = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            probs.append("%s differs: %s | %s" % (k, json.dumps(a.get(k))[:150],
                                                  json.dumps(b.get(k))[:150]))
    return probs


def analyze(binary, target, out, cwd, timeout, extra=()):
    """(Ran, report dict or None, problem string or None)."""
    r = H.run_tool(binary, ["-q", "-o", out] + list(extra) + [target], cwd=cwd, timeout=timeout)
    trouble = H.sanitizer_trouble(r.stderr_text())
    if trouble:
        return r, None, "sanitizer: " + trouble
    if r.returncode != 0:
        return r, None, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:])
    try:
        _, rep = H.read_report(out)
    except H.LoadError as e:
        return r, None, str(e)
    errors = _validator()(rep)
    if errors:
        return r, None, "schema: " + "; ".join(errors[:4])
    return r, rep, None


_VALIDATE = []


def _validator():
    if not _VALIDATE:
        _VALIDATE.append(H.report_validator()[1])
    return _VALIDATE[0]


def type_counts(rep):
    return {t["name"]: t["count"] for t in rep.get("types") or []}


class Runner:
    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.binary = os.path.abspath(args.bin)
        self.timeout = args.timeout
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-snap-")
        self.sample = None      # a plain snapshot for the malformed tests

    def cleanup(self):
        self.cache.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def core(self, label, python, scenario, extra=()):
        mode = "kernel" if not H.kernel_core_unavailable() else "gcore"
        res = self.cache.get(label, python, scenario, mode, extra)
        if res.core is None and mode == "kernel":
            res = self.cache.get(label, python, scenario, "gcore", extra)
        return res

    # 1 ------------------------------------------------------------------
    def round_trip(self, label, python, scenario):
        name = "%s/%s/round-trip" % (label, scenario)
        res = self.core(label, python, scenario)
        if res.core is None:
            self.rep.fail(name, "no core: %s" % res.error)
            return
        d = os.path.join(self.work, label, scenario)
        os.makedirs(d, exist_ok=True)
        snap = os.path.join(d, "snap.msgpack.zst")
        r, core_rep, why = analyze(self.binary, res.core, os.path.join(d, "core.json"), d,
                                   self.timeout, ["--save-snapshot", snap])
        if why:
            self.rep.fail(name, "core: " + why)
            return
        r2, snap_rep, why = analyze(self.binary, snap, os.path.join(d, "snap.json"), d, self.timeout)
        if why:
            self.rep.fail(name, "snapshot: " + why)
            return
        probs = diff_reports(without_input(core_rep), without_input(snap_rep))
        inp = snap_rep.get("input") or {}
        if inp.get("kind") != "snapshot" or not inp.get("compressed"):
            probs.append("input is %r" % inp)
        size = os.path.getsize(snap)
        self.rep.check(name, probs, "core %s -> snapshot %s (%.1f%%), %d objects; write %.2f s, "
                       "read+analyze %.2f s" % (
                           mb(os.path.getsize(res.core)), mb(size),
                           100.0 * size / max(1, os.path.getsize(res.core)),
                           snap_rep["summary"]["objects"], r.seconds, r2.seconds))
        if self.sample is None:
            plain = os.path.join(d, "snap.msgpack")
            r3, _, why = analyze(self.binary, res.core, os.path.join(d, "core2.json"), d,
                                 self.timeout, ["--save-snapshot", plain])
            if not why:
                self.sample = plain

    # 2 ------------------------------------------------------------------
    def agreement(self, label, python):
        name = "%s/snapshot_agree" % label
        res = self.core(label, python, "snapshot_agree", ("snap.msgpack",))
        if res.core is None:
            self.rep.fail(name + "/core", res.error)
            return
        if res.truth is None:
            self.rep.fail(name + "/truth", res.error)
            return
        workdir = os.path.dirname(res.core)
        snap = os.path.join(workdir, "snap.msgpack")
        if not os.path.exists(snap):
            self.rep.fail(name, "the scenario wrote no snapshot at %s" % snap)
            return
        d = os.path.join(self.work, label, "agree")
        os.makedirs(d, exist_ok=True)
        _, core_rep, why = analyze(self.binary, res.core, os.path.join(d, "core.json"), d, self.timeout)
        if why:
            self.rep.fail(name + "/core-report", why)
            return
        _, snap_rep, why = analyze(self.binary, snap, os.path.join(d, "snap.json"), d, self.timeout)
        if why:
            self.rep.fail(name + "/snapshot-report", why)
            return
        truth = res.truth
        ct, st = type_counts(core_rep), type_counts(snap_rep)
        probs = []
        for cls, v in sorted(truth["scenario_types"].items()):
            if not (v["count"] == ct.get(cls, 0) == st.get(cls, 0)):
                probs.append("%s: truth %d, core %s, snapshot %s" % (cls, v["count"], ct.get(cls),
                                                                   st.get(cls)))
        self.rep.check(name + "/scenario-types", probs, "%d classes" % len(truth["scenario_types"]))
        cu = core_rep["summary"]["unreachable_objects"]
        su = snap_rep["summary"]["unreachable_objects"]
        probs = []
        if not (cu == su == truth["collected"]):
            probs.append("unreachable: gc.collect() %d, core %d, snapshot %d" % (
                truth["collected"], cu, su))
        ug = {t["name"]: t["count"] for t in snap_rep["unreachable"]["types"]}
        for cls, n in truth["garbage_types"].items():
            if ug.get(cls, 0) != n:
                probs.append("unreachable %s: gc %d, snapshot %s" % (cls, n, ug.get(cls)))
        self.rep.check(name + "/unreachable", probs, "%d objects" % su)
        if snap_rep["input"]["kind"] != "snapshot" or snap_rep["process"]["signal"] is not None:
            self.rep.fail(name + "/fields", "input %r, process %r" % (snap_rep["input"],
                                                                    snap_rep["process"]))
        else:
            self.rep.ok(name + "/fields", "kind snapshot, signal null, %d warnings" %
                        len(snap_rep["warnings"]))

    # 3 ------------------------------------------------------------------
    DUMPER_PROG = r'''
import gc, json, os, sys
gc.disable()
sys.path.insert(0, sys.argv[3])
import pyheap_dump
class Node:
    def __init__(self):
        self.peer = None
class Leaf:
    pass
def build():
    for i in range(200):
        a, b = Node(), Node()
        a.peer, b.peer = b, a
    for i in range(50):
        l = [i]
        l.append(l)
build()
KEEP = [Leaf() for _ in range(77)]
mode, out = sys.argv[1], sys.argv[2]
if mode == "fork":
    pyheap_dump.dump(out, fork=True, wait=True)
else:
    pyheap_dump.dump(out)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    gc.set_debug(gc.DEBUG_SAVEALL)
    n = gc.collect()
    os.write(w, json.dumps({"collected": n}).encode())
    os._exit(0)
os.close(w)
data = os.read(r, 65536)
os.waitpid(pid, 0)
print(data.decode())
'''

    ARM_PROG = r'''
import sys, time
sys.path.insert(0, sys.argv[2])
import pyheap_dump
class Grow:
    __slots__ = ("data",)
    def __init__(self, i):
        self.data = (b"%08d" % i) * (1 << 17)
rss0 = pyheap_dump._rss_bytes()
t = pyheap_dump.arm(rss_limit=rss0 + (48 << 20), path=sys.argv[1], interval=0.02)
keep = []
deadline = time.time() + 60
while t.dumped is None and t.error is None and time.time() < deadline:
    keep.append(Grow(len(keep)))
    time.sleep(0.002)
print(repr(t.dumped), repr(t.error), len(keep))
sys.exit(0 if t.dumped else 1)
'''

    HOOKS_PROG = r'''
import os, signal, sys, time
sys.path.insert(0, sys.argv[3])
import pyheap_dump
class Marker:
    pass
M = [Marker() for _ in range(11)]
pyheap_dump.install(path=sys.argv[1], fork=False)
os.kill(os.getpid(), signal.SIGUSR2)
deadline = time.time() + 30
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.01)
pyheap_dump.on_memory_error(path=sys.argv[2])
raise MemoryError("simulated")
'''

    def hooks(self, label, python, d):
        name = "dumper/%s/signal-and-memoryerror" % label
        sig, mem = os.path.join(d, "sig.msgpack"), os.path.join(d, "mem.msgpack")
        r = H.run_process(python + ["-E", "-s", "-B", "-c", self.HOOKS_PROG, sig, mem, FORMATS],
                          cwd=d, timeout=DUMPER_TIMEOUT)
        probs = []
        if r.returncode != 1 or "MemoryError" not in r.stderr_text():
            probs.append("want exit 1 with the MemoryError traceback: %s: %s" % (
                r.describe(), r.stderr_text().strip()[-200:]))
        for what, path in (("SIGUSR2", sig), ("MemoryError", mem)):
            if not os.path.exists(path):
                probs.append("no snapshot on %s" % what)
                continue
            _, rep, why = analyze(self.binary, path, path + ".json", d, self.timeout)
            if why:
                probs.append("%s: %s" % (what, why))
            elif type_counts(rep).get("__main__.Marker") != 11:
                probs.append("%s: %s Marker objects (11)" % (what, type_counts(rep).get("__main__.Marker")))
        self.rep.check(name, probs)

    def dumper(self, label, python):
        d = os.path.join(self.work, "dumper", label)
        os.makedirs(d, exist_ok=True)
        for mode, fname in (("fork", "fork.msgpack"), ("inproc", "inproc.msgpack"),
                            ("fork", "fork.msgpack.zst")):
            name = "dumper/%s/%s%s" % (label, mode, "-zst" if fname.endswith(".zst") else "")
            if fname.endswith(".zst") and not shutil.which("zstd"):
                self.rep.skip(name, "the zstd program is not installed")
                continue
            out = os.path.join(d, fname)
            r = H.run_process(python + ["-E", "-s", "-B", "-c", self.DUMPER_PROG, mode, out, FORMATS],
                              cwd=d, timeout=DUMPER_TIMEOUT)
            if r.returncode != 0:
                self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-400:]))
                continue
            try:
                truth = json.loads(r.stdout_text().strip().splitlines()[-1])
            except (ValueError, IndexError) as e:
                self.rep.fail(name, "no truth line: %s (%r)" % (e, r.stdout_text()[-200:]))
                continue
            _, rep, why = analyze(self.binary, out, os.path.join(d, fname + ".json"), d, self.timeout)
            if why:
                self.rep.fail(name, why)
                continue
            tc = type_counts(rep)
            probs = []
            if tc.get("__main__.Node") != 400 or tc.get("__main__.Leaf") != 77:
                probs.append("Node %s (400), Leaf %s (77)" % (tc.get("__main__.Node"),
                                                            tc.get("__main__.Leaf")))
            u = rep["summary"]["unreachable_objects"]
            if u != truth["collected"]:
                probs.append("unreachable %d, gc.collect() %d" % (u, truth["collected"]))
            if rep["python"]["layout"] != "in-process" or rep["input"]["kind"] != "snapshot":
                probs.append("python %r input %r" % (rep["python"], rep["input"]))
            self.rep.check(name, probs, "%d objects, %d unreachable, %s, dump+truth %.2f s" % (
                rep["summary"]["objects"], u, mb(os.path.getsize(out)), r.seconds))

        name = "dumper/%s/arm" % label
        out = os.path.join(d, "arm.msgpack")
        r = H.run_process(python + ["-E", "-s", "-B", "-c", self.ARM_PROG, out, FORMATS], cwd=d,
                          timeout=DUMPER_TIMEOUT)
        if r.returncode != 0 or not os.path.exists(out):
            self.rep.fail(name, "%s; %s %s" % (r.describe(), r.stdout_text().strip()[-200:],
                                               r.stderr_text().strip()[-300:]))
        else:
            _, rep, why = analyze(self.binary, out, os.path.join(d, "arm.json"), d, self.timeout)
            if why:
                self.rep.fail(name, why)
            else:
                n = type_counts(rep).get("__main__.Grow", 0)
                self.rep.check(name, [] if n >= 40 else ["only %d Grow objects in the snapshot" % n],
                               "dumped after %s Grow objects (1 MiB each); snapshot has %d" % (
                                   r.stdout_text().split()[-1], n))

        self.hooks(label, python, d)

        name = "dumper/%s/cli-at-exit" % label
        script = os.path.join(d, "cli_script.py")
        with open(script, "w") as f:
            f.write("class Thing:\n    pass\nT = [Thing() for _ in range(33)]\n")
        out = os.path.join(d, "cli.msgpack")
        r = H.run_process(python + ["-E", "-s", "-B", "-m", "pyheap_dump", "--at-exit", "-o", out,
                                    script, "arg"], cwd=FORMATS, timeout=DUMPER_TIMEOUT)
        if r.returncode != 0 or not os.path.exists(out):
            self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:]))
        else:
            _, rep, why = analyze(self.binary, out, out + ".json", d, self.timeout)
            n = type_counts(rep).get("__main__.Thing") if rep else None
            self.rep.check(name, [why] if why else [] if n == 33 else ["%s Thing objects (33)" % n])

        name = "dumper/%s/cli-help" % label
        r = H.run_process(python + ["-E", "-s", "-B", "-m", "pyheap_dump", "--help"],
                          cwd=FORMATS, timeout=60)
        self.rep.check(name, [] if r.returncode == 0 and "usage" in r.stdout_text() else
                       ["%s: %s" % (r.describe(), r.stderr_text()[-200:])])

    # 4 ------------------------------------------------------------------
    def malformed(self):
        if self.sample is None:
            self.rep.fail("malformed", "no snapshot to corrupt (every round trip failed)")
            return
        with open(self.sample, "rb") as f:
            data = f.read()
        offs = record_offsets(data)
        d = os.path.join(self.work, "malformed")
        os.makedirs(d, exist_ok=True)
        bad = os.path.join(d, "bad.msgpack")
        out = os.path.join(d, "out.json")

        def expect3(mutated, want=None):
            with open(bad, "wb") as f:
                f.write(mutated)
            r = H.run_tool(self.binary, ["-q", "-o", out, bad], cwd=d, timeout=self.timeout)
            err = r.stderr_text()
            trouble = H.sanitizer_trouble(err)
            if trouble:
                return "sanitizer: " + trouble
            if r.returncode != 3:
                return "%s (want exit 3): %s" % (r.describe(), err.strip()[-200:])
            if "at byte offset" not in err or bad not in err:
                return "message lacks the file or the offset: %s" % err.strip()[-200:]
            if want and want not in err:
                return "message lacks %r: %s" % (want, err.strip()[-200:])
            return None

        # truncated at every record boundary, and inside each record
        probs = []
        cuts = sorted(set(offs[1:] + [o + 1 for o in offs] + [o + 7 for o in offs[:-1]]))
        for cut in cuts:
            if cut < len(data):
                p = expect3(data[:cut])
                if p:
                    probs.append("cut at %d: %s" % (cut, p))
        self.rep.check("malformed/truncated", probs, "%d records, %d cuts" % (len(offs), len(cuts)))

        # wrong types: the first byte of each record, and of a value inside
        probs = []
        for o in offs:
            for byte in (0x93, 0xc0, 0x01):
                p = expect3(data[:o] + bytes([byte]) + data[o + 1:])
                if p:
                    probs.append("record at %d := 0x%02x: %s" % (o, byte, p))
        self.rep.check("malformed/wrong-types", probs, "%d records" % len(offs))

        # huge lengths: the objects array of each objects record
        probs = []
        n = 0
        marker = b"\xa7objects"
        start = 0
        while True:
            i = data.find(marker, start)
            if i < 0 or n >= 20:
                break
            j = i + len(marker)
            start = j
            if data[j] not in (0xdc, 0xdd) and not (0x90 <= data[j] <= 0x9f):
                continue
            hdr = 3 if data[j] == 0xdc else 5 if data[j] == 0xdd else 1
            n += 1
            p = expect3(data[:j] + b"\xdd\xff\xff\xff\xff" + data[j + hdr:])
            if p:
                probs.append("objects array at %d: %s" % (j, p))
        self.rep.check("malformed/huge-lengths", probs if n else ["no objects record found"],
                       "%d arrays" % n)

        i = data.find(b"\xa7version\x02")
        if i < 0:
            self.rep.fail("malformed/unknown-version", "no version key in the sample")
        else:
            p = expect3(data[:i + 8] + b"\x07" + data[i + 9:], "unsupported snapshot version 7")
            self.rep.check("malformed/unknown-version", [p] if p else [])

        # a compressed snapshot cut short
        if shutil.which("zstd"):
            z = os.path.join(d, "sample.msgpack.zst")
            subprocess.run(["zstd", "-q", "-f", self.sample, "-o", z], check=False)
            with open(z, "rb") as f:
                zdata = f.read()
            with open(bad, "wb") as f:
                f.write(zdata[:len(zdata) // 2])
            r = H.run_tool(self.binary, ["-q", "-o", out, bad], cwd=d, timeout=self.timeout)
            self.rep.check("malformed/zstd-truncated",
                           [] if r.returncode == 3 and not H.sanitizer_trouble(r.stderr_text())
                           else ["%s: %s" % (r.describe(), r.stderr_text().strip()[-200:])])


def debian_cache_interpreters():
    """Interpreters extracted from Debian packages into the cache that the
    layout work uses (~/.cache/pyheap-analyze/debian-SUITE-3.X/root, DESIGN
    "Where real interpreters come from"): run through their own ld.so."""
    out = []
    base = os.path.expanduser("~/.cache/pyheap-analyze")
    for root in sorted(glob.glob(os.path.join(base, "debian-*-3.*", "root"))):
        ver = os.path.basename(os.path.dirname(root)).rsplit("-", 1)[-1]
        py = os.path.join(root, "usr", "bin", "python" + ver)
        ld = os.path.join(root, "usr", "lib64", "ld-linux-x86-64.so.2")
        if not os.path.exists(py):
            continue
        if not os.path.exists(ld):
            out.append((os.path.basename(os.path.dirname(root)), [py]))
            continue
        libs = "%s/lib/x86_64-linux-gnu:%s/usr/lib/x86_64-linux-gnu" % (root, root)
        out.append((os.path.basename(os.path.dirname(root)), [ld, "--library-path", libs, py]))
    return out


def dumper_interpreters(quick):
    """(label, argv) of every CPython >= 3.8 here: the e2e matrix, pyenv,
    and Debian interpreters extracted into the cache."""
    out, seen = [], set()
    cands = [(label, [path]) for label, path in H.wanted_interpreters()]
    root = H.pyenv_root()
    if root:
        for exe in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3.*"))):
            ver = os.path.basename(os.path.dirname(os.path.dirname(exe)))
            if os.path.basename(exe).count(".") == 1 and not exe.endswith("-config"):
                cands.append(("pyenv-" + ver, [exe]))
    cands += debian_cache_interpreters()
    for label, path in cands:
        if not os.path.exists(path[-1]):
            continue
        real = os.path.realpath(path[-1])
        if real in seen:
            continue
        try:
            v = subprocess.run(path + ["-E", "-s", "-c", "import sys; print(*sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=60).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(v) != 2 or (int(v[0]), int(v[1])) < (3, 8):
            continue
        seen.add(real)
        out.append((label, path))
    return out[:1] if quick else out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true", help="first interpreter only")
    ap.add_argument("--cache-dir", help="keep/reuse cores here (shared with run_e2e.py)")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not os.access(args.bin, os.X_OK):
        rep.fail("binary", "%s is missing or not executable" % args.bin)
        return 1
    run = Runner(args, rep)
    try:
        interps, missing = H.find_interpreters()
        for label, why in missing:
            rep.skip("snapshot/" + label, "interpreter unavailable: %s" % why)
        if args.quick:
            interps = interps[:1]
        if not interps:
            rep.fail("interpreters", "no usable CPython 3.11/3.12 interpreter for cores")
        for label, python in interps:
            for scenario in H.SCENARIOS:
                run.round_trip(label, python, scenario)
            run.agreement(label, python)
        run.malformed()
        for label, python in dumper_interpreters(args.quick):
            run.dumper(label, python)
    finally:
        run.cleanup()
    c = rep.counts
    print("# run_snapshot: %d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]),
          flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
