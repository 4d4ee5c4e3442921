/* Unit tests of formats/elfcore.c, formats/zstdio.c and formats/elffile.c.
 *
 * Synthetic cores are written at test time into a temporary directory, so
 * every byte is known: notes, PT_LOAD contents, truncations, corruptions.
 * The test binary itself stands in for a mapped ELF file (it has a
 * build-id and a symbol table). A real core is made with gcore when it is
 * available, and with the kernel when core dumps land in the current
 * directory.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "../../formats/elfcore.h"
#include "../../formats/elffile.h"
#include "../../formats/zstdio.h"
#include "check.h"

#define PHA_NT_FILE 0x46494c45

static char tmpdir[4096];

/* ---- a growable byte buffer ---------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void reserve(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p) {
		perror("realloc");
		exit(2);
	}
	b->cap = cap;
}

static void put(struct buf *b, const void *data, size_t n)
{
	reserve(b, n);
	if (data)
		memcpy(b->p + b->len, data, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, 8); }

static void pad_to(struct buf *b, size_t align)
{
	while (b->len % align)
		put(b, NULL, 1);
}

static void set_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void set_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void set_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void note(struct buf *b, const char *name, uint32_t type, const void *desc, size_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	put_u32(b, namesz);
	put_u32(b, (uint32_t)descsz);
	put_u32(b, type);
	put(b, name, namesz);
	pad_to(b, 4);
	put(b, desc, descsz);
	pad_to(b, 4);
}

/* ---- synthetic cores ----------------------------------------------------- */

struct load_spec {
	uint64_t vaddr, memsz, filesz;
	uint32_t flags;
	const uint8_t *data;	/* filesz bytes */
};

struct map_spec {
	uint64_t start, end, pgoff;
	const char *path;
};

struct core_spec {
	uint16_t e_type, e_machine;
	uint8_t ei_class, ei_data;
	const struct load_spec *loads;
	size_t nloads;
	const struct map_spec *maps;
	size_t nmaps;
	uint64_t page_size;
	int nthreads;
	uint64_t auxv_execfn, auxv_phdr, auxv_entry, auxv_base;
};

struct built {
	struct buf b;
	size_t phdrs_off, notes_off, notes_end;
	size_t load_off[8];
};

static void thread_regs(int i, uint64_t *rip, uint64_t *rsp, uint64_t *rbp, uint64_t *fs)
{
	*rip = 0x401000 + (uint64_t)i;
	*rsp = 0x7ffd00000000 + (uint64_t)i * 0x100;
	*rbp = *rsp + 0x40;
	*fs = 0x7f00000a0000 + (uint64_t)i * 0x1000;
}

static void build_core(const struct core_spec *s, struct built *out)
{
	struct buf *b = &out->b;
	memset(out, 0, sizeof(*out));
	size_t nph = 1 + s->nloads;

	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F' };
	eh[EI_CLASS] = s->ei_class ? s->ei_class : ELFCLASS64;
	eh[EI_DATA] = s->ei_data ? s->ei_data : ELFDATA2LSB;
	eh[EI_VERSION] = EV_CURRENT;
	set_u16(eh + 16, s->e_type ? s->e_type : ET_CORE);
	set_u16(eh + 18, s->e_machine ? s->e_machine : EM_X86_64);
	set_u32(eh + 20, EV_CURRENT);
	set_u64(eh + 32, 64);		/* e_phoff */
	set_u16(eh + 52, 64);		/* e_ehsize */
	set_u16(eh + 54, 56);		/* e_phentsize */
	set_u16(eh + 56, (uint16_t)nph);
	put(b, eh, sizeof(eh));
	out->phdrs_off = b->len;
	put(b, NULL, nph * 56);

	/* Notes, in the kernel's order; names of odd length test padding. */
	out->notes_off = b->len;
	uint8_t pr[136] = { 0 };
	set_u32(pr + 24, 4242);
	memcpy(pr + 40, "fakeprog-long-na", 16);	/* exactly 16, no NUL */
	memcpy(pr + 56, "fakeprog --flag value  ", 23);
	note(b, "CORE", NT_PRPSINFO, pr, sizeof(pr));
	for (int i = 0; i < s->nthreads; i++) {
		uint8_t st[336] = { 0 };
		uint64_t rip, rsp, rbp, fs;
		thread_regs(i, &rip, &rsp, &rbp, &fs);
		set_u32(st + 0, 11);
		set_u16(st + 12, i == 0 ? 11 : 0);
		set_u32(st + 32, 1000 + (uint32_t)i);
		set_u64(st + 112 + 4 * 8, rbp);
		set_u64(st + 112 + 16 * 8, rip);
		set_u64(st + 112 + 19 * 8, rsp);
		set_u64(st + 112 + 21 * 8, fs);
		note(b, "CORE", NT_PRSTATUS, st, sizeof(st));
		uint8_t fp[512] = { 0 };
		note(b, "CORE", NT_FPREGSET, fp, sizeof(fp));
		uint8_t xs[40] = { 0 };
		note(b, "LINUX", 0x202, xs, sizeof(xs));	/* NT_X86_XSTATE: ignored */
	}
	uint64_t auxv[] = {
		AT_PHDR, s->auxv_phdr, AT_PAGESZ, 4096, AT_BASE, s->auxv_base,
		AT_ENTRY, s->auxv_entry, AT_EXECFN, s->auxv_execfn, AT_NULL, 0,
		AT_ENTRY, 0xbad,	/* after AT_NULL: must be ignored */
	};
	note(b, "CORE", NT_AUXV, auxv, sizeof(auxv));
	if (s->nmaps) {
		struct buf f = { 0 };
		put_u64(&f, s->nmaps);
		put_u64(&f, s->page_size);
		for (size_t i = 0; i < s->nmaps; i++) {
			put_u64(&f, s->maps[i].start);
			put_u64(&f, s->maps[i].end);
			put_u64(&f, s->maps[i].pgoff);
		}
		for (size_t i = 0; i < s->nmaps; i++)
			put(&f, s->maps[i].path, strlen(s->maps[i].path) + 1);
		note(b, "CORE", PHA_NT_FILE, f.p, f.len);
		free(f.p);
	}
	out->notes_end = b->len;

	pad_to(b, 4096);
	for (size_t i = 0; i < s->nloads; i++) {
		out->load_off[i] = b->len;
		put(b, s->loads[i].data, s->loads[i].filesz);
		pad_to(b, 4096);
	}
	/* The last segment ends the file (no padding after it), as in real
	 * cores, so a cut anywhere in it truncates it. */
	if (s->nloads) {
		const struct load_spec *l = &s->loads[s->nloads - 1];
		b->len = out->load_off[s->nloads - 1] + l->filesz;
	}

	uint8_t *ph = b->p + out->phdrs_off;
	set_u32(ph + 0, PT_NOTE);
	set_u64(ph + 8, out->notes_off);
	set_u64(ph + 32, out->notes_end - out->notes_off);
	for (size_t i = 0; i < s->nloads; i++) {
		uint8_t *p = ph + 56 * (i + 1);
		set_u32(p + 0, PT_LOAD);
		set_u32(p + 4, s->loads[i].flags);
		set_u64(p + 8, out->load_off[i]);
		set_u64(p + 16, s->loads[i].vaddr);
		set_u64(p + 32, s->loads[i].filesz);
		set_u64(p + 40, s->loads[i].memsz);
		set_u64(p + 48, 4096);
	}
}

static char *path_in_tmp(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		exit(2);
	return p;
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = path_in_tmp(name);
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

/* The standard synthetic core: two threads, two PT_LOADs (the second with
 * p_filesz < p_memsz), NT_FILE with two mappings. */
#define L1_VADDR 0x400000ULL
#define L1_SIZE 0x2000ULL
#define L2_VADDR 0x7f0000000000ULL
#define L2_FILESZ 0x1000ULL
#define L2_MEMSZ 0x3000ULL
#define EXECFN_ADDR (L2_VADDR + 0x100)
#define EXECFN "/usr/bin/fakeprog"

static uint8_t l1_data[L1_SIZE], l2_data[L2_FILESZ];

static const struct map_spec std_maps[] = {
	{ L1_VADDR, L1_VADDR + L1_SIZE, 0, EXECFN },
	{ L2_VADDR, L2_VADDR + L2_MEMSZ, 2, "/lib/x86_64-linux-gnu/libfake.so.1" },
};

static const struct load_spec std_loads[] = {
	{ L1_VADDR, L1_SIZE, L1_SIZE, PF_R | PF_X, l1_data },
	{ L2_VADDR, L2_MEMSZ, L2_FILESZ, PF_R | PF_W, l2_data },
};

static void std_spec(struct core_spec *s)
{
	for (size_t i = 0; i < sizeof(l1_data); i++)
		l1_data[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(l2_data); i++)
		l2_data[i] = (uint8_t)(i * 13 + 5);
	memcpy(l2_data + 0x100, EXECFN, sizeof(EXECFN));
	memset(s, 0, sizeof(*s));
	s->loads = std_loads;
	s->nloads = 2;
	s->maps = std_maps;
	s->nmaps = 2;
	s->page_size = 4096;
	s->nthreads = 2;
	s->auxv_execfn = EXECFN_ADDR;
	s->auxv_phdr = L1_VADDR + 64;
	s->auxv_entry = L1_VADDR + 0x1000;
	s->auxv_base = 0x7f1000000000;
}

/* ---- checks shared by several cases -------------------------------------- */

static void check_std_core(const struct pha_core *core)
{
	CHECK(core->nthreads == 2);
	for (size_t i = 0; i < core->nthreads && i < 2; i++) {
		uint64_t rip, rsp, rbp, fs;
		thread_regs((int)i, &rip, &rsp, &rbp, &fs);
		const struct pha_core_thread *t = &core->threads[i];
		CHECKF(t->tid == 1000 + (int)i, "tid %d", t->tid);
		CHECK(t->rip == rip && t->rsp == rsp && t->rbp == rbp && t->fs_base == fs);
	}
	CHECK(core->threads[0].signo == 11 && core->threads[1].signo == 0);
	CHECK(core->signo == 11);
	CHECK(core->have_prpsinfo);
	CHECK(core->pid == 4242);
	CHECKF(strcmp(core->fname, "fakeprog-long-na") == 0, "fname '%s'", core->fname);
	CHECKF(strcmp(core->psargs, "fakeprog --flag value") == 0, "psargs '%s'", core->psargs);
	CHECK(core->auxv_execfn == EXECFN_ADDR);
	CHECK(core->auxv_phdr == L1_VADDR + 64);
	CHECK(core->auxv_entry == L1_VADDR + 0x1000);
	CHECK(core->auxv_base == 0x7f1000000000);
	CHECK(core->page_size == 4096);
	CHECK(core->nmappings == 2);
	if (core->nmappings == 2) {
		CHECK(core->mappings[0].start == L1_VADDR && core->mappings[0].end == L1_VADDR + L1_SIZE);
		CHECK(core->mappings[0].offset == 0);
		CHECK(strcmp(core->mappings[0].path, EXECFN) == 0);
		CHECK(core->mappings[1].offset == 0x2000);
		CHECK(strcmp(core->mappings[1].path, "/lib/x86_64-linux-gnu/libfake.so.1") == 0);
	}
	CHECK(core->nloads == 2);
	if (core->nloads == 2) {
		CHECK(core->loads[0].vaddr == L1_VADDR && core->loads[0].avail == L1_SIZE);
		CHECK(core->loads[0].flags == (PF_R | PF_X));
		CHECK(core->loads[1].filesz == L2_FILESZ && core->loads[1].memsz == L2_MEMSZ);
	}
}

static void check_std_memory(const struct pha_core *core)
{
	struct pha_memory mem;
	pha_memory_init(&mem);
	CHECK(pha_core_memory(core, &mem) == NULL);
	uint8_t buf[256];
	uint64_t fault = 0;
	CHECK(pha_memory_read(&mem, L1_VADDR + 0x1f00, buf, 256, &fault));
	CHECK(memcmp(buf, l1_data + 0x1f00, 256) == 0);
	CHECK(pha_memory_read(&mem, L2_VADDR, buf, 256, &fault));
	CHECK(memcmp(buf, l2_data, 256) == 0);
	/* Into the p_filesz < p_memsz tail. */
	CHECK(!pha_memory_read(&mem, L2_VADDR + L2_FILESZ - 8, buf, 16, &fault));
	CHECKF(fault == L2_VADDR + L2_FILESZ, "fault 0x%llx", (unsigned long long)fault);
	const struct pha_segment *s = pha_memory_find(&mem, L2_VADDR + L2_FILESZ);
	CHECK(s && s->source == PHA_SEG_MISSING && s->end == L2_VADDR + L2_MEMSZ);
	CHECK(mem.missing_bytes == L2_MEMSZ - L2_FILESZ);
	char str[64];
	CHECK(pha_memory_read_cstr(&mem, EXECFN_ADDR, str, sizeof(str)));
	CHECK(strcmp(str, EXECFN) == 0);
	/* Too small a buffer, and a string running into the missing tail. */
	CHECK(!pha_memory_read_cstr(&mem, EXECFN_ADDR, str, 5) && str[0] == '\0');
	CHECK(!pha_memory_read_cstr(&mem, L2_VADDR + L2_FILESZ - 4, str, sizeof(str)));
	CHECK(!pha_memory_read_cstr(&mem, 0x1234, str, sizeof(str)));
	pha_memory_deinit(&mem);
}

/* Opening must fail with PHA_ERR_INPUT, a message naming the file and
 * containing needle, and must not touch *core_ret. */
static void expect_open_error(const char *path, const char *needle)
{
	struct pha_core *sentinel = (struct pha_core *)&tmpdir, *core = sentinel;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(err != NULL, "%s: opened, expected an error containing '%s'", path, needle);
	if (err) {
		CHECKF(err->kind == PHA_ERR_INPUT, "kind %d: %s", err->kind, err->message);
		CHECKF(strstr(err->message, path) != NULL, "message lacks the path: %s", err->message);
		CHECKF(!needle || strstr(err->message, needle), "message lacks '%s': %s", needle,
		       err->message);
	}
	CHECK(core == sentinel);
	pha_error_destroy(err);
	if (!err && core != sentinel)
		pha_core_close(core);
}

/* ---- cases --------------------------------------------------------------- */

static void test_parse(void)
{
	struct core_spec s;
	struct built bc;
	std_spec(&s);
	build_core(&s, &bc);
	char *path = write_file("core.std", bc.b.p, bc.b.len);

	CASE_BEGIN("elfcore_parse_synthetic_core");
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(err == NULL, "%s", err ? err->message : "");
	if (core) {
		check_std_core(core);
		CHECK(!core->compressed && !core->truncated && core->truncated_bytes == 0);
		CHECK(core->input_bytes == bc.b.len && core->size == bc.b.len);
		CHECK(strcmp(core->path, path) == 0);
	}
	CASE_END();

	CASE_BEGIN("elfcore_memory_reads_and_faults");
	if (core)
		check_std_memory(core);
	else
		CHECK(!"core did not open");
	CASE_END();
	pha_error_destroy(err);
	pha_core_close(core);
	pha_core_close(NULL);
	free(path);
	free(bc.b.p);
}

static void test_zstd(void)
{
	struct core_spec s;
	struct built bc;
	std_spec(&s);
	build_core(&s, &bc);
	size_t cap = ZSTD_compressBound(bc.b.len);
	uint8_t *z = malloc(cap);
	size_t zlen = ZSTD_compress(z, cap, bc.b.p, bc.b.len, 3);

	CASE_BEGIN("elfcore_zstd_compressed_core");
	CHECK(!ZSTD_isError(zlen));
	CHECK(pha_zstd_is_frame(z, zlen));
	CHECK(!pha_zstd_is_frame(bc.b.p, bc.b.len));
	CHECK(!pha_zstd_is_frame(z, 3));
	char *path = write_file("core.zst", z, zlen);
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(err == NULL, "%s", err ? err->message : "");
	if (core) {
		CHECK(core->compressed);
		CHECK(core->input_bytes == zlen);
		CHECK(core->size == bc.b.len);
		CHECK(memcmp(core->map, bc.b.p, bc.b.len) == 0);
		check_std_core(core);
		check_std_memory(core);
	}
	pha_error_destroy(err);
	pha_core_close(core);
	free(path);
	CASE_END();

	CASE_BEGIN("elfcore_zstd_corrupt_and_truncated");
	/* Cut inside the frame. */
	path = write_file("core-cut.zst", z, zlen / 2);
	expect_open_error(path, "corrupt zstd data");
	expect_open_error(path, "truncated");
	free(path);
	/* Magic only. */
	path = write_file("core-magic.zst", z, 4);
	expect_open_error(path, "corrupt zstd data");
	free(path);
	/* Damaged content: flip bytes after the frame header. */
	uint8_t *bad = malloc(zlen);
	memcpy(bad, z, zlen);
	for (size_t i = 12; i < zlen; i += 7)
		bad[i] ^= 0x5a;
	path = write_file("core-bad.zst", bad, zlen);
	expect_open_error(path, "corrupt zstd data");
	free(path);
	/* Trailing garbage after a complete frame. */
	memcpy(bad, z, zlen);
	uint8_t *tail = malloc(zlen + 16);
	memcpy(tail, z, zlen);
	memset(tail + zlen, 0x41, 16);
	path = write_file("core-tail.zst", tail, zlen + 16);
	expect_open_error(path, "corrupt zstd data");
	free(path);
	/* A valid frame holding nothing. */
	uint8_t empty_frame[64];
	size_t elen = ZSTD_compress(empty_frame, sizeof(empty_frame), "", 0, 1);
	CHECK(!ZSTD_isError(elen));
	path = write_file("core-empty.zst", empty_frame, elen);
	expect_open_error(path, "empty");
	free(path);
	/* A compressed non-core. */
	uint8_t text[] = "hello, this is not a core file at all\n";
	elen = ZSTD_compress(empty_frame, sizeof(empty_frame), text, sizeof(text), 1);
	path = write_file("text.zst", empty_frame, elen);
	expect_open_error(path, "not an ELF");
	free(path);
	free(tail);
	free(bad);
	CASE_END();
	free(z);
	free(bc.b.p);
}

static void test_truncated(void)
{
	struct core_spec s;
	struct built bc;
	std_spec(&s);
	build_core(&s, &bc);

	CASE_BEGIN("elfcore_truncated_headers_and_notes_rejected");
	size_t cuts[] = { 1, 4, 10, 40, 63, 64, 100, bc.phdrs_off + 56 * 3 - 1,
			  bc.notes_off + 20, (bc.notes_off + bc.notes_end) / 2, bc.notes_end - 1,
			  bc.notes_end, bc.load_off[0] };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "core.cut%zu", cuts[i]);
		char *path = write_file(name, bc.b.p, cuts[i]);
		expect_open_error(path, "truncated");
		free(path);
	}
	char *path = write_file("core.cut10", bc.b.p, 10);
	expect_open_error(path, "ELF header needs 64 bytes, file has 10");
	free(path);
	path = write_file("core.cutnotes", bc.b.p, bc.notes_end - 1);
	expect_open_error(path, "truncated beyond use");
	free(path);
	CASE_END();

	CASE_BEGIN("elfcore_truncated_inside_last_load");
	size_t cut = bc.load_off[1] + 0x800;
	path = write_file("core.cutload", bc.b.p, cut);
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(err == NULL, "%s", err ? err->message : "");
	if (core) {
		CHECK(core->truncated);
		CHECK(core->truncated_bytes == L2_FILESZ - 0x800);
		CHECK(core->loads[1].avail == 0x800);
		CHECK(core->nthreads == 2 && core->nmappings == 2);
		struct pha_memory mem;
		pha_memory_init(&mem);
		CHECK(pha_core_memory(core, &mem) == NULL);
		uint8_t buf[32];
		uint64_t fault = 0;
		CHECK(pha_memory_read(&mem, L2_VADDR + 0x7e0, buf, 32, &fault));
		CHECK(memcmp(buf, l2_data + 0x7e0, 32) == 0);
		CHECK(!pha_memory_read(&mem, L2_VADDR + 0x7f0, buf, 32, &fault));
		CHECKF(fault == L2_VADDR + 0x800, "fault 0x%llx", (unsigned long long)fault);
		CHECK(mem.missing_bytes == L2_MEMSZ - 0x800);
		pha_memory_deinit(&mem);
	}
	pha_error_destroy(err);
	pha_core_close(core);
	free(path);
	/* Inside the first PT_LOAD: the second has nothing left. */
	path = write_file("core.cutload1", bc.b.p, bc.load_off[0] + 0x100);
	core = NULL;
	err = pha_core_open(path, &core);
	CHECKF(err == NULL, "%s", err ? err->message : "");
	if (core) {
		CHECK(core->truncated);
		CHECK(core->truncated_bytes == (L1_SIZE - 0x100) + L2_FILESZ);
		CHECK(core->loads[0].avail == 0x100 && core->loads[1].avail == 0);
	}
	pha_error_destroy(err);
	pha_core_close(core);
	free(path);
	CASE_END();

	/* Every cut from 1 byte to just past the notes, then every 256 bytes:
	 * always either a clean PHA_ERR_INPUT naming the file or a core
	 * flagged truncated. (Run under ASan this is the bounds-check test.) */
	CASE_BEGIN("elfcore_truncated_at_every_offset");
	path = path_in_tmp("core.cutany");
	for (size_t n = 1; n < bc.b.len; n = n < bc.notes_end + 64 ? n + 1 : n + 256) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, bc.b.p, n) != (ssize_t)n || close(fd) != 0) {
			CHECK(!"cannot write test file");
			break;
		}
		core = NULL;
		err = pha_core_open(path, &core);
		if (err) {
			CHECKF(err->kind == PHA_ERR_INPUT && strstr(err->message, path),
			       "cut %zu: %s", n, err->message);
		} else {
			CHECKF(core->truncated, "cut %zu: not flagged truncated", n);
			struct pha_memory mem;
			pha_memory_init(&mem);
			CHECK(pha_core_memory(core, &mem) == NULL);
			pha_memory_deinit(&mem);
		}
		pha_error_destroy(err);
		pha_core_close(core);
		if (check_case_failed)
			break;
	}
	free(path);
	CASE_END();
	free(bc.b.p);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random damage to the headers and notes: no crash, no hang, no read out of
 * bounds; the result is an input error or a parsed core. */
static void test_fuzz(void)
{
	struct core_spec s;
	struct built bc;
	std_spec(&s);
	build_core(&s, &bc);
	char *path = path_in_tmp("core.fuzz");
	uint8_t *m = malloc(bc.b.len);
	int opened = 0, rejected = 0;

	CASE_BEGIN("elfcore_random_header_and_note_damage");
	for (int iter = 0; iter < 3000 && !check_case_failed; iter++) {
		memcpy(m, bc.b.p, bc.b.len);
		int flips = 1 + (int)(rng() % 8);
		for (int k = 0; k < flips; k++) {
			size_t at = (size_t)(rng() % bc.notes_end);
			switch (rng() % 4) {
			case 0: m[at] ^= (uint8_t)(1u << (rng() % 8)); break;
			case 1: m[at] = 0xff; break;
			case 2: m[at] = 0; break;
			default: /* a large 32-bit value at a 4-aligned spot (sizes) */
				at &= ~(size_t)3;
				if (at + 4 <= bc.notes_end)
					set_u32(m + at, (uint32_t)rng());
			}
		}
		size_t len = rng() % 8 == 0 ? (size_t)(rng() % bc.b.len) + 1 : bc.b.len;
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, m, len) != (ssize_t)len || close(fd) != 0) {
			CHECK(!"cannot write test file");
			break;
		}
		struct pha_core *core = NULL;
		struct pha_error *err = pha_core_open(path, &core);
		if (err) {
			rejected++;
			CHECKF(err->kind == PHA_ERR_INPUT && strstr(err->message, path),
			       "iteration %d: %s", iter, err->message);
		} else {
			opened++;
			struct pha_memory mem;
			pha_memory_init(&mem);
			struct pha_error *e2 = pha_core_memory(core, &mem);
			if (!e2) {
				struct pha_modules mods;
				struct pha_module_options opts = { 0 };
				struct pha_error *e3 = pha_modules_load(core, &mem, &opts, &mods);
				CHECKF(e3 == NULL, "iteration %d: modules: %s", iter, e3->message);
				if (!e3)
					pha_modules_deinit(&mods);
				pha_error_destroy(e3);
			} else {
				CHECKF(e2->kind == PHA_ERR_INPUT, "iteration %d: %s", iter, e2->message);
			}
			pha_error_destroy(e2);
			pha_memory_deinit(&mem);
		}
		pha_error_destroy(err);
		pha_core_close(core);
	}
	CHECKF(opened > 0 && rejected > 0, "opened %d rejected %d", opened, rejected);
	CASE_END();
	free(m);
	free(path);
	free(bc.b.p);
}

static void test_rejects(void)
{
	CASE_BEGIN("elfcore_rejects_non_cores");
	char *path = write_file("empty", "", 0);
	expect_open_error(path, "empty");
	free(path);

	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rng();
	junk[0] = 'X';
	path = write_file("random", junk, sizeof(junk));
	expect_open_error(path, "not an ELF");
	free(path);
	path = write_file("tiny", "\x7f" "X", 2);
	expect_open_error(path, "not an ELF");
	free(path);

	struct core_spec s;
	struct built bc;
	std_spec(&s);
	s.e_type = ET_EXEC;
	build_core(&s, &bc);
	path = write_file("exec", bc.b.p, bc.b.len);
	expect_open_error(path, "not a core");
	expect_open_error(path, "ET_EXEC");
	free(path);
	free(bc.b.p);

	std_spec(&s);
	s.e_type = ET_DYN;
	build_core(&s, &bc);
	path = write_file("dyn", bc.b.p, bc.b.len);
	expect_open_error(path, "not a core");
	free(path);
	free(bc.b.p);

	std_spec(&s);
	s.e_machine = EM_AARCH64;
	build_core(&s, &bc);
	path = write_file("arm", bc.b.p, bc.b.len);
	expect_open_error(path, "unsupported architecture EM_AARCH64");
	free(path);
	free(bc.b.p);

	std_spec(&s);
	s.ei_class = ELFCLASS32;
	build_core(&s, &bc);
	path = write_file("class32", bc.b.p, bc.b.len);
	expect_open_error(path, "32-bit");
	free(path);
	free(bc.b.p);

	std_spec(&s);
	s.ei_data = ELFDATA2MSB;
	build_core(&s, &bc);
	path = write_file("bigendian", bc.b.p, bc.b.len);
	expect_open_error(path, "big-endian");
	free(path);
	free(bc.b.p);

	/* No PT_LOAD at all, and PT_LOADs that hold no bytes. */
	std_spec(&s);
	s.nloads = 0;
	build_core(&s, &bc);
	path = write_file("noload", bc.b.p, bc.b.len);
	expect_open_error(path, "PT_LOAD");
	free(path);
	free(bc.b.p);
	std_spec(&s);
	struct load_spec zero[] = { { L1_VADDR, L1_SIZE, 0, PF_R, NULL } };
	s.loads = zero;
	s.nloads = 1;
	build_core(&s, &bc);
	path = write_file("zeroload", bc.b.p, bc.b.len);
	expect_open_error(path, "no memory");
	free(path);
	free(bc.b.p);

	/* The test program itself: a real ET_DYN (PIE) or ET_EXEC. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		expect_open_error(self, "not a core");
	}
	expect_open_error(tmpdir, "directory");
	expect_open_error("/nonexistent/core.1", "No such file");
	CASE_END();
}

/* The test binary plays a shared object mapped at BIAS: the core holds its
 * first page (as the kernel dumps it), NT_FILE maps the whole file. */
#define BIAS 0x7f5500000000ULL
#define GAP_MAP (BIAS + 0x40000000ULL)	/* a mapping with no PT_LOAD, as gdb writes */

struct selfmod {
	char path[4096];
	uint8_t *bytes;
	size_t size;
	uint64_t span;		/* size rounded up to pages */
};

static bool read_self(struct selfmod *sm)
{
	ssize_t n = readlink("/proc/self/exe", sm->path, sizeof(sm->path) - 1);
	if (n <= 0)
		return false;
	sm->path[n] = '\0';
	FILE *f = fopen(sm->path, "rb");
	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	sm->size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	sm->bytes = malloc(sm->size);
	bool ok = sm->bytes && fread(sm->bytes, 1, sm->size, f) == sm->size;
	fclose(f);
	sm->span = (sm->size + 4095) & ~4095ULL;
	return ok && sm->size > 0x2000;
}

static int find_self_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uint64_t *)data = info->dlpi_addr;	/* the first entry is the program */
	return 1;
}

static char *self_core(const struct selfmod *sm, const char *map_path, const uint8_t *first_page,
		       size_t cut, const char *name, bool as_exe)
{
	struct map_spec maps[] = {
		{ BIAS, BIAS + sm->span, 0, map_path },
		{ GAP_MAP, GAP_MAP + 0x1000, 1, map_path },	/* file offset 0x1000 */
	};
	struct load_spec loads[] = {
		{ BIAS, sm->span, 0x1000, PF_R, first_page },
		{ L2_VADDR, L2_MEMSZ, L2_FILESZ, PF_R | PF_W, l2_data },
	};
	struct core_spec s;
	std_spec(&s);
	s.maps = maps;
	s.nmaps = 2;
	s.loads = loads;
	s.nloads = 2;
	s.auxv_execfn = 0;
	s.auxv_phdr = as_exe ? BIAS + 64 : 0;
	s.auxv_entry = 0;
	struct built bc;
	build_core(&s, &bc);
	/* A cut inside the module's dumped first page, when asked. */
	char *path = write_file(name, bc.b.p, cut ? bc.load_off[0] + cut : bc.b.len);
	free(bc.b.p);
	return path;
}

struct loaded {
	struct pha_core *core;
	struct pha_memory mem;
	struct pha_modules mods;
	bool ok;
};

static void load_all(const char *path, const struct pha_module_options *opts, struct loaded *ld)
{
	memset(ld, 0, sizeof(*ld));
	pha_memory_init(&ld->mem);
	struct pha_error *err = pha_core_open(path, &ld->core);
	CHECKF(!err, "%s", err->message);
	if (!err && (err = pha_core_memory(ld->core, &ld->mem)))
		CHECKF(!err, "%s", err->message);
	if (!err && (err = pha_modules_load(ld->core, &ld->mem, opts, &ld->mods)))
		CHECKF(!err, "%s", err->message);
	ld->ok = !err;
	pha_error_destroy(err);
}

static void unload(struct loaded *ld)
{
	if (ld->ok)
		pha_modules_deinit(&ld->mods);
	pha_memory_deinit(&ld->mem);
	pha_core_close(ld->core);
}

static const struct pha_module *module_named(const struct pha_modules *mods, const char *name)
{
	for (size_t i = 0; i < mods->nmods; i++)
		if (strcmp(mods->mods[i].name, name) == 0)
			return &mods->mods[i];
	return NULL;
}

static bool warning_with(const struct pha_modules *mods, const char *a, const char *b)
{
	for (size_t i = 0; i < mods->nwarnings; i++)
		if (strstr(mods->warnings[i], a) && (!b || strstr(mods->warnings[i], b)))
			return true;
	return false;
}

static void test_modules(void)
{
	struct selfmod sm;
	if (!read_self(&sm)) {
		SKIP_CASE("elffile_modules_synthetic", "cannot read /proc/self/exe");
		return;
	}
	uint8_t first_page[0x1000];
	memcpy(first_page, sm.bytes, sizeof(first_page));
	uint64_t fault;
	uint8_t buf[256];

	CASE_BEGIN("elffile_module_ok_fills_memory_and_finds_symbols");
	char *path = self_core(&sm, sm.path, first_page, 0, "core.self", false);
	struct loaded ld;
	load_all(path, NULL, &ld);
	const struct pha_module *mod = ld.ok ? module_named(&ld.mods, sm.path) : NULL;
	CHECK(mod != NULL);
	if (mod) {
		CHECKF(mod->status == PHA_MODULE_OK, "status %d", mod->status);
		CHECK(mod->build_id_len == 20);
		CHECKF(mod->bias == BIAS, "bias 0x%llx", (unsigned long long)mod->bias);
		CHECK(mod->file && strcmp(mod->file, sm.path) == 0);
		CHECK(mod->start == BIAS && mod->end == GAP_MAP + 0x1000);
		CHECK(!mod->is_executable);
		/* The omitted part of the PT_LOAD now has the file's bytes... */
		CHECK(pha_memory_read(&ld.mem, BIAS + 0x1000, buf, 256, &fault));
		CHECK(memcmp(buf, sm.bytes + 0x1000, 256) == 0);
		CHECK(pha_memory_read(&ld.mem, BIAS + sm.size - 16, buf, 16, &fault));
		CHECK(memcmp(buf, sm.bytes + sm.size - 16, 16) == 0);
		/* ...up to the file's end; past EOF the mapping stays missing. */
		if (sm.size != sm.span) {
			CHECK(!pha_memory_read(&ld.mem, BIAS + sm.size - 8, buf, 16, &fault));
			CHECKF(fault == BIAS + sm.size, "fault 0x%llx", (unsigned long long)fault);
		}
		/* The mapping gdb would have left out entirely: file offset 0x1000. */
		CHECK(pha_memory_read(&ld.mem, GAP_MAP, buf, 256, &fault));
		CHECK(memcmp(buf, sm.bytes + 0x1000, 256) == 0);
		const struct pha_segment *seg = pha_memory_find(&ld.mem, GAP_MAP);
		CHECK(seg && seg->source == PHA_SEG_FILE);
		/* The core's own bytes are untouched. */
		seg = pha_memory_find(&ld.mem, BIAS);
		CHECK(seg && seg->source == PHA_SEG_CORE);

		/* Symbols: main is where this process has it, moved by BIAS. */
		uint64_t self_bias = 0, size = 0;
		dl_iterate_phdr(find_self_bias, &self_bias);
		uint64_t want = BIAS + ((uint64_t)(uintptr_t)&find_self_bias - self_bias);
		uint64_t got = pha_module_symbol(mod, "find_self_bias", &size);
		CHECKF(got == want, "find_self_bias at 0x%llx, want 0x%llx",
		       (unsigned long long)got, (unsigned long long)want);
		CHECK(size > 0);
		CHECK(pha_module_symbol(mod, "no_such_symbol_xyz", NULL) == 0);
		CHECK(pha_module_symbol(mod, "", NULL) == 0);
		/* An undefined reference (malloc comes from libc) is not a definition. */
		CHECK(pha_module_symbol(mod, "malloc", NULL) == 0);
		const struct pha_module *owner = NULL;
		CHECK(pha_modules_symbol(&ld.mods, "find_self_bias", &owner) == want && owner == mod);
		CHECK(pha_modules_symbol(&ld.mods, "no_such_symbol_xyz", NULL) == 0);

		uint64_t tsize = 0;
		uint64_t text = pha_module_section(mod, ".text", &tsize);
		CHECK(text > BIAS && text < BIAS + sm.span && tsize > 0);
		CHECK(want >= text && want < text + tsize);
		CHECK(pha_module_section(mod, ".symtab", NULL) == 0);	/* not allocated */
		CHECK(pha_module_section(mod, ".no_such_section", NULL) == 0);

		CHECK(pha_module_read_file(mod, BIAS, buf, 4) && memcmp(buf, ELFMAG, 4) == 0);
		CHECK(pha_module_read_file(mod, want, buf, 16));
		CHECK(memcmp(buf, (const void *)(uintptr_t)&find_self_bias, 16) == 0);
		CHECK(!pha_module_read_file(mod, BIAS - 16, buf, 4));
		CHECK(!pha_module_read_file(mod, UINT64_MAX - 2, buf, 4));
	}
	CHECK(ld.ok && ld.mods.nwarnings == 0);
	/* Both NT_FILE entries have the same path: one module. */
	CHECK(ld.ok && ld.mods.nmods == 1);
	unload(&ld);
	free(path);
	CASE_END();

	CASE_BEGIN("elffile_module_mismatch_missing_and_search");
	/* A different build-id in the core's copy of the first page. */
	uint8_t changed[0x1000];
	memcpy(changed, first_page, sizeof(changed));
	uint8_t core_id[20];
	bool found = false;
	for (size_t i = 0; i + 16 + 20 <= sizeof(changed); i += 4) {
		if (memcmp(changed + i + 12, "GNU", 4) == 0 &&
		    changed[i + 8] == NT_GNU_BUILD_ID && changed[i + 4] == 20) {
			for (int k = 0; k < 20; k++)
				changed[i + 16 + k] ^= 0xff;
			memcpy(core_id, changed + i + 16, 20);
			found = true;
			break;
		}
	}
	CHECK(found);
	path = self_core(&sm, sm.path, changed, 0, "core.mismatch", false);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, sm.path) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_MISMATCH);
	CHECK(mod && mod->build_id_len == 20 && memcmp(mod->build_id, core_id, 20) == 0);
	CHECK(mod && pha_module_symbol(mod, "find_self_bias", NULL) == 0);
	CHECK(ld.ok && warning_with(&ld.mods, "build-id differs from the core's", sm.path));
	CHECK(ld.ok && warning_with(&ld.mods, "bytes of its memory are unavailable", NULL));
	/* Nothing was filled. */
	CHECK(!pha_memory_read(&ld.mem, BIAS + 0x1000, buf, 1, &fault) && fault == BIAS + 0x1000);
	CHECK(!pha_memory_read(&ld.mem, GAP_MAP, buf, 1, &fault));
	unload(&ld);
	free(path);

	/* Recorded under a path that does not exist: MISSING, then found by
	 * --lib-search-path (basename) and by --sysroot. */
	char *dir = strdup(sm.path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	const char *base = slash + 1;
	char fake[8192];
	snprintf(fake, sizeof(fake), "/nonexistent-dir-for-test/%s", base);
	path = self_core(&sm, fake, first_page, 0, "core.moved", false);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, fake) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_MISSING && mod->file == NULL);
	CHECK(ld.ok && warning_with(&ld.mods, "not found on disk", "--lib-search-path"));
	CHECK(ld.ok && warning_with(&ld.mods, fake, NULL));
	unload(&ld);

	const char *search[] = { "/nonexistent-a", dir, NULL };
	struct pha_module_options opts = { .search_path = search };
	load_all(path, &opts, &ld);
	mod = ld.ok ? module_named(&ld.mods, fake) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_OK && mod->bias == BIAS);
	CHECK(mod && mod->file && strcmp(mod->file, sm.path) == 0);
	CHECK(ld.ok && ld.mods.nwarnings == 0);
	CHECK(pha_memory_read(&ld.mem, BIAS + 0x1000, buf, 16, &fault));
	unload(&ld);
	free(path);

	/* --sysroot: the NT_FILE path is the test binary's path with a prefix
	 * stripped; the sysroot puts it back. */
	snprintf(fake, sizeof(fake), "/%s", base);
	path = self_core(&sm, fake, first_page, 0, "core.sysroot", false);
	struct pha_module_options sys = { .sysroot = dir };
	load_all(path, &sys, &ld);
	mod = ld.ok ? module_named(&ld.mods, fake) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_OK);
	unload(&ld);
	free(path);
	free(dir);

	/* A non-ELF file mapped with offset 0 (think locale-archive): NOT_ELF
	 * from the core's first page, no lookup, no warning. */
	uint8_t data_page[0x1000];
	memset(data_page, 'd', sizeof(data_page));
	path = self_core(&sm, "/nonexistent/locale-archive", data_page, 0, "core.data", false);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, "/nonexistent/locale-archive") : NULL;
	CHECK(mod && mod->status == PHA_MODULE_NOT_ELF);
	CHECK(ld.ok && ld.mods.nwarnings == 0);
	unload(&ld);
	free(path);
	CASE_END();

	CASE_BEGIN("elffile_truncated_bytes_are_not_filled_from_the_file");
	/* The core was cut inside the module's dumped page: that page may have
	 * been written to, so the file's bytes must not stand in for it. The
	 * part the core deliberately omitted is still filled. The build-id is
	 * in the first 0x800 bytes, so the module is OK. */
	path = self_core(&sm, sm.path, first_page, 0x800, "core.selfcut", false);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, sm.path) : NULL;
	CHECK(ld.ok && ld.core->truncated);
	CHECK(mod && mod->status == PHA_MODULE_OK);
	CHECK(pha_memory_read(&ld.mem, BIAS, buf, 16, &fault));
	CHECK(!pha_memory_read(&ld.mem, BIAS + 0x800, buf, 1, &fault) && fault == BIAS + 0x800);
	CHECK(pha_memory_read(&ld.mem, BIAS + 0x1000, buf, 16, &fault));
	CHECK(memcmp(buf, sm.bytes + 0x1000, 16) == 0);
	unload(&ld);
	free(path);
	CASE_END();

	CASE_BEGIN("elffile_overlapping_nt_file_entries_tolerated");
	{
		/* A damaged NT_FILE with two overlapping entries for the file and
		 * no PT_LOAD over them: the gaps must not collide in mem. */
		struct map_spec omaps[] = {
			{ BIAS, BIAS + 0x3000, 0, sm.path },
			{ BIAS + 0x1000, BIAS + 0x4000, 1, sm.path },
		};
		struct load_spec oloads[] = {
			{ L2_VADDR, L2_MEMSZ, L2_FILESZ, PF_R | PF_W, l2_data },
		};
		struct core_spec os;
		std_spec(&os);
		os.maps = omaps;
		os.nmaps = 2;
		os.loads = oloads;
		os.nloads = 1;
		struct built ob;
		build_core(&os, &ob);
		path = write_file("core.overlap", ob.b.p, ob.b.len);
		free(ob.b.p);
		load_all(path, NULL, &ld);
		mod = ld.ok ? module_named(&ld.mods, sm.path) : NULL;
		/* No first page in the core: no build-id to check, the file is OK. */
		CHECK(mod && mod->status == PHA_MODULE_OK && mod->build_id_len == 0);
		CHECK(pha_memory_read(&ld.mem, BIAS, buf, 4, &fault) && memcmp(buf, ELFMAG, 4) == 0);
		CHECK(pha_memory_read(&ld.mem, BIAS + 0x2ff0, buf, 32, &fault));
		CHECK(memcmp(buf, sm.bytes + 0x2ff0, 32) == 0);
		unload(&ld);
		free(path);
	}
	CASE_END();

	CASE_BEGIN("elffile_executable_identified_and_overridden");
	/* Standard core: AT_EXECFN names /usr/bin/fakeprog, which is mapped.
	 * Its first page in the core is pattern bytes, so it is a data
	 * mapping as far as the core can tell. */
	struct core_spec s;
	struct built bc;
	std_spec(&s);
	build_core(&s, &bc);
	path = write_file("core.exe", bc.b.p, bc.b.len);
	free(bc.b.p);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, EXECFN) : NULL;
	CHECK(mod && mod->is_executable && mod->status == PHA_MODULE_NOT_ELF);
	CHECK(ld.ok && ld.mods.nmods == 2);
	CHECK(ld.ok && !warning_with(&ld.mods, EXECFN, NULL));
	/* libfake's mapping (file offset 0x2000, so no header to judge by) is
	 * not on disk and 0x2000 bytes of it are not in the core. */
	CHECK(ld.ok && warning_with(&ld.mods, "libfake.so.1: not found on disk", "8192 bytes"));
	unload(&ld);
	free(path);

	/* Executable found through AT_PHDR when AT_EXECFN is absent. */
	std_spec(&s);
	s.auxv_execfn = 0;
	build_core(&s, &bc);
	path = write_file("core.exe2", bc.b.p, bc.b.len);
	free(bc.b.p);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, EXECFN) : NULL;
	CHECK(mod && mod->is_executable);
	unload(&ld);
	free(path);

	/* The test binary as the main program, recorded under a path that is
	 * not on disk: MISSING (the warning suggests --executable), then
	 * found with --executable, then a wrong --executable: MISMATCH. */
	path = self_core(&sm, "/nonexistent/prog", first_page, 0, "core.exe3", true);
	load_all(path, NULL, &ld);
	mod = ld.ok ? module_named(&ld.mods, "/nonexistent/prog") : NULL;
	CHECK(mod && mod->is_executable && mod->status == PHA_MODULE_MISSING);
	CHECK(ld.ok && warning_with(&ld.mods, "/nonexistent/prog: not found", "--executable FILE"));
	unload(&ld);
	struct pha_module_options eo = { .executable = sm.path };
	load_all(path, &eo, &ld);
	mod = ld.ok ? module_named(&ld.mods, "/nonexistent/prog") : NULL;
	CHECK(mod && mod->is_executable && mod->status == PHA_MODULE_OK && mod->bias == BIAS);
	CHECK(ld.ok && ld.mods.nwarnings == 0);
	unload(&ld);
	eo.executable = "/bin/sh";
	load_all(path, &eo, &ld);
	mod = ld.ok ? module_named(&ld.mods, "/nonexistent/prog") : NULL;
	CHECK(mod && mod->status == PHA_MODULE_MISMATCH);
	CHECK(ld.ok && warning_with(&ld.mods, "/nonexistent/prog: build-id differs", "/bin/sh"));
	unload(&ld);
	free(path);
	CASE_END();
	free(sm.bytes);
}

/* ---- real cores ---------------------------------------------------------- */

static bool have_program(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static pid_t start_sleep(char *exe, size_t exesize, const char *cwd, bool allow_core)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (allow_core) {
			struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
			setrlimit(RLIMIT_CORE, &rl);
		}
		if (cwd && chdir(cwd) != 0)
			_exit(127);
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	/* Wait until the child is sleep, not a copy of this program. */
	char link[64], self[4096];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sn > 0 ? sn : 0] = '\0';
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 400; i++) {
		ssize_t n = readlink(link, exe, exesize - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (strcmp(exe, self) != 0) {
				/* exec done; give the dynamic loader time to map libc */
				struct timespec ts = { 0, 200 * 1000 * 1000 };
				nanosleep(&ts, NULL);
				return pid;
			}
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void check_real_core(const char *case_name, const char *core_path, const char *exe,
			    pid_t pid)
{
	CASE_BEGIN(case_name);
	struct loaded ld;
	load_all(core_path, NULL, &ld);
	if (!ld.ok) {
		unload(&ld);
		CASE_END();
		return;
	}
	const struct pha_core *core = ld.core;
	CHECK(core->nthreads >= 1);
	CHECK(core->nthreads >= 1 && core->threads[0].tid == pid);
	CHECK(!core->truncated);
	bool have_exe = false;
	for (size_t i = 0; i < core->nmappings; i++)
		if (strcmp(core->mappings[i].path, exe) == 0)
			have_exe = true;
	CHECKF(have_exe, "no NT_FILE mapping of %s", exe);
	const struct pha_module *exe_mod = module_named(&ld.mods, exe);
	CHECK(exe_mod && exe_mod->is_executable && exe_mod->status == PHA_MODULE_OK);

	const struct pha_module *libc = NULL;
	for (size_t i = 0; i < ld.mods.nmods; i++) {
		const char *b = strrchr(ld.mods.mods[i].name, '/');
		b = b ? b + 1 : ld.mods.mods[i].name;
		if (strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0)
			libc = &ld.mods.mods[i];
	}
	CHECK(libc != NULL);
	if (libc) {
		CHECKF(libc->status == PHA_MODULE_OK, "libc status %d", libc->status);
		CHECK(libc->bias != 0);
		uint64_t size = 0;
		uint64_t addr = pha_module_symbol(libc, "malloc", &size);
		CHECKF(addr >= libc->start && addr < libc->end,
		       "malloc at 0x%llx, libc at 0x%llx-0x%llx", (unsigned long long)addr,
		       (unsigned long long)libc->start, (unsigned long long)libc->end);
		const struct pha_module *owner = NULL;
		uint64_t any = pha_modules_symbol(&ld.mods, "malloc", &owner);
		CHECK(any && owner && any >= owner->start && any < owner->end);
		/* malloc's first bytes: from the core or filled from libc's file,
		 * they must be the file's bytes (text is never written). */
		uint8_t a[16], b[16];
		CHECK(pha_module_read_file(libc, addr, a, sizeof(a)));
		CHECK(pha_memory_read(&ld.mem, addr, b, sizeof(b), NULL));
		CHECK(memcmp(a, b, sizeof(a)) == 0);
	}
	unload(&ld);
	CASE_END();
}

static void test_gcore(void)
{
	const char *name = "elfcore_real_gcore_of_sleep";
	if (!have_program("gcore") || !have_program("sleep")) {
		SKIP_CASE(name, "gcore (gdb) or sleep not installed");
		return;
	}
	char exe[4096];
	pid_t pid = start_sleep(exe, sizeof(exe), NULL, false);
	if (pid < 0) {
		SKIP_CASE(name, "could not start sleep");
		return;
	}
	char *prefix = path_in_tmp("gcore");
	char cmd[8192], core_path[8192];
	snprintf(cmd, sizeof(cmd), "timeout 120 gcore -o '%s' %d >/dev/null 2>&1", prefix, (int)pid);
	int rc = system(cmd);
	snprintf(core_path, sizeof(core_path), "%s.%d", prefix, (int)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct stat st;
	if (rc != 0 || stat(core_path, &st) != 0) {
		SKIP_CASE(name, "gcore failed (ptrace not permitted here?)");
	} else {
		check_real_core(name, core_path, exe, pid);
	}
	unlink(core_path);
	free(prefix);
}

/* A core written by the kernel: only when core_pattern writes a plain file
 * into the crashing process's directory (not a pipe to a crash collector,
 * which must not receive test crashes). */
static void test_kernel_core(void)
{
	const char *name = "elfcore_real_kernel_core_of_sleep";
	char pattern[256] = "";
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
	if (f) {
		if (!fgets(pattern, sizeof(pattern), f))
			pattern[0] = '\0';
		fclose(f);
	}
	pattern[strcspn(pattern, "\n")] = '\0';
	if (pattern[0] == '\0' || pattern[0] == '|' || pattern[0] == '/' || strchr(pattern, '%')) {
		SKIP_CASE(name, "core_pattern does not write a plain file in the current directory");
		return;
	}
	char *dir = path_in_tmp("kcore");
	mkdir(dir, 0700);
	char exe[4096];
	pid_t pid = start_sleep(exe, sizeof(exe), dir, true);
	if (pid < 0) {
		SKIP_CASE(name, "could not start sleep");
		free(dir);
		return;
	}
	kill(pid, SIGABRT);
	int status = 0;
	waitpid(pid, &status, 0);
	/* core_pattern may be "core" with core_uses_pid: find whatever appeared. */
	char core_path[8192] = "";
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(core_path, sizeof(core_path), "%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	if (!WIFSIGNALED(status) || !WCOREDUMP(status) || !core_path[0]) {
		SKIP_CASE(name, "the kernel wrote no core (RLIMIT_CORE or container policy)");
	} else {
		check_real_core(name, core_path, exe, pid);
		/* The kernel dumps the first page of ELF mappings: build-ids. */
		struct loaded ld;
		CASE_BEGIN("elffile_kernel_core_build_ids_verified");
		load_all(core_path, NULL, &ld);
		size_t with_id = 0, ok = 0;
		for (size_t i = 0; ld.ok && i < ld.mods.nmods; i++) {
			if (ld.mods.mods[i].build_id_len)
				with_id++;
			if (ld.mods.mods[i].status == PHA_MODULE_OK)
				ok++;
		}
		CHECKF(with_id >= 2 && ok >= 2, "%zu with build-id, %zu OK", with_id, ok);
		CHECK(ld.ok && ld.mods.nwarnings == 0);
		unload(&ld);
		CASE_END();
		unlink(core_path);
	}
	rmdir(dir);
	free(dir);
}

/* ---- hostile input (issue 11) ---------------------------------------------
 * Each case is the regression test of one fix, named after it. */

/* A case that could block forever (open() of a FIFO) fails after a while
 * instead of hanging the suite. */
static const char *guarded_case;

static void on_guard_alarm(int sig)
{
	static const char a[] = "FAIL ", b[] = ": blocked for 20 s (open() of a FIFO?)\n";
	(void)sig;
	if (write(1, a, sizeof(a) - 1) < 0 ||
	    write(1, guarded_case, strlen(guarded_case)) < 0 || write(1, b, sizeof(b) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void guard(const char *name)
{
	guarded_case = name;
	signal(SIGALRM, on_guard_alarm);
	alarm(20);
}

static void unguard(void)
{
	alarm(0);
	signal(SIGALRM, SIG_DFL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A minimal x86-64 ELF shared object of `size` bytes (sparse: one PT_LOAD
 * over the whole file, no sections) whose page k starts with the 8-byte
 * marker k, for the first `marked` pages. */
static char *sparse_elf(const char *name, uint64_t size, uint64_t marked)
{
	uint8_t eh[64 + 56] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	set_u16(eh + 16, ET_DYN);
	set_u16(eh + 18, EM_X86_64);
	set_u32(eh + 20, EV_CURRENT);
	set_u64(eh + 32, 64);		/* e_phoff */
	set_u16(eh + 52, 64);
	set_u16(eh + 54, 56);
	set_u16(eh + 56, 1);
	set_u16(eh + 58, 64);		/* e_shentsize; e_shnum 0 */
	uint8_t *ph = eh + 64;
	set_u32(ph + 0, PT_LOAD);
	set_u32(ph + 4, PF_R);
	set_u64(ph + 32, size);		/* p_filesz */
	set_u64(ph + 40, size);		/* p_memsz */
	set_u64(ph + 48, 4096);
	char *path = path_in_tmp(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || pwrite(fd, eh, sizeof(eh), 0) != sizeof(eh)) {
		perror(path);
		exit(2);
	}
	for (uint64_t k = 1; k < marked; k++) {
		if (pwrite(fd, &k, 8, (off_t)(k * 4096)) != 8) {
			perror(path);
			exit(2);
		}
	}
	close(fd);
	return path;
}

/* A core with nomit PT_LOADs that the kernel left out (p_filesz 0, one page
 * each, every other page) inside an NT_FILE mapping of `file` (listed
 * nmaps times: a hostile note), plus one small PT_LOAD with data. */
#define OMIT_BASE 0x7f0000000000ULL
static char *core_with_omitted_loads_n(const char *name, size_t nomit, const char *file,
				       size_t nmaps)
{
	struct buf b = { 0 };
	size_t nph = 2 + nomit;
	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	set_u16(eh + 16, ET_CORE);
	set_u16(eh + 18, EM_X86_64);
	set_u32(eh + 20, EV_CURRENT);
	set_u64(eh + 32, 64);
	set_u16(eh + 52, 64);
	set_u16(eh + 54, 56);
	set_u16(eh + 56, (uint16_t)nph);
	put(&b, eh, sizeof(eh));
	size_t phdrs = b.len;
	put(&b, NULL, nph * 56);
	size_t notes = b.len;
	struct buf f = { 0 };
	put_u64(&f, nmaps);
	put_u64(&f, 4096);
	for (size_t i = 0; i < nmaps; i++) {
		put_u64(&f, OMIT_BASE);
		put_u64(&f, OMIT_BASE + 2 * nomit * 4096);
		put_u64(&f, 0);
	}
	for (size_t i = 0; i < nmaps; i++)
		put(&f, file, strlen(file) + 1);
	note(&b, "CORE", PHA_NT_FILE, f.p, f.len);
	free(f.p);
	size_t notes_end = b.len;
	pad_to(&b, 4096);
	size_t data = b.len;
	put(&b, NULL, 4096);

	uint8_t *ph = b.p + phdrs;
	set_u32(ph + 0, PT_NOTE);
	set_u64(ph + 8, notes);
	set_u64(ph + 32, notes_end - notes);
	ph += 56;
	set_u32(ph + 0, PT_LOAD);
	set_u32(ph + 4, PF_R | PF_W);
	set_u64(ph + 8, data);
	set_u64(ph + 16, 0x400000);
	set_u64(ph + 32, 4096);
	set_u64(ph + 40, 4096);
	for (size_t i = 0; i < nomit; i++) {
		ph += 56;
		set_u32(ph + 0, PT_LOAD);
		set_u32(ph + 4, PF_R);
		set_u64(ph + 8, data + 4096);
		set_u64(ph + 16, OMIT_BASE + 2 * i * 4096);
		set_u64(ph + 40, 4096);	/* p_filesz 0: all of it omitted */
	}
	char *path = write_file(name, b.p, b.len);
	free(b.p);
	return path;
}

static char *core_with_omitted_loads(const char *name, size_t nomit, const char *file)
{
	return core_with_omitted_loads_n(name, nomit, file, 1);
}

/* Thousands of omitted PT_LOADs used to re-sort the whole segment table
 * once per filled range (16,000 segments: 30 s). */
static void test_many_omitted_loads(void)
{
	enum { NOMIT = 16000 };
	CASE_BEGIN("elffile_16000_omitted_loads_filled_in_one_sweep");
	char *file = sparse_elf("big.so", 2ULL * NOMIT * 4096, 2 * NOMIT);
	char *path = core_with_omitted_loads("core.omitted", NOMIT, file);
	struct loaded ld;
	double t0 = now();
	load_all(path, NULL, &ld);
	double secs = now() - t0;
	CHECKF(secs < 10.0, "loading took %.1f s (quadratic in the number of PT_LOADs?)", secs);
	const struct pha_module *mod = ld.ok ? module_named(&ld.mods, file) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_OK);
	CHECKF(ld.mem.missing_bytes == 0, "%llu bytes still missing",
	       (unsigned long long)ld.mem.missing_bytes);
	/* Omitted PT_LOADs (even pages) and gaps between them (odd pages) both
	 * read the file's bytes now; the table is sorted and disjoint. */
	for (uint64_t k = 1; ld.ok && k < 2 * NOMIT; k += 997) {
		uint64_t v = 0, fault = 0;
		CHECKF(pha_memory_read(&ld.mem, OMIT_BASE + k * 4096, &v, 8, &fault) && v == k,
		       "page %llu: %llu (fault 0x%llx)", (unsigned long long)k,
		       (unsigned long long)v, (unsigned long long)fault);
	}
	for (size_t i = 1; i < ld.mem.nsegs; i++)
		CHECK(ld.mem.segs[i - 1].end <= ld.mem.segs[i].start);
	unload(&ld);
	free(path);
	CASE_END();

	/* The same mapping listed thousands of times (a hostile NT_FILE) used
	 * to be filled once per entry: entries x omitted PT_LOADs ranges (36
	 * million here, gigabytes), and as many segment scans. */
	enum { NDUP = 6000 };
	CASE_BEGIN("elffile_overlapping_nt_file_entries_linear");
	path = core_with_omitted_loads_n("core.dupmaps", NDUP, file, NDUP);
	t0 = now();
	load_all(path, NULL, &ld);
	secs = now() - t0;
	CHECKF(secs < 10.0, "loading took %.1f s (entries x segments?)", secs);
	mod = ld.ok ? module_named(&ld.mods, file) : NULL;
	CHECK(mod && mod->status == PHA_MODULE_OK);
	CHECK(ld.ok && ld.mem.missing_bytes == 0);
	for (uint64_t k = 1; ld.ok && k < 2 * NDUP; k += 499) {
		uint64_t v = 0;
		CHECKF(pha_memory_read(&ld.mem, OMIT_BASE + k * 4096, &v, 8, NULL) && v == k,
		       "page %llu: %llu", (unsigned long long)k, (unsigned long long)v);
	}
	unload(&ld);
	free(path);
	free(file);
	CASE_END();
}

/* RLIMIT_FSIZE for the zstd bomb cases: the temporary file may not grow
 * past it. SIGXFSZ is ignored (a write past the limit fails with EFBIG):
 * a bomb that is still decompressed shows as an error, not a dead test. */
static struct rlimit saved_fsize;

static void limit_file_size(rlim_t bytes)
{
	getrlimit(RLIMIT_FSIZE, &saved_fsize);
	struct rlimit rl = saved_fsize;
	rl.rlim_cur = bytes;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
}

static void unlimit_file_size(void)
{
	setrlimit(RLIMIT_FSIZE, &saved_fsize);
	signal(SIGXFSZ, SIG_DFL);
}

/* pha_core_open fails with kind, naming the file, with every needle. */
static void expect_open_failure(const char *path, enum pha_error_kind kind,
				const char *n1, const char *n2)
{
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(err != NULL, "%s: opened", path);
	if (err) {
		CHECKF(err->kind == kind, "kind %d, want %d: %s", err->kind, kind, err->message);
		CHECKF(strncmp(err->message, path, strlen(path)) == 0, "message does not start with "
		       "the input's path: %s", err->message);
		CHECKF(strstr(err->message, n1) && (!n2 || strstr(err->message, n2)),
		       "message lacks '%s'/'%s': %s", n1, n2 ? n2 : "", err->message);
	}
	pha_error_destroy(err);
	pha_core_close(core);
}

/* Compress `head` followed by `zeros` zero bytes; streamed, so the frame
 * header declares no content size (like `zstd < core`). */
static uint8_t *zstd_stream(const void *head, size_t hlen, size_t zeros, size_t *len_ret)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(hlen + zeros) + 1024;
	uint8_t *z = malloc(cap), *chunk = calloc(1, 1 << 20);
	ZSTD_outBuffer out = { z, cap, 0 };
	ZSTD_inBuffer in = { head, hlen, 0 };
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	while (in.pos < in.size)
		ZSTD_compressStream2(cc, &out, &in, ZSTD_e_continue);
	for (size_t left = zeros; left > 0;) {
		size_t n = left < (1 << 20) ? left : 1 << 20;
		ZSTD_inBuffer zin = { chunk, n, 0 };
		while (zin.pos < zin.size)
			ZSTD_compressStream2(cc, &out, &zin, ZSTD_e_continue);
		left -= n;
	}
	ZSTD_inBuffer none = { NULL, 0, 0 };
	while (ZSTD_compressStream2(cc, &out, &none, ZSTD_e_end) != 0)
		;
	ZSTD_freeCCtx(cc);
	free(chunk);
	*len_ret = out.pos;
	return z;
}

/* zstd bombs: kilobytes that decompress to gigabytes used to be written
 * out whole before the magic was checked, with no limit, and a failing
 * write named the temporary directory and said "core" for any input. */
static void test_zstd_bombs(void)
{
	CASE_BEGIN("elfcore_zstd_bomb_not_elf_stops_after_first_block");
	size_t zlen;
	uint8_t *z = zstd_stream(NULL, 0, 64u << 20, &zlen);	/* 64 MiB of zeros */
	char *path = write_file("bomb.zst", z, zlen);
	limit_file_size(4u << 20);
	expect_open_failure(path, PHA_ERR_INPUT, "not an ELF file", NULL);
	unlimit_file_size();
	free(path);
	free(z);
	CASE_END();

	CASE_BEGIN("elfcore_zstd_stream_over_limit_refused_naming_input");
	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	set_u16(eh + 16, ET_CORE);
	set_u16(eh + 18, EM_X86_64);
	z = zstd_stream(eh, sizeof(eh), 32u << 20, &zlen);
	path = write_file("elfbomb.zst", z, zlen);
	limit_file_size(4u << 20);
	expect_open_failure(path, PHA_ERR_INTERNAL, "decompress the core", "file size limit");
	unlimit_file_size();
	free(path);
	free(z);
	CASE_END();

	CASE_BEGIN("elfcore_zstd_declared_size_over_limit_refused");
	/* A frame by hand: its header declares 1 PiB, its one raw block holds
	 * the ELF magic. Refused when the header is read, before any write. */
	static const uint8_t frame[] = {
		0x28, 0xb5, 0x2f, 0xfd,
		0xc0,			/* FCS field of 8 bytes, not single-segment */
		0x50,			/* window 1 MiB */
		0, 0, 0, 0, 0, 0, 0x04, 0,	/* frame content size 2^50 */
		0x21, 0, 0,		/* last block, raw, 4 bytes */
		0x7f, 'E', 'L', 'F',
	};
	path = write_file("declared.zst", frame, sizeof(frame));
	expect_open_failure(path, PHA_ERR_INTERNAL, "declares 1125899906842624 bytes", "core");
	free(path);
	CASE_END();
}

/* Program headers pointing thousands of times at the same notes used to
 * parse them once per header: the threads multiplied (and the time, with a
 * big note segment). Each byte of notes is parsed once now. */
static void test_duplicate_notes(void)
{
	enum { NPH = 20000, NTHREADS = 8 };
	CASE_BEGIN("elfcore_many_pt_note_headers_parsed_once");
	struct buf b = { 0 };
	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	set_u16(eh + 16, ET_CORE);
	set_u16(eh + 18, EM_X86_64);
	set_u32(eh + 20, EV_CURRENT);
	set_u64(eh + 32, 64);
	set_u16(eh + 52, 64);
	set_u16(eh + 54, 56);
	set_u16(eh + 56, NPH + 1);
	put(&b, eh, sizeof(eh));
	size_t phdrs = b.len;
	put(&b, NULL, (NPH + 1) * 56);
	size_t notes = b.len;
	for (int i = 0; i < NTHREADS; i++) {
		uint8_t st[336] = { 0 };
		set_u32(st + 32, 100 + (uint32_t)i);
		note(&b, "CORE", NT_PRSTATUS, st, sizeof(st));
	}
	size_t notes_end = b.len;
	pad_to(&b, 8);
	size_t data = b.len;
	put(&b, NULL, 4096);
	for (int i = 0; i < NPH; i++) {
		uint8_t *ph = b.p + phdrs + 56 * (size_t)i;
		set_u32(ph + 0, PT_NOTE);
		set_u64(ph + 8, notes);
		set_u64(ph + 32, notes_end - notes);
	}
	uint8_t *ph = b.p + phdrs + 56 * NPH;
	set_u32(ph + 0, PT_LOAD);
	set_u32(ph + 4, PF_R | PF_W);
	set_u64(ph + 8, data);
	set_u64(ph + 16, 0x10000);
	set_u64(ph + 32, 4096);
	set_u64(ph + 40, 4096);
	char *path = write_file("core.dupnotes", b.p, b.len);
	free(b.p);
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	CHECKF(!err, "%s", err ? err->message : "");
	CHECKF(core && core->nthreads == NTHREADS, "%zu threads, want %d",
	       core ? core->nthreads : 0, NTHREADS);
	CHECK(core && core->threads[0].tid == 100 && core->threads[NTHREADS - 1].tid == 107);
	pha_error_destroy(err);
	pha_core_close(core);
	free(path);
	CASE_END();
}

/* A FIFO as the input, or as a file the core's NT_FILE names, used to
 * block forever in open(). */
static void test_fifos(void)
{
	char *fifo = path_in_tmp("input.fifo");
	if (mkfifo(fifo, 0600) != 0) {
		SKIP_CASE("elfcore_input_fifo_refused_without_blocking", strerror(errno));
		SKIP_CASE("elffile_nt_file_fifo_skipped_with_warning", strerror(errno));
		free(fifo);
		return;
	}
	CASE_BEGIN("elfcore_input_fifo_refused_without_blocking");
	guard("elfcore_input_fifo_refused_without_blocking");
	expect_open_error(fifo, "FIFO");
	unguard();
	CASE_END();

	CASE_BEGIN("elffile_nt_file_fifo_skipped_with_warning");
	guard("elffile_nt_file_fifo_skipped_with_warning");
	char *path = core_with_omitted_loads("core.fifo", 4, fifo);
	struct loaded ld;
	load_all(path, NULL, &ld);
	unguard();
	const struct pha_module *mod = ld.ok ? module_named(&ld.mods, fifo) : NULL;
	CHECK(mod && mod->status != PHA_MODULE_OK && !mod->file);
	CHECKF(ld.ok && warning_with(&ld.mods, fifo, "FIFO"), "no warning names %s as a FIFO (%zu)",
	       fifo, ld.ok ? ld.mods.nwarnings : 0);
	uint64_t v, fault = 0;
	CHECK(!pha_memory_read(&ld.mem, OMIT_BASE, &v, 8, &fault) && fault == OMIT_BASE);
	unload(&ld);
	free(path);
	CASE_END();
	free(fifo);
}

static void cleanup_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = path_in_tmp(e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/pha-test-elfcore-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_parse();
	test_zstd();
	test_truncated();
	test_rejects();
	test_fuzz();
	test_modules();
	test_many_omitted_loads();
	test_fifos();
	test_zstd_bombs();
	test_duplicate_notes();
	test_gcore();
	test_kernel_core();
	cleanup_tmpdir();
	CHECK_EXIT();
}
