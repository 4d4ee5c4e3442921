"""Shared helpers of the end-to-end tests (stdlib only, run by /usr/bin/python3).

- interpreters: which real CPythons exist here: the system's, pyenv builds
  and the ones tests/provision.sh put into its cache and listed in
  CACHE/matrix.json (missing ones are SKIPs);
- cores: run a scenario under an interpreter and get its core, either from
  the kernel (os.abort() with RLIMIT_CORE unlimited) or from gdb's gcore
  while the scenario sleeps; two gcores of one process for the diff
  (make_gcore_pair); cached per run in a temporary directory;
- the tool: run it with a timeout and a peak-RSS measurement, load its
  report (json or zstd) and its --dump-objects TSV;
- the schema: validate a report with python3-jsonschema when importable,
  else with tests/e2e/schema_check.py;
- Reporter: the PASS/FAIL/SKIP lines.

Also a small command line used by tests/demo.sh and tests/bench.sh:
    harness.py core --python P --scenario NAME --out DIR [--mode auto|kernel|gcore]
    harness.py bench --bin BIN [--sizes 1e6,1e7,5e7] [--cache-dir DIR] [--no-baseline] [-- TOOL ARGS]
"""

import hashlib
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIO_DIR = os.path.join(REPO, "tests", "scenarios")
SCHEMA_PATH = os.path.join(REPO, "formats", "report.schema.json")

# Scenarios the end-to-end suite runs (big.py is for tests/bench.sh only).
SCENARIOS = ("garbage", "reachable", "threads", "frozen", "many_types", "sizeof")
# Scenarios that also get a gcore core (every interpreter).
GCORE_SCENARIOS = ("garbage", "threads")

DUMP_HEADER = "address\ttype\tsize\trefcnt\tflags\tunreachable"
DUMP_FLAGS = {"gc", "permanent", "immortal", "conservative"}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
SCENARIO_TIMEOUT = 180
GCORE_TIMEOUT = 300


# ----------------------------------------------------------------------------
# Result lines

class Reporter:
    """Prints one line per check and counts them.  Never raises."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        # Counts per first component of the check name (the interpreter
        # label for the end-to-end checks): {component: {kind: n}}.
        self.by_first = {}

    def _line(self, kind, name, text):
        self.counts[kind] += 1
        first = self.by_first.setdefault(name.split("/", 1)[0], {"PASS": 0, "FAIL": 0, "SKIP": 0})
        first[kind] += 1
        line = "%s %s%s" % (kind, self.prefix, name)
        if text:
            line += ": " + " ".join(str(text).split("\n"))
        print(line, flush=True)

    def ok(self, name, detail=""):
        self._line("PASS", name, detail)

    def fail(self, name, detail):
        self._line("FAIL", name, detail or "failed")

    def skip(self, name, reason):
        self._line("SKIP", name, reason or "skipped")

    def check(self, name, problems, detail=""):
        """problems: list of strings; empty = PASS."""
        if problems:
            shown = "; ".join(problems[:8])
            if len(problems) > 8:
                shown += "; ... %d more" % (len(problems) - 8)
            self.fail(name, shown)
            return False
        self.ok(name, detail)
        return True

    @property
    def failed(self):
        return self.counts["FAIL"]


def note(text):
    """Progress information that is not a result line."""
    print("# " + text, flush=True)


# ----------------------------------------------------------------------------
# Interpreters

def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root and os.path.isdir(root):
        return root
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and os.path.isdir(out.stdout.strip()):
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    home = os.path.expanduser("~/.pyenv")
    return home if os.path.isdir(home) else None


def system_label(minor):
    """Label of the system's /usr/bin/python3.X: debian-<codename>-3.X on
    Debian (debian-bookworm-3.11 here), system-3.X elsewhere."""
    if not os.path.exists("/etc/debian_version"):
        return "system-" + minor
    codename = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("VERSION_CODENAME="):
                    codename = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "debian-%s%s" % (codename + "-" if codename else "", minor)


def wanted_interpreters():
    """(label, path) of the baseline interpreters (CPython 3.11/3.12) that
    bad_input.py and the benchmark use, present or not."""
    out = [(system_label("3.11"), "/usr/bin/python3.11")]
    root = pyenv_root() or os.path.expanduser("~/.pyenv")
    for version in ("3.11.7", "3.12.1"):
        minor = ".".join(version.split(".")[:2])
        out.append(("pyenv-" + version,
                    os.path.join(root, "versions", version, "bin", "python" + minor)))
    return out


def interpreter_version(path):
    """("3.X.Y", None) if `path` runs and is CPython, else (None, reason)."""
    if not os.path.exists(path):
        return None, "not installed (%s)" % path
    if not os.access(path, os.X_OK):
        return None, "not executable (%s)" % path
    try:
        out = subprocess.run([path, "-E", "-s", "-B", "-c",
                              "import sys; print(sys.implementation.name, *sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return None, "cannot run %s: %s" % (path, e)
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 4:
        return None, "%s does not run (exit %d): %s" % (path, out.returncode, out.stderr.strip()[:200])
    if words[0] != "cpython":
        return None, "%s is %s, not CPython" % (path, words[0])
    return ".".join(words[1:]), None


def probe_interpreter(path, minors=("3.11", "3.12")):
    """None if `path` runs and is CPython of one of `minors`, else the reason."""
    version, why = interpreter_version(path)
    if why:
        return why
    minor = ".".join(version.split(".")[:2])
    if minors is not None and minor not in minors:
        return "%s is CPython %s, not %s" % (path, version, "/".join(minors))
    return None


def find_interpreters():
    """([(label, path)] usable, [(label, reason)] missing) of the baseline."""
    found, missing = [], []
    for label, path in wanted_interpreters():
        why = probe_interpreter(path)
        if why is None:
            found.append((label, path))
        else:
            missing.append((label, why))
    return found, missing


# The interpreter matrix: tests/provision.sh provisions Debian interpreters
# into a cache and describes everything it found in CACHE/matrix.json.

MIN_MINOR = 8       # oldest CPython 3.X the matrix looks for


def cache_dir():
    """tests/provision.sh's cache: $PYHEAP_CACHE_DIR, else
    ${XDG_CACHE_HOME:-~/.cache}/pyheap-analyze."""
    d = os.environ.get("PYHEAP_CACHE_DIR")
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyheap-analyze")


def manifest_path():
    return os.path.join(cache_dir(), "matrix.json")


def load_manifest():
    """The entries of CACHE/matrix.json ([] when it does not exist), or
    raises ValueError when it is unreadable."""
    path = manifest_path()
    if not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError("%s: %s" % (path, e))
    entries = data.get("interpreters") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError("%s: no interpreters list" % path)
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("label"), str)]


class Interp:
    """One interpreter of the matrix."""

    def __init__(self, label, python, source, version=None, kind=None, stripped=None):
        self.label = label
        self.python = python
        self.source = source
        self.version = version
        self.kind = kind            # "static" | "shared" | None (unknown)
        self.stripped = stripped    # "yes" | "no" | None (unknown)

    @property
    def minor(self):
        return ".".join(self.version.split(".")[:2]) if self.version else None

    def describe(self):
        bits = [self.source]
        if self.kind:
            bits.append(self.kind)
        if self.stripped:
            bits.append("stripped" if self.stripped == "yes" else "not stripped")
        return ", ".join(bits)


def _version_key(v):
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("."))


def matrix_interpreters():
    """([Interp] usable, [(label, reason)] unavailable): the system's
    /usr/bin/python3.X (X >= 8), every pyenv build of CPython >= 3.8, and
    every interpreter in tests/provision.sh's manifest.  The system one
    comes first (run_e2e.py --quick uses it).  Probing runs each one."""
    wanted = []         # (label, path, source, meta from the manifest)
    seen = set()

    def want(label, path, source, meta=None):
        if label not in seen:
            seen.add(label)
            wanted.append((label, path, source, meta or {}))

    try:
        manifest = load_manifest()
        manifest_error = None
    except ValueError as e:
        manifest, manifest_error = [], str(e)
    by_label = {e["label"]: e for e in manifest}

    want(system_label("3.11"), "/usr/bin/python3.11", "Debian system package",
         by_label.get(system_label("3.11")))
    names = [n for n in os.listdir("/usr/bin") if re.match(r"^python3\.\d+$", n)]
    for name in sorted(names, key=lambda n: _version_key(n[6:])):
        m = re.match(r"^python(3\.(\d+))$", name)
        if int(m.group(2)) >= MIN_MINOR:
            lab = system_label(m.group(1))
            want(lab, "/usr/bin/" + name, "system package", by_label.get(lab))
    root = pyenv_root()
    if root and os.path.isdir(os.path.join(root, "versions")):
        for v in sorted(os.listdir(os.path.join(root, "versions")), key=_version_key):
            m = re.match(r"^3\.(\d+)\.\d+$", v)
            if m and int(m.group(1)) >= MIN_MINOR:
                want("pyenv-" + v, os.path.join(root, "versions", v, "bin", "python3." + m.group(1)),
                     "pyenv build", by_label.get("pyenv-" + v))

    found, missing = [], []
    if manifest_error:
        missing.append(("matrix", "cannot read the provisioning manifest: %s" % manifest_error))
    elif not manifest:
        missing.append(("debian-*", "no provisioning manifest %s (run bash tests/provision.sh)"
                        % manifest_path()))
    for e in manifest:
        if e["label"] in seen:
            continue
        if e.get("status") != "ok" or not e.get("python"):
            seen.add(e["label"])
            missing.append((e["label"], "not provisioned: %s" % (e.get("reason") or "unknown reason")))
            continue
        want(e["label"], e["python"], e.get("source") or "provisioned", e)

    for label, path, source, meta in wanted:
        version, why = interpreter_version(path)
        if why:
            missing.append((label, why))
            continue
        if int(version.split(".")[1]) < MIN_MINOR:
            continue
        found.append(Interp(label, path, meta.get("source") or source, version,
                            meta.get("kind") or None, meta.get("stripped") or None))
    return found, missing


def make_probe_core(python, workdir):
    """A core of `python -c 'import os; os.abort()'` (kernel core, else
    gcore of a sleeping interpreter): (core path, None) or (None, why).
    Used to ask the tool whether it supports the interpreter at all."""
    os.makedirs(workdir, exist_ok=True)
    final = os.path.join(workdir, "core")
    if os.path.exists(final):
        return final, None
    why = kernel_core_unavailable()
    if why is None:
        t0 = time.time()
        r = run_process([python, "-E", "-s", "-B", "-c", "import os; os.abort()"], cwd=workdir,
                        timeout=SCENARIO_TIMEOUT, preexec=_core_limit)
        core = _find_kernel_core(workdir, r.pid, t0) if r.pid else None
        if core and r.core_dumped:
            os.replace(core, final)
            return final, None
        why = "no kernel core (%s)" % r.describe()
    gcore = shutil.which("gcore")
    if gcore is None:
        return None, "%s and no gcore" % why
    p = subprocess.Popen([python, "-E", "-s", "-B", "-c",
                          "import sys, time; print('READY', flush=True); time.sleep(600)"],
                         cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, preexec_fn=_no_core_limit, start_new_session=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], SCENARIO_TIMEOUT)
        if not ready or not p.stdout.readline().startswith(b"READY"):
            return None, "%s; the interpreter never said READY for gcore" % why
        env = dict(os.environ)
        env["DEBUGINFOD_URLS"] = ""
        prefix = os.path.join(workdir, "gcore")
        g = run_process([gcore, "-o", prefix, str(p.pid)], cwd=workdir, timeout=GCORE_TIMEOUT, env=env)
        produced = "%s.%d" % (prefix, p.pid)
        if g.returncode != 0 or not os.path.exists(produced):
            return None, "%s; gcore failed: %s" % (why, g.describe())
        os.replace(produced, final)
        return final, None
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        p.stdout.close()


# ----------------------------------------------------------------------------
# Processes

def _core_limit():
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _no_core_limit():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Ran:
    """Outcome of one process run."""

    def __init__(self):
        self.returncode = None      # exit code, or -signal
        self.status = None          # raw wait status
        self.timed_out = False
        self.stdout = b""
        self.stderr = b""
        self.seconds = 0.0
        self.maxrss_kb = 0
        self.error = None           # could not start
        self.pid = None

    @property
    def signalled(self):
        return self.returncode is not None and self.returncode < 0

    @property
    def core_dumped(self):
        return self.status is not None and os.WIFSIGNALED(self.status) and os.WCOREDUMP(self.status)

    def describe(self):
        if self.error:
            return "could not run: %s" % self.error
        if self.timed_out:
            return "timed out after %.0f s" % self.seconds
        if self.signalled:
            return "killed by signal %d (%s)" % (-self.returncode, signal.Signals(-self.returncode).name)
        return "exit %d" % self.returncode

    def stderr_text(self):
        return self.stderr.decode("utf-8", "replace")

    def stdout_text(self):
        return self.stdout.decode("utf-8", "replace")


def run_process(argv, cwd=None, timeout=60, env=None, preexec=None, stdin=subprocess.DEVNULL):
    """Run argv to completion (or kill its process group after `timeout`),
    with stdout/stderr in temporary files (no pipe deadlocks), measuring
    wall time and peak RSS (wait4)."""
    r = Ran()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=err,
                                 preexec_fn=preexec, start_new_session=True)
        except OSError as e:
            r.error = str(e)
            return r
        r.pid = p.pid
        delay = 0.001
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                r.timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        r.seconds = time.monotonic() - t0
        r.status = status
        r.returncode = os.waitstatus_to_exitcode(status)
        p.returncode = r.returncode
        r.maxrss_kb = ru.ru_maxrss
        out.seek(0)
        err.seek(0)
        r.stdout = out.read()
        r.stderr = err.read()
    return r


def tool_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    return env


def run_tool(binary, args, cwd, timeout=300, env_extra=None):
    """Run the analyzer; a missing binary is a Ran with .error set."""
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        r = Ran()
        r.error = "binary not found or not executable: %s" % binary
        return r
    env = tool_env()
    env.update(env_extra or {})
    return run_process([binary] + list(args), cwd=cwd, timeout=timeout, env=env,
                       preexec=_no_core_limit)


def sanitizer_trouble(stderr_text):
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer"):
        if marker in stderr_text:
            i = stderr_text.index(marker)
            return stderr_text[max(0, i - 40): i + 200].replace("\n", " | ")
    return None


# ----------------------------------------------------------------------------
# Cores

def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return ""


def kernel_core_unavailable():
    """None if the kernel writes plain core files we can find, else why not."""
    pat = core_pattern()
    if not pat:
        return "cannot read /proc/sys/kernel/core_pattern"
    if pat.startswith("|"):
        return "core_pattern pipes cores to a handler (%s)" % pat.split()[0]
    return None


def _find_kernel_core(cwd, pid, since):
    pat = core_pattern()
    directory = cwd if not pat.startswith("/") else os.path.dirname(pat)
    prefix = os.path.basename(pat).split("%")[0]
    cands = []
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    for name in names:
        path = os.path.join(directory, name)
        if not name.startswith(prefix) or not os.path.isfile(path):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if st.st_mtime >= since - 1:
            cands.append((str(pid) in name, st.st_mtime, path))
    if not cands:
        return None
    cands.sort()
    return cands[-1][2]


class CoreResult:
    def __init__(self):
        self.core = None            # path of the core
        self.truth = None           # dict (None when the scenario failed)
        self.truth_path = None
        self.mode = None            # "kernel" or "gcore"
        self.seconds = 0.0          # generation time
        self.error = None           # why there is no core
        self.fallback = None        # why kernel mode fell back to gcore
        self.cached = False

    def load_truth(self):
        try:
            with open(self.truth_path) as f:
                self.truth = json.load(f)
        except (OSError, ValueError) as e:
            errfile = self.truth_path + ".error"
            extra = ""
            if os.path.exists(errfile):
                with open(errfile) as f:
                    extra = " -- child traceback: " + f.read().strip().splitlines()[-1]
            self.error = "truth missing or invalid: %s%s" % (e, extra)


def scenario_argv(python, scenario, mode, truth_path):
    return [python, "-E", "-s", "-B", os.path.join(SCENARIO_DIR, scenario + ".py"), mode, truth_path]


def make_kernel_core(python, scenario, workdir, extra_args=()):
    res = CoreResult()
    res.mode = "kernel"
    res.truth_path = os.path.join(workdir, "truth.json")
    why = kernel_core_unavailable()
    if why:
        res.error = why
        return res
    t0 = time.time()
    r = run_process(scenario_argv(python, scenario, "abort", res.truth_path) + list(extra_args),
                    cwd=workdir, timeout=SCENARIO_TIMEOUT, preexec=_core_limit)
    res.seconds = r.seconds
    if r.returncode != -signal.SIGABRT:
        res.error = "scenario did not abort: %s; stderr: %s" % (r.describe(), r.stderr_text().strip()[-300:])
        return res
    core = _find_kernel_core(workdir, r.pid, t0)
    if core is None or not r.core_dumped:
        res.error = "process aborted but no core appeared (core_pattern %r, WCOREDUMP=%s)" % (
            core_pattern(), bool(r.core_dumped))
        return res
    final = os.path.join(workdir, "core")
    if core != final:
        os.replace(core, final)
    res.core = final
    res.load_truth()
    return res


def make_gcore_core(python, scenario, workdir, extra_args=()):
    res = CoreResult()
    res.mode = "gcore"
    res.truth_path = os.path.join(workdir, "truth.json")
    gcore = shutil.which("gcore") or ("/usr/bin/gcore" if os.path.exists("/usr/bin/gcore") else None)
    if gcore is None:
        res.error = "gcore (gdb) is not installed"
        return res
    t0 = time.monotonic()
    errpath = os.path.join(workdir, "scenario.stderr")
    with open(errpath, "wb") as err:
        try:
            p = subprocess.Popen(scenario_argv(python, scenario, "sleep", res.truth_path) + list(extra_args),
                                 cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=err, preexec_fn=_no_core_limit, start_new_session=True)
        except OSError as e:
            res.error = "cannot start scenario: %s" % e
            return res
    try:
        line = b""
        deadline = time.monotonic() + SCENARIO_TIMEOUT
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(p.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        if not line.startswith(b"READY"):
            with open(errpath, "rb") as f:
                errtext = f.read().decode("utf-8", "replace").strip()[-300:]
            res.error = "scenario never said READY (got %r); stderr: %s" % (line[:80], errtext)
            return res
        pid = p.pid
        prefix = os.path.join(workdir, "gcore")
        env = dict(os.environ)
        env["DEBUGINFOD_URLS"] = ""
        g = run_process([gcore, "-o", prefix, str(pid)], cwd=workdir, timeout=GCORE_TIMEOUT, env=env)
        produced = "%s.%d" % (prefix, pid)
        if g.returncode != 0 or not os.path.exists(produced):
            res.error = "gcore failed: %s; %s" % (g.describe(), (g.stderr_text() + g.stdout_text()).strip()[-300:])
            return res
        final = os.path.join(workdir, "core")
        os.replace(produced, final)
        res.core = final
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        p.stdout.close()
        res.seconds = time.monotonic() - t0
    res.load_truth()
    return res


def _read_ready(p, deadline):
    """The next "READY" line of p's stdout before deadline, else None."""
    line = b""
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(p.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
    return line if line.startswith(b"READY") else None


def make_gcore_pair(python, scenario, workdir, extra_args=()):
    """Two gcores of ONE process of a scenario that prints READY, waits for
    a line on stdin, changes its heap and prints READY again (diff_grow.py):
    (core1, core2, truth_path, None) or (None, None, None, why).  The
    scenario writes its ground truth to TRUTH.json.1.json and .2.json."""
    os.makedirs(workdir, exist_ok=True)
    gcore = shutil.which("gcore") or ("/usr/bin/gcore" if os.path.exists("/usr/bin/gcore") else None)
    if gcore is None:
        return None, None, None, "gcore (gdb) is not installed"
    truth = os.path.join(workdir, "truth.json")
    errpath = os.path.join(workdir, "scenario.stderr")
    argv = [python, "-E", "-s", "-B", os.path.join(SCENARIO_DIR, scenario + ".py"), truth]
    with open(errpath, "wb") as err:
        try:
            p = subprocess.Popen(argv + list(extra_args), cwd=workdir, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err, preexec_fn=_no_core_limit,
                                 start_new_session=True)
        except OSError as e:
            return None, None, None, "cannot start scenario: %s" % e
    env = dict(os.environ)
    env["DEBUGINFOD_URLS"] = ""
    cores = []
    try:
        for k in (1, 2):
            if _read_ready(p, time.monotonic() + SCENARIO_TIMEOUT) is None:
                with open(errpath, "rb") as f:
                    errtext = f.read().decode("utf-8", "replace").strip()[-300:]
                return None, None, None, "scenario never said READY (%d); stderr: %s" % (k, errtext)
            prefix = os.path.join(workdir, "gcore%d" % k)
            g = run_process([gcore, "-o", prefix, str(p.pid)], cwd=workdir, timeout=GCORE_TIMEOUT, env=env)
            produced = "%s.%d" % (prefix, p.pid)
            if g.returncode != 0 or not os.path.exists(produced):
                return None, None, None, "gcore %d failed: %s; %s" % (
                    k, g.describe(), (g.stderr_text() + g.stdout_text()).strip()[-300:])
            final = os.path.join(workdir, "core%d" % k)
            os.replace(produced, final)
            cores.append(final)
            if k == 1:
                p.stdin.write(b"grow\n")
                p.stdin.flush()
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        p.stdout.close()
        p.stdin.close()
    return cores[0], cores[1], truth, None


def make_core(python, scenario, workdir, mode, extra_args=()):
    """mode: kernel | gcore | auto (kernel, else gcore with .fallback set)."""
    os.makedirs(workdir, exist_ok=True)
    if mode == "gcore":
        return make_gcore_core(python, scenario, workdir, extra_args)
    res = make_kernel_core(python, scenario, workdir, extra_args)
    if mode == "auto" and res.core is None:
        why = res.error
        res = make_gcore_core(python, scenario, workdir, extra_args)
        res.fallback = why
    return res


def run_selfcheck(python, scenario, workdir):
    """Run the scenario in selfcheck mode: (child truth, parent truth, error)."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "selfcheck.json")
    r = run_process(scenario_argv(python, scenario, "selfcheck", path), cwd=workdir,
                    timeout=SCENARIO_TIMEOUT, preexec=_no_core_limit)
    if r.returncode != 0:
        return None, None, "selfcheck run: %s; stderr: %s" % (r.describe(), r.stderr_text().strip()[-300:])
    try:
        with open(path) as f:
            child = json.load(f)
        with open(path + ".parent.json") as f:
            parent = json.load(f)
    except (OSError, ValueError) as e:
        return None, None, "selfcheck output: %s" % e
    return child, parent, None


def _fingerprint(python, scenario, mode, extra_args):
    h = hashlib.sha256()
    for p in (os.path.join(SCENARIO_DIR, scenario + ".py"), os.path.join(SCENARIO_DIR, "_truth.py")):
        with open(p, "rb") as f:
            h.update(f.read())
    real = os.path.realpath(python)
    st = os.stat(real)
    h.update(("%s|%d|%d|%s|%r" % (real, st.st_size, int(st.st_mtime), mode, list(extra_args))).encode())
    return h.hexdigest()[:12]


class CoreCache:
    """Cores of one test run, under `root` (a temporary directory unless
    the caller gives one to share between runners, e.g. tests/run.sh)."""

    def __init__(self, root=None):
        self.own = root is None
        self.root = root or tempfile.mkdtemp(prefix="pyheap-e2e-")
        os.makedirs(self.root, exist_ok=True)

    def get(self, label, python, scenario, mode, extra_args=()):
        key = _fingerprint(python, scenario, mode, extra_args)
        workdir = os.path.join(self.root, label, "%s-%s-%s" % (scenario, mode, key))
        meta_path = os.path.join(workdir, "meta.json")
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
            res = CoreResult()
            res.__dict__.update(meta)
            res.cached = True
            if res.core and os.path.exists(res.core):
                res.load_truth()
                return res
            if not res.core:
                return res
        if os.path.isdir(workdir):
            shutil.rmtree(workdir)
        res = make_core(python, scenario, workdir, mode, extra_args)
        meta = {k: v for k, v in res.__dict__.items() if k not in ("truth", "cached")}
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        return res

    def get_pair(self, label, python, scenario, extra_args=()):
        """make_gcore_pair, cached like get(): (core1, core2, truth, why)."""
        key = _fingerprint(python, scenario, "gcore-pair", extra_args)
        workdir = os.path.join(self.root, label, "%s-gcore-pair-%s" % (scenario, key))
        meta_path = os.path.join(workdir, "meta.json")
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
            if not meta.get("core1") or (os.path.exists(meta["core1"]) and os.path.exists(meta["core2"])):
                return meta.get("core1"), meta.get("core2"), meta.get("truth"), meta.get("error")
        if os.path.isdir(workdir):
            shutil.rmtree(workdir)
        c1, c2, truth, why = make_gcore_pair(python, scenario, workdir, extra_args)
        with open(meta_path, "w") as f:
            json.dump({"core1": c1, "core2": c2, "truth": truth, "error": why}, f)
        return c1, c2, truth, why

    def compressed(self, core):
        """A zstd-compressed copy of `core` (made once)."""
        dst = core + ".zst"
        if not os.path.exists(dst):
            r = run_process(["zstd", "-q", "-k", "-1", "-T0", core, "-o", dst + ".tmp"], timeout=600)
            if r.returncode != 0:
                raise RuntimeError("zstd failed: %s %s" % (r.describe(), r.stderr_text().strip()))
            os.replace(dst + ".tmp", dst)
        return dst

    def cleanup(self):
        if self.own:
            shutil.rmtree(self.root, ignore_errors=True)


# ----------------------------------------------------------------------------
# Reports and object dumps

class LoadError(Exception):
    pass


def _no_dupes(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise LoadError("duplicate key %r in a JSON object" % k)
        d[k] = v
    return d


def _bad_constant(name):
    raise LoadError("non-standard JSON constant %s" % name)


def decompress_if_zstd(data, what="file"):
    if data[:4] != ZSTD_MAGIC:
        return data
    p = subprocess.run(["zstd", "-dc"], input=data, capture_output=True)
    if p.returncode != 0:
        raise LoadError("zstd -dc failed on %s: %s" % (what, p.stderr.decode(errors="replace").strip()))
    return p.stdout


def parse_report_bytes(data, what="report"):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadError("%s is not UTF-8: %s" % (what, e))
    try:
        return json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_bad_constant)
    except ValueError as e:
        raise LoadError("%s is not valid JSON: %s" % (what, e))


def read_report(path):
    """(raw JSON bytes after decompression, parsed dict)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LoadError("cannot read report %s: %s" % (path, e))
    raw = decompress_if_zstd(data, path)
    return raw, parse_report_bytes(raw, path)


def load_dump_objects(path):
    """{address: (type, size, refcnt, flags frozenset, unreachable 0/1)}, or
    raise LoadError naming the first malformed lines."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise LoadError("cannot read %s: %s" % (path, e))
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != DUMP_HEADER:
        raise LoadError("header is %r, expected %r" % (lines[0] if lines else "", DUMP_HEADER))
    rows = {}
    problems = []
    for no, line in enumerate(lines[1:], 2):
        cols = line.split("\t")
        try:
            if len(cols) != 6:
                raise ValueError("%d columns" % len(cols))
            addr_s, typ, size_s, ref_s, flags_s, unr_s = cols
            if not re.fullmatch(r"0x[0-9a-fA-F]+", addr_s):
                raise ValueError("address %r is not 0x-hex" % addr_s)
            addr = int(addr_s, 16)
            size = int(size_s)
            refcnt = int(ref_s)
            flags = frozenset() if flags_s == "-" else frozenset(flags_s.split(","))
            if not flags <= DUMP_FLAGS or (flags_s != "-" and not flags):
                raise ValueError("flags %r" % flags_s)
            if unr_s not in ("0", "1"):
                raise ValueError("unreachable %r" % unr_s)
            if not typ or size < 0:
                raise ValueError("type %r size %d" % (typ, size))
            if addr in rows:
                raise ValueError("duplicate address %s" % addr_s)
            rows[addr] = (typ, size, refcnt, flags, int(unr_s))
        except ValueError as e:
            problems.append("line %d: %s" % (no, e))
            if len(problems) >= 5:
                break
    if problems:
        raise LoadError("; ".join(problems))
    return rows


# ----------------------------------------------------------------------------
# Schema

def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def jsonschema_validator(schema):
    """A function instance -> [errors] using python3-jsonschema, or None."""
    try:
        import jsonschema
    except ImportError:
        return None
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)

    def validate(instance):
        out = []
        for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            out.append("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:200]))
        return out
    return validate


def fallback_validator(schema):
    sys.path.insert(0, HERE)
    import schema_check
    schema_check.check_schema(schema)
    return lambda instance: schema_check.validate(instance, schema)


def report_validator():
    """(name, function instance -> [errors])."""
    schema = load_schema()
    v = jsonschema_validator(schema)
    if v is not None:
        return "python3-jsonschema", v
    return "schema_check.py", fallback_validator(schema)


# ----------------------------------------------------------------------------
# Command line for demo.sh and bench.sh

def _cli_core(args):
    res = make_core(args.python, args.scenario, args.out, args.mode, args.extra)
    if res.core is None:
        print("error: %s" % res.error, file=sys.stderr)
        return 1
    if res.fallback:
        print("note: kernel core unavailable (%s); used gcore" % res.fallback, file=sys.stderr)
    print(res.core)
    return 0


BENCH_OBJECTS_PER_RECORD = 11.76   # big.py: objects the tool finds per record


def _parse_size(text):
    """'1e6', '10M', '50000000' -> int."""
    t = text.strip().lower()
    mult = 1
    for suffix, m in (("k", 10 ** 3), ("m", 10 ** 6), ("g", 10 ** 9)):
        if t.endswith(suffix):
            t, mult = t[:-1], m
    return int(float(t) * mult)


def _size_label(n):
    """50000000 -> '5e7'; sizes that are no such round number as they are."""
    k = len(str(n)) - 1
    return "%de%d" % (n // 10 ** k, k) if k and n % 10 ** k == 0 else str(n)


def _rss_anon_sampler(pid, box):
    """Poll /proc/PID/status for RssAnon (kB) until the process is gone."""
    path = "/proc/%d/status" % pid
    while not box.get("done"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        box["peak_kb"] = max(box.get("peak_kb", 0), int(line.split()[1]))
                        break
        except OSError:
            return
        time.sleep(0.005)


def _bench_run(argv, cwd, timeout):
    """Run the tool: (Ran, cpu seconds user+sys, peak RssAnon kB)."""
    import threading
    r = Ran()
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, preexec_fn=_no_core_limit, start_new_session=True)
        box = {}
        th = threading.Thread(target=_rss_anon_sampler, args=(p.pid, box), daemon=True)
        th.start()
        # wait4 directly: the exit status and its rusage (Popen.wait would reap it)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                r.timed_out = True
                break
            time.sleep(0.002)
        r.seconds = time.monotonic() - t0
        box["done"] = True
        th.join()
        p.returncode = r.returncode = os.waitstatus_to_exitcode(status)
        r.status = status
        r.maxrss_kb = ru.ru_maxrss
        err.seek(0)
        r.stderr = err.read()
    return r, ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime, box.get("peak_kb", 0)


def _read_seconds(path):
    """One sequential read of `path` from page cache (cat to /dev/null, after
    a first read that puts it there): the fastest of three, wall seconds."""
    best = None
    for i in range(4):
        t0 = time.monotonic()
        with open(os.devnull, "wb") as null:
            subprocess.run(["cat", path], stdout=null, check=True)
        t = time.monotonic() - t0
        if i and (best is None or t < best):
            best = t
    return best


def _bench_core(cache, label, path, objects, baseline):
    global SCENARIO_TIMEOUT
    SCENARIO_TIMEOUT = max(SCENARIO_TIMEOUT, 7200)
    records = max(1000, int(round(objects / BENCH_OBJECTS_PER_RECORD)))
    extra = [str(records)] + (["baseline"] if baseline else [])
    return cache.get(label, path, "big", "kernel", extra)


def _cli_bench(args):
    sizes = [_parse_size(x) for x in args.sizes.split(",") if x.strip()]
    label, path = system_label("3.11"), "/usr/bin/python3.11"
    why = probe_interpreter(path)
    if why:
        print("SKIP bench/%s: %s" % (label, why))
        return 0
    root = args.cache_dir or os.path.join(cache_dir(), "bench")
    cache = CoreCache(root)
    print("bench: %s, cores cached in %s (CPU s = user+sys of the tool; RssAnon sampled every 5 ms)"
          % (label, root))
    head = ("%-6s %11s %11s %8s %7s %7s %7s %9s %7s %6s %9s %8s %7s %7s"
            % ("size", "objects", "edges", "core MB", "CPU s", "user s", "wall s", "RssAnon",
               "B/obj", "B/o+e", "obj/CPU-s", "python s", "x py", "x read"))
    status = 0
    rows = []
    for size in sizes:
        res = _bench_core(cache, label, path, size, not args.no_baseline)
        if res.core is None:
            print("FAIL bench/%s/%d: no core: %s" % (label, size, res.error))
            status = 1
            continue
        work = os.path.dirname(res.core)
        base = None
        try:
            with open(res.truth_path + ".baseline.json") as f:
                base = json.load(f)
        except (OSError, ValueError):
            pass
        read_s = _read_seconds(res.core)
        out = os.path.join(work, "report.json.zst")
        r, cpu, user, sys_s, anon_kb = _bench_run([args.bin, "-q", "-o", out] + args.tool_args + [res.core],
                                                  work, 7200)
        if r.returncode != 0:
            print("FAIL bench/%s/%d: %s: %s" % (label, size, r.describe(), r.stderr_text().strip()[-300:]))
            status = 1
            continue
        try:
            _, rep = read_report(out)
            s = rep["summary"]
            objects, edges = int(s.get("objects")), int(s.get("edges"))
        except (LoadError, KeyError, TypeError, ValueError) as e:
            print("FAIL bench/%s/%d: report: %s" % (label, size, e))
            status = 1
            continue
        anon = anon_kb * 1024.0
        budget = 48.0 * objects + 8.0 * edges
        rows.append((size, objects, edges, os.path.getsize(res.core) / 1e6, cpu, user, r.seconds, anon / 1e6,
                     anon / objects, anon / budget, objects / cpu,
                     base["cpu_s"] if base else float("nan"),
                     (base["cpu_s"] / cpu) if base else float("nan"), cpu / read_s))
        if len(rows) == 1:
            print(head)
        print("%-6s %11d %11d %8.0f %7.2f %7.2f %7.2f %8.0fM %7.1f %6.2f %9.0f %8.1f %7.1f %7.2f" % (
            _size_label(size), *rows[-1][1:]))
        if base:
            print("       python baseline: %d objects, %d edges (gc.get_objects closure), %.1f CPU s,"
                  " %.1f wall s (%.1fx the tool's); core read %.2f s" % (
                      base["objects"], base["edges"], base["cpu_s"], base["wall_s"],
                      base["wall_s"] / max(r.seconds, 1e-9), read_s))
    if len(rows) > 1:
        per = [row[4] / row[1] for row in rows]
        print("per-object CPU cost, largest / smallest: %.2fx" % (max(per) / min(per)))
    print("columns: B/o+e = RssAnon / (48 B/object + 8 B/edge); x py = python CPU s / tool CPU s;"
          " x read = tool CPU s / one cat of the core from page cache")
    return status


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="harness.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("core", help="run a scenario and print the path of its core")
    c.add_argument("--python", required=True)
    c.add_argument("--scenario", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--mode", choices=("auto", "kernel", "gcore"), default="auto")
    c.add_argument("extra", nargs="*", help="extra scenario arguments")
    b = sub.add_parser("bench", help="time the tool on the big scenario's cached cores")
    b.add_argument("--bin", required=True)
    b.add_argument("--sizes", default="1e6,1e7,5e7", help="objects per heap, comma-separated")
    b.add_argument("--cache-dir", help="where the cores are kept (default CACHE/bench)")
    b.add_argument("--no-baseline", action="store_true", help="skip the in-process Python baseline")
    b.add_argument("tool_args", nargs="*", help="more arguments for the tool (after --)")
    args = ap.parse_args(argv)
    if args.cmd == "core":
        return _cli_core(args)
    return _cli_bench(args)


if __name__ == "__main__":
    sys.exit(main())


# ----------------------------------------------------------------------------
# What every runner's main() does

def runner_parser(doc, cache_help="keep/reuse cores here (shared with run_e2e.py)"):
    """The options every matrix runner takes: --bin, --quick, --cache-dir,
    --prefix, --timeout, --interp (a runner adds its own after)."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true", help="first interpreter only")
    ap.add_argument("--cache-dir", help=cache_help)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--interp", action="append", help="only interpreters matching (repeatable)")
    return ap


def binary_ok(rep, path):
    """False (and a FAIL line) when the binary under test is not there."""
    if os.access(path, os.X_OK):
        return True
    rep.fail("binary", "%s is missing or not executable" % path)
    return False


def chosen_interpreters(rep, args, skip_prefix, none_name):
    """The matrix's interpreters that --interp and --quick select; a SKIP
    line for each one the matrix could not provide, a FAIL when none is
    left."""
    import fnmatch
    interps, missing = matrix_interpreters()
    for label, why in missing:
        rep.skip(skip_prefix + label, "interpreter unavailable: %s" % why)
    interps = [i for i in interps
               if not args.interp or any(fnmatch.fnmatchcase(i.label, p) for p in args.interp)]
    if args.quick:
        interps = interps[:1]
    if not interps:
        rep.fail(none_name, "no usable CPython interpreter found")
    return interps


def finish(rep, name):
    """The runner's summary line; its exit status."""
    c = rep.counts
    print("# %s: %d passed, %d failed, %d skipped" % (name, c["PASS"], c["FAIL"], c["SKIP"]),
          flush=True)
    return 1 if rep.failed else 0

