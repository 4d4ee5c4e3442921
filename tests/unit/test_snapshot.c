/* Unit tests of heap snapshots: the bounds-checked msgpack cursor, a
 * write/read round trip of a small heap (plain and zstd), and malformed
 * input: every truncation, every byte replaced by hostile values, an
 * unknown version. Malformed input must be an input error naming a byte
 * offset, never a crash (run under ASan by make check). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "../../analyzer/graph.h"
#include "../../formats/mpcursor.h"
#include "../../formats/snapshot.h"
#include "check.h"

static char tmpdir[] = "/tmp/pha-test-snapshot-XXXXXX";

static char *tmp_path(const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", tmpdir, name) < 0 ? NULL : p;
}

static void test_cursor(void)
{
	CASE_BEGIN("mpcursor/integers");
	static const uint8_t ints[] = {
		0x05, 0xcc, 0xff, 0xcd, 0x01, 0x00, 0xce, 0x00, 0x01, 0x00, 0x00,
		0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xd0, 0x80, 0xd1, 0xff, 0x00, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
	};
	struct pha_mp mp;
	pha_mp_init(&mp, ints, sizeof(ints), "t");
	uint64_t u;
	int64_t i;
	CHECK(pha_mp_uint(&mp, &u) && u == 5);
	CHECK(pha_mp_uint(&mp, &u) && u == 255);
	CHECK(pha_mp_uint(&mp, &u) && u == 256);
	CHECK(pha_mp_uint(&mp, &u) && u == 65536);
	CHECK(pha_mp_uint(&mp, &u) && u == UINT64_MAX);
	CHECK(pha_mp_int(&mp, &i) && i == -1);
	CHECK(pha_mp_int(&mp, &i) && i == -128);
	CHECK(pha_mp_int(&mp, &i) && i == -256);
	CHECK(pha_mp_int(&mp, &i) && i == INT64_MIN);
	CHECK(pha_mp_at_end(&mp) && !mp.err);
	CASE_END();

	CASE_BEGIN("mpcursor/hostile-length");
	static const uint8_t huge[] = {0x91, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
	uint32_t n;
	pha_mp_init(&mp, huge, sizeof(huge), "huge.msgpack");
	CHECK(pha_mp_array(&mp, &n) && n == 1);
	CHECK(!pha_mp_array(&mp, &n));
	CHECK(mp.err && mp.err->kind == PHA_ERR_INPUT);
	CHECKF(mp.err && strstr(mp.err->message, "huge.msgpack: ") &&
	       strstr(mp.err->message, "at byte offset 1"), "%s", mp.err ? mp.err->message : "-");
	pha_error_destroy(mp.err);
	CASE_END();

	CASE_BEGIN("mpcursor/wrong-type-and-truncation");
	static const uint8_t s[] = {0xa3, 'a', 'b'};
	pha_mp_init(&mp, s, sizeof(s), "s");
	CHECK(!pha_mp_uint(&mp, &u));
	CHECKF(mp.err && strstr(mp.err->message, "expected integer, found string at byte offset 0"),
	       "%s", mp.err ? mp.err->message : "-");
	pha_error_destroy(mp.err);
	const char *str;
	pha_mp_init(&mp, s, sizeof(s), "s");
	CHECK(!pha_mp_str(&mp, &str, &n));
	CHECK(mp.err && strstr(mp.err->message, "at byte offset 0"));
	pha_error_destroy(mp.err);
	CASE_END();

	CASE_BEGIN("mpcursor/skip");
	/* {"a": [1, -1, 1.5, nil, true, fixext1, bin8 "xy", {"k": [[]]}]} then 7 */
	static const uint8_t nested[] = {
		0x81, 0xa1, 'a', 0x98, 0x01, 0xff, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
		0xc0, 0xc3, 0xd4, 0x01, 0x02, 0xc4, 0x02, 'x', 'y', 0x81, 0xa1, 'k', 0x91, 0x90,
		0x07,
	};
	pha_mp_init(&mp, nested, sizeof(nested), "n");
	CHECK(pha_mp_skip(&mp));
	CHECK(pha_mp_uint(&mp, &u) && u == 7 && pha_mp_at_end(&mp));
	for (size_t cut = 0; cut < sizeof(nested) - 1; cut++) {
		pha_mp_init(&mp, nested, cut, "n");
		CHECKF(!pha_mp_skip(&mp) && mp.err, "skip succeeded on %zu bytes", cut);
		pha_error_destroy(mp.err);
	}
	CASE_END();
}

/* A small heap: 4 objects, 3 types, plain, weak and non-traversed edges. */
static struct pha_heap *small_heap(void)
{
	struct pha_heap *h = calloc(1, sizeof(*h));
	h->n = 4;
	h->addr = malloc(4 * sizeof(uint64_t));
	h->type = malloc(4 * sizeof(uint32_t));
	h->size.v = malloc(4 * sizeof(uint32_t));
	h->refcnt.v = malloc(4 * sizeof(uint32_t));
	h->flags = malloc(4);
	h->gen = malloc(4);
	h->first = malloc(5 * sizeof(uint32_t));
	h->dst = malloc(5 * sizeof(uint32_t));
	h->eflags = malloc(5);
	h->types = calloc(3, sizeof(*h->types));
	h->ntypes = 3;
	static const char *const names[] = {"type", "__main__.Node", "weakref.ReferenceType"};
	for (uint32_t i = 0; i < 3; i++) {
		h->types[i].addr = 0x1000 + 0x100 * i;
		h->types[i].name = names[i];
		h->types[i].obj = i == 0 ? 0 : PHA_NO_ID;
	}
	uint64_t addr[] = {0x1000, 0x7f0000001000, 0x7f0000001040, 0x7f0000002000};
	uint32_t type[] = {0, 1, 1, 2};
	uint8_t flags[] = {PHA_OBJ_IMMORTAL, PHA_OBJ_GC, PHA_OBJ_GC | PHA_OBJ_PERMANENT, PHA_OBJ_GC};
	uint8_t gen[] = {255, 2, 3, 0};
	uint32_t first[] = {0, 0, 2, 3, 5};
	uint32_t dst[] = {2, 0, 1, 1, 0};
	uint8_t ef[] = {PHA_EDGE_TRAVERSED, 0, PHA_EDGE_TRAVERSED, PHA_EDGE_WEAK, 0};
	for (int i = 0; i < 4; i++) {
		h->addr[i] = addr[i];
		h->type[i] = type[i];
		pha_col_set(&h->size, (uint32_t)i, 48 + 8 * (uint64_t)i);
		pha_col_set(&h->refcnt, (uint32_t)i, i == 0 ? 0xffffffffULL : (uint64_t)i);
		h->flags[i] = flags[i];
		h->gen[i] = gen[i];
	}
	memcpy(h->first, first, sizeof(first));
	memcpy(h->dst, dst, sizeof(dst));
	memcpy(h->eflags, ef, sizeof(ef));
	h->nedges = 5;
	h->unknown_refs = 3;
	h->bad_objects = 1;
	return h;
}

static void small_source(struct pha_source *s)
{
	pha_source_init(s);
	s->input_path = strdup("core.1");
	s->input_kind = "core";
	s->input_bytes = 1000;
	strcpy(s->version, "3.12.1");
	s->hexversion = 0x030c01f0;
	s->layout = strdup("cpython-3.12");
	s->pid = 42;
	s->signal = 6;
	s->executable = strdup("/usr/bin/python3");
	pha_strv_push(&s->argv, &s->argc, strdup("python3"));
	pha_strv_push(&s->argv, &s->argc, strdup("app.py"));
	pha_strv_push(&s->warnings, &s->nwarnings, strdup("a warning"));
	s->threads = calloc(1, sizeof(*s->threads));
	s->nthreads = 1;
	s->threads[0].thread_id = 77;
	s->threads[0].native_id = 42;
	s->threads[0].crashed = true;
	s->threads[0].frames = calloc(1, sizeof(*s->threads[0].frames));
	s->threads[0].nframes = 1;
	s->threads[0].frames[0].function = strdup("main");
	s->threads[0].frames[0].filename = strdup("app.py");
	s->threads[0].frames[0].line = 12;
}

/* tracemalloc's traces as a core gives them: files sorted, tracebacks
 * most recent frame first, rows in tracemalloc's order, a site for every
 * other object. */
static void small_allocs(struct pha_allocs *a, uint32_t nobj)
{
	static const struct pha_alloc_frame frames[] = {{0, 10}, {1, 5}, {0, 3}};
	a->tracing = a->traces = true;
	a->max_frames = 10;
	a->traced_bytes = 4096;
	a->peak_bytes = 8192;
	a->ntraces = 7;
	a->files = calloc(2, sizeof(*a->files));
	a->files[0] = strdup("a.py");
	a->files[1] = strdup("b.py");
	a->nfiles = 2;
	a->frames = malloc(sizeof(frames));
	memcpy(a->frames, frames, sizeof(frames));
	a->tb_first = malloc(3 * sizeof(*a->tb_first));
	a->tb_first[0] = 0;
	a->tb_first[1] = 1;
	a->tb_first[2] = 3;
	a->ntb = 2;
	a->by_tb = calloc(2, sizeof(*a->by_tb));
	a->by_tb[0] = (struct pha_alloc_stat){.tb = 1, .file = UINT32_MAX, .bytes = 3000, .count = 4};
	a->by_tb[1] = (struct pha_alloc_stat){.tb = 0, .file = UINT32_MAX, .bytes = 1096, .count = 3};
	a->nby_tb = 2;
	a->by_line = calloc(2, sizeof(*a->by_line));
	a->by_line[0] = (struct pha_alloc_stat){.file = 1, .line = 5, .tb = PHA_NO_TB, .bytes = 3000,
						.count = 4};
	a->by_line[1] = (struct pha_alloc_stat){.file = 0, .line = 10, .tb = PHA_NO_TB, .bytes = 1096,
						.count = 3};
	a->nby_line = 2;
	a->obj_tb = malloc(nobj * sizeof(*a->obj_tb));
	for (uint32_t v = 0; v < nobj; v++)
		a->obj_tb[v] = v % 2 ? PHA_NO_TB : v % 4 ? 1 : 0;
	a->nobj = nobj;
}

static bool same_allocs(const struct pha_allocs *a, const struct pha_allocs *b)
{
	if (a->tracing != b->tracing || a->traces != b->traces || a->max_frames != b->max_frames ||
	    a->traced_bytes != b->traced_bytes || a->peak_bytes != b->peak_bytes ||
	    a->ntraces != b->ntraces || a->nfiles != b->nfiles || a->ntb != b->ntb ||
	    a->nby_line != b->nby_line || a->nby_tb != b->nby_tb || a->nobj != b->nobj)
		return false;
	for (uint32_t i = 0; i < a->nfiles; i++) {
		if (strcmp(a->files[i], b->files[i]))
			return false;
	}
	for (size_t i = 0; i < a->nby_line; i++) {
		const struct pha_alloc_stat *x = &a->by_line[i], *y = &b->by_line[i];
		if (x->file != y->file || x->line != y->line || x->bytes != y->bytes ||
		    x->count != y->count)
			return false;
	}
	for (size_t i = 0; i < a->nby_tb; i++) {
		const struct pha_alloc_stat *x = &a->by_tb[i], *y = &b->by_tb[i];
		if (x->tb != y->tb || x->bytes != y->bytes || x->count != y->count)
			return false;
	}
	return !memcmp(a->tb_first, b->tb_first, (a->ntb + 1) * sizeof(*a->tb_first)) &&
	       !memcmp(a->frames, b->frames, a->tb_first[a->ntb] * sizeof(*a->frames)) &&
	       !memcmp(a->obj_tb, b->obj_tb, a->nobj * sizeof(*a->obj_tb));
}

static bool same_heap(const struct pha_heap *a, const struct pha_heap *b)
{
	if (a->n != b->n || a->nedges != b->nedges || a->ntypes != b->ntypes ||
	    a->unknown_refs != b->unknown_refs || a->bad_objects != b->bad_objects)
		return false;
	for (uint32_t i = 0; i < a->ntypes; i++) {
		if (a->types[i].addr != b->types[i].addr || strcmp(a->types[i].name, b->types[i].name) ||
		    a->types[i].obj != b->types[i].obj)
			return false;
	}
	for (uint32_t v = 0; v < a->n; v++) {
		if (pha_heap_size(a, v) != pha_heap_size(b, v) ||
		    pha_heap_refcnt(a, v) != pha_heap_refcnt(b, v))
			return false;
	}
	return !memcmp(a->addr, b->addr, a->n * 8) && !memcmp(a->type, b->type, a->n * 4) &&
	       !memcmp(a->flags, b->flags, a->n) && !memcmp(a->gen, b->gen, a->n) &&
	       !memcmp(a->first, b->first, (a->n + 1) * 4) &&
	       !memcmp(a->dst, b->dst, a->nedges * 4) && !memcmp(a->eflags, b->eflags, a->nedges);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

/* Read path; returns the error (NULL = read fine). */
static struct pha_error *try_read(const char *path)
{
	struct pha_source s;
	struct pha_heap *h = NULL;
	pha_source_init(&s);
	struct pha_error *err = pha_snapshot_read(path, &s, &h);
	pha_heap_destroy(h);
	pha_source_deinit(&s);
	return err;
}

static void test_round_trip(void)
{
	struct pha_heap *h = small_heap();
	struct pha_source s;
	small_source(&s);
	small_allocs(&s.allocs, h->n);
	struct pha_snapshot_write_options o = {.written_by = "test"};
	for (int z = 0; z < 2; z++) {
		CASE_BEGIN(z ? "snapshot/round-trip-zstd" : "snapshot/round-trip");
		char *path = tmp_path(z ? "rt.msgpack.zst" : "rt.msgpack");
		o.compress = z;
		struct pha_error *err = pha_snapshot_write(path, &s, h, &o);
		CHECKF(!err, "write: %s", err->message);
		CHECK(pha_snapshot_sniff(path));
		struct pha_source s2;
		struct pha_heap *h2 = NULL;
		pha_source_init(&s2);
		err = pha_snapshot_read(path, &s2, &h2);
		CHECKF(!err, "read: %s", err ? err->message : "");
		if (!err) {
			CHECK(same_heap(h, h2));
			CHECK(!strcmp(s2.input_kind, "snapshot") && s2.compressed == z);
			CHECK(!strcmp(s2.version, "3.12.1") && s2.hexversion == 0x030c01f0);
			CHECK(!strcmp(s2.layout, "cpython-3.12") && s2.pid == 42 && s2.signal == 6);
			CHECK(s2.argc == 2 && !strcmp(s2.argv[1], "app.py"));
			CHECK(!strcmp(s2.executable, "/usr/bin/python3"));
			CHECK(s2.nwarnings == 1 && !strcmp(s2.warnings[0], "a warning"));
			CHECK(s2.nthreads == 1 && s2.threads[0].crashed && s2.threads[0].nframes == 1 &&
			      s2.threads[0].frames[0].line == 12 &&
			      !strcmp(s2.threads[0].frames[0].function, "main"));
			CHECK(!strcmp(s2.origin, "core") && !strcmp(s2.written_by, "test"));
			CHECK(same_allocs(&s.allocs, &s2.allocs));
		}
		pha_error_destroy(err);
		pha_heap_destroy(h2);
		pha_source_deinit(&s2);
		free(path);
		CASE_END();
	}

	CASE_BEGIN("snapshot/redact");
	char *path = tmp_path("redacted.msgpack");
	o.compress = false;
	o.redact = true;
	struct pha_error *err = pha_snapshot_write(path, &s, h, &o);
	CHECK(!err);
	struct pha_source s3;
	struct pha_heap *h3 = NULL;
	pha_source_init(&s3);
	CHECK(!(err = pha_snapshot_read(path, &s3, &h3)));
	CHECK(s3.argc == 0 && h3 && same_heap(h, h3));
	pha_error_destroy(err);
	pha_heap_destroy(h3);
	pha_source_deinit(&s3);
	free(path);
	CASE_END();

	/* Malformed: every truncation, then hostile bytes at every offset. */
	path = tmp_path("rt.msgpack");
	char *bad = tmp_path("bad.msgpack");
	size_t len = 0;
	uint8_t *orig = slurp(path, &len);
	CASE_BEGIN("snapshot/every-truncation");
	CHECK(orig && len > 100);
	for (size_t cut = 0; orig && cut < len; cut++) {
		spit(bad, orig, cut);
		err = try_read(bad);
		CHECKF(err && err->kind == PHA_ERR_INPUT && strstr(err->message, "byte offset"),
		       "cut at %zu: %s", cut, err ? err->message : "read fine");
		pha_error_destroy(err);
	}
	CASE_END();

	CASE_BEGIN("snapshot/hostile-bytes");
	static const uint8_t hostile[] = {0xc1, 0xdd, 0xdf, 0xdb, 0xc6, 0xff, 0x00, 0xc0, 0xcf};
	uint8_t *copy = malloc(len ? len : 1);
	for (size_t at = 0; orig && at < len; at++) {
		for (size_t k = 0; k < sizeof(hostile); k++) {
			memcpy(copy, orig, len);
			if (copy[at] == hostile[k])
				continue;
			copy[at] = hostile[k];
			spit(bad, copy, len);
			err = try_read(bad);
			/* Some replacements are still valid snapshots; every
			 * failure must be an input error with an offset. */
			CHECKF(!err || (err->kind == PHA_ERR_INPUT && strstr(err->message, "byte offset")),
			       "byte %zu := 0x%02x: %s", at, hostile[k], err->message);
			pha_error_destroy(err);
		}
	}
	free(copy);
	CASE_END();

	CASE_BEGIN("snapshot/unknown-version");
	/* The version is the second key of the header: "version" then 0x02
	 * (written), and 0x01 still reads. */
	uint8_t *v = orig ? memmem(orig, len, "\xa7version\x02", 9) : NULL;
	CHECK(v);
	if (v) {
		v[8] = 0x03;
		spit(bad, orig, len);
		err = try_read(bad);
		CHECKF(err && err->kind == PHA_ERR_INPUT &&
		       strstr(err->message, "unsupported snapshot version 3") &&
		       strstr(err->message, "byte offset"), "%s", err ? err->message : "read fine");
		pha_error_destroy(err);
	}
	CASE_END();

	CASE_BEGIN("snapshot/sniff-rejects-others");
	char *elf = tmp_path("core.1");
	spit(elf, (const uint8_t *)"\x7f" "ELF\x02\x01\x01", 7);
	CHECK(!pha_snapshot_sniff(elf));
	CHECK(pha_snapshot_sniff(bad));	/* by its name */
	unlink(elf);
	free(elf);
	CHECK(!pha_snapshot_sniff("/nonexistent/pyheap"));
	CASE_END();

	free(orig);
	unlink(bad);
	free(bad);
	free(path);
	pha_heap_destroy(h);
	pha_source_deinit(&s);
}

/* ---- hostile input (issue 11) ------------------------------------------- */

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

/* head followed by `zeros` zero bytes, zstd-compressed as a stream (the
 * frame declares no content size). */
static uint8_t *zstd_stream(const void *head, size_t hlen, size_t zeros, size_t *len_ret)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(hlen + zeros) + 1024;
	uint8_t *z = malloc(cap), *chunk = calloc(1, 1 << 20);
	ZSTD_outBuffer out = {z, cap, 0};
	ZSTD_inBuffer in = {head, hlen, 0};
	while (in.pos < in.size)
		ZSTD_compressStream2(cc, &out, &in, ZSTD_e_continue);
	for (size_t left = zeros; left > 0;) {
		size_t n = left < (1 << 20) ? left : 1 << 20;
		ZSTD_inBuffer zin = {chunk, n, 0};
		while (zin.pos < zin.size)
			ZSTD_compressStream2(cc, &out, &zin, ZSTD_e_continue);
		left -= n;
	}
	ZSTD_inBuffer none = {NULL, 0, 0};
	while (ZSTD_compressStream2(cc, &out, &none, ZSTD_e_end) != 0)
		;
	ZSTD_freeCCtx(cc);
	free(chunk);
	*len_ret = out.pos;
	return z;
}

/* The read fails with kind, the message starts with path and holds needle. */
static void expect_read_failure(const char *path, enum pha_error_kind kind, const char *needle)
{
	struct pha_error *err = try_read(path);
	CHECKF(err, "%s: read fine", path);
	if (err) {
		CHECKF(err->kind == kind, "kind %d, want %d: %s", err->kind, kind, err->message);
		CHECKF(!strncmp(err->message, path, strlen(path)) && strstr(err->message, needle),
		       "want '%s: ...%s...': %s", path, needle, err->message);
	}
	pha_error_destroy(err);
}

static void test_hostile(void)
{
	struct rlimit saved, rl;
	getrlimit(RLIMIT_FSIZE, &saved);
	rl = saved;
	rl.rlim_cur = 4u << 20;
	size_t zlen;

	/* zstd bombs used to be decompressed whole, and their errors said
	 * "core" and named only the temporary directory. */
	CASE_BEGIN("snapshot/zstd-bomb-refused-as-not-a-snapshot");
	uint8_t *z = zstd_stream(NULL, 0, 64u << 20, &zlen);
	char *path = tmp_path("bomb.msgpack.zst");
	spit(path, z, zlen);
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	expect_read_failure(path, PHA_ERR_INPUT, "not a heap snapshot");
	setrlimit(RLIMIT_FSIZE, &saved);
	free(z);
	free(path);
	CASE_END();

	CASE_BEGIN("snapshot/zstd-over-limit-says-snapshot");
	static const char head[] = "\x82\xa6" "format" "\xaf" "pyheap-snapshot" "\xa7" "version" "\x01";
	z = zstd_stream(head, sizeof(head) - 1, 32u << 20, &zlen);
	path = tmp_path("big.msgpack.zst");
	spit(path, z, zlen);
	setrlimit(RLIMIT_FSIZE, &rl);
	expect_read_failure(path, PHA_ERR_INTERNAL, "cannot decompress the snapshot");
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_DFL);
	free(z);
	free(path);
	CASE_END();

	/* A FIFO named like a snapshot blocked forever in open(); one named
	 * otherwise blocked in pha_snapshot_sniff. */
	CASE_BEGIN("snapshot/input-fifo-refused-without-blocking");
	char *fifo = tmp_path("heap.msgpack");
	char *fifo2 = tmp_path("heap.fifo");
	if (mkfifo(fifo, 0600) != 0 || mkfifo(fifo2, 0600) != 0) {
		CHECKF(0, "mkfifo: %s", strerror(errno));
	} else {
		guarded_case = "snapshot/input-fifo-refused-without-blocking";
		signal(SIGALRM, on_guard_alarm);
		alarm(20);
		CHECK(!pha_snapshot_sniff(fifo2));
		expect_read_failure(fifo, PHA_ERR_INPUT, "FIFO");
		alarm(0);
		signal(SIGALRM, SIG_DFL);
	}
	free(fifo);
	free(fifo2);
	CASE_END();
}

/* A snapshot committed in version 1 must stay readable by every later
 * reader: fixtures/snapshot-v1-small.msgpack holds small_heap() and
 * small_source(); regenerate with
 *   build/tests/unit/test_snapshot --write-fixture fixtures/snapshot-v1-small.msgpack
 * only when the format version changes (and keep the old file). */
#define FIXTURE "fixtures/snapshot-v1-small.msgpack"

static struct pha_error *write_fixture(const char *path)
{
	struct pha_heap *h = small_heap();
	struct pha_source s;
	small_source(&s);
	s.time = 1700000000;	/* fixed, so the file is reproducible */
	struct pha_snapshot_write_options o = {.written_by = "pyheap-analyze test_snapshot"};
	struct pha_error *err = pha_snapshot_write(path, &s, h, &o);
	pha_heap_destroy(h);
	pha_source_deinit(&s);
	return err;
}

static void test_fixture(void)
{
	CASE_BEGIN("snapshot/fixture-v1");
	struct pha_source s;
	struct pha_heap *h = NULL, *want = small_heap();
	pha_source_init(&s);
	struct pha_error *err = pha_snapshot_read(FIXTURE, &s, &h);
	CHECKF(!err, "%s (run from the top of the tree)", err ? err->message : "");
	if (!err) {
		CHECK(same_heap(want, h));
		CHECK(s.time == 1700000000 && s.pid == 42 && s.nthreads == 1);
		CHECK(!strcmp(s.written_by, "pyheap-analyze test_snapshot"));
	}
	pha_error_destroy(err);
	pha_heap_destroy(h);
	pha_heap_destroy(want);
	pha_source_deinit(&s);
	CASE_END();
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-fixture")) {
		struct pha_error *err = write_fixture(argv[2]);
		if (err)
			fprintf(stderr, "%s\n", err->message);
		return err ? 1 : 0;
	}
	if (!mkdtemp(tmpdir)) {
		printf("FAIL snapshot/setup: mkdtemp failed\n");
		return 1;
	}
	test_cursor();
	test_round_trip();
	test_fixture();
	test_hostile();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd)) {
	}
	CHECK_EXIT();
}
