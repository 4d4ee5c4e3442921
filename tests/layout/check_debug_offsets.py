"""Compare the _Py_DebugOffsets table a CPython 3.13+ binary carries in its
.PyRuntime section (the initialised data of _PyRuntime, which starts with the
table) with the static values of the layout the analyzer picks for it.

    python3 check_debug_offsets.py LABEL DUMP_TABLES LAYOUT HEX FILE...

FILE: candidate binaries (libpython3.X.so.1.0, the python3.X executable);
the first with a .PyRuntime section is read. DUMP_TABLES --debug-map LAYOUT
lists the members the walker takes from the table (position, member,
static value). The analyzer uses the table from the core whenever it has
one, so a difference is not wrong results; it means the static fallback
(cores whose table cannot be read) is wrong for this build: FAIL.
One PASS/FAIL/SKIP line. Standard library only.
"""
import struct
import subprocess
import sys


def pyruntime_section(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = secs[shstrndx]
    for name, stype, _flags, _addr, off, size, *_ in secs:
        end = data.index(b"\0", strtab[4] + name)
        if data[strtab[4] + name:end] == b".PyRuntime" and stype != 8:  # not NOBITS
            return data[off:off + size]
    return None


def main(argv):
    label, dump, layout, hexv = argv[1:5]
    name = "layout/%s/debug-offsets" % label
    sec = path = None
    for cand in argv[5:]:
        try:
            sec = pyruntime_section(cand)
        except (OSError, ValueError, struct.error):
            sec = None
        if sec is not None:
            path = cand
            break
    if sec is None:
        print("SKIP %s: no .PyRuntime section in %s" % (name, " ".join(argv[5:]) or "(no binary)"))
        return 0
    out = subprocess.run([dump, "--debug-map", layout], capture_output=True, text=True)
    if out.returncode != 0:
        print("FAIL %s: dump_tables --debug-map %s failed: %s" % (name, layout, out.stderr.strip()))
        return 1
    rows, size = [], None
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "#size":
            size = int(f[1])
        elif len(f) == 3:
            rows.append((int(f[0]), f[1], int(f[2])))
    if not rows:
        print("SKIP %s: layout %s reads no debug table" % (name, layout))
        return 0
    p = []
    if sec[:8] != b"xdebugpy":
        p.append("no xdebugpy cookie at the start of .PyRuntime")
    else:
        version, free_threaded = struct.unpack_from("<QQ", sec, 8)
        if version != int(hexv, 0):
            p.append("table version 0x%08x, headers 0x%08x" % (version, int(hexv, 0)))
        if free_threaded:
            p.append("free_threaded = %d" % free_threaded)
        for pos, member, static in rows:
            value, = struct.unpack_from("<Q", sec, pos)
            if value != static:
                p.append("%s @%d: binary %d, static table %d" % (member, pos, value, static))
        # Past the last member used, the next group must not start with a
        # value that looks like the cookie of a misplaced map.
        if size is not None and len(sec) < size:
            p.append(".PyRuntime is smaller than the table (%d < %d)" % (len(sec), size))
    if p:
        print("FAIL %s: %s (%s, %s)" % (name, "; ".join(p), layout, path))
        return 1
    print("PASS %s: %d members equal (%s, %s)" % (name, len(rows), layout, path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
