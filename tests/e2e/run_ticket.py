#!/usr/bin/python3
"""End-to-end tests of the reports for tickets (issue 13): Markdown, HTML
and the DevTools .heapsnapshot, on real cores.

    /usr/bin/python3 tests/e2e/run_ticket.py --bin PATH [--quick]
        [--cache-dir DIR] [--prefix P] [--timeout S] [--interp PATTERN]

For every interpreter of the matrix (--quick: the first):
  demo_service, ticket_hostile (a module cache keyed by a str full of
  markup: `|`, backticks, <script>, a newline, ESC, U+202E, U+2028):
    md          at most 10 KB; demo_service: contains the first suspect's
                path (un-escaped); ticket_hostile: inert (no raw <, `, |
                outside the table's columns, control or bidi characters);
    html        self-contained (no src/href/url()/@import to http: or //),
                names the version, the suspect's path and every thread;
                heap text never makes an element;
    heapsnapshot  arrays consistent with meta, to_node in range and a
                multiple of the node field count, edge_count sums, node
                count = objects + 4 synthetic, sum of self_size =
                summary.bytes;
  why_cache, why_leak, why_local, garbage, threads, many_types: md at
  most 10 KB.
On the first interpreter only:
  devtools      the .heapsnapshot loaded by Chrome DevTools' own loader
                (npm chrome-devtools-frontend, bundled with esbuild into
                CACHE/devtools, under node): its node count and total size
                equal the report's (SKIP without node/npm or the package);
  chromium      chromium --headless --dump-dom of the HTML: no console
                message, the script ran (body data-ready), the DOM text has
                the suspect's path, the version and the threads (SKIP
                without chromium: tests/deps.sh installs Debian's).
Rendering from a saved report (every scenario; --reread-only: only this):
  reread        the .json.zst re-rendered as JSON is the original .json byte
                for byte; txt, md and html from the .json.zst are those from
                the core; the same with --redact on both;
  malformed     (first interpreter) a cut .json and .json.zst, an unknown
                schema, 100,000-deep nesting, invalid UTF-8, a lone
                surrogate, a 400-digit and a negative number, an array:
                exit 3 with the message; a .heapsnapshot, --redact of an
                unredacted report, -o naming the report: exit 2.

One line per check: PASS|FAIL|SKIP <name>[: details].  Exit 1 if anything
failed.
"""

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

MD_MAX = 10240
MD_ONLY = ("why_cache", "why_leak", "why_local", "garbage", "threads", "many_types")
DEVTOOLS_PKGS = ("chrome-devtools-frontend@1.0.1705227", "esbuild@0.28.2")
HERE = os.path.dirname(os.path.abspath(__file__))
NODE_FIELDS = 7


def join_path(labels):
    """The labels as the writers join them (report_common.c pha_path_join)."""
    out = ""
    for k, l in enumerate(labels):
        if k and l[:1] not in (".", "["):
            out += " → "
        out += l
    return out


def invisible(c):
    o = ord(c)
    return (o == 0x061C or 0x200B <= o <= 0x200F or 0x2028 <= o <= 0x202E
            or 0x2060 <= o <= 0x2069 or o == 0xFEFF)


def visible(s):
    """Heap text as the Markdown and HTML escapers show it (markup.c)."""
    out = []
    for c in s:
        o = ord(c)
        if c in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c])
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        elif 0x80 <= o <= 0x9F or invisible(c):
            out.append("\\u%04x" % o)
        else:
            out.append(c)
    return "".join(out)


def md_unescape(text):
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace("&amp;", "&")


class Text(html.parser.HTMLParser):
    """The text of a DOM and the tags it has (outside the embedded JSON)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.tags, self.skip = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.skip = tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip = False

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def dom_text(markup):
    p = Text()
    p.feed(markup)
    return "".join(p.parts), p.tags


EXTERNAL = re.compile(r"""(?:\b(?:src|href|action|srcset|poster|xlink:href)\s*=\s*["']?\s*"""
                      r"""(?:[a-z]+:)?//|url\(\s*["']?\s*(?:[a-z]+:)?//|@import)""", re.I)


class Runner:
    def __init__(self, args, rep):
        self.args, self.rep = args, rep
        self.binary = os.path.abspath(args.bin)
        self.cache = H.CoreCache(args.cache_dir)
        self.work = tempfile.mkdtemp(prefix="pyheap-ticket-")
        self.version = None
        self.loader = None

    def cleanup(self):
        self.cache.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def core(self, name, label, python, scenario):
        mode = "kernel" if not H.kernel_core_unavailable() else "gcore"
        res = self.cache.get(label, python, scenario, mode)
        if res.core is None and mode == "kernel":
            res = self.cache.get(label, python, scenario, "gcore")
        if res.core is None:
            self.rep.fail(name, "no core: %s" % res.error)
        return res

    def run(self, name, core, ext, extra=()):
        """The tool's output for core as FILE.ext, or None after a FAIL/SKIP."""
        out = os.path.join(self.work, "%s.%s" % (name.replace("/", "_"), ext))
        r = H.run_tool(self.binary, ["-q", *extra, "-o", out, core], cwd=self.work,
                       timeout=self.args.timeout)
        trouble = H.sanitizer_trouble(r.stderr_text())
        if trouble:
            self.rep.fail(name, "sanitizer: " + trouble)
            return None
        if r.returncode == 3 and "unsupported Python version" in r.stderr_text():
            self.rep.skip(name, "Python version not supported by this build")
            return None
        if r.returncode != 0:
            self.rep.fail(name, "%s: %s" % (r.describe(), r.stderr_text().strip()[-300:]))
            return None
        return out

    # ---- Markdown ---------------------------------------------------------
    def md(self, name, core, want_path=None, hostile=None):
        out = self.run(name, core, "md")
        if out is None:
            return
        with open(out, "rb") as f:
            data = f.read()
        p = []
        if len(data) > MD_MAX:
            p.append("%d bytes > %d" % (len(data), MD_MAX))
        text = data.decode("utf-8", "replace")
        if want_path is not None and want_path not in md_unescape(text):
            p.append("the suspect's path %r is not in it" % want_path)
        if hostile is not None:
            p.extend(self.md_inert(text))
        self.rep.check(name, p, "%d bytes" % len(data))
        return len(data)

    @staticmethod
    def md_inert(text):
        p = []
        for ch, what in (("\x1b", "ESC"), ("\u202e", "U+202E"), ("\u2028", "U+2028"),
                         ("\r", "CR")):
            if ch in text:
                p.append("%s in the Markdown" % what)
        for line in text.split("\n"):
            body = re.sub(r"\\.", "", line)
            if "`" in body or "<" in body:
                p.append("unescaped ` or < in %r" % line[:80])
            if line.startswith("|"):
                cols = body.count("|")
                if cols not in (5, 6):
                    p.append("table row with %d pipes: %r" % (cols, line[:80]))
        return p[:5]

    # ---- heapsnapshot -----------------------------------------------------
    def heapsnapshot(self, name, core, summary):
        out = self.run(name, core, "heapsnapshot")
        if out is None:
            return None
        try:
            with open(out) as f:
                hs = json.load(f)
        except (OSError, ValueError) as e:
            self.rep.fail(name, "not JSON: %s" % e)
            return None
        self.rep.check(name, self.hs_problems(hs, summary),
                       "%d nodes, %d edges" % (hs["snapshot"]["node_count"],
                                               hs["snapshot"]["edge_count"]))
        return out

    @staticmethod
    def hs_problems(hs, summary):
        p = []
        meta = hs["snapshot"]["meta"]
        if meta["node_fields"] != ["type", "name", "id", "self_size", "edge_count",
                                   "trace_node_id", "detachedness"]:
            p.append("node_fields %s" % meta["node_fields"])
        if meta["edge_fields"] != ["type", "name_or_index", "to_node"]:
            p.append("edge_fields %s" % meta["edge_fields"])
        nodes, edges, strings = hs["nodes"], hs["edges"], hs["strings"]
        nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
        n, e = len(nodes) // nf, len(edges) // ef
        if len(nodes) % nf or n != hs["snapshot"]["node_count"]:
            p.append("nodes array %d not node_count %d × %d" % (len(nodes), n, nf))
        if len(edges) % ef or e != hs["snapshot"]["edge_count"]:
            p.append("edges array %d not edge_count × %d" % (len(edges), ef))
        if n != summary["objects"] + 4:
            p.append("%d nodes != %d objects + 4 synthetic" % (n, summary["objects"]))
        if sum(nodes[3::nf]) != summary["bytes"]:
            p.append("sum of self_size %d != summary.bytes %d" % (sum(nodes[3::nf]), summary["bytes"]))
        if sum(nodes[4::nf]) != e:
            p.append("sum of edge_count %d != %d edges" % (sum(nodes[4::nf]), e))
        ntypes, etypes = len(meta["node_types"][0]), len(meta["edge_types"][0])
        if any(t >= ntypes for t in nodes[0::nf]) or any(t >= etypes for t in edges[0::ef]):
            p.append("a node or edge type out of its enum")
        if any(s >= len(strings) for s in nodes[1::nf]):
            p.append("a node name out of the strings table")
        bad = [t for t in edges[2::ef] if t % nf or t >= len(nodes)]
        if bad:
            p.append("%d to_node out of range or not a multiple of %d (%s)" % (len(bad), nf, bad[:3]))
        ids = nodes[2::nf]
        if any(i % 2 == 0 for i in ids) or len(set(ids)) != len(ids):
            p.append("node ids not odd and unique")
        return p[:6]

    def devtools(self, name, path, summary):
        loader = self.devtools_loader(name)
        if loader is None:
            return
        r = subprocess.run(["node", loader, path], capture_output=True, text=True,
                           timeout=self.args.timeout)
        if r.returncode != 0:
            self.rep.fail(name, "DevTools' loader failed: %s" % r.stderr.strip()[-400:])
            return
        got = json.loads(r.stdout.strip().splitlines()[-1])
        p = []
        if got["nodeCount"] != summary["objects"] + 4:
            p.append("DevTools counts %d nodes, want %d" % (got["nodeCount"], summary["objects"] + 4))
        if got["totalSize"] != summary["bytes"]:
            p.append("DevTools' total size %d != summary.bytes %d" % (got["totalSize"], summary["bytes"]))
        self.rep.check(name, p, "%d nodes, %d bytes" % (got["nodeCount"], got["totalSize"]))

    def devtools_loader(self, name):
        """CACHE/devtools/loader.mjs, installed and bundled once; None after a SKIP."""
        if self.loader is not None:
            return self.loader or None
        self.loader = ""
        if not shutil.which("node") or not shutil.which("npm"):
            self.rep.skip(name, "node or npm not installed (DevTools' loader runs under node)")
            return None
        d = os.path.join(H.cache_dir(), "devtools")
        loader = os.path.join(d, "loader.mjs")
        if not os.path.exists(loader):
            os.makedirs(d, exist_ok=True)
            for f in ("entry.mjs", "poly.mjs", "build.mjs"):
                shutil.copy(os.path.join(HERE, "devtools", f), d)
            r = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund",
                                "--ignore-scripts", "--prefix", d] + list(DEVTOOLS_PKGS),
                               cwd=d, capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                self.rep.skip(name, "npm install %s failed: %s" % (
                    " ".join(DEVTOOLS_PKGS), r.stderr.strip()[-200:]))
                return None
            r = subprocess.run(["node", "build.mjs", loader + ".tmp"], cwd=d, capture_output=True,
                               text=True, timeout=300)
            if r.returncode != 0:
                self.rep.fail(name, "bundling DevTools' loader failed: %s" % r.stderr.strip()[-400:])
                return None
            os.rename(loader + ".tmp", loader)
        self.loader = loader
        return loader

    # ---- HTML -------------------------------------------------------------
    def html(self, name, core, rep, want_path):
        out = self.run(name, core, "html")
        if out is None:
            return None
        with open(out, encoding="utf-8") as f:
            page = f.read()
        p = []
        m = EXTERNAL.search(page)
        if m:
            p.append("loads from outside: %r" % page[max(0, m.start() - 40):m.end() + 40])
        text, tags = dom_text(page)
        p.extend(self.findings(text, tags, rep, want_path))
        self.rep.check(name, p, "%d bytes" % len(page))
        return out

    def findings(self, text, tags, rep, want_path):
        p = []
        if want_path and want_path not in text:
            p.append("the suspect's path %r is not in the page's text" % want_path[:120])
        if self.version and ("pyheap-analyze " + self.version) not in text:
            p.append("version %s not shown" % self.version)
        for t in rep["threads"]:
            if ("Thread 0x%x" % t["thread_id"]) not in text:
                p.append("thread 0x%x not shown" % t["thread_id"])
        if tags.count("script") != 2:
            p.append("%d <script> elements, want 2 (the data and the sorter)" % tags.count("script"))
        return p

    def chromium(self, name, page, rep, want_path):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            self.rep.skip(name, "chromium not installed (sh tests/deps.sh all installs Debian's)")
            return
        prof = tempfile.mkdtemp(prefix="chromium-", dir=self.work)
        t0 = time.monotonic()
        r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0",
                            "--dump-dom", "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=self.args.timeout)
        secs = time.monotonic() - t0
        p = []
        if r.returncode != 0 or "<body" not in r.stdout:
            p.append("chromium exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
        console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l]
        if console:
            p.append("console: %s" % console[:3])
        if 'data-ready="1"' not in r.stdout:
            p.append("the page's script did not run (no data-ready on body)")
        text, tags = dom_text(r.stdout)
        p.extend(self.findings(text, tags, rep, want_path))
        self.rep.check(name, p, "rendered in %.2f s, %d bytes of DOM" % (secs, len(r.stdout)))

    # ---- rendering from a saved report -------------------------------------
    @staticmethod
    def same_bytes(a, b):
        with open(a, "rb") as f, open(b, "rb") as g:
            x, y = f.read(), g.read()
        if x == y:
            return []
        k = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
        return ["differs at byte %d (%d vs %d bytes): %r vs %r"
                % (k, len(x), len(y), x[max(0, k - 40):k + 40], y[max(0, k - 40):k + 40])]

    def reread(self, base, core, jpath, redact=False):
        """The report's JSON re-rendered from its .json.zst is the same bytes;
        text, Markdown and HTML from the .json.zst are those from the core."""
        extra = ("--redact",) if redact else ()
        base += "/reread" + ("-redact" if redact else "")
        zst = self.run(base + "/json.zst", core, "json.zst", extra)
        if zst is None:
            return None
        if redact:
            jpath = self.run(base + "/json", core, "json", extra)
        again = self.run(base + "/json-from-report", zst, "json", extra)
        if jpath and again:
            self.rep.check(base + "/json", self.same_bytes(jpath, again))
        for ext in ("txt", "md", "html"):
            a = self.run(base + "/" + ext + "-from-core", core, ext, extra)
            b = self.run(base + "/" + ext + "-from-report", zst, ext, extra)
            if a and b:
                self.rep.check(base + "/" + ext, self.same_bytes(a, b))
        return zst

    def refused(self, name, args, codes, want):
        """The tool exits with one of codes and a message containing want."""
        r = H.run_tool(self.binary, ["-q", *args], cwd=self.work, timeout=self.args.timeout)
        err = r.stderr_text()
        p = []
        trouble = H.sanitizer_trouble(err)
        if trouble:
            p.append("sanitizer: " + trouble)
        if r.returncode not in codes:
            p.append("%s, want exit %s: %s" % (r.describe(), "/".join(map(str, codes)), err.strip()[-300:]))
        elif want not in err:
            p.append("message %r lacks %r" % (err.strip()[-300:], want))
        self.rep.check(name, p, err.strip().splitlines()[-1][:160] if err.strip() else "")

    def malformed(self, base, zst, jpath):
        """Hostile and damaged reports end with exit 2 or 3 and a message."""
        with open(jpath, "rb") as f:
            text = f.read()
        w = lambda n, d: (open(os.path.join(self.work, n), "wb").write(d), os.path.join(self.work, n))[1]
        with open(zst, "rb") as f:
            z = f.read()
        out = os.path.join(self.work, "malformed.md")
        cases = [
            ("truncated", w("cut.json", text[:len(text) * 2 // 3]), "not valid JSON at byte offset"),
            ("truncated-zst", w("cut.json.zst", z[:len(z) // 2]), "truncated"),
            ("wrong-schema", w("v9.json", text.replace(b"pyheap-analyze.report/3", b"pyheap-analyze.report/9", 1)),
             'unknown report schema "pyheap-analyze.report/9"'),
            ("deep-nesting", w("deep.json", b'{"schema": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
             "nested deeper than 64"),
            ("bad-utf8", w("utf8.json", text.replace(b'"warnings": [', b'"warnings": ["\xff\xfe", ', 1)),
             "invalid UTF-8"),
            ("lone-surrogate", w("surr.json", text.replace(b'"warnings": [', b'"warnings": ["\\ud800", ', 1)),
             "lone high surrogate"),
            ("huge-number", w("huge.json", re.sub(rb'"objects": \d+', b'"objects": 1' + b"0" * 400, text, count=1)),
             "$.summary.objects"),
            ("negative-number", w("neg.json", re.sub(rb'"bytes": \d+', b'"bytes": -1', text, count=1)),
             "expected an unsigned integer"),
            ("not-an-object", w("arr.json", b"[" + text + b"]"), "not an object"),
        ]
        for name, path, want in cases:
            self.refused("%s/malformed/%s" % (base, name), ["-o", out, path], (3,), want)
        self.refused(base + "/refused/heapsnapshot", ["-o", os.path.join(self.work, "x.heapsnapshot"), zst],
                     (2,), "does not hold the heap")
        self.refused(base + "/refused/redact-unredacted", ["--redact", "-o", out, zst], (2,),
                     "written without --redact")
        self.refused(base + "/refused/output-is-input", ["-o", zst, zst], (2,), "is the input file")

    # ---- one core ---------------------------------------------------------
    def scenario(self, label, python, scenario, first):
        base = "%s/%s" % (label, scenario)
        res = self.core(base + "/core", label, python, scenario)
        if res.core is None:
            return
        jpath = self.run(base + "/json", res.core, "json")
        if jpath is None:
            return
        zst = self.reread(base, res.core, jpath)
        self.reread(base, res.core, jpath, redact=True)
        if first and zst:
            self.malformed(base, zst, jpath)
        if self.args.reread_only:
            return
        _, rep = H.read_report(jpath)
        sus = [s for s in rep["leak_suspects"] if s["kind"] == "accumulation"]
        want = join_path([e["label"] for e in sus[0]["path"]]) if sus else None
        if want is None:
            self.rep.fail(base + "/suspect", "no accumulation suspect to look for")
        hostile = scenario == "ticket_hostile"
        want = visible(want) if want else None
        self.md(base + "/md", res.core, want, hostile or None)
        hs = self.heapsnapshot(base + "/heapsnapshot", res.core, rep["summary"])
        page = self.html(base + "/html", res.core, rep, want)
        if first and hs:
            self.devtools(base + "/devtools", hs, rep["summary"])
        if first and page:
            self.chromium(base + "/chromium", page, rep, want)

    def md_only(self, label, python, scenario):
        name = "%s/%s/md" % (label, scenario)
        res = self.core(name, label, python, scenario)
        if res.core is None:
            return
        if not self.args.reread_only:
            self.md(name, res.core)
        base = "%s/%s" % (label, scenario)
        jpath = self.run(base + "/json", res.core, "json")
        if jpath:
            self.reread(base, res.core, jpath)


def main(argv=None):
    ap = H.runner_parser(__doc__)
    ap.add_argument("--reread-only", action="store_true",
                    help="only rendering from saved reports (and malformed ones): the ASan pass")
    args = ap.parse_args(argv)
    rep = H.Reporter(args.prefix)
    if not H.binary_ok(rep, args.bin):
        return 1
    run = Runner(args, rep)
    v = subprocess.run([run.binary, "--version"], capture_output=True, text=True)
    m = re.search(r"(\d+\.\d+\.\d+)", v.stdout + v.stderr)
    run.version = m.group(1) if m else None
    try:
        interps = H.chosen_interpreters(rep, args, "ticket/", "interpreters")
        for k, i in enumerate(interps):
            lab = "ticket/" + i.label
            for sc in ("demo_service", "ticket_hostile"):
                run.scenario(lab, i.python, sc, k == 0)
            for sc in MD_ONLY:
                run.md_only(lab, i.python, sc)
    finally:
        run.cleanup()
    return H.finish(rep, "run_ticket")


if __name__ == "__main__":
    sys.exit(main())
