/* The `allocations` record of a heap snapshot: what tracemalloc knew
 * (analyzer/allocations.h), written from a core's traces or by
 * pyheap_dump.py from the running process, read back into the same model
 * so that a snapshot's report has the core's `allocations` section and
 * per-object allocation sites.
 *
 * {"t": "allocations", "tracing", "available", "reason", "max_frames",
 *  "traced_bytes", "peak_bytes", "traces", "files": [str],
 *  "tracebacks": [[file, line, file, line, ...] most recent frame first],
 *  "by_line": [[file, line, bytes, count]], "by_traceback": [[tb, bytes, count]]}
 *
 * Reading never allocates by a declared length: arrays grow as their
 * elements come. Indexes are checked once the whole snapshot is read (the
 * record may come before or after the objects that use it).
 */
#include "snapshot_allocs.h"

#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

void pha_mp_put_str(msgpack_packer *pk, const char *s)
{
	if (!s) {
		msgpack_pack_nil(pk);
		return;
	}
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void put_bool(msgpack_packer *pk, bool v)
{
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

struct pha_error *pha_snap_allocs_map(const struct pha_allocs *a, uint32_t **map_ret,
				      uint32_t *nused_ret)
{
	*map_ret = NULL;
	*nused_ret = 0;
	if (!a->traces || !a->ntb)
		return NULL;
	uint32_t *map = malloc((size_t)a->ntb * sizeof(*map));
	if (!map)
		return &pha_enomem;
	for (uint32_t t = 0; t < a->ntb; t++)
		map[t] = PHA_NO_TB;
	for (uint32_t v = 0; a->obj_tb && v < a->nobj; v++) {
		if (a->obj_tb[v] < a->ntb)
			map[a->obj_tb[v]] = 0;
	}
	for (size_t i = 0; i < a->nby_tb; i++) {
		if (a->by_tb[i].tb < a->ntb)
			map[a->by_tb[i].tb] = 0;
	}
	uint32_t n = 0;
	for (uint32_t t = 0; t < a->ntb; t++) {
		if (map[t] != PHA_NO_TB)
			map[t] = n++;
	}
	*map_ret = map;
	*nused_ret = n;
	return NULL;
}

static void write_tracebacks(msgpack_packer *pk, const struct pha_allocs *a, const uint32_t *map,
			     uint32_t nused)
{
	msgpack_pack_array(pk, nused);
	for (uint32_t t = 0; map && t < a->ntb; t++) {
		if (map[t] == PHA_NO_TB)
			continue;
		uint32_t b = a->tb_first[t], e = a->tb_first[t + 1];
		msgpack_pack_array(pk, 2 * (e - b));
		for (uint32_t f = b; f < e; f++) {
			msgpack_pack_uint32(pk, a->frames[f].file);
			msgpack_pack_uint32(pk, a->frames[f].line);
		}
	}
}

void pha_snap_allocs_write(msgpack_packer *pk, const struct pha_allocs *a, const uint32_t *map,
			   uint32_t nused)
{
	msgpack_pack_map(pk, 12);
	pha_mp_put_str(pk, "t");
	pha_mp_put_str(pk, "allocations");
	pha_mp_put_str(pk, "tracing");
	put_bool(pk, a->tracing);
	pha_mp_put_str(pk, "available");
	put_bool(pk, a->tracing && a->traces);
	pha_mp_put_str(pk, "reason");
	pha_mp_put_str(pk, a->tracing ? a->reason : NULL);
	pha_mp_put_str(pk, "max_frames");
	msgpack_pack_uint32(pk, a->max_frames);
	pha_mp_put_str(pk, "traced_bytes");
	msgpack_pack_uint64(pk, a->traced_bytes);
	pha_mp_put_str(pk, "peak_bytes");
	msgpack_pack_uint64(pk, a->peak_bytes);
	pha_mp_put_str(pk, "traces");
	msgpack_pack_uint64(pk, a->ntraces);
	bool have = a->tracing && a->traces;
	pha_mp_put_str(pk, "files");
	msgpack_pack_array(pk, have ? a->nfiles : 0);
	for (uint32_t i = 0; have && i < a->nfiles; i++)
		pha_mp_put_str(pk, a->files[i]);
	pha_mp_put_str(pk, "tracebacks");
	write_tracebacks(pk, a, have ? map : NULL, have ? nused : 0);
	pha_mp_put_str(pk, "by_line");
	msgpack_pack_array(pk, have ? a->nby_line : 0);
	for (size_t i = 0; have && i < a->nby_line; i++) {
		msgpack_pack_array(pk, 4);
		msgpack_pack_uint32(pk, a->by_line[i].file);
		msgpack_pack_uint32(pk, a->by_line[i].line);
		msgpack_pack_uint64(pk, a->by_line[i].bytes);
		msgpack_pack_uint64(pk, a->by_line[i].count);
	}
	pha_mp_put_str(pk, "by_traceback");
	msgpack_pack_array(pk, have ? a->nby_tb : 0);
	for (size_t i = 0; have && i < a->nby_tb; i++) {
		msgpack_pack_array(pk, 3);
		msgpack_pack_uint32(pk, map ? map[a->by_tb[i].tb] : 0);
		msgpack_pack_uint64(pk, a->by_tb[i].bytes);
		msgpack_pack_uint64(pk, a->by_tb[i].count);
	}
}

/* ---- reading ---- */

static bool oom(struct pha_mp *mp)
{
	if (!mp->err)
		mp->err = &pha_enomem;
	return false;
}

/* Room for element i (arrays grow by doubling as elements come). */
static bool grow(struct pha_mp *mp, void **arr, size_t *cap, size_t i, size_t elem)
{
	if (i < *cap)
		return true;
	size_t n = *cap ? 2 * *cap : 16;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return oom(mp);
	*arr = p;
	*cap = n;
	return true;
}

static bool u32(struct pha_mp *mp, uint32_t *v_ret, const char *what)
{
	size_t at = mp->off;
	uint64_t v;
	if (!pha_mp_uint(mp, &v))
		return false;
	if (v > UINT32_MAX)
		return pha_mp_fail_at(mp, at, "allocations: %s %llu out of range", what,
				      (unsigned long long)v);
	*v_ret = (uint32_t)v;
	return true;
}

/* n elements of an array at the cursor after its first `used` ones. */
static bool skip_rest(struct pha_mp *mp, uint32_t n, uint32_t used)
{
	for (uint32_t i = used; i < n; i++) {
		if (!pha_mp_skip(mp))
			return false;
	}
	return true;
}

static bool read_files(struct pha_mp *mp, struct pha_snap_allocs *sa)
{
	struct pha_allocs *a = sa->a;
	uint32_t n;
	if (!pha_mp_array(mp, &n))
		return false;
	while (n--) {
		if (!grow(mp, (void **)&a->files, &sa->files_cap, a->nfiles, sizeof(*a->files)))
			return false;
		if (!pha_mp_strdup(mp, &a->files[a->nfiles]))
			return false;
		a->nfiles++;
	}
	return true;
}

static bool read_traceback(struct pha_mp *mp, struct pha_snap_allocs *sa, uint32_t *nframes)
{
	struct pha_allocs *a = sa->a;
	size_t at = mp->off;
	uint32_t m;
	if (!pha_mp_array(mp, &m))
		return false;
	if (!m || m % 2)
		return pha_mp_fail_at(mp, at, "allocations: a traceback is [file, line, ...] with "
				      "at least one frame, not %u values", m);
	for (uint32_t k = 0; k < m / 2; k++) {
		if (*nframes == UINT32_MAX - 1)
			return pha_mp_fail_at(mp, at, "allocations: too many frames");
		if (!grow(mp, (void **)&a->frames, &sa->frames_cap, *nframes, sizeof(*a->frames)))
			return false;
		struct pha_alloc_frame *f = &a->frames[*nframes];
		if (!u32(mp, &f->file, "file index") || !u32(mp, &f->line, "line"))
			return false;
		(*nframes)++;
	}
	return true;
}

static bool read_tracebacks(struct pha_mp *mp, struct pha_snap_allocs *sa)
{
	struct pha_allocs *a = sa->a;
	uint32_t n, nframes = a->ntb ? a->tb_first[a->ntb] : 0;
	if (!pha_mp_array(mp, &n))
		return false;
	if (!grow(mp, (void **)&a->tb_first, &sa->tb_cap, a->ntb + 1, sizeof(*a->tb_first)))
		return false;
	a->tb_first[a->ntb] = nframes;
	while (n--) {
		if (a->ntb >= UINT32_MAX - 2)
			return pha_mp_fail_at(mp, mp->off, "allocations: too many tracebacks");
		if (!read_traceback(mp, sa, &nframes))
			return false;
		if (!grow(mp, (void **)&a->tb_first, &sa->tb_cap, a->ntb + 2, sizeof(*a->tb_first)))
			return false;
		a->tb_first[++a->ntb] = nframes;
	}
	return true;
}

/* by_line ([file, line, bytes, count]) or by_traceback ([tb, bytes, count]). */
static bool read_rows(struct pha_mp *mp, struct pha_snap_allocs *sa, bool lines)
{
	struct pha_allocs *a = sa->a;
	struct pha_alloc_stat **rows = lines ? &a->by_line : &a->by_tb;
	size_t *nrows = lines ? &a->nby_line : &a->nby_tb;
	size_t *cap = lines ? &sa->line_cap : &sa->row_cap;
	uint32_t n, want = lines ? 4 : 3;
	if (!pha_mp_array(mp, &n))
		return false;
	while (n--) {
		size_t at = mp->off;
		uint32_t m;
		if (!pha_mp_array(mp, &m))
			return false;
		if (m < want)
			return pha_mp_fail_at(mp, at, "allocations: a %s row needs %u values",
					      lines ? "by_line" : "by_traceback", want);
		if (!grow(mp, (void **)rows, cap, *nrows, sizeof(**rows)))
			return false;
		struct pha_alloc_stat *r = &(*rows)[*nrows];
		*r = (struct pha_alloc_stat){.file = UINT32_MAX, .tb = PHA_NO_TB};
		bool ok = lines ? u32(mp, &r->file, "file index") && u32(mp, &r->line, "line")
				: u32(mp, &r->tb, "traceback index");
		if (!ok || !pha_mp_uint(mp, &r->bytes) || !pha_mp_uint(mp, &r->count) ||
		    !skip_rest(mp, m, want))
			return false;
		(*nrows)++;
	}
	return true;
}

bool pha_snap_allocs_key(struct pha_mp *mp, struct pha_snap_allocs *sa, const char *k,
			 uint32_t kl)
{
	struct pha_allocs *a = sa->a;
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(k, s, kl))
	if (KEY("tracing"))
		return pha_mp_bool(mp, &a->tracing);
	if (KEY("available"))
		return pha_mp_bool(mp, &a->traces);
	if (KEY("reason")) {
		if (pha_mp_nil(mp))
			return true;
		free(a->own_reason);
		a->own_reason = NULL;
		if (!pha_mp_strdup(mp, &a->own_reason))
			return false;
		a->reason = a->own_reason;
		return true;
	}
	if (KEY("max_frames"))
		return u32(mp, &a->max_frames, "max_frames");
	if (KEY("traced_bytes"))
		return pha_mp_uint(mp, &a->traced_bytes);
	if (KEY("peak_bytes"))
		return pha_mp_uint(mp, &a->peak_bytes);
	if (KEY("traces"))
		return pha_mp_uint(mp, &a->ntraces);
	if (KEY("files"))
		return read_files(mp, sa);
	if (KEY("tracebacks"))
		return read_tracebacks(mp, sa);
	if (KEY("by_line"))
		return read_rows(mp, sa, true);
	if (KEY("by_traceback"))
		return read_rows(mp, sa, false);
#undef KEY
	return pha_mp_skip(mp);	/* a later version's key */
}

static const struct pha_allocs *sort_files_of;

static int cmp_file(const void *p, const void *q)
{
	uint32_t x = *(const uint32_t *)p, y = *(const uint32_t *)q;
	int c = strcmp(sort_files_of->files[x], sort_files_of->files[y]);
	return c ? c : (x > y) - (x < y);
}

/* Files sorted bytewise and distinct, as the statistics' order needs;
 * frames and rows renumbered. */
static bool sort_files(struct pha_mp *mp, struct pha_allocs *a)
{
	uint32_t n = a->nfiles;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	uint32_t *newidx = malloc((n ? n : 1) * sizeof(*newidx));
	char **files = malloc((n ? n : 1) * sizeof(*files));
	if (!order || !newidx || !files) {
		free(order);
		free(newidx);
		free(files);
		return oom(mp);
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_files_of = a;
	if (n)
		qsort(order, n, sizeof(*order), cmp_file);
	sort_files_of = NULL;
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++) {
		char *f = a->files[order[i]];
		if (m && !strcmp(files[m - 1], f)) {
			free(f);
		} else {
			files[m++] = f;
		}
		newidx[order[i]] = m - 1;
	}
	free(a->files);
	a->files = files;
	a->nfiles = m;
	uint32_t nframes = a->ntb ? a->tb_first[a->ntb] : 0;
	for (uint32_t f = 0; f < nframes; f++)
		a->frames[f].file = newidx[a->frames[f].file];
	for (size_t i = 0; i < a->nby_line; i++)
		a->by_line[i].file = newidx[a->by_line[i].file];
	free(order);
	free(newidx);
	return true;
}

bool pha_snap_allocs_finish(struct pha_mp *mp, struct pha_snap_allocs *sa)
{
	struct pha_allocs *a = sa->a;
	if (!sa->seen)
		return true;
	uint32_t nframes = a->ntb ? a->tb_first[a->ntb] : 0;
	for (uint32_t f = 0; f < nframes; f++) {
		if (a->frames[f].file >= a->nfiles)
			return pha_mp_fail_at(mp, sa->at, "allocations: file index %u of a traceback "
					      "is not in its %u files", a->frames[f].file, a->nfiles);
	}
	for (size_t i = 0; i < a->nby_line; i++) {
		if (a->by_line[i].file >= a->nfiles)
			return pha_mp_fail_at(mp, sa->at, "allocations: file index %u of a by_line "
					      "row is not in its %u files", a->by_line[i].file,
					      a->nfiles);
	}
	for (size_t i = 0; i < a->nby_tb; i++) {
		if (a->by_tb[i].tb >= a->ntb)
			return pha_mp_fail_at(mp, sa->at, "allocations: traceback index %u of a "
					      "by_traceback row is not in its %u tracebacks",
					      a->by_tb[i].tb, a->ntb);
	}
	if (!sort_files(mp, a))
		return false;
	if (!a->tracing)
		a->traces = false;
	pha_allocs_sort_stats(a);
	return true;
}
