#!/usr/bin/python3
"""Write the committed seed corpus of the libFuzzer targets (tests/fuzz/corpus/).

    /usr/bin/python3 tests/fuzz/make_corpus.py [--out tests/fuzz/corpus]

Every seed is small (a few KB) and synthetic, built here byte by byte like
tests/unit/test_elfcore.c builds its cores, except the snapshot fixture
(fixtures/snapshot-v1-small.msgpack).  zstd seeds need the zstd CLI.
Deterministic: running it again gives the same files.
"""

import argparse
import os
import shutil
import struct
import subprocess

PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET = 1, 3, 6, 0x46494C45, 2
AT_NULL, AT_PHDR, AT_PAGESZ, AT_BASE, AT_ENTRY, AT_EXECFN = 0, 3, 6, 7, 9, 31


def note(name, ntype, desc):
    n = name.encode() + b"\0"
    out = struct.pack("<III", len(n), len(desc), ntype) + n
    out += b"\0" * (-len(out) % 4) + desc
    return out + b"\0" * (-len(out) % 4)


def prstatus(tid, sig, regs):
    d = bytearray(336)
    struct.pack_into("<I", d, 0, sig)
    struct.pack_into("<h", d, 12, sig)
    struct.pack_into("<I", d, 32, tid)
    for i, v in regs.items():
        struct.pack_into("<Q", d, 112 + 8 * i, v)
    return bytes(d)


def prpsinfo(pid, fname, args):
    d = bytearray(136)
    struct.pack_into("<I", d, 24, pid)
    d[40:40 + len(fname)] = fname[:16]
    d[56:56 + len(args)] = args[:80]
    return bytes(d)


def nt_file(maps, page=4096):
    d = struct.pack("<QQ", len(maps), page)
    for start, end, pgoff, _ in maps:
        d += struct.pack("<QQQ", start, end, pgoff)
    for *_, path in maps:
        d += path.encode() + b"\0"
    return d


def auxv(pairs):
    return b"".join(struct.pack("<QQ", k, v) for k, v in pairs) + struct.pack("<QQ", AT_NULL, 0)


def core(loads, notes, xnum=False, e_type=4):
    """loads: [(vaddr, memsz, data, flags)]; the bytes of each load follow the
    notes, 8-aligned (not page-aligned: the seeds stay small)."""
    nph = 1 + len(loads)
    eh = bytearray(64)
    eh[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHI", eh, 16, e_type, 62, 1)
    struct.pack_into("<Q", eh, 32, 64)                 # e_phoff
    struct.pack_into("<HHH", eh, 52, 64, 56, 0xFFFF if xnum else nph)
    body = bytearray()
    ph_off = 64
    notes_off = ph_off + 56 * nph
    shdr = b""
    if xnum:
        struct.pack_into("<HH", eh, 58, 64, 1)         # e_shentsize, e_shnum (e_shoff below)
    note_bytes = b"".join(notes)
    data_off = notes_off + len(note_bytes)
    data_off += -data_off % 8
    phdrs = struct.pack("<IIQQQQQQ", PT_NOTE, 0, notes_off, 0, 0, len(note_bytes), 0, 4)
    blob = bytearray()
    for vaddr, memsz, data, flags in loads:
        off = data_off + len(blob)
        phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, flags, off, vaddr, 0, len(data), memsz, 4096)
        blob += data + b"\0" * (-len(data) % 8)
    body = bytes(eh) + phdrs + note_bytes
    body += b"\0" * (data_off - len(body)) + bytes(blob)
    if xnum:
        shoff = len(body)
        sh = bytearray(64)
        struct.pack_into("<I", sh, 44, nph)            # sh_info: the real e_phnum
        body += bytes(sh)
        body = bytearray(body)
        struct.pack_into("<Q", body, 40, shoff)
        body = bytes(body)
    return body


def std_core(**kw):
    text = bytes((i * 7 + 1) & 0xFF for i in range(256))
    heap = bytearray((i * 13 + 5) & 0xFF for i in range(512))
    heap[0x100:0x100 + 14] = b"/usr/bin/a.so\0"
    notes = [
        note("CORE", NT_PRPSINFO, prpsinfo(4242, b"python3", b"python3 app.py --flag")),
        note("CORE", NT_PRSTATUS, prstatus(1000, 11, {4: 0x7ffd00000040, 16: 0x401000,
                                                       19: 0x7ffd00000000, 21: 0x7f00000a0000})),
        note("CORE", NT_FPREGSET, bytes(64)),
        note("LINUX", 0x202, bytes(40)),
        note("CORE", NT_PRSTATUS, prstatus(1001, 0, {16: 0x401001, 21: 0x7f00000a1000})),
        note("CORE", NT_AUXV, auxv([(AT_PHDR, 0x400040), (AT_PAGESZ, 4096), (AT_BASE, 0x7f1000000000),
                                    (AT_ENTRY, 0x400100), (AT_EXECFN, 0x7f0000000100)])),
        note("CORE", NT_FILE, nt_file([(0x400000, 0x401000, 0, "/usr/bin/a.so"),
                                       (0x7f0000000000, 0x7f0000003000, 2, "/lib/x86_64-linux-gnu/a.so")])),
    ]
    loads = [(0x400000, 0x1000, text, PF_R | PF_X), (0x7f0000000000, 0x3000, bytes(heap), PF_R | PF_W)]
    return core(loads, notes, **kw)


def omitted_core():
    """An ELF header in the core's copy of a mapping's first page, then
    PT_LOADs the kernel left out (p_filesz 0) that the loader fills from
    "a.so" (the fuzz target's search directory holds one)."""
    elf = bytearray(256)
    elf[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHI", elf, 16, 3, 62, 1)
    struct.pack_into("<Q", elf, 32, 64)
    struct.pack_into("<HHH", elf, 52, 64, 56, 1)
    struct.pack_into("<IIQQQQQQ", elf, 64, PT_LOAD, PF_R | PF_X, 0, 0, 0, 0x4000, 0x4000, 4096)
    base = 0x555555554000
    notes = [
        note("CORE", NT_PRSTATUS, prstatus(7, 6, {16: base + 0x1000})),
        note("CORE", NT_AUXV, auxv([(AT_PHDR, base + 64), (AT_ENTRY, base + 0x1000)])),
        note("CORE", NT_FILE, nt_file([(base, base + 0x1000, 0, "/opt/app/a.so"),
                                       (base + 0x1000, base + 0x3000, 1, "/opt/app/a.so"),
                                       (base + 0x3000, base + 0x4000, 3, "/opt/app/a.so")])),
    ]
    loads = [(base, 0x1000, bytes(elf), PF_R), (base + 0x1000, 0x1000, b"", PF_R | PF_X),
             (base + 0x3000, 0x1000, b"", PF_R), (0x7ffff0000000, 0x1000, bytes(64), PF_R | PF_W)]
    return core(loads, notes)


def zstd(data, extra=()):
    if not shutil.which("zstd"):
        return None
    r = subprocess.run(["zstd", "-q", "-c", "-3", *extra], input=data, stdout=subprocess.PIPE)
    return r.stdout if r.returncode == 0 else None


def memory_ops():
    """fuzz_memory inputs: 6-byte operations (see fuzz_memory.c)."""
    def op(code, start, size, src=0):
        return struct.pack("<BHBH", code, start, size, src)
    seeds = {}
    seeds["segments-fill-read"] = (
        op(0, 0, 64, 0) + op(0, 64, 64, 100) + op(2, 256, 128) + op(1, 512, 100, 300) +
        op(3, 240, 60, 1000) + op(3, 300, 150, 2000) + op(4, 0, 0) +
        b"".join(op(5 + i % 3, 8 * i, 24, 0) for i in range(40)))
    seeds["overlap-refused"] = op(0, 0, 100) + op(2, 50, 100) + op(4, 0, 0) + op(5, 0, 8)
    seeds["many-holes"] = (b"".join(op(2, 16 * i, 8) + op(0, 16 * i + 8, 8, i) for i in range(60)) +
                           b"".join(op(3, 32 * i, 40, 7 * i) for i in range(30)) + op(4, 0, 0) +
                           b"".join(op(6, 5 * i, 17) for i in range(80)))
    return seeds


def report_seeds():
    """fuzz_report_read inputs: a small report with every section, zstd, and damaged copies."""
    import json
    loc = {"name": "x", "type": "dict", "address": 4096, "preview": "len=1", "retained": 64}
    path = [{"label": "sys.modules", "type": "dict", "address": 8}, {"label": "['a']", "type": "module", "address": 16}]
    site = {"filename": "a.py", "line": 2, "objects": 1}
    rep = {
        "schema": "pyheap-analyze.report/3", "tool": {"name": "pyheap-analyze", "version": "0"},
        "input": {"path": "core", "kind": "core", "bytes": 1, "compressed": False},
        "python": {"version": "3.12.1", "hexversion": 51118576, "layout": "3.12", "free_threaded": False},
        "process": {"pid": 1, "signal": 6, "executable": "/bin/python3", "argv": ["python3", "\u00e9\U0001f600"]},
        "redacted": False,
        "summary": {k: 1 for k in ("objects", "gc_objects", "bytes", "edges", "unreachable_objects")},
        "types": [{"name": "dict", "count": 1, "bytes": 64, "gc_count": 1, "unreachable": 1,
                   "unreachable_bytes": 64, "top_allocation": {"filename": "a.py", "line": 1, "count": 1}}],
        "unreachable": {"types": [{"name": "dict", "count": 1, "bytes": 64}],
                        "groups": [{"signature": "dict", "instances": 1, "objects": 1, "bytes": 64}]},
        "cycles": [{"signature": "dict", "instances": 1, "objects": 1, "bytes": 64, "unreachable": True, "kind": "user"}],
        "threads": [{"thread_id": 1, "native_id": None, "crashed": True,
                     "frames": [{"function": "f", "filename": "a.py", "line": 3, "locals": [loc]}]}],
        "roots": {"interpreter": 1, "held_from_outside": 0, "held_from_outside_bytes": 0, "labelled": True, "edge_labels": True},
        "retained": {"heap_objects": 1, "heap_bytes": 64, "top_level_bytes": 64, "unrooted_objects": 0, "unrooted_bytes": 0,
                     "types": [{"name": "dict", "retained_bytes": 64}],
                     "top": [{"address": 16, "type": "dict", "shallow": 64, "retained": 64, "retained_native": 0,
                              "path": path, "path_elided": 0, "allocated_at": site}]},
        "leak_suspects": [{"kind": "accumulation", "type": "dict", "address": 16, "objects": 1, "excess_refs": 0,
                           "retained_bytes": 64, "native_bytes": 0, "holds": {"type": "str", "count": 1, "retained_bytes": 8},
                           "path": path, "path_elided": 0, "allocated_at": site, "sentence": "s"}],
        "held_by_c": {"objects": 0, "bytes": 0, "types": [{"type": "type", "objects": 1, "excess_refs": 1, "bytes": 8,
                                                          "retained_bytes": 8, "example": 8, "reason": "r"}]},
        "waste": {"available": True,
                  "duplicate_str": {"groups": 1, "copies": 2, "wasted_bytes": 50, "top": [{"preview": "'a'", "copies": 2,
                                                                                       "wasted_bytes": 50, "address": 8}]},
                  "duplicate_bytes": {"groups": 0, "copies": 0, "wasted_bytes": 0, "top": []},
                  "empty_containers": {"count": 1, "bytes": 64, "types": [{"name": "dict", "count": 1, "bytes": 64}]},
                  "mostly_empty_containers": {"count": 0, "bytes": 0, "types": []}},
        "memory": {"available": True, "total_bytes": 64, "mappings": 1, "categories": [{"name": "python_objects", "bytes": 64}],
                   "pymalloc": {"found": True, "how": "symbols", "arenas": 1, "size_classes": [
                       {"block_size": 16, "pools": 1, "used_blocks": 1, "free_blocks": 1}]},
                   "malloc": {"allocator": "glibc", "walked": True, "how": "h", "arenas": [{"address": 1, "main": True}]},
                   "native_by_type": [{"type": "numpy.ndarray", "objects": 1, "bytes": 8, "inferred_bytes": 0}],
                   "largest_unattributed": [{"address": 8, "bytes": 8}]},
        "allocations": {"tracing": True, "available": True, "max_frames": 1, "traced_bytes": 1, "peak_bytes": 1, "traces": 1,
                        "by_line": [{"filename": "a.py", "line": 1, "bytes": 1, "count": 1}],
                        "by_traceback": [{"frames": [{"filename": "b.py", "line": 2}], "bytes": 1, "count": 1}]},
        "warnings": ["w \x1b[31m"],
    }
    text = json.dumps(rep, indent=1).encode()
    out = {"report.json": text, "report-ascii.json": json.dumps(rep, ensure_ascii=True).encode(),
           "report-cut.json": text[:len(text) // 2],
           "report-v2.json": text.replace(b"report/3", b"report/2"),
           "hostile.json": b'{"schema":"pyheap-analyze.report/3","a":[1e999,-0,"\\ud800",[[[[]]]]]}'}
    z = zstd(text)
    if z:
        out["report.json.zst"] = z
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    args = ap.parse_args()
    seeds = {t: {} for t in ("fuzz_elfcore", "fuzz_notes", "fuzz_snapshot", "fuzz_snapshot_report",
                             "fuzz_zstd", "fuzz_memory", "fuzz_json", "fuzz_report_read")}
    std = std_core()
    e = seeds["fuzz_elfcore"]
    e["std.elf"] = std
    e["xnum.elf"] = std_core(xnum=True)
    e["omitted-loads.elf"] = omitted_core()
    e["cut-in-load.elf"] = std[:len(std) - 300]
    e["executable.elf"] = std_core(e_type=2)[:1024]
    z = zstd(std)
    if z:
        e["std.elf.zst"] = z
    # The PT_NOTE segment alone.
    notes_off, = struct.unpack_from("<Q", std, 64 + 8)
    notes_len, = struct.unpack_from("<Q", std, 64 + 32)
    seeds["fuzz_notes"]["std.notes"] = std[notes_off:notes_off + notes_len]
    om = omitted_core()
    o_off, = struct.unpack_from("<Q", om, 64 + 8)
    o_len, = struct.unpack_from("<Q", om, 64 + 32)
    seeds["fuzz_notes"]["nt-file.notes"] = om[o_off:o_off + o_len]
    fixture = open(os.path.join(root, "fixtures", "snapshot-v1-small.msgpack"), "rb").read()
    for t in ("fuzz_snapshot", "fuzz_snapshot_report"):
        seeds[t]["small.msgpack"] = fixture
        z = zstd(fixture)
        if z:
            seeds[t]["small.msgpack.zst"] = z
    zs = seeds["fuzz_zstd"]
    for name, data, extra in (("std.elf.zst", std, ()), ("small.msgpack.zst", fixture, ()),
                              ("checksum.zst", std[:2000], ("--check",))):
        z = zstd(data, extra)
        if z:
            zs[name] = z
    if "std.elf.zst" in zs and "small.msgpack.zst" in zs:
        zs["two-frames.zst"] = zs["std.elf.zst"] + zs["small.msgpack.zst"]
        zs["skippable-then-frame.zst"] = struct.pack("<II", 0x184D2A50, 8) + bytes(8) + zs["std.elf.zst"]
    seeds["fuzz_memory"].update(memory_ops())
    seeds["fuzz_report_read"].update(report_seeds())
    seeds["fuzz_json"].update({
        "mixed.txt": "plain é 😀 \x1b[31m".encode() + b"\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82",
        "bidi.txt": "a\u202eb\u2066c\u200bd\u2028e\ufeff\x7f\x85".encode(),
    })
    for t, files in seeds.items():
        d = os.path.join(args.out, t)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    total = sum(len(v) for files in seeds.values() for v in files.values())
    print("wrote %d seeds, %d bytes, into %s" % (sum(map(len, seeds.values())), total, args.out))


if __name__ == "__main__":
    main()
