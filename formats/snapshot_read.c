/* Reading a heap snapshot (formats/SNAPSHOT.md) into the heap model.
 *
 * The file is mapped (a .zst one is decompressed once to an unlinked
 * temporary file, like a compressed core) and walked with the
 * bounds-checked cursor; nothing is trusted before it is checked, and every
 * malformed input ends with "PATH: ... at byte offset N".
 *
 * Objects may come in any order (an in-process dump writes them in
 * discovery order); they are numbered by address at the end, like the core
 * path numbers them, and references are resolved then. A snapshot written
 * from a core is already in id order and comes back identical.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpcursor.h"
#include "snapshot.h"
#include "snapshot_allocs.h"
#include "zstdio.h"

#define OBJ_FLAGS_KNOWN (PHA_OBJ_GC | PHA_OBJ_PERMANENT | PHA_OBJ_IMMORTAL | PHA_OBJ_FINALIZER | \
			 PHA_OBJ_CONSERVATIVE | PHA_OBJ_FAULT)
#define EDGE_FLAGS_KNOWN (PHA_EDGE_TRAVERSED | PHA_EDGE_WEAK)

static const char magic[] = "\xa6" "format" "\xaf" PHA_SNAPSHOT_FORMAT;

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Offset of the "format" key after the header map's first byte (0 if that
 * byte does not start a map). */
static size_t magic_at(uint8_t b)
{
	return (b & 0xf0) == 0x80 ? 1 : b == 0xde ? 3 : b == 0xdf ? 5 : 0;
}

/* Could data starting with head[0..len) be a snapshot? A matching prefix
 * passes (the reader then explains the truncation). */
static bool snapshot_head_ok(const uint8_t *head, size_t len)
{
	if (len == 0)
		return true;
	size_t at = magic_at(head[0]);
	if (!at)
		return false;
	if (len <= at)
		return true;
	size_t n = len - at < sizeof(magic) - 1 ? len - at : sizeof(magic) - 1;
	return !memcmp(head + at, magic, n);
}

static const struct pha_zstd_expect snapshot_expect = {
	.what = "snapshot",
	.head_ok = snapshot_head_ok,
	.head_len = 5 + sizeof(magic) - 1,
	.mismatch = "not a heap snapshot (its zstd-decompressed data does not start with a "
		    PHA_SNAPSHOT_FORMAT " header)",
};

bool pha_snapshot_sniff(const char *path)
{
	/* The name is enough: a damaged snapshot is then explained as one
	 * (with the byte offset), not as "not an ELF file". */
	if (has_suffix(path, ".msgpack") || has_suffix(path, ".msgpack.zst"))
		return true;
	uint8_t head[64], plain[64];
	size_t have = 0;
	const uint8_t *p = head;
	int fd;
	/* Only a regular file is looked into: pha_input_open neither blocks
	 * on a FIFO nor opens a device. The core reader explains the rest. */
	struct pha_error *err = pha_input_open(path, "snapshot", &fd, NULL);
	if (err) {
		pha_error_destroy(err);
		return false;
	}
	ssize_t r = pread(fd, head, sizeof(head), 0);
	if (r > 0 && pha_zstd_is_frame(head, (size_t)r)) {
		have = pha_zstd_head(fd, plain, sizeof(plain));
		p = plain;
	} else if (r > 0) {
		have = (size_t)r;
	}
	close(fd);
	if (have < 1)
		return false;
	size_t at = magic_at(p[0]);
	return at && have >= at + sizeof(magic) - 1 && !memcmp(p + at, magic, sizeof(magic) - 1);
}

struct rd {
	struct pha_mp mp;
	struct pha_source *src;

	/* objects, in file order */
	uint64_t *addr, *size, *refcnt, *ooff;
	uint32_t *type, *ecount;
	uint8_t *flags, *gen;
	size_t n, cap;
	bool sorted;
	/* references, in file order */
	uint64_t *eaddr;
	uint8_t *ekind;
	uint64_t ne, ecap;
	/* types, in file order */
	uint64_t *taddr;
	size_t *toff;
	char **tname;
	uint8_t *tkind;		/* enum pha_type_kind, TKIND_UNKNOWN: not given */
	size_t nt, tcap;

	uint64_t unknown_refs, bad_objects;
	bool have_header_counts;

	/* version 2: the allocations record, and each object's traceback
	 * (field 9) in file order; otb NULL until an object has one. */
	struct pha_snap_allocs sa;
	uint32_t *otb;
	size_t otb_cap;
};

static void rd_deinit(struct rd *r)
{
	free(r->addr);
	free(r->size);
	free(r->refcnt);
	free(r->ooff);
	free(r->type);
	free(r->ecount);
	free(r->flags);
	free(r->gen);
	free(r->eaddr);
	free(r->ekind);
	free(r->taddr);
	free(r->toff);
	free(r->tkind);
	free(r->otb);
	for (size_t i = 0; i < r->nt; i++)
		free(r->tname[i]);
	free(r->tname);
}

static bool oom(struct rd *r)
{
	if (!r->mp.err)
		r->mp.err = &pha_enomem;
	return false;
}

#define GROW(arr, cap) do { \
	void *p_ = realloc((arr), (cap) * sizeof(*(arr))); \
	if (!p_) return oom(r); \
	(arr) = p_; } while (0)

static bool key_is(const char *k, uint32_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

static bool key(struct rd *r, const char **k, uint32_t *n)
{
	return pha_mp_str(&r->mp, k, n);
}

/* Optional string: nil or str. */
static bool opt_strdup(struct rd *r, char **s_ret)
{
	if (pha_mp_nil(&r->mp))
		return true;
	free(*s_ret);
	*s_ret = NULL;
	return pha_mp_strdup(&r->mp, s_ret);
}

static bool read_python(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_map(&r->mp, &n))
		return false;
	while (n--) {
		const char *k;
		uint32_t kl;
		if (!key(r, &k, &kl))
			return false;
		size_t at = r->mp.off;
		if (key_is(k, kl, "version")) {
			const char *v;
			uint32_t vl;
			if (!pha_mp_str(&r->mp, &v, &vl))
				return false;
			if (vl >= sizeof(r->src->version) || memchr(v, 0, vl))
				return pha_mp_fail_at(&r->mp, at, "python.version is not a version string");
			memcpy(r->src->version, v, vl);
			r->src->version[vl] = 0;
		} else if (key_is(k, kl, "hexversion")) {
			uint64_t v;
			if (!pha_mp_uint(&r->mp, &v))
				return false;
			if (v > UINT32_MAX)
				return pha_mp_fail_at(&r->mp, at, "python.hexversion out of range");
			r->src->hexversion = (uint32_t)v;
		} else if (key_is(k, kl, "layout")) {
			if (!opt_strdup(r, &r->src->layout))
				return false;
		} else if (key_is(k, kl, "free_threaded")) {
			if (!pha_mp_bool(&r->mp, &r->src->free_threaded))
				return false;
		} else if (!pha_mp_skip(&r->mp)) {
			return false;
		}
	}
	return true;
}

static bool read_process(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_map(&r->mp, &n))
		return false;
	while (n--) {
		const char *k;
		uint32_t kl;
		if (!key(r, &k, &kl))
			return false;
		if (key_is(k, kl, "pid")) {
			if (!pha_mp_nil(&r->mp) && !pha_mp_int(&r->mp, &r->src->pid))
				return false;
		} else if (key_is(k, kl, "signal")) {
			int64_t v;
			size_t at = r->mp.off;
			if (!pha_mp_nil(&r->mp)) {
				if (!pha_mp_int(&r->mp, &v))
					return false;
				if (v < 0 || v > 255)
					return pha_mp_fail_at(&r->mp, at, "process.signal out of range");
				r->src->signal = (int)v;
			}
		} else if (key_is(k, kl, "executable")) {
			if (!opt_strdup(r, &r->src->executable))
				return false;
		} else if (key_is(k, kl, "argv")) {
			uint32_t m;
			if (pha_mp_nil(&r->mp))
				continue;
			if (!pha_mp_array(&r->mp, &m))
				return false;
			while (m--) {
				char *a;
				if (!pha_mp_strdup(&r->mp, &a))
					return false;
				if (!pha_strv_push(&r->src->argv, &r->src->argc, a))
					return oom(r);
			}
		} else if (!pha_mp_skip(&r->mp)) {
			return false;
		}
	}
	return true;
}

static bool read_header(struct rd *r)
{
	uint32_t n;
	bool have_format = false, have_version = false;
	if (r->mp.len == 0)
		return pha_mp_fail_at(&r->mp, 0, "empty file, not a heap snapshot");
	if (!pha_mp_map(&r->mp, &n))
		return false;
	while (n--) {
		const char *k;
		uint32_t kl;
		if (!key(r, &k, &kl))
			return false;
		size_t at = r->mp.off;
		if (key_is(k, kl, "format")) {
			const char *v;
			uint32_t vl;
			if (!pha_mp_str(&r->mp, &v, &vl))
				return false;
			if (!key_is(v, vl, PHA_SNAPSHOT_FORMAT))
				return pha_mp_fail_at(&r->mp, at, "format is '%.*s', not '%s'",
						      (int)(vl > 64 ? 64 : vl), v, PHA_SNAPSHOT_FORMAT);
			have_format = true;
		} else if (key_is(k, kl, "version")) {
			uint64_t v;
			if (!pha_mp_uint(&r->mp, &v))
				return false;
			if (v < 1 || v > PHA_SNAPSHOT_VERSION)
				return pha_mp_fail_at(&r->mp, at, "unsupported snapshot version %llu "
						      "(this build reads versions 1 to %d)",
						      (unsigned long long)v, PHA_SNAPSHOT_VERSION);
			have_version = true;
		} else if (key_is(k, kl, "written_by")) {
			if (!opt_strdup(r, &r->src->written_by))
				return false;
		} else if (key_is(k, kl, "source")) {
			if (!opt_strdup(r, &r->src->origin))
				return false;
		} else if (key_is(k, kl, "time")) {
			if (!pha_mp_nil(&r->mp) && !pha_mp_int(&r->mp, &r->src->time))
				return false;
		} else if (key_is(k, kl, "python")) {
			if (!read_python(r))
				return false;
		} else if (key_is(k, kl, "process")) {
			if (!read_process(r))
				return false;
		} else if (!pha_mp_skip(&r->mp)) {
			return false;
		}
	}
	if (!have_format || !have_version)
		return pha_mp_fail_at(&r->mp, 0, "the first value is not a %s header (no %s)",
				      PHA_SNAPSHOT_FORMAT, have_format ? "version" : "format");
	if (!r->src->version[0])
		return pha_mp_fail_at(&r->mp, 0, "the header has no python.version");
	return true;
}

#define TKIND_UNKNOWN 255

static bool read_types(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_array(&r->mp, &n))
		return false;
	while (n--) {
		size_t at = r->mp.off;
		uint32_t m;
		if (!pha_mp_array(&r->mp, &m))
			return false;
		if (m < 2)
			return pha_mp_fail_at(&r->mp, at, "a type entry needs [address, name, ...]");
		if (r->nt == r->tcap) {
			r->tcap = r->tcap ? r->tcap * 2 : 256;
			GROW(r->taddr, r->tcap);
			GROW(r->toff, r->tcap);
			GROW(r->tname, r->tcap);
			GROW(r->tkind, r->tcap);
		}
		char *name = NULL;
		if (!pha_mp_uint(&r->mp, &r->taddr[r->nt]) || !pha_mp_strdup(&r->mp, &name))
			return false;
		r->tname[r->nt] = name;
		r->tkind[r->nt] = TKIND_UNKNOWN;
		r->toff[r->nt++] = at;
		for (uint32_t i = 2; i < m; i++) {	/* basicsize, flags, kind, future fields */
			uint64_t kind;
			if (i == 4 && !pha_mp_nil(&r->mp)) {
				if (!pha_mp_uint(&r->mp, &kind))
					return false;
				/* Kinds this reader does not know are "other". */
				r->tkind[r->nt - 1] = kind <= PHA_TYPE_KIND_MODULE
					? (uint8_t)kind : PHA_TYPE_KIND_OTHER;
			} else if (i != 4 && !pha_mp_skip(&r->mp)) {
				return false;
			}
		}
	}
	return true;
}

/* Room for one more object in the parallel arrays. */
static bool grow_objects(struct rd *r, size_t at)
{
	if (r->n < r->cap)
		return true;
	if (r->n >= UINT32_MAX - 1)
		return pha_mp_fail_at(&r->mp, at, "too many objects");
	r->cap = r->cap ? r->cap * 2 : 1 << 14;
	GROW(r->addr, r->cap);
	GROW(r->size, r->cap);
	GROW(r->refcnt, r->cap);
	GROW(r->ooff, r->cap);
	GROW(r->type, r->cap);
	GROW(r->ecount, r->cap);
	GROW(r->flags, r->cap);
	GROW(r->gen, r->cap);
	if (r->otb) {
		GROW(r->otb, r->cap);
		for (size_t i = r->otb_cap; i < r->cap; i++)
			r->otb[i] = PHA_NO_TB;
		r->otb_cap = r->cap;
	}
	return true;
}

/* Room for nrefs more references. nrefs is bounded by the bytes left (the
 * cursor checked the array's length), and the total by UINT32_MAX. */
static bool grow_refs(struct rd *r, size_t at, uint32_t nrefs)
{
	if (r->ne + nrefs <= r->ecap)
		return true;
	uint64_t cap = r->ecap ? r->ecap : 1 << 16;
	while (cap < r->ne + nrefs)
		cap *= 2;
	if (cap > UINT32_MAX)
		return pha_mp_fail_at(&r->mp, at, "too many references");
	r->ecap = cap;
	GROW(r->eaddr, r->ecap);
	GROW(r->ekind, r->ecap);
	return true;
}

/* Fields 0-5 of object i: address, type, size, refcnt, flags, generation. */
static bool read_object_fields(struct rd *r, size_t i, uint64_t *type, uint64_t *flags,
			       uint64_t *gen)
{
	*gen = 255;
	if (!pha_mp_uint(&r->mp, &r->addr[i]))
		return false;
	size_t fat = r->mp.off;
	if (!pha_mp_uint(&r->mp, type))
		return false;
	if (*type >= r->nt)
		return pha_mp_fail_at(&r->mp, fat, "type index %llu is not in the type table "
				      "read so far (%zu types)", (unsigned long long)*type, r->nt);
	if (!pha_mp_uint(&r->mp, &r->size[i]) || !pha_mp_uint(&r->mp, &r->refcnt[i]))
		return false;
	fat = r->mp.off;
	if (!pha_mp_uint(&r->mp, flags))
		return false;
	if (*flags & ~(uint64_t)OBJ_FLAGS_KNOWN)
		return pha_mp_fail_at(&r->mp, fat, "unknown object flags 0x%llx",
				      (unsigned long long)*flags);
	fat = r->mp.off;
	if (!pha_mp_nil(&r->mp)) {
		if (!pha_mp_uint(&r->mp, gen))
			return false;
		if (*gen > PHA_GEN_PERMANENT)
			return pha_mp_fail_at(&r->mp, fat, "generation %llu (0..3 or nil)",
					      (unsigned long long)*gen);
	}
	return true;
}

/* Field 7 (m >= 8): nil or one edge kind byte per reference. */
static bool read_edge_kinds(struct rd *r, uint32_t nrefs)
{
	size_t fat = r->mp.off;
	const uint8_t *kinds;
	uint32_t nk;
	if (pha_mp_nil(&r->mp))
		return true;
	if (!pha_mp_bin(&r->mp, &kinds, &nk))
		return false;
	if (nk != nrefs)
		return pha_mp_fail_at(&r->mp, fat, "%u edge kinds for %u references", nk, nrefs);
	for (uint32_t k = 0; k < nk; k++) {
		if (kinds[k] & ~EDGE_FLAGS_KNOWN)
			return pha_mp_fail_at(&r->mp, fat, "unknown edge kind 0x%x", kinds[k]);
		r->ekind[r->ne + k] = kinds[k];
	}
	return true;
}

/* Field 9 (version 2): nil or the index of the object's allocation
 * traceback in the allocations record (checked once everything is read). */
static bool read_object_site(struct rd *r)
{
	size_t at = r->mp.off;
	uint64_t tb;
	if (pha_mp_nil(&r->mp))
		return true;
	if (!pha_mp_uint(&r->mp, &tb))
		return false;
	if (tb >= PHA_NO_TB)
		return pha_mp_fail_at(&r->mp, at, "traceback index %llu out of range",
				      (unsigned long long)tb);
	if (!r->otb) {
		r->otb_cap = r->cap;
		r->otb = malloc(r->otb_cap * sizeof(*r->otb));
		if (!r->otb)
			return oom(r);
		for (size_t i = 0; i < r->otb_cap; i++)
			r->otb[i] = PHA_NO_TB;
	}
	r->otb[r->n] = (uint32_t)tb;
	return true;
}

/* Fields 6 and up of an object of m fields: its references, their kinds,
 * its allocation site, and what later versions add (skipped). */
static bool read_object_refs(struct rd *r, size_t at, uint32_t m, uint32_t *nrefs_ret)
{
	uint32_t nrefs;
	if (!pha_mp_array(&r->mp, &nrefs) || !grow_refs(r, at, nrefs))
		return false;
	for (uint32_t k = 0; k < nrefs; k++) {
		if (!pha_mp_uint(&r->mp, &r->eaddr[r->ne + k]))
			return false;
		r->ekind[r->ne + k] = PHA_EDGE_TRAVERSED;
	}
	if (m >= 8 && !read_edge_kinds(r, nrefs))
		return false;
	for (uint32_t k = 8; k < m; k++) {	/* preview, site, future fields */
		if (k == 9 ? !read_object_site(r) : !pha_mp_skip(&r->mp))
			return false;
	}
	*nrefs_ret = nrefs;
	return true;
}

static bool read_object(struct rd *r)
{
	size_t at = r->mp.off;
	uint32_t m, nrefs;
	uint64_t type, flags, gen;
	if (!pha_mp_array(&r->mp, &m))
		return false;
	if (m < 7)
		return pha_mp_fail_at(&r->mp, at, "an object entry needs at least 7 fields, "
				      "not %u", m);
	if (!grow_objects(r, at))
		return false;
	size_t i = r->n;
	if (!read_object_fields(r, i, &type, &flags, &gen) ||
	    !read_object_refs(r, at, m, &nrefs))
		return false;
	if (i && r->addr[i] <= r->addr[i - 1])
		r->sorted = false;
	r->type[i] = (uint32_t)type;
	r->flags[i] = (uint8_t)flags;
	r->gen[i] = (uint8_t)gen;
	r->ecount[i] = nrefs;
	r->ooff[i] = at;
	r->ne += nrefs;
	r->n++;
	return true;
}

static bool read_objects(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_array(&r->mp, &n))
		return false;
	while (n--) {
		if (!read_object(r))
			return false;
	}
	return true;
}

static bool read_roots(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_array(&r->mp, &n))
		return false;
	struct pha_source *s = r->src;
	uint64_t *nr = realloc(s->roots, (s->nroots + n + 1) * sizeof(*nr));
	if (!nr)
		return oom(r);
	s->roots = nr;
	char **nl = realloc(s->root_labels, (s->nroots + n + 1) * sizeof(*nl));
	if (!nl)
		return oom(r);
	s->root_labels = nl;
	uint8_t *nk = realloc(s->root_kinds, s->nroots + n + 1);
	if (!nk)
		return oom(r);
	s->root_kinds = nk;
	while (n--) {
		size_t at = r->mp.off;
		uint32_t m;
		if (!pha_mp_array(&r->mp, &m))
			return false;
		if (m < 1)
			return pha_mp_fail_at(&r->mp, at, "a root entry needs [address, label]");
		if (!pha_mp_uint(&r->mp, &s->roots[s->nroots]))
			return false;
		s->root_labels[s->nroots] = NULL;
		s->root_kinds[s->nroots] = 0;
		s->nroots++;
		if (m >= 2) {
			const char *lab;
			uint32_t ll;
			if (pha_mp_nil(&r->mp)) {
				/* unlabelled */
			} else if (pha_mp_str(&r->mp, &lab, &ll)) {
				if (!(s->root_labels[s->nroots - 1] = strndup(lab, ll)))
					return oom(r);
			} else {
				return false;
			}
		}
		if (m >= 3) {
			/* The root's kind (enum pha_root_kind); 0 = not recorded,
			 * and so is a kind of a later writer (an interpreter
			 * structure then). */
			uint64_t kind;
			if (!pha_mp_uint(&r->mp, &kind))
				return false;
			s->root_kinds[s->nroots - 1] = kind <= PHA_ROOT_C_GLOBAL ? (uint8_t)kind : 0;
		}
		for (uint32_t i = m >= 3 ? 3 : m >= 2 ? 2 : 1; i < m; i++) {
			if (!pha_mp_skip(&r->mp))
				return false;
		}
	}
	return true;
}

/* Room for element i of an array that declares `declared` elements: grown
 * as the elements come, never allocated from the declared length, which a
 * hostile file sets to what its remaining bytes allow (an element of a few
 * bytes would cost tens of bytes each up front). */
static bool grow_for(struct rd *r, void **arr, size_t *cap, size_t i, uint32_t declared,
		     size_t elem)
{
	if (i < *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	if (n > declared)
		n = declared ? declared : 1;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return oom(r);
	*arr = p;
	*cap = n;
	return true;
}

static bool read_frame(struct rd *r, struct pha_report_frame *f)
{
	size_t at = r->mp.off;
	uint32_t m;
	if (!pha_mp_array(&r->mp, &m))
		return false;
	if (m < 3)
		return pha_mp_fail_at(&r->mp, at, "a frame needs [function, filename, line, ...]");
	if (!pha_mp_strdup(&r->mp, &f->function) || !pha_mp_strdup(&r->mp, &f->filename))
		return false;
	f->line = -1;
	size_t lat = r->mp.off;
	int64_t line;
	if (!pha_mp_nil(&r->mp)) {
		if (!pha_mp_int(&r->mp, &line))
			return false;
		if (line < 0 || line > INT32_MAX)
			return pha_mp_fail_at(&r->mp, lat, "line number %lld out of range",
					      (long long)line);
		f->line = (int)line;
	}
	uint32_t i = 3;
	if (m >= 4) {
		i = 4;
		uint32_t nl;
		if (!pha_mp_nil(&r->mp)) {
			if (!pha_mp_map(&r->mp, &nl))
				return false;
			size_t cap = 0;
			if (!grow_for(r, (void **)&f->locals, &cap, 0, nl, sizeof(*f->locals)))
				return false;	/* an empty map is not nil (the writer keeps it) */
			for (uint32_t k = 0; k < nl; k++) {
				if (!grow_for(r, (void **)&f->locals, &cap, k, nl, sizeof(*f->locals)))
					return false;
				f->locals[k].name = NULL;
				if (!pha_mp_strdup(&r->mp, &f->locals[k].name))
					return false;
				f->nlocals++;
				if (!pha_mp_uint(&r->mp, &f->locals[k].addr))
					return false;
			}
		}
	}
	for (; i < m; i++) {
		if (!pha_mp_skip(&r->mp))
			return false;
	}
	return true;
}

static bool read_threads(struct rd *r)
{
	uint32_t n;
	struct pha_source *s = r->src;
	if (!pha_mp_array(&r->mp, &n))
		return false;
	while (n--) {
		uint32_t m;
		if (!pha_mp_map(&r->mp, &m))
			return false;
		struct pha_report_thread *nt = realloc(s->threads, (s->nthreads + 1) * sizeof(*nt));
		if (!nt)
			return oom(r);
		s->threads = nt;
		struct pha_report_thread *t = &s->threads[s->nthreads++];
		memset(t, 0, sizeof(*t));
		while (m--) {
			const char *k;
			uint32_t kl;
			if (!key(r, &k, &kl))
				return false;
			if (key_is(k, kl, "thread_id")) {
				if (!pha_mp_uint(&r->mp, &t->thread_id))
					return false;
			} else if (key_is(k, kl, "native_id")) {
				if (!pha_mp_nil(&r->mp) && !pha_mp_uint(&r->mp, &t->native_id))
					return false;
			} else if (key_is(k, kl, "crashed")) {
				if (!pha_mp_bool(&r->mp, &t->crashed))
					return false;
			} else if (key_is(k, kl, "frames")) {
				uint32_t nf;
				if (t->frames)
					return pha_mp_fail_at(&r->mp, r->mp.off, "frames given twice");
				if (!pha_mp_array(&r->mp, &nf))
					return false;
				size_t cap = 0;
				if (!grow_for(r, (void **)&t->frames, &cap, 0, nf, sizeof(*t->frames)))
					return false;	/* allocated even for none: "given twice" */
				for (uint32_t k2 = 0; k2 < nf; k2++) {
					if (!grow_for(r, (void **)&t->frames, &cap, k2, nf, sizeof(*t->frames)))
						return false;
					memset(&t->frames[k2], 0, sizeof(t->frames[k2]));
					t->nframes++;
					if (!read_frame(r, &t->frames[k2]))
						return false;
				}
			} else if (!pha_mp_skip(&r->mp)) {
				return false;
			}
		}
	}
	return true;
}

static bool read_warnings(struct rd *r)
{
	uint32_t n;
	if (!pha_mp_array(&r->mp, &n))
		return false;
	while (n--) {
		char *w;
		if (!pha_mp_strdup(&r->mp, &w))
			return false;
		if (!pha_strv_push(&r->src->warnings, &r->src->nwarnings, w))
			return oom(r);
	}
	return true;
}

/* Records after the header, up to and including "end". */
static bool read_records(struct rd *r)
{
	for (;;) {
		size_t at = r->mp.off;
		if (pha_mp_at_end(&r->mp))
			return pha_mp_fail_at(&r->mp, at, "truncated: the snapshot ends before its "
					      "end record");
		uint32_t n;
		const char *k, *t;
		uint32_t kl, tl;
		if (!pha_mp_map(&r->mp, &n))
			return false;
		if (n < 1)
			return pha_mp_fail_at(&r->mp, at, "empty record");
		if (!key(r, &k, &kl))
			return false;
		if (!key_is(k, kl, "t"))
			return pha_mp_fail_at(&r->mp, at, "a record must start with the key \"t\"");
		size_t tat = r->mp.off;
		if (!pha_mp_str(&r->mp, &t, &tl))
			return false;
		bool end = key_is(t, tl, "end"), allocs = key_is(t, tl, "allocations");
		uint64_t end_objects = UINT64_MAX, end_edges = UINT64_MAX;
		if (allocs && r->sa.seen)
			return pha_mp_fail_at(&r->mp, at, "a second allocations record");
		if (allocs) {
			r->sa.seen = true;
			r->sa.at = at;
		}
		for (uint32_t i = 1; i < n; i++) {
			bool ok;
			if (!key(r, &k, &kl))
				return false;
			if (key_is(t, tl, "types") && key_is(k, kl, "types"))
				ok = read_types(r);
			else if (key_is(t, tl, "objects") && key_is(k, kl, "objects"))
				ok = read_objects(r);
			else if (key_is(t, tl, "roots") && key_is(k, kl, "roots"))
				ok = read_roots(r);
			else if (key_is(t, tl, "threads") && key_is(k, kl, "threads"))
				ok = read_threads(r);
			else if (key_is(t, tl, "warnings") && key_is(k, kl, "warnings"))
				ok = read_warnings(r);
			else if (allocs)
				ok = pha_snap_allocs_key(&r->mp, &r->sa, k, kl);
			else if (key_is(t, tl, "stats") && key_is(k, kl, "unknown_refs"))
				ok = pha_mp_uint(&r->mp, &r->unknown_refs);
			else if (key_is(t, tl, "stats") && key_is(k, kl, "bad_objects"))
				ok = pha_mp_uint(&r->mp, &r->bad_objects);
			else if (end && key_is(k, kl, "objects"))
				ok = pha_mp_uint(&r->mp, &end_objects);
			else if (end && key_is(k, kl, "edges"))
				ok = pha_mp_uint(&r->mp, &end_edges);
			else
				ok = pha_mp_skip(&r->mp);	/* unknown record or key: later versions */
			if (!ok)
				return false;
		}
		if (!end)
			continue;
		if (end_objects != r->n || end_edges != r->ne)
			return pha_mp_fail_at(&r->mp, tat, "the end record counts %llu objects and "
					      "%llu references, the snapshot holds %zu and %llu",
					      (unsigned long long)end_objects,
					      (unsigned long long)end_edges, r->n,
					      (unsigned long long)r->ne);
		if (!pha_mp_at_end(&r->mp))
			return pha_mp_fail_at(&r->mp, r->mp.off, "data after the end record");
		return pha_snap_allocs_finish(&r->mp, &r->sa);
	}
}

static const uint64_t *sort_keys;

static int cmp_by_key(const void *x, const void *y)
{
	uint64_t a = sort_keys[*(const uint32_t *)x], b = sort_keys[*(const uint32_t *)y];
	if (a != b)
		return a < b ? -1 : 1;
	/* ties by position, so that the duplicate reported is the later one */
	return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/* Scratch of build(): file positions of types and objects in id order. */
struct numbering {
	uint32_t *order;	/* object id -> file position */
	uint32_t *torder;	/* type id -> file position */
	uint32_t *tmap;		/* file position -> type id */
	uint64_t *estart;	/* file position -> index of its first reference */
};

static struct pha_error *alloc_heap(const struct rd *r, struct pha_heap *h, struct numbering *nb)
{
	size_t n1 = r->n ? r->n : 1, nt1 = r->nt ? r->nt : 1, ne1 = r->ne ? r->ne : 1;
	nb->torder = malloc(nt1 * sizeof(*nb->torder));
	nb->tmap = malloc(nt1 * sizeof(*nb->tmap));
	nb->order = malloc(n1 * sizeof(*nb->order));
	nb->estart = malloc(n1 * sizeof(*nb->estart));
	h->types = calloc(nt1, sizeof(*h->types));
	h->addr = malloc(n1 * sizeof(*h->addr));
	h->type = malloc(n1 * sizeof(*h->type));
	h->size.v = malloc(n1 * sizeof(*h->size.v));
	h->refcnt.v = malloc(n1 * sizeof(*h->refcnt.v));
	h->flags = malloc(n1);
	h->gen = malloc(n1);
	h->first = malloc((n1 + 1) * sizeof(*h->first));
	h->dst = malloc(ne1 * sizeof(*h->dst));
	h->eflags = malloc(ne1);
	if (!nb->torder || !nb->tmap || !nb->order || !nb->estart || !h->types || !h->addr ||
	    !h->type || !h->size.v || !h->refcnt.v || !h->flags || !h->gen || !h->first || !h->dst ||
	    !h->eflags)
		return &pha_enomem;
	return NULL;
}

/* Types by address, like the core path's table. False: an address is
 * listed twice (r->mp.err says where). */
static bool number_types(struct rd *r, struct pha_heap *h, struct numbering *nb)
{
	for (size_t i = 0; i < r->nt; i++)
		nb->torder[i] = (uint32_t)i;
	sort_keys = r->taddr;
	qsort(nb->torder, r->nt, sizeof(*nb->torder), cmp_by_key);
	for (size_t k = 0; k < r->nt; k++) {
		uint32_t i = nb->torder[k];
		if (k && r->taddr[i] == r->taddr[nb->torder[k - 1]])
			return pha_mp_fail_at(&r->mp, r->toff[i], "type address 0x%llx listed twice",
					      (unsigned long long)r->taddr[i]);
		nb->tmap[i] = (uint32_t)k;
		h->types[k].addr = r->taddr[i];
		h->types[k].name = r->tname[i];
		h->types[k].kind = r->tkind[i] != TKIND_UNKNOWN ? r->tkind[i]
			: pha_type_kind_by_name(r->tname[i]);
	}
	h->ntypes = (uint32_t)r->nt;
	return true;
}

/* Objects by address: ids, attributes and the GC counts. False: an
 * address is listed twice. */
static bool number_objects(struct rd *r, struct pha_heap *h, struct numbering *nb)
{
	size_t n = r->n;
	uint64_t e = 0;
	for (size_t i = 0; i < n; i++) {
		nb->order[i] = (uint32_t)i;
		nb->estart[i] = e;
		e += r->ecount[i];
	}
	if (!r->sorted) {
		sort_keys = r->addr;
		qsort(nb->order, n, sizeof(*nb->order), cmp_by_key);
	}
	for (size_t id = 0; id < n; id++) {
		uint32_t i = nb->order[id];
		if (id && r->addr[i] == h->addr[id - 1])
			return pha_mp_fail_at(&r->mp, r->ooff[i], "object address 0x%llx listed twice",
					      (unsigned long long)r->addr[i]);
		h->addr[id] = r->addr[i];
		h->type[id] = nb->tmap[r->type[i]];
		if (!pha_col_set(&h->size, (uint32_t)id, r->size[i]) ||
		    !pha_col_set(&h->refcnt, (uint32_t)id, r->refcnt[i]))
			return oom(r);
		h->flags[id] = r->flags[i];
		h->gen[id] = r->gen[i];
		if (h->flags[id] & PHA_OBJ_GC)
			h->gc_listed++;
		if (h->flags[id] & PHA_OBJ_PERMANENT)
			h->permanent++;
		if (h->flags[id] & PHA_OBJ_CONSERVATIVE)
			h->conservative++;
	}
	pha_col_sort(&h->size);
	pha_col_sort(&h->refcnt);
	h->n = (uint32_t)n;
	for (uint32_t k = 0; k < h->ntypes; k++)
		h->types[k].obj = pha_heap_find(h, h->types[k].addr);
	return true;
}

/* References in id order (CSR); addresses that are not objects are counted. */
static void resolve_edges(const struct rd *r, struct pha_heap *h, const struct numbering *nb)
{
	h->unknown_refs = r->unknown_refs;
	h->bad_objects = r->bad_objects;
	uint64_t ne = 0;
	for (size_t id = 0; id < r->n; id++) {
		uint32_t i = nb->order[id];
		h->first[id] = (uint32_t)ne;
		for (uint64_t k = nb->estart[i]; k < nb->estart[i] + r->ecount[i]; k++) {
			uint32_t d = pha_heap_find(h, r->eaddr[k]);
			if (d == PHA_NO_ID) {
				h->unknown_refs++;
				continue;
			}
			h->dst[ne] = d;
			h->eflags[ne++] = r->ekind[k];
		}
	}
	h->first[r->n] = (uint32_t)ne;
	h->nedges = ne;
}

/* Each object's allocation traceback, in id order. False: an index is not
 * in the allocations record. */
static bool object_sites(struct rd *r, const struct pha_heap *h, const struct numbering *nb)
{
	struct pha_allocs *a = r->sa.a;
	if (!r->otb)
		return true;
	a->obj_tb = malloc((h->n ? h->n : 1) * sizeof(*a->obj_tb));
	if (!a->obj_tb)
		return oom(r);
	a->nobj = h->n;
	for (uint32_t id = 0; id < h->n; id++) {
		uint32_t i = nb->order[id], tb = r->otb[i];
		if (tb != PHA_NO_TB && tb >= a->ntb)
			return pha_mp_fail_at(&r->mp, r->ooff[i], "traceback index %u is not in the "
					      "allocations record (%u tracebacks)", tb, a->ntb);
		a->obj_tb[id] = tb;
	}
	return true;
}

/* The type names the heap points to now belong to the source. */
static struct pha_error *give_names(struct rd *r)
{
	char **names = realloc(r->src->names, (r->src->nnames + r->nt + 1) * sizeof(*names));
	if (!names)
		return &pha_enomem;
	r->src->names = names;
	for (size_t i = 0; i < r->nt; i++)
		names[r->src->nnames++] = r->tname[i];
	r->nt = 0;
	return NULL;
}

static struct pha_error *build(struct rd *r, struct pha_heap **heap_ret)
{
	struct numbering nb = {0};
	struct pha_error *err;
	struct pha_heap *h = calloc(1, sizeof(*h));
	if (!h)
		return &pha_enomem;
	if (!(err = alloc_heap(r, h, &nb))) {
		if (number_types(r, h, &nb) && number_objects(r, h, &nb) &&
		    object_sites(r, h, &nb)) {
			resolve_edges(r, h, &nb);
			err = give_names(r);
		} else {
			err = r->mp.err;	/* an input error: it is ours to return */
			r->mp.err = NULL;
		}
	}
	if (!err) {
		*heap_ret = h;
		h = NULL;
	}
	free(nb.order);
	free(nb.torder);
	free(nb.tmap);
	free(nb.estart);
	pha_heap_destroy(h);
	return err;
}

/* The snapshot's bytes, mapped: the file itself, or its decompressed copy. */
struct mapped {
	int fd;			/* what is mapped (a dup of the input or the temporary file) */
	void *map;		/* MAP_FAILED for an empty stream */
	size_t len;
};

static struct pha_error *map_input(const char *path, struct pha_source *src, struct mapped *m)
{
	struct pha_error *err;
	struct stat st;
	int fd;
	*m = (struct mapped){.fd = -1, .map = MAP_FAILED};
	if ((err = pha_input_open(path, "snapshot", &fd, &st)))
		return err;
	src->input_path = strdup(path);
	if (!src->input_path) {
		err = &pha_enomem;
		goto out;
	}
	src->input_kind = "snapshot";
	src->input_bytes = (uint64_t)st.st_size;
	uint8_t head[4] = {0};
	ssize_t got = pread(fd, head, sizeof(head), 0);
	if (got == 4 && pha_zstd_is_frame(head, 4)) {
		uint64_t size;
		if ((err = pha_zstd_decompress_to_tmpfile(fd, path, &snapshot_expect, &m->fd, &size)))
			goto out;
		if (size > SIZE_MAX) {
			err = pha_error_create(PHA_ERR_INPUT, "%s: decompressed snapshot too large to map",
					       path);
			goto out;
		}
		src->compressed = true;
		m->len = (size_t)size;
	} else {
		if ((uint64_t)st.st_size > SIZE_MAX) {
			err = pha_error_create(PHA_ERR_INPUT, "%s: file too large to map", path);
			goto out;
		}
		m->fd = dup(fd);
		if (m->fd < 0) {
			err = pha_error_errno(PHA_ERR_INTERNAL, errno, "dup");
			goto out;
		}
		m->len = (size_t)st.st_size;
	}
	if (m->len) {
		m->map = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
		if (m->map == MAP_FAILED)
			err = pha_error_errno(PHA_ERR_INPUT, errno, "cannot map %s", path);
	}
out:
	close(fd);
	return err;
}

static void unmap_input(struct mapped *m)
{
	if (m->map != MAP_FAILED)
		munmap(m->map, m->len);
	if (m->fd >= 0)
		close(m->fd);
}

struct pha_error *pha_snapshot_read(const char *path, struct pha_source *src,
				    struct pha_heap **heap_ret)
{
	struct mapped m;
	struct pha_error *err = map_input(path, src, &m);
	if (err) {
		unmap_input(&m);
		return err;
	}
	struct rd r = {.src = src, .sorted = true, .sa = {.a = &src->allocs}};
	pha_mp_init(&r.mp, m.map == MAP_FAILED ? (const void *)"" : m.map, m.len, path);
	if (read_header(&r) && read_records(&r))
		err = build(&r, heap_ret);
	else
		err = r.mp.err;
	if (r.mp.err && !err)
		err = r.mp.err;
	else if (r.mp.err && r.mp.err != err)
		pha_error_destroy(r.mp.err);
	rd_deinit(&r);
	unmap_input(&m);
	return err;
}
