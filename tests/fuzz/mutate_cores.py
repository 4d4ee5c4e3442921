#!/usr/bin/python3
"""Mutation runner: seeded damage to real cores and snapshots, run under ASan+UBSan.

    /usr/bin/python3 tests/fuzz/mutate_cores.py --bin build-asan/pyheap-analyze \\
        [--cores 'GLOB' ...] [--core-mutants 300] [--snapshot-mutants 300] \\
        [--seed 1] [--timeout 30] [--jobs 1] [--out DIR] [--replay RECIPE]

Each mutant is a copy of a real input (the cores under /work/cores by
default; snapshots are made from some of them with --save-snapshot) with a
seeded recipe of damage:

  cores      bit flips, 8-byte words overwritten with pointers into the
             process's memory (same segment, other segments, the word's own
             address), huge values and small integers -- mostly in the
             writable PT_LOADs where Python objects live; program header
             fields; note headers and NT_FILE/NT_PRSTATUS/NT_AUXV contents;
             truncations;
  snapshots  bit flips, msgpack length fields and 64-bit integers set to
             hostile values, type bytes changed, truncations; some mutants
             are zstd-compressed after the damage.

A recipe is a JSON object {"src", "kind", "seed", "index", "ops": [[op,
offset, arg], ...]}; `--replay RECIPE` (the JSON text, a file holding it, or
OUT/findings.json with --pick N) rebuilds one mutant and runs it again.  The analyzer runs as
`BIN -q -o report.json MUTANT` with a timeout, and the run is classified:

  ok         exit 0 with a report that is valid JSON in strict UTF-8 (no
             lone surrogates either), or exit 3 (input refused); the
             summary counts both
  crash      killed by a signal
  hang       still running after the timeout
  sanitizer  an ASan/UBSan/LSan report on stderr (whatever the exit code)
  bad-json   exit 0 but the report is not valid strict-UTF-8 JSON
  exit-N     any other exit status

Every finding is printed with its recipe and the first lines of the
sanitizer report, and written to OUT/findings.json (mutants of findings are
kept in OUT).  The summary line: "mutate: N mutants, N ok, N findings
(...)".  Exit status 1 if anything was found.
"""

import argparse
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PT_LOAD, PT_NOTE = 1, 4
PF_W = 2
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE = 1, 3, 6, 0x46494C45

HUGE = [0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFF,
        0x100000000, 0xFFFFFFFFFFFF0000, 0x0000800000000000, 1 << 40, 0x7FFFFFFF]
SMALL = [0, 1, 2, 3, 7, 8, 15, 16, 255, 4096]


# ----------------------------------------------------------------------------
# ELF core layout

class Core:
    def __init__(self, path):
        self.path = path
        self.size = os.path.getsize(path)
        with open(path, "rb") as f:
            eh = f.read(64)
            if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
                raise ValueError("%s: not a little-endian ELF64 file" % path)
            self.phoff, = struct.unpack_from("<Q", eh, 32)
            self.phentsize, self.phnum = struct.unpack_from("<HH", eh, 54)
            if self.phnum == 0xFFFF:
                shoff, = struct.unpack_from("<Q", eh, 40)
                f.seek(shoff + 44)
                self.phnum, = struct.unpack("<I", f.read(4))
            f.seek(self.phoff)
            ph = f.read(self.phentsize * self.phnum)
            self.phdrs = []
            for i in range(self.phnum):
                t, flags, off, vaddr, _pa, filesz, memsz = struct.unpack_from(
                    "<IIQQQQQ", ph, i * self.phentsize)
                self.phdrs.append((t, flags, off, vaddr, filesz, memsz))
            self.notes = []        # (file offset of the note header, namesz, descsz, type, desc offset)
            for t, _fl, off, _va, filesz, _ms in self.phdrs:
                if t != PT_NOTE:
                    continue
                f.seek(off)
                data = f.read(filesz)
                pos = 0
                while pos + 12 <= len(data):
                    namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                    desc = pos + 12 + ((namesz + 3) & ~3)
                    self.notes.append((off + pos, namesz, descsz, ntype, off + desc))
                    pos = desc + ((descsz + 3) & ~3)
        self.loads = [(off, vaddr, filesz, memsz, flags) for t, flags, off, vaddr, filesz, memsz
                      in self.phdrs if t == PT_LOAD and filesz > 0 and off + filesz <= self.size]
        self.wloads = [l for l in self.loads if l[4] & PF_W] or self.loads

    def pointer(self, rng, near=None):
        """A plausible pointer: into a writable segment, 8-aligned, or near `near`."""
        if near is not None and rng.random() < 0.3:
            return (near + rng.choice([-64, -32, -16, -8, 0, 8, 16, 24, 32, 48])) & 0xFFFFFFFFFFFFFFFF
        off, vaddr, filesz, memsz, _ = rng.choice(self.wloads if rng.random() < 0.8 else self.loads)
        p = vaddr + rng.randrange(0, max(8, memsz)) // 8 * 8
        if rng.random() < 0.1:
            p += rng.choice([1, 2, 4, 7])       # misaligned
        return p


def core_recipe(core, rng):
    ops = []
    kind = rng.choices(["heap", "heap", "heap", "heap", "phdr", "note", "trunc", "flips"],
                       k=1)[0]
    if kind == "heap":
        # Word overwrites in the writable segments where the objects are.
        for _ in range(rng.choice([1, 1, 2, 4, 8, 16, 32, 64])):
            off, vaddr, filesz, _memsz, _ = rng.choice(core.wloads)
            w = rng.randrange(0, filesz - 8) // 8 * 8 if filesz > 8 else 0
            addr = vaddr + w
            r = rng.random()
            if r < 0.45:
                v = core.pointer(rng, near=addr)
            elif r < 0.7:
                v = rng.choice(HUGE)
            elif r < 0.85:
                v = rng.choice(SMALL)
            else:
                v = rng.getrandbits(64)
            ops.append(["u64", off + w, v])
    elif kind == "phdr":
        for _ in range(rng.choice([1, 1, 2, 3])):
            i = rng.randrange(core.phnum)
            field = rng.choice([(4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (0, 4)])
            at = core.phoff + i * core.phentsize + field[0]
            v = rng.choice([rng.choice(HUGE), rng.choice(SMALL), rng.getrandbits(field[1] * 8),
                            core.size + rng.randrange(-4096, 4096)]) & ((1 << (8 * field[1])) - 1)
            ops.append(["u%d" % (8 * field[1]), at, v])
    elif kind == "note" and core.notes:
        for _ in range(rng.choice([1, 1, 2, 4])):
            hdr, namesz, descsz, ntype, desc = rng.choice(core.notes)
            r = rng.random()
            if r < 0.3:
                ops.append(["u32", hdr + rng.choice([0, 4]),
                            rng.choice([0, 1, 3, 0xFFFFFFFF, 0x7FFFFFFF, descsz + 1, descsz * 2])])
            elif r < 0.5:
                ops.append(["u32", hdr + 8, rng.choice([NT_FILE, NT_PRSTATUS, NT_AUXV, NT_PRPSINFO])])
            elif descsz >= 8:
                # Inside the descriptor: NT_FILE counts, page size, ranges; registers; auxv.
                w = rng.randrange(0, descsz - 7)
                if rng.random() < 0.5:
                    w &= ~7
                ops.append(["u64", desc + w, rng.choice(HUGE + SMALL + [rng.getrandbits(64),
                                                                       core.pointer(rng)])])
            else:
                ops.append(["flip", desc, rng.randrange(8)])
    elif kind == "trunc":
        r = rng.random()
        if r < 0.3 and core.notes:
            hdr, _n, descsz, _t, desc = rng.choice(core.notes)
            at = desc + rng.randrange(0, max(1, descsz))
        elif r < 0.5:
            at = rng.randrange(0, core.phoff + core.phentsize * core.phnum + 1)
        else:
            at = rng.randrange(0, core.size)
        ops.append(["trunc", at, 0])
    else:
        for _ in range(rng.choice([1, 4, 16, 64])):
            if rng.random() < 0.7 and core.wloads:
                off, _va, filesz, _ms, _ = rng.choice(core.wloads)
                at = off + rng.randrange(filesz)
            else:
                at = rng.randrange(min(core.size, 1 << 16))
            ops.append(["flip", at, rng.randrange(8)])
    return kind, ops


# ----------------------------------------------------------------------------
# msgpack snapshots

def msgpack_spots(data, limit=2_000_000):
    """Offsets of interesting bytes: container/str/bin length headers and
    64-bit unsigned integers (addresses, sizes)."""
    lens, u64s, u32s = [], [], []
    n = min(len(data), limit)
    for m in re.finditer(rb"[\xdc\xdd\xde\xdf\xd9\xda\xdb\xc4\xc5\xc6]", data[:n]):
        lens.append(m.start())
    for m in re.finditer(rb"\xcf", data[:n]):
        u64s.append(m.start())
    for m in re.finditer(rb"\xce", data[:n]):
        u32s.append(m.start())
    return lens, u64s, u32s


class Snap:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.size = len(self.data)
        self.lens, self.u64s, self.u32s = msgpack_spots(self.data)
        self.fix = [m.start() for m in re.finditer(rb"[\x90-\x9f\x80-\x8f]", self.data[:1_000_000])]


def snap_recipe(snap, rng):
    ops = []
    kind = rng.choices(["ints", "lens", "flips", "types", "trunc"], weights=[4, 3, 2, 2, 1], k=1)[0]
    if kind == "ints" and snap.u64s:
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            at = rng.choice(snap.u64s) + 1
            v = rng.choice(HUGE + SMALL + [rng.getrandbits(64)])
            ops.append(["be64", at, v])
    elif kind == "lens" and snap.lens:
        for _ in range(rng.choice([1, 1, 2, 3])):
            at = rng.choice(snap.lens)
            b = snap.data[at]
            width = {0xdc: 2, 0xde: 2, 0xda: 2, 0xc5: 2, 0xd9: 1, 0xc4: 1}.get(b, 4)
            v = rng.choice([0, 1, 2, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)])
            ops.append(["be%d" % (8 * width), at + 1, v & ((1 << (8 * width)) - 1)])
    elif kind == "types" and snap.fix:
        for _ in range(rng.choice([1, 2, 8])):
            at = rng.choice(snap.fix)
            ops.append(["byte", at, rng.choice([0x9f, 0x8f, 0xdd, 0xdf, 0xc0, 0xc1, 0xcf, 0xd3,
                                                 0xc6, 0xdb, 0xd8, 0xc9, rng.randrange(256)])])
    elif kind == "trunc":
        ops.append(["trunc", rng.randrange(0, snap.size), 0])
    else:
        for _ in range(rng.choice([1, 4, 16, 64])):
            ops.append(["flip", rng.randrange(snap.size), rng.randrange(8)])
    if not ops:
        ops.append(["flip", rng.randrange(snap.size), rng.randrange(8)])
    return kind, ops


# ----------------------------------------------------------------------------
# Applying a recipe

def apply_ops(src, dst, ops):
    shutil.copyfile(src, dst)
    size = os.path.getsize(dst)
    with open(dst, "r+b") as f:
        for op, at, arg in ops:
            if op == "trunc":
                f.truncate(min(at, size))
                size = min(at, size)
                continue
            if at < 0 or at >= size:
                continue
            if op == "flip":
                f.seek(at)
                b = f.read(1)
                f.seek(at)
                f.write(bytes([b[0] ^ (1 << arg)]))
                continue
            if op == "byte":
                f.seek(at)
                f.write(bytes([arg & 0xFF]))
                continue
            m = re.fullmatch(r"(u|be)(8|16|32|64)", op)
            if not m:
                raise ValueError("unknown op %r" % op)
            width = int(m.group(2)) // 8
            raw = (arg & ((1 << (8 * width)) - 1)).to_bytes(width, "little" if m.group(1) == "u" else "big")
            raw = raw[:max(0, size - at)]
            f.seek(at)
            f.write(raw)


def build_mutant(recipe, workdir, name):
    dst = os.path.join(workdir, name)
    apply_ops(recipe["src"], dst, recipe["ops"])
    if recipe.get("zstd"):
        z = dst + ".zst"
        r = subprocess.run(["zstd", "-q", "-f", "-1", "--rm", dst, "-o", z],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("zstd failed on %s" % dst)
        dst = z
    return dst


# ----------------------------------------------------------------------------
# Running and classifying

SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def strict_json(path):
    """None if the file is valid JSON in strict UTF-8 with no lone surrogates, else why not."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        return "no report: %s" % e
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        return "not UTF-8: %s (bytes %r)" % (e, raw[max(0, e.start - 20):e.end + 20])
    try:
        doc = json.loads(text)
    except ValueError as e:
        return "not JSON: %s" % e
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                stack.append(k)
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds a lone surrogate: %r" % v[:80]
    return None


def sanitizer_excerpt(err, lines=14):
    for marker in SAN_MARKERS:
        i = err.find(marker)
        if i >= 0:
            start = err.rfind("\n", 0, max(0, i - 1)) + 1
            return "\n".join(err[start:].splitlines()[:lines])
    return None


def top_frame(excerpt):
    """The first stack frame in our sources, for grouping findings."""
    if not excerpt:
        return ""
    for m in re.finditer(r"#\d+ 0x[0-9a-f]+ in (\S+) (\S+)", excerpt):
        if re.search(r"(analyzer|formats|plugins)/", m.group(2)):
            return "%s %s" % (m.group(1), re.sub(r"^.*/((analyzer|formats|plugins)/)", r"\1", m.group(2)))
    m = re.search(r"((analyzer|formats|plugins)/[\w./]+:\d+)", excerpt)
    return m.group(1) if m else excerpt.splitlines()[0][:120]


def run_one(binary, mutant, timeout, workdir):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    rd = tempfile.mkdtemp(dir=workdir, prefix="run-")
    report = os.path.join(rd, "report.json")
    t0 = time.time()
    try:
        p = subprocess.Popen([binary, "-q", "-o", report, mutant], cwd=rd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = p.communicate(timeout=timeout)
            rc = p.returncode
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            rc = None
            timed_out = True
        err = err.decode("utf-8", "replace")
        secs = time.time() - t0
        exc = sanitizer_excerpt(err)
        if timed_out:
            cls, detail = "hang", "no exit after %d s" % timeout
        elif exc:
            cls, detail = "sanitizer", exc
        elif rc < 0:
            cls, detail = "crash", "killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name)
        elif rc == 0:
            why = strict_json(report)
            cls, detail = ("ok", "") if why is None else ("bad-json", why)
        elif rc == 3:
            cls, detail = "ok", ""
        else:
            cls, detail = "exit-%d" % rc, ""
        last = [l for l in err.splitlines() if l.startswith("pyheap-analyze: ")]
        return {"class": cls, "rc": rc, "seconds": round(secs, 2), "detail": detail,
                "message": last[-1] if last else "", "frame": top_frame(exc) if exc else ""}
    finally:
        shutil.rmtree(rd, ignore_errors=True)


# ----------------------------------------------------------------------------

def make_snapshots(normal_bin, cores, workdir, count):
    """Snapshots written by the tool itself from some of the cores."""
    out = []
    for i, c in enumerate(cores[:count]):
        path = os.path.join(workdir, "snap-%d.msgpack" % i)
        r = subprocess.run([normal_bin, "-q", "-o", os.path.join(workdir, "snap-%d.json" % i),
                            "--save-snapshot", path, c], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=300)
        if r.returncode == 0 and os.path.exists(path):
            out.append(path)
        else:
            print("# no snapshot from %s: %s" % (c, r.stderr.decode(errors="replace").strip()[-200:]))
    return out


def baseline_ok(binary, path, timeout, workdir):
    r = run_one(binary, path, timeout, workdir)
    return r["class"] == "ok" and r["rc"] == 0, r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap.add_argument("--bin", default=os.path.join(root, "build-asan", "pyheap-analyze"))
    ap.add_argument("--normal-bin", default=os.path.join(root, "build", "pyheap-analyze"),
                    help="fast build used to write the seed snapshots")
    ap.add_argument("--cores", nargs="*", default=["/work/cores/*/*/core"])
    ap.add_argument("--snapshots", nargs="*", default=None,
                    help="seed snapshots (default: written from the first cores with --save-snapshot)")
    ap.add_argument("--core-mutants", type=int, default=300)
    ap.add_argument("--snapshot-mutants", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--out", default=None, help="where findings (and their mutants) are kept")
    ap.add_argument("--replay", default=None, help="a recipe (JSON text or a file) to run again")
    ap.add_argument("--pick", type=int, default=0, help="which entry of a findings.json --replay runs")
    ap.add_argument("--keep", action="store_true", help="keep the mutant of --replay")
    args = ap.parse_args(argv)

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print("FAIL mutate: %s is not an executable (make asan)" % binary)
        return 1
    tmp = tempfile.mkdtemp(prefix="pyheap-mutate-")
    out = args.out or os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    try:
        if args.replay:
            text = open(args.replay).read() if os.path.exists(args.replay) else args.replay
            recipe = json.loads(text)
            if isinstance(recipe, list):            # a findings.json: --pick N
                recipe = recipe[args.pick]
            if "recipe" in recipe:                  # one finding
                recipe = recipe["recipe"]
            m = build_mutant(recipe, out if args.keep else tmp, "replay")
            r = run_one(binary, m, args.timeout, tmp)
            print(json.dumps(r, indent=1))
            if args.keep:
                print("# mutant kept at %s" % m)
            return 0 if r["class"] == "ok" else 1
        return campaign(args, binary, tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def campaign(args, binary, tmp, out):
    cores = sorted({p for g in args.cores for p in glob.glob(g)})
    seeds_core = []
    for c in cores:
        try:
            seeds_core.append(Core(c))
        except (OSError, ValueError, struct.error) as e:
            print("# skipped %s: %s" % (c, e))
    # Only inputs the analyzer handles cleanly make meaningful mutants.
    good = []
    for c in seeds_core:
        ok, r = baseline_ok(binary, c.path, args.timeout, tmp)
        if ok:
            good.append(c)
        else:
            print("# baseline %s: %s %s %s" % (c.path, r["class"], r["rc"], r["message"][:160]))
    print("# %d seed cores (%d found, %d analyzed cleanly)" % (len(good), len(cores), len(good)), flush=True)
    if args.snapshots is None:
        # One snapshot per interpreter directory, of the smallest core there.
        by_dir = {}
        for c in good:
            d = os.path.dirname(os.path.dirname(c.path))
            if d not in by_dir or c.size < by_dir[d].size:
                by_dir[d] = c
        snaps = make_snapshots(os.path.abspath(args.normal_bin), [c.path for c in by_dir.values()],
                               tmp, 16)
    else:
        snaps = args.snapshots
    seeds_snap = [Snap(s) for s in snaps]
    print("# %d seed snapshots" % len(seeds_snap), flush=True)

    findings, counts, exits, n = [], {}, {}, 0
    t_start = time.time()
    plan = [("core", i) for i in range(args.core_mutants if good else 0)] + \
           [("snapshot", i) for i in range(args.snapshot_mutants if seeds_snap else 0)]
    for what, i in plan:
        rng = random.Random("%d:%s:%d" % (args.seed, what, i))
        if what == "core":
            src = good[i % len(good)]
            kind, ops = core_recipe(src, rng)
            recipe = {"src": src.path, "kind": kind, "seed": args.seed, "index": i, "ops": ops}
        else:
            src = seeds_snap[i % len(seeds_snap)]
            kind, ops = snap_recipe(src, rng)
            recipe = {"src": src.path, "kind": kind, "seed": args.seed, "index": i, "ops": ops,
                      "zstd": rng.random() < 0.15}
        name = "%s-%d" % (what, i) + (".msgpack" if what == "snapshot" else "")
        try:
            m = build_mutant(recipe, tmp, name)
        except (OSError, RuntimeError) as e:
            print("# mutant %s not built: %s" % (name, e))
            continue
        r = run_one(binary, m, args.timeout, tmp)
        n += 1
        counts[r["class"]] = counts.get(r["class"], 0) + 1
        if r["class"] == "ok":
            key = "%s exit %d" % (what, r["rc"])
            exits[key] = exits.get(key, 0) + 1
        if r["class"] != "ok":
            kept = os.path.join(out, os.path.basename(m))
            shutil.move(m, kept)
            if what == "snapshot":
                # Snapshots are small and their sources are temporary: keep the seed too.
                seed_copy = os.path.join(out, "seed-" + os.path.basename(src.path))
                if not os.path.exists(seed_copy):
                    shutil.copyfile(src.path, seed_copy)
                recipe["src"] = seed_copy
            f = {"what": what, "recipe": recipe, "mutant": kept}
            f.update(r)
            findings.append(f)
            print("FINDING %s %s %s: %s %s" % (r["class"], what, i, r["frame"] or r["message"][:120],
                                               json.dumps(recipe)[:300]), flush=True)
            if r["detail"]:
                print("  " + r["detail"].replace("\n", "\n  ")[:2000], flush=True)
        else:
            os.unlink(m)
        if n % 50 == 0:
            print("# %d/%d mutants, %.0f s, %s" % (n, len(plan), time.time() - t_start,
                                                   json.dumps(counts, sort_keys=True)), flush=True)
    with open(os.path.join(out, "findings.json"), "w") as f:
        json.dump(findings, f, indent=1)
    groups = {}
    for f in findings:
        groups.setdefault((f["class"], f["frame"] or f["message"][:80]), []).append(f)
    print("# distinct findings (class, first frame in our sources): %d" % len(groups))
    for (cls, frame), fs in sorted(groups.items()):
        print("#   %-9s %-60s x%d (e.g. %s #%d)" % (cls, frame, len(fs), fs[0]["what"], fs[0]["recipe"]["index"]))
    print("# ok runs by input and exit status: %s" % json.dumps(exits, sort_keys=True))
    print("mutate: %d mutants, %d ok, %d findings (%s); findings in %s" % (
        n, counts.get("ok", 0), len(findings),
        ", ".join("%s %d" % kv for kv in sorted(counts.items()) if kv[0] != "ok") or "none",
        os.path.join(out, "findings.json")))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
