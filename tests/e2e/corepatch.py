"""Patch words of a copy of a real core: map a virtual address to its file
offset through the PT_LOAD headers (ELF64 little-endian cores only), read and
write 8-byte words there.  Used by run_hostile.py to corrupt one or two words
of a real interpreter's heap the way a bad core (or a hostile one) would.

    c = CoreImage(path)          # reads the whole file into memory
    c.read64(addr) / c.write64(addr, value) / c.save(dst)
"""

import struct

PT_LOAD = 1


class NotMapped(Exception):
    pass


class CoreImage:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("%s: not an ELF64 little-endian file" % path)
        e_phoff, = struct.unpack_from("<Q", d, 0x20)
        e_phentsize, e_phnum = struct.unpack_from("<HH", d, 0x36)
        self.loads = []
        for i in range(e_phnum):
            off = e_phoff + i * e_phentsize
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, _memsz = \
                struct.unpack_from("<IIQQQQQ", d, off)
            if p_type == PT_LOAD and p_filesz:
                self.loads.append((p_vaddr, p_filesz, p_offset))

    def offset(self, addr, size=8):
        """File offset of `size` bytes at virtual address `addr`."""
        for vaddr, filesz, foff in self.loads:
            if vaddr <= addr and addr + size <= vaddr + filesz:
                return foff + (addr - vaddr)
        raise NotMapped("0x%x is not in the core's file-backed memory" % addr)

    def readable(self, addr, size=8):
        try:
            self.offset(addr, size)
            return True
        except NotMapped:
            return False

    def read64(self, addr):
        return struct.unpack_from("<Q", self.data, self.offset(addr))[0]

    def write64(self, addr, value):
        struct.pack_into("<Q", self.data, self.offset(addr), value & (2 ** 64 - 1))

    def read32(self, addr):
        return struct.unpack_from("<I", self.data, self.offset(addr, 4))[0]

    def write32(self, addr, value):
        struct.pack_into("<I", self.data, self.offset(addr, 4), value & (2 ** 32 - 1))

    def save(self, dst):
        with open(dst, "wb") as f:
            f.write(self.data)
