#include "elfcore.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zstdio.h"
#include "le.h"

/* Layout of the x86-64 core notes (struct elf_prstatus / elf_prpsinfo of
 * the kernel's 64-bit ABI). Offsets rather than the C structs because the
 * file's layout must not depend on the headers of the machine we run on. */
enum {
	PRSTATUS_SI_SIGNO = 0,		/* pr_info.si_signo, int */
	PRSTATUS_CURSIG = 12,		/* pr_cursig, short */
	PRSTATUS_PID = 32,		/* pr_pid, int */
	PRSTATUS_REG = 112,		/* pr_reg: struct user_regs_struct */
	PRSTATUS_NREG = 27,
	PRSTATUS_MIN_SIZE = PRSTATUS_REG + PRSTATUS_NREG * 8,
	REG_RBP = 4,
	REG_RIP = 16,
	REG_RSP = 19,
	REG_FS_BASE = 21,

	PRPSINFO_PID = 24,
	PRPSINFO_FNAME = 40,		/* char[16] */
	PRPSINFO_PSARGS = 56,		/* char[80] */
	PRPSINFO_MIN_SIZE = PRPSINFO_PSARGS + 80,
};

/* NT_FILE's number; older <elf.h> lack it. */
#define PHA_NT_FILE 0x46494c45

/* A bounds-checked reader over [base, base+size): every note field goes
 * through it, so a lying size field can never make us read past the data.
 * Invariant: pos <= size. */
struct cursor {
	const uint8_t *base;
	size_t size;
	size_t pos;
};

static const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (n > c->size - c->pos)
		return NULL;
	const uint8_t *p = c->base + c->pos;
	c->pos += n;
	return p;
}

static bool cur_u32(struct cursor *c, uint32_t *v)
{
	const uint8_t *p = cur_take(c, 4);
	if (p)
		*v = le32(p);
	return p != NULL;
}

static bool cur_u64(struct cursor *c, uint64_t *v)
{
	const uint8_t *p = cur_take(c, 8);
	if (p)
		*v = le64(p);
	return p != NULL;
}

/* Skip padding to the next multiple of align (relative to base). Padding
 * missing after the last note is tolerated: some writers omit it. */
static void cur_align(struct cursor *c, size_t align)
{
	size_t pad = (align - c->pos % align) % align;
	c->pos = pad > c->size - c->pos ? c->size : c->pos + pad;
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "EM_386";
	case EM_ARM: return "EM_ARM";
	case EM_AARCH64: return "EM_AARCH64";
	case EM_PPC: return "EM_PPC";
	case EM_PPC64: return "EM_PPC64";
	case EM_S390: return "EM_S390";
	case EM_MIPS: return "EM_MIPS";
	case EM_RISCV: return "EM_RISCV";
	case EM_SPARCV9: return "EM_SPARCV9";
	case EM_LOONGARCH: return "EM_LOONGARCH";
	default: return NULL;
	}
}

/* Appended to sizes in messages about a compressed core: they count bytes
 * of the decompressed data, not of the file the user gave. */
static const char *size_note(const struct pha_core *core)
{
	return core->compressed ? " (after zstd decompression)" : "";
}

static struct pha_error *check_ehdr(const struct pha_core *core)
{
	const uint8_t *p = core->map;
	size_t size = core->size;

	/* A file that is a prefix of the ELF magic was cut, not mistaken. */
	if (size < SELFMAG && memcmp(p, ELFMAG, size) == 0)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: truncated: ELF header needs %zu bytes, file has %zu%s",
					core->path, sizeof(Elf64_Ehdr), size, size_note(core));
	if (size < SELFMAG || memcmp(p, ELFMAG, SELFMAG) != 0)
		return pha_error_create(PHA_ERR_INPUT, "%s: not an ELF file (bad magic)", core->path);
	if (size < EI_NIDENT)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: truncated: ELF header needs %zu bytes, file has %zu%s",
					core->path, sizeof(Elf64_Ehdr), size, size_note(core));
	if (p[EI_CLASS] != ELFCLASS64)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: %s ELF file (only 64-bit x86-64 cores are supported)",
					core->path, p[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown-class");
	if (p[EI_DATA] != ELFDATA2LSB)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: %s ELF file (only little-endian x86-64 cores are supported)",
					core->path, p[EI_DATA] == ELFDATA2MSB ? "big-endian" : "unknown-byte-order");
	if (size < sizeof(Elf64_Ehdr))
		return pha_error_create(PHA_ERR_INPUT,
					"%s: truncated: ELF header needs %zu bytes, file has %zu%s",
					core->path, sizeof(Elf64_Ehdr), size, size_note(core));

	unsigned type = le16(p + offsetof(Elf64_Ehdr, e_type));
	switch (type) {
	case ET_CORE:
		break;
	case ET_EXEC:
		return pha_error_create(PHA_ERR_INPUT,
					"%s: ELF executable, not a core file (e_type ET_EXEC)", core->path);
	case ET_DYN:
		return pha_error_create(PHA_ERR_INPUT,
					"%s: ELF shared object or PIE executable, not a core file (e_type ET_DYN)",
					core->path);
	case ET_REL:
		return pha_error_create(PHA_ERR_INPUT,
					"%s: ELF relocatable object, not a core file (e_type ET_REL)",
					core->path);
	default:
		return pha_error_create(PHA_ERR_INPUT, "%s: ELF file of type %u, not a core file",
					core->path, type);
	}

	unsigned machine = le16(p + offsetof(Elf64_Ehdr, e_machine));
	if (machine != EM_X86_64) {
		const char *name = machine_name(machine);
		if (name)
			return pha_error_create(PHA_ERR_INPUT,
				"%s: unsupported architecture %s (only x86-64 cores are supported)",
				core->path, name);
		return pha_error_create(PHA_ERR_INPUT,
			"%s: unsupported architecture (e_machine %u; only x86-64 cores are supported)",
			core->path, machine);
	}
	return NULL;
}

/* Number of program headers, which the ELF header holds unless it is
 * PN_XNUM; then (cores of processes with more than 65534 mappings) the
 * real count is in sh_info of section header 0. */
static struct pha_error *phdr_count(const struct pha_core *core, uint64_t *phnum_ret)
{
	const uint8_t *p = core->map;
	uint64_t phnum = le16(p + offsetof(Elf64_Ehdr, e_phnum));
	if (phnum == PN_XNUM) {
		uint64_t shoff = le64(p + offsetof(Elf64_Ehdr, e_shoff));
		unsigned shentsize = le16(p + offsetof(Elf64_Ehdr, e_shentsize));
		if (shoff == 0 || shentsize < sizeof(Elf64_Shdr))
			return pha_error_create(PHA_ERR_INPUT,
				"%s: e_phnum is PN_XNUM but there is no section header 0 with the real count",
				core->path);
		if (shoff > core->size || core->size - shoff < sizeof(Elf64_Shdr))
			return pha_error_create(PHA_ERR_INPUT,
				"%s: truncated: section header 0 needs %zu bytes at offset %llu, file has %zu%s",
				core->path, sizeof(Elf64_Shdr), (unsigned long long)shoff,
				core->size, size_note(core));
		phnum = le32(p + shoff + offsetof(Elf64_Shdr, sh_info));
	}
	if (phnum == 0)
		return pha_error_create(PHA_ERR_INPUT, "%s: core has no program headers", core->path);
	*phnum_ret = phnum;
	return NULL;
}

static bool is_core_name(const uint8_t *name, uint32_t namesz)
{
	/* "CORE" with its NUL (namesz 5); accept a writer that left the NUL out. */
	return (namesz == 5 && memcmp(name, "CORE", 5) == 0) ||
	       (namesz == 4 && memcmp(name, "CORE", 4) == 0);
}

static struct pha_error *note_prstatus(struct pha_core *core, const uint8_t *d, size_t n)
{
	if (n < PRSTATUS_MIN_SIZE)
		return NULL;	/* not the x86-64 layout: ignore rather than misread */
	if (core->nthreads % 16 == 0) {
		struct pha_core_thread *t = realloc(core->threads,
						    (core->nthreads + 16) * sizeof(*t));
		if (!t)
			return &pha_enomem;
		core->threads = t;
	}
	const uint8_t *reg = d + PRSTATUS_REG;
	struct pha_core_thread *t = &core->threads[core->nthreads++];
	t->tid = (int32_t)le32(d + PRSTATUS_PID);
	t->signo = (int16_t)le16(d + PRSTATUS_CURSIG);
	t->rbp = le64(reg + REG_RBP * 8);
	t->rip = le64(reg + REG_RIP * 8);
	t->rsp = le64(reg + REG_RSP * 8);
	t->fs_base = le64(reg + REG_FS_BASE * 8);
	if (core->nthreads == 1) {
		/* pr_cursig is the signal being delivered; gdb's gcore leaves it 0
		 * and only fills si_signo, so fall back to that. */
		core->signo = t->signo ? t->signo : (int32_t)le32(d + PRSTATUS_SI_SIGNO);
	}
	return NULL;
}

/* Copy a fixed-size, possibly unterminated char array; drop trailing blanks
 * (the kernel turns argv's NULs into spaces). */
static void copy_field(char *dst, size_t dstsize, const uint8_t *src, size_t srcsize)
{
	size_t n = srcsize < dstsize - 1 ? srcsize : dstsize - 1;
	const uint8_t *nul = memchr(src, 0, n);
	if (nul)
		n = (size_t)(nul - src);
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static void note_prpsinfo(struct pha_core *core, const uint8_t *d, size_t n)
{
	if (n < PRPSINFO_MIN_SIZE)
		return;
	core->pid = (int32_t)le32(d + PRPSINFO_PID);
	copy_field(core->fname, sizeof(core->fname), d + PRPSINFO_FNAME, 16);
	copy_field(core->psargs, sizeof(core->psargs), d + PRPSINFO_PSARGS, 80);
	core->have_prpsinfo = true;
}

static void note_auxv(struct pha_core *core, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 16 <= n; i += 16) {
		uint64_t type = le64(d + i), val = le64(d + i + 8);
		if (type == AT_NULL)
			break;
		switch (type) {
		case AT_EXECFN: core->auxv_execfn = val; break;
		case AT_PHDR: core->auxv_phdr = val; break;
		case AT_ENTRY: core->auxv_entry = val; break;
		case AT_BASE: core->auxv_base = val; break;
		}
	}
}

/* NT_FILE: count, page size, count x {start, end, page offset}, then count
 * NUL-terminated paths. Malformed entries are dropped rather than trusted;
 * a path table cut short keeps the entries whose paths are complete. */
static struct pha_error *note_file(struct pha_core *core, const uint8_t *d, size_t n)
{
	if (core->mappings)
		return NULL;	/* only the first NT_FILE counts */
	struct cursor c = { d, n, 0 };
	uint64_t count, page_size;
	if (!cur_u64(&c, &count) || !cur_u64(&c, &page_size) || page_size == 0)
		return NULL;
	if (count > (c.size - c.pos) / 24)
		return NULL;
	if (count == 0)
		return NULL;
	const uint8_t *table = cur_take(&c, (size_t)count * 24);
	struct pha_core_mapping *maps = calloc((size_t)count, sizeof(*maps));
	if (!maps)
		return &pha_enomem;
	size_t nmaps = 0;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *name = c.base + c.pos;
		const uint8_t *nul = memchr(name, 0, c.size - c.pos);
		if (!nul)
			break;
		c.pos += (size_t)(nul - name) + 1;
		uint64_t start = le64(table + i * 24);
		uint64_t end = le64(table + i * 24 + 8);
		uint64_t pgoff = le64(table + i * 24 + 16);
		if (end <= start || pgoff > UINT64_MAX / page_size)
			continue;
		char *path = strndup((const char *)name, (size_t)(nul - name));
		if (!path) {
			for (size_t j = 0; j < nmaps; j++)
				free(maps[j].path);
			free(maps);
			return &pha_enomem;
		}
		maps[nmaps++] = (struct pha_core_mapping){
			.start = start, .end = end, .offset = pgoff * page_size, .path = path,
		};
	}
	if (nmaps == 0) {
		free(maps);
		return NULL;
	}
	core->mappings = maps;
	core->nmappings = nmaps;
	core->page_size = page_size;
	return NULL;
}

/* Walk the notes of one PT_NOTE segment ([p, p+len) is what the file has of
 * it). A note that does not fit ends the walk: the segment was cut by
 * truncation (the caller flags that) or is malformed; either way what
 * follows cannot be located. */
struct pha_error *pha_core_parse_notes(struct pha_core *core, const uint8_t *p, size_t len)
{
	struct cursor c = { p, len, 0 };
	struct pha_error *err = NULL;
	while (!err && c.size - c.pos >= 12) {
		uint32_t namesz = 0, descsz = 0, type = 0;
		if (!cur_u32(&c, &namesz) || !cur_u32(&c, &descsz) || !cur_u32(&c, &type))
			break;
		const uint8_t *name = cur_take(&c, namesz);
		if (!name)
			break;
		cur_align(&c, 4);
		const uint8_t *desc = cur_take(&c, descsz);
		if (!desc)
			break;
		cur_align(&c, 4);
		if (!is_core_name(name, namesz))
			continue;	/* "LINUX" (xstate, ...), "GDB": nothing we use */
		switch (type) {
		case NT_PRSTATUS: err = note_prstatus(core, desc, descsz); break;
		case NT_PRPSINFO: note_prpsinfo(core, desc, descsz); break;
		case NT_AUXV: note_auxv(core, desc, descsz); break;
		case PHA_NT_FILE: err = note_file(core, desc, descsz); break;
		}
	}
	return err;
}

/* Where the program headers are: checked to lie inside the file. */
static struct pha_error *phdr_table(const struct pha_core *core, uint64_t *phoff_ret,
				    uint64_t *phentsize_ret, uint64_t *phnum_ret)
{
	struct pha_error *err;
	const uint8_t *p = core->map;
	uint64_t phnum = 0;
	if ((err = check_ehdr(core)) || (err = phdr_count(core, &phnum)))
		return err;
	uint64_t phoff = le64(p + offsetof(Elf64_Ehdr, e_phoff));
	uint64_t phentsize = le16(p + offsetof(Elf64_Ehdr, e_phentsize));
	if (phentsize < sizeof(Elf64_Phdr))
		return pha_error_create(PHA_ERR_INPUT,
					"%s: program header entry size %llu is too small (need %zu)",
					core->path, (unsigned long long)phentsize, sizeof(Elf64_Phdr));
	/* phnum < 2^32 and phentsize < 2^16: the product cannot overflow. */
	uint64_t phsize = phnum * phentsize;
	if (phoff > core->size || core->size - phoff < phsize)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: truncated: %llu program headers need bytes %llu..%llu, "
					"file has %zu%s",
					core->path, (unsigned long long)phnum,
					(unsigned long long)phoff, (unsigned long long)(phoff + phsize),
					core->size, size_note(core));
	*phoff_ret = phoff;
	*phentsize_ret = phentsize;
	*phnum_ret = phnum;
	return NULL;
}

/* A PT_NOTE segment: what the file has of it. */
struct note_seg {
	uint64_t offset, avail;
};

static int cmp_note_seg(const void *a, const void *b)
{
	const struct note_seg *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Parse the PT_NOTE segments in file order, each byte at most once: a core
 * has one PT_NOTE (the kernel's and gdb's), and headers pointing thousands
 * of times at the same notes (hostile) would multiply the threads and the
 * parsing time by their number. A segment overlapping one parsed already
 * is skipped. */
static struct pha_error *parse_note_segments(struct pha_core *core, struct note_seg *ns, size_t n)
{
	struct pha_error *err;
	uint64_t covered = 0;
	qsort(ns, n, sizeof(*ns), cmp_note_seg);
	for (size_t i = 0; i < n; i++) {
		if (ns[i].avail == 0 || ns[i].offset < covered)
			continue;
		if ((err = pha_core_parse_notes(core, core->map + ns[i].offset, (size_t)ns[i].avail)))
			return err;
		covered = ns[i].offset + ns[i].avail;
	}
	return NULL;
}

/* One PT_LOAD into core->loads. */
static struct pha_error *add_load(struct pha_core *core, const uint8_t *ph, uint64_t offset,
				  uint64_t filesz, uint64_t avail)
{
	uint64_t vaddr = le64(ph + offsetof(Elf64_Phdr, p_vaddr));
	uint64_t memsz = le64(ph + offsetof(Elf64_Phdr, p_memsz));
	if (filesz > memsz)
		return pha_error_create(PHA_ERR_INPUT,
			"%s: PT_LOAD at 0x%llx: p_filesz 0x%llx exceeds p_memsz 0x%llx",
			core->path, (unsigned long long)vaddr,
			(unsigned long long)filesz, (unsigned long long)memsz);
	if (vaddr + memsz < vaddr)
		return pha_error_create(PHA_ERR_INPUT,
			"%s: PT_LOAD at 0x%llx of size 0x%llx wraps around the address space",
			core->path, (unsigned long long)vaddr, (unsigned long long)memsz);
	if (avail < filesz) {
		core->truncated = true;
		core->truncated_bytes += filesz - avail;
	}
	core->loads[core->nloads++] = (struct pha_core_load){
		.vaddr = vaddr, .memsz = memsz, .filesz = filesz, .offset = offset,
		.flags = le32(ph + offsetof(Elf64_Phdr, p_flags)), .avail = avail,
	};
	return NULL;
}

static struct pha_error *parse(struct pha_core *core)
{
	struct pha_error *err;
	const uint8_t *p = core->map;
	uint64_t phoff = 0, phentsize = 0, phnum = 0;
	if ((err = phdr_table(core, &phoff, &phentsize, &phnum)))
		return err;

	size_t nloads = 0, nnotes = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		uint32_t type = le32(p + phoff + i * phentsize + offsetof(Elf64_Phdr, p_type));
		nloads += type == PT_LOAD;
		nnotes += type == PT_NOTE;
	}
	if (nloads == 0)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: core has no PT_LOAD segments (no process memory)", core->path);
	core->loads = calloc(nloads, sizeof(*core->loads));
	struct note_seg *ns = calloc(nnotes ? nnotes : 1, sizeof(*ns));
	if (!core->loads || !ns) {
		free(ns);
		return &pha_enomem;
	}

	uint64_t total_avail = 0, first_offset = UINT64_MAX;
	size_t k = 0;
	for (uint64_t i = 0; i < phnum && !err; i++) {
		const uint8_t *ph = p + phoff + i * phentsize;
		uint32_t type = le32(ph + offsetof(Elf64_Phdr, p_type));
		uint64_t offset = le64(ph + offsetof(Elf64_Phdr, p_offset));
		uint64_t filesz = le64(ph + offsetof(Elf64_Phdr, p_filesz));
		/* Bytes of [offset, offset+filesz) that the file really has. */
		uint64_t avail = offset >= core->size ? 0 :
				 filesz < core->size - offset ? filesz : core->size - offset;
		if (type == PT_NOTE) {
			if (avail < filesz)
				core->truncated = true;
			ns[k++] = (struct note_seg){ offset, avail };
		} else if (type == PT_LOAD && !(err = add_load(core, ph, offset, filesz, avail))) {
			if (filesz > 0 && offset < first_offset)
				first_offset = offset;
			total_avail += avail;
		}
	}
	if (!err)
		err = parse_note_segments(core, ns, k);
	free(ns);
	if (err)
		return err;

	if (total_avail == 0) {
		if (core->truncated)
			return pha_error_create(PHA_ERR_INPUT,
				"%s: truncated beyond use: file has %zu bytes%s but the first of its %zu "
				"memory segments starts at offset %llu",
				core->path, core->size, size_note(core), core->nloads,
				(unsigned long long)first_offset);
		return pha_error_create(PHA_ERR_INPUT,
			"%s: core holds no memory contents (every PT_LOAD has p_filesz 0)", core->path);
	}
	return NULL;
}

/* The decompressed data of a .zst core must start like an ELF file; the
 * rest of the ELF header is checked by check_ehdr, with its messages. */
static bool elf_head_ok(const uint8_t *head, size_t len)
{
	return memcmp(head, ELFMAG, len < SELFMAG ? len : SELFMAG) == 0;
}

static const struct pha_zstd_expect core_expect = {
	.what = "core",
	.head_ok = elf_head_ok,
	.head_len = SELFMAG,
	.mismatch = "not an ELF file (bad magic after zstd decompression)",
};

/* Replace the user's file with its decompressed copy. */
static struct pha_error *decompress(struct pha_core *core)
{
	int tfd;
	uint64_t tsize;
	struct pha_error *err = pha_zstd_decompress_to_tmpfile(core->fd, core->path, &core_expect,
							       &tfd, &tsize);
	if (err)
		return err;
	munmap((void *)core->map, core->size);
	core->map = NULL;
	close(core->fd);
	core->fd = tfd;
	core->compressed = true;
	if (tsize == 0)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: empty file (its zstd data decompresses to nothing)", core->path);
	if (tsize > SIZE_MAX)
		return pha_error_create(PHA_ERR_INPUT, "%s: decompressed core too large to map",
					core->path);
	void *map = mmap(NULL, (size_t)tsize, PROT_READ, MAP_PRIVATE, tfd, 0);
	if (map == MAP_FAILED)
		return pha_error_errno(PHA_ERR_INTERNAL, errno,
				       "%s: cannot map the decompressed core (%llu bytes)",
				       core->path, (unsigned long long)tsize);
	core->map = map;
	core->size = (size_t)tsize;
	return NULL;
}

struct pha_error *pha_core_open(const char *path, struct pha_core **core_ret)
{
	struct pha_error *err;
	struct stat st;
	struct pha_core *core = calloc(1, sizeof(*core));
	if (!core)
		return &pha_enomem;
	core->fd = -1;
	if (!(core->path = strdup(path))) {
		err = &pha_enomem;
		goto fail;
	}

	if ((err = pha_input_open(path, "core", &core->fd, &st)))
		goto fail;
	if (st.st_size == 0) {
		err = pha_error_create(PHA_ERR_INPUT, "%s: empty file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		err = pha_error_create(PHA_ERR_INPUT, "%s: file too large to map", path);
		goto fail;
	}
	core->input_bytes = (uint64_t)st.st_size;
	core->size = (size_t)st.st_size;
	void *map = mmap(NULL, core->size, PROT_READ, MAP_PRIVATE, core->fd, 0);
	if (map == MAP_FAILED) {
		err = pha_error_errno(PHA_ERR_INPUT, errno, "%s: cannot map %zu bytes",
				      path, core->size);
		goto fail;
	}
	core->map = map;

	if (pha_zstd_is_frame(core->map, core->size) && (err = decompress(core)))
		goto fail;
	if ((err = parse(core)))
		goto fail;

	*core_ret = core;
	return NULL;
fail:
	pha_core_close(core);
	return err;
}

void pha_core_close(struct pha_core *core)
{
	if (!core)
		return;
	if (core->map)
		munmap((void *)core->map, core->size);
	if (core->fd >= 0)
		close(core->fd);
	for (size_t i = 0; i < core->nmappings; i++)
		free(core->mappings[i].path);
	free(core->mappings);
	free(core->threads);
	free(core->loads);
	free(core->path);
	free(core);
}

struct pha_error *pha_core_memory(const struct pha_core *core, struct pha_memory *mem)
{
	struct pha_error *err;
	for (size_t i = 0; i < core->nloads; i++) {
		const struct pha_core_load *l = &core->loads[i];
		if ((err = pha_memory_add(mem, l->vaddr, l->avail,
					  l->avail ? core->map + l->offset : NULL,
					  PHA_SEG_CORE, l->flags)) ||
		    (err = pha_memory_add(mem, l->vaddr + l->avail, l->memsz - l->avail, NULL,
					  PHA_SEG_MISSING, l->flags)))
			return pha_error_prefix(err, "%s", core->path);
	}
	if ((err = pha_memory_finish(mem)))
		return pha_error_prefix(err, "%s", core->path);
	return NULL;
}

bool pha_memory_read_cstr(const struct pha_memory *mem, uint64_t addr, char *buf, size_t size)
{
	if (size == 0)
		return false;
	size_t len = 0;
	buf[0] = '\0';
	/* Segment by segment, so that a string running into unreadable memory
	 * fails instead of being read byte by byte up to the fault. */
	while (len < size) {
		const struct pha_segment *s = pha_memory_find(mem, addr);
		if (!s || !s->data)
			break;
		size_t n = s->end - addr < size - len ? (size_t)(s->end - addr) : size - len;
		const uint8_t *src = s->data + (addr - s->start);
		const uint8_t *nul = memchr(src, 0, n);
		if (nul) {
			memcpy(buf + len, src, (size_t)(nul - src) + 1);
			return true;
		}
		memcpy(buf + len, src, n);
		len += n;
		addr += n;
		if (addr == 0)
			break;	/* wrapped past the top of the address space */
	}
	buf[0] = '\0';	/* no complete string: do not hand out a partial one */
	return false;
}
