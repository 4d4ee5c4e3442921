#!/usr/bin/python3
"""Bad input and usage errors: documented exit codes, one clear message.

    /usr/bin/python3 tests/e2e/bad_input.py --bin PATH [--cache-dir DIR] [--prefix P]

Every run must end with the documented exit status (0 done, 2 usage, 3
input not usable, 4 internal/resource error), never by a signal, never
after more than 60 s, never with a sanitizer report; an error must be one
stderr line starting with "pyheap-analyze: " that names the file and says
what is wrong.  Real cores come from the same generator as the end-to-end
tests (shared through --cache-dir).  One PASS/FAIL/SKIP line per case.
"""

import argparse
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

TIMEOUT = 60
SUPPORTED = {(3, 11), (3, 12)}
PT_LOAD, PT_NOTE = 1, 4


class Bad:
    def __init__(self, binary, rep, work):
        self.binary, self.rep, self.work = binary, rep, work
        self.n = 0

    def run(self, args, cwd=None):
        d = cwd or tempfile.mkdtemp(dir=self.work, prefix="run-")
        return H.run_tool(self.binary, args, cwd=d, timeout=TIMEOUT), d

    @staticmethod
    def basic(r):
        """Problems every run must avoid."""
        if r.error or r.timed_out or r.signalled:
            return [r.describe()]
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            return ["sanitizer: " + trouble]
        return []

    @staticmethod
    def message(r, path=None, cause=None, also=()):
        """The error line: starts with 'pyheap-analyze: ', names `path`,
        matches the `cause` regex and contains every string in `also`."""
        lines = [l for l in r.stderr_text().splitlines() if l.startswith("pyheap-analyze: ")]
        if not lines:
            return ["no stderr line starts with 'pyheap-analyze: ' (stderr: %r)" % r.stderr_text()[-300:]]
        for line in lines:
            if path is not None and path not in line:
                continue
            if cause is not None and not re.search(cause, line, re.I):
                continue
            if not all(a in line for a in also):
                continue
            return []
        want = []
        if path is not None:
            want.append("the path %s" % path)
        if cause is not None:
            want.append("the cause /%s/" % cause)
        want.extend(repr(a) for a in also)
        return ["no error line names %s; got %r" % (" and ".join(want), lines[-1][:300])]

    def expect_error(self, name, args, code, path=None, cause=None, also=()):
        r, _ = self.run(args)
        p = self.basic(r)
        if not p:
            if r.returncode != code:
                p.append("exit %d, expected %d; stderr: %s" % (r.returncode, code, r.stderr_text().strip()[-300:]))
            else:
                p += self.message(r, path, cause, also)
        msg = [l for l in r.stderr_text().splitlines() if l.startswith("pyheap-analyze: ")]
        return self.rep.check(name, p, "exit %s: %s" % (r.returncode, msg[-1][:160] if msg else ""))

    def expect_error_or_warning(self, name, path, cause, warn_re):
        """Exit 3 with a message, or exit 0 with a report whose warnings
        match warn_re (the input is partly usable)."""
        r, d = self.run(["-q", "-o", "report.json", path])
        p = self.basic(r)
        detail = ""
        if not p:
            if r.returncode == 3:
                p += self.message(r, path, cause)
                msg = [l for l in r.stderr_text().splitlines() if l.startswith("pyheap-analyze: ")]
                detail = "exit 3: %s" % (msg[-1][:160] if msg else "")
            elif r.returncode == 0:
                try:
                    _, rpt = H.read_report(os.path.join(d, "report.json"))
                    warns = [w for w in rpt.get("warnings") or [] if isinstance(w, str)]
                    if not any(re.search(warn_re, w, re.I) for w in warns):
                        p.append("exit 0 but no warning matches /%s/: %s" % (warn_re, warns[:3]))
                    detail = "exit 0 with warning: %s" % (warns[0][:160] if warns else "")
                except H.LoadError as e:
                    p.append("exit 0 but %s" % e)
            else:
                p.append("exit %d, expected 3 (or 0 with a warning); stderr: %s" % (
                    r.returncode, r.stderr_text().strip()[-300:]))
        return self.rep.check(name, p, detail)


# ----------------------------------------------------------------------------

def elf_layout(path):
    """(e_phoff, e_phentsize, e_phnum, [(p_type, p_offset, p_filesz)])."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        phoff, = struct.unpack_from("<Q", eh, 32)
        shoff, = struct.unpack_from("<Q", eh, 40)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        if phnum == 0xFFFF:          # PN_XNUM: the real count is in section 0
            f.seek(shoff + 44)
            phnum, = struct.unpack("<I", f.read(4))
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", ph, i * phentsize)
        p_offset, = struct.unpack_from("<Q", ph, i * phentsize + 8)
        p_filesz, = struct.unpack_from("<Q", ph, i * phentsize + 32)
        segs.append((p_type, p_offset, p_filesz))
    return phoff, phentsize, phnum, segs


def truncated_copy(src, dst, size):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        left = size
        while left > 0:
            chunk = fi.read(min(left, 1 << 20))
            if not chunk:
                break
            fo.write(chunk)
            left -= len(chunk)
    return dst


def kernel_core_of(argv, workdir, sig=None, settle=0.3):
    """Core of a process: it aborts by itself, or gets `sig` after `settle`
    seconds.  Falls back to gcore when the kernel writes no core file.
    Returns (core path, None) or (None, reason)."""
    os.makedirs(workdir, exist_ok=True)
    if H.kernel_core_unavailable() is None:
        t0 = time.time()
        p = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=H._core_limit, start_new_session=True)
        if sig is not None:
            time.sleep(settle)
            p.send_signal(sig)
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None, "%s did not end" % argv[0]
        core = H._find_kernel_core(workdir, p.pid, t0)
        if core:
            final = os.path.join(workdir, "core")
            if core != final:
                os.replace(core, final)
            return final, None
    # gcore fallback: the process must still be running.
    if sig is None:
        return None, "no kernel core and %s cannot be held for gcore" % argv[0]
    gcore = shutil.which("gcore")
    if not gcore:
        return None, "no kernel core and gcore is not installed"
    p = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(settle)
        prefix = os.path.join(workdir, "gcore")
        env = dict(os.environ, DEBUGINFOD_URLS="")
        g = H.run_process([gcore, "-o", prefix, str(p.pid)], cwd=workdir, timeout=H.GCORE_TIMEOUT, env=env)
        path = "%s.%d" % (prefix, p.pid)
        if g.returncode != 0 or not os.path.exists(path):
            return None, "gcore failed: %s" % g.describe()
        return path, None
    finally:
        p.kill()
        p.wait()


def pyenv_versions(minor):
    """Installed pyenv CPython versions X.Y.Z for minor = (X, Y), newest first."""
    root = H.pyenv_root()
    if not root:
        return []
    out = []
    try:
        names = os.listdir(os.path.join(root, "versions"))
    except OSError:
        return []
    for v in names:
        m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", v)
        if m and (int(m.group(1)), int(m.group(2))) == minor:
            exe = os.path.join(root, "versions", v, "bin", "python%d.%d" % minor)
            if os.access(exe, os.X_OK):
                out.append((tuple(int(x) for x in m.groups()), v, exe))
    return [(v, exe) for _, v, exe in sorted(out, reverse=True)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--cache-dir", help="share generated cores with run_e2e.py")
    ap.add_argument("--prefix", default="")
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        rep.fail("bad/binary", "%s does not exist or is not executable; every case below fails" % binary)
    cache = H.CoreCache(args.cache_dir)
    work = tempfile.mkdtemp(prefix="pyheap-bad-")
    b = Bad(binary, rep, work)
    try:
        run_cases(b, rep, cache, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        cache.cleanup()
    c = rep.counts
    print("# bad_input: %d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]), flush=True)
    return 1 if rep.failed else 0


def run_cases(b, rep, cache, work):
    # -- usage ----------------------------------------------------------------
    r, _ = b.run([])
    p = b.basic(r) or ([] if r.returncode == 2 else ["exit %d, expected 2" % r.returncode])
    if not p and not r.stderr_text().strip():
        p.append("nothing on stderr")
    rep.check("usage/no-arguments", p, "exit %s" % r.returncode)
    b.expect_error("usage/unknown-option", ["--no-such-option", "x"], 2, cause=r"no-such-option")
    b.expect_error("usage/missing-option-argument", ["-o"], 2, cause=r"-o|argument|requires")
    b.expect_error("usage/bad-format", ["--format", "yaml", "x"], 2, cause=r"yaml|format")
    b.expect_error("usage/bad-force-layout", ["--force-layout", "three", "x"], 2,
                   cause=r"force-layout", also=("three",))
    r, _ = b.run(["--help"])
    p = b.basic(r) or ([] if r.returncode == 0 else ["exit %d, expected 0" % r.returncode])
    if not p and "usage" not in r.stdout_text().lower():
        p.append("stdout does not mention usage: %r" % r.stdout_text()[:200])
    rep.check("usage/help", p, "exit %s, %d lines" % (r.returncode, len(r.stdout_text().splitlines())))
    r, _ = b.run(["--version"])
    p = b.basic(r) or ([] if r.returncode == 0 else ["exit %d, expected 0" % r.returncode])
    if not p and not re.search(r"\d+\.\d+", r.stdout_text()):
        p.append("no version number on stdout: %r" % r.stdout_text()[:200])
    rep.check("usage/version", p, r.stdout_text().strip()[:80])

    # -- files that are not cores --------------------------------------------
    missing = os.path.join(work, "does-not-exist.core")
    b.expect_error("bad/nonexistent", ["-q", missing], 3, missing,
                   r"no such file|not found|does not exist|cannot open")
    d = os.path.join(work, "a-directory")
    os.mkdir(d)
    b.expect_error("bad/directory", ["-q", d], 3, d, r"directory")
    empty = os.path.join(work, "empty.core")
    open(empty, "wb").close()
    b.expect_error("bad/empty", ["-q", empty], 3, empty, r"empty|too short|truncat|not an? (ELF|core)")
    rnd = os.path.join(work, "random.core")
    with open(rnd, "wb") as f:
        f.write(random.Random(1234).randbytes(65536))
    b.expect_error("bad/random-bytes", ["-q", rnd], 3, rnd, r"not an? (ELF|core)|magic|not.*ELF")
    exe = "/bin/true"
    b.expect_error("bad/elf-executable", ["-q", exe], 3, exe, r"not\b.*\bcore")
    zr = os.path.join(work, "random.core.zst")
    z = H.run_process(["zstd", "-q", "-f", rnd, "-o", zr], timeout=60)
    if z.returncode == 0:
        b.expect_error("bad/zstd-of-random-bytes", ["-q", zr], 3, zr, r"not an? (ELF|core)|magic|not.*ELF")
    else:
        rep.skip("bad/zstd-of-random-bytes", "zstd CLI unusable: %s" % z.describe())

    hostile_input_cases(b, rep, work)

    # -- a real Python core, truncated ----------------------------------------
    interps, _ = H.find_interpreters()
    real = None
    if interps:
        label, python = interps[0]
        res = cache.get(label, python, "garbage", "kernel")
        if res.core is None:
            res = cache.get(label, python, "garbage", "gcore")
        if res.core is None:
            for case in ("truncated-*", "zstd-truncated"):
                rep.fail("bad/" + case, "could not make a Python core: %s" % res.error)
        else:
            real = res.core
    else:
        rep.skip("bad/truncated-*", "no supported CPython interpreter to make a core with")
    if real:
        truncation_cases(b, rep, real, work)

    # -- a core of a process that is not Python -------------------------------
    sleep = shutil.which("sleep") or "/bin/sleep"
    core, why = kernel_core_of([sleep, "100"], os.path.join(work, "sleep"), sig=signal.SIGABRT)
    if core:
        b.expect_error("bad/non-python-core", ["-q", core], 3, core,
                       r"(no|not|cannot find|could not find|without)\b.*python|python.*(not found|missing)")
    else:
        rep.fail("bad/non-python-core", "could not make a core of sleep: %s" % why)

    # -- libpython missing ------------------------------------------------------
    p312 = [(l, p) for l, p in interps if l.startswith("pyenv-3.12")]
    if not p312:
        rep.skip("bad/missing-libpython", "no pyenv 3.12 (shared libpython) interpreter here")
    else:
        label, python = p312[0]
        res = cache.get(label, python, "garbage", "kernel")
        if res.core is None:
            res = cache.get(label, python, "garbage", "gcore")
        if res.core is None:
            rep.fail("bad/missing-libpython", "could not make a core: %s" % res.error)
        else:
            r, _ = b.run(["-q", "-o", "report.json", res.core])
            if r.returncode != 0:
                rep.fail("bad/missing-libpython", "control run without --sysroot fails: %s; %s" % (
                    r.describe(), r.stderr_text().strip()[-200:]))
            else:
                empty_root = os.path.join(work, "empty-sysroot")
                os.makedirs(empty_root, exist_ok=True)
                lib = "libpython%s.so.1.0" % ".".join(label.split("-")[1].split(".")[:2])
                rsn = r"--sysroot|--lib-search-path"
                b.expect_error("bad/missing-libpython", ["-q", "--sysroot", empty_root, res.core], 3,
                               res.core, rsn, also=(lib,))

    # -- Python versions the tool does not support --------------------------------
    for minor in ((3, 6), (3, 7)):
        name = "bad/unsupported-version-%d.%d" % minor
        found = pyenv_versions(minor)
        if not found:
            rep.skip(name, "no pyenv CPython %d.%d installed" % minor)
            continue
        version, exe = found[0]
        core, why = kernel_core_of([exe, "-E", "-s", "-c", "import os; os.abort()"],
                                   os.path.join(work, "v" + version))
        if core is None:
            core, why = kernel_core_of([exe, "-E", "-s", "-c", "import time; time.sleep(100)"],
                                       os.path.join(work, "v" + version), sig=signal.SIGABRT, settle=1.0)
        if core is None:
            rep.fail(name, "could not make a core of %s: %s" % (exe, why))
            continue
        b.expect_error(name, ["-q", core], 3, core, r"support|unknown|layout|version",
                       also=("%d.%d" % minor,))
        if minor == (3, 7):
            # --force-layout names a layout this build does not have.
            b.expect_error("bad/force-layout-unknown-3.7", ["-q", "--force-layout", "3.7", core], 3,
                           cause=r"no such layout", also=("3.7",))

    # -- before 3.11 the exact version comes from sys.hexversion in the heap:
    # a pre-release value is refused (naming it), --force-layout accepts it,
    # and a value of another minor version than the file name is an error.
    found = pyenv_versions((3, 9))
    if not found:
        for case in ("prerelease-refused", "prerelease-forced", "hexversion-mismatch"):
            rep.skip("bad/" + case, "no pyenv CPython 3.9 installed")
    else:
        version, exe = found[0]
        cases = (("prerelease", 0x030900B1), ("mismatch", 0x030A00F0))
        cores = {}
        for tag, hexv in cases:
            cores[tag], why = kernel_core_of(
                [exe, "-E", "-s", "-c", "import os, sys; sys.hexversion = %d; os.abort()" % hexv],
                os.path.join(work, "hex-%s-%s" % (tag, version)))
            if cores[tag] is None:
                rep.fail("bad/hexversion-%s" % tag, "could not make a core of %s: %s" % (exe, why))
        if cores["prerelease"]:
            core = cores["prerelease"]
            b.expect_error("bad/prerelease-refused", ["-q", core], 3, core, r"unsupported",
                           also=("3.9.0b1", "--force-layout"))
            r, d = b.run(["-q", "--force-layout", "3.9", "-o", "report.json", core])
            p = b.basic(r) or ([] if r.returncode == 0 else ["exit %d: %s" % (
                r.returncode, r.stderr_text().strip()[-200:])])
            if not p:
                try:
                    _, rpt = H.read_report(os.path.join(d, "report.json"))
                    py = rpt.get("python") or {}
                    if py.get("version") != "3.9.0b1" or py.get("hexversion") != 0x030900B1:
                        p.append("python %r, expected 3.9.0b1 / 0x030900b1" % py)
                except H.LoadError as e:
                    p.append(str(e))
            rep.check("bad/prerelease-forced", p, "exit %s" % r.returncode)
        if cores["mismatch"]:
            core = cores["mismatch"]
            b.expect_error("bad/hexversion-mismatch", ["-q", core], 3, core, r"hexversion",
                           also=("3.9", "3.10.0"))

    # -- --force-layout on a supported version: analyzed, with a warning -------
    p39 = [(i.label, i.python) for i in H.matrix_interpreters()[0]
           if i.label.startswith("pyenv-3.9")]
    if not p39:
        rep.skip("bad/force-layout-warns", "no pyenv 3.9 interpreter here")
    else:
        label, python = p39[0]
        res = cache.get(label, python, "garbage", "kernel")
        if res.core is None:
            res = cache.get(label, python, "garbage", "gcore")
        if res.core is None:
            rep.fail("bad/force-layout-warns", "could not make a core: %s" % res.error)
        else:
            r, d = b.run(["-q", "--force-layout", "3.9", "-o", "report.json", res.core])
            p = b.basic(r) or ([] if r.returncode == 0 else ["exit %d: %s" % (
                r.returncode, r.stderr_text().strip()[-200:])])
            if not p:
                try:
                    _, rpt = H.read_report(os.path.join(d, "report.json"))
                    warns = [w for w in rpt.get("warnings") or [] if isinstance(w, str)]
                    if not any(re.search(r"force", w, re.I) for w in warns):
                        p.append("no warning names the forced layout: %s" % warns[:3])
                    if (rpt.get("python") or {}).get("layout") != "cpython-3.9":
                        p.append("layout %r" % (rpt.get("python") or {}).get("layout"))
                except H.LoadError as e:
                    p.append(str(e))
            rep.check("bad/force-layout-warns", p, "exit %s" % r.returncode)

    # -- output that cannot be written ------------------------------------------
    if real:
        out = os.path.join(work, "no-such-dir", "report.json")
        b.expect_error("bad/output-not-writable", ["-q", "-o", out, real], 4, out,
                       r"no such file|cannot (create|open|write)|directory")


def zstd_of(src_cmd, dst):
    """Compress the output of the shell command src_cmd into dst with the zstd
    CLI (streamed: the frame declares no content size).  None or why not."""
    if not shutil.which("zstd"):
        return "zstd CLI not installed"
    r = H.run_process(["sh", "-c", "{ %s; } | zstd -q -1 -c > '%s'" % (src_cmd, dst)], timeout=300)
    return None if r.returncode == 0 and os.path.getsize(dst) > 0 else "zstd failed: %s" % r.describe()


def hostile_input_cases(b, rep, work):
    """Issue 11: input that must never hang or harm.  Each case is the
    regression test of one fix."""
    # A FIFO (named pipe) as the input: open() used to block forever.
    fifo = os.path.join(work, "core.fifo")
    os.mkfifo(fifo)
    b.expect_error("bad/input-fifo", ["-q", fifo], 3, fifo, r"FIFO|not a regular file")
    fifo = os.path.join(work, "heap.msgpack")
    os.mkfifo(fifo)
    b.expect_error("bad/input-fifo-named-snapshot", ["-q", fifo], 3, fifo, r"FIFO|not a regular file")

    # zstd bombs, under a 64 MiB file size limit (the temporary file is the
    # only big file written): 1 GiB of zeros used to be decompressed whole
    # before the magic was checked (killed by SIGXFSZ here).
    limit = 64 << 20

    def limited():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    def run_limited(name, path, code, cause, also=()):
        d = tempfile.mkdtemp(dir=work, prefix="run-")
        r = H.run_process([b.binary, "-q", "-o", "report.json", path], cwd=d, timeout=TIMEOUT,
                          env=H.tool_env(), preexec=limited)
        p = b.basic(r)
        if not p:
            if r.returncode != code:
                p.append("exit %d, expected %d; stderr: %s" % (r.returncode, code, r.stderr_text().strip()[-300:]))
            else:
                p += b.message(r, path, cause, also)
        msg = [l for l in r.stderr_text().splitlines() if l.startswith("pyheap-analyze: ")]
        rep.check(name, p, "exit %s in %.1f s: %s" % (r.returncode, r.seconds, msg[-1][:160] if msg else ""))

    bomb = os.path.join(work, "bomb.zst")
    why = zstd_of("head -c 1073741824 /dev/zero", bomb)
    if why:
        rep.skip("bad/zstd-bomb-not-a-core", why)
    else:
        run_limited("bad/zstd-bomb-not-a-core", bomb, 3, r"not an? (ELF|core)")
        snap = os.path.join(work, "bomb.msgpack.zst")
        os.rename(bomb, snap)
        run_limited("bad/zstd-bomb-not-a-snapshot", snap, 3, r"not a heap snapshot")
    # The ELF magic, then 512 MiB of zeros: over the limit, refused naming
    # the input and the kind of input (exit 4: a resource limit).
    head = os.path.join(work, "elfhead")
    with open(head, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01" + bytes(57))
    bomb = os.path.join(work, "elfbomb.zst")
    why = zstd_of("cat '%s'; head -c 536870912 /dev/zero" % head, bomb)
    if why:
        rep.skip("bad/zstd-bomb-over-limit", why)
    else:
        run_limited("bad/zstd-bomb-over-limit", bomb, 4, r"cannot decompress the core", ("limit",))


def truncation_cases(b, rep, real, work):
    try:
        phoff, phentsize, phnum, segs = elf_layout(real)
    except (OSError, ValueError, struct.error) as e:
        rep.fail("bad/truncated-*", "cannot parse %s: %s" % (real, e))
        return
    size = os.path.getsize(real)
    notes = [s for s in segs if s[0] == PT_NOTE and s[2] > 0]
    loads = [s for s in segs if s[0] == PT_LOAD and s[2] > 0]
    trunc = "truncat|too short|beyond|past the end|end of (the )?file|incomplete"
    cut = os.path.join(work, "cut")
    os.makedirs(cut, exist_ok=True)

    path = truncated_copy(real, os.path.join(cut, "in-elf-header.core"), 32)
    b.expect_error("bad/truncated-in-elf-header", ["-q", path], 3, path, trunc + "|not an? (ELF|core)")
    at = phoff + (phnum // 2) * phentsize + 8
    path = truncated_copy(real, os.path.join(cut, "in-program-headers.core"), at)
    b.expect_error("bad/truncated-in-program-headers", ["-q", path], 3, path, trunc)
    if notes:
        at = notes[0][1] + notes[0][2] // 2
        path = truncated_copy(real, os.path.join(cut, "in-notes.core"), at)
        b.expect_error_or_warning("bad/truncated-in-notes", path, trunc + "|note", r".")
    else:
        rep.fail("bad/truncated-in-notes", "%s has no PT_NOTE" % real)
    if loads:
        first = min(s[1] for s in loads)
        for pct in (50, 90):
            at = first + (size - first) * pct // 100
            path = truncated_copy(real, os.path.join(cut, "load-%d.core" % pct), at)
            b.expect_error_or_warning("bad/truncated-in-load-data-%d%%" % pct, path, trunc, r"truncat")
    else:
        rep.fail("bad/truncated-in-load-data", "%s has no PT_LOAD with data" % real)
    z = real + ".half.zst"
    full = real + ".zst.tmp"
    r = H.run_process(["zstd", "-q", "-f", "-1", real, "-o", full], timeout=300)
    if r.returncode != 0:
        rep.skip("bad/zstd-truncated", "zstd CLI unusable: %s" % r.describe())
        return
    truncated_copy(full, z, os.path.getsize(full) // 2)
    os.unlink(full)
    b.expect_error_or_warning("bad/zstd-truncated", z, trunc + "|zstd|corrupt|premature", r"truncat")
    os.unlink(z)


if __name__ == "__main__":
    sys.exit(main())
