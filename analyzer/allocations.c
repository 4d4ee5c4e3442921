/* tracemalloc's traces, as tracemalloc.take_snapshot() would have given
 * them at the dump moment: statistics('lineno') and ('traceback') and
 * each object's allocation traceback (_PyTraceMalloc_GetObjectTraceback:
 * the trace of domain 0 at the object's address minus its pre-header).
 *
 * Steps of pha_allocs_from_target: collect_traces (the layout gives every
 * trace; 32 bytes each, freed at the end) -> intern_tracebacks (distinct
 * traceback ids, their frames) -> intern_files (filename ids -> sorted
 * names) -> statistics -> object_sites (domain-0 traces sorted by
 * address, one binary search per object).
 */
#include "allocations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/pha_layout.h"
#include "heap.h"
#include "source.h"

#define FILENAME_MAX_LEN 4096

struct trace {
	uint64_t ptr, size, tb;	/* tb: the layout's id, then an index */
	uint32_t domain;
};

struct collect {
	struct trace *t;
	size_t n, cap;
	bool oom;
};

struct fname {
	uint64_t id;
	char *name;
	uint32_t index;
};

void pha_allocs_deinit(struct pha_allocs *a)
{
	for (uint32_t i = 0; i < a->nfiles; i++)
		free(a->files[i]);
	free(a->files);
	free(a->tb_first);
	free(a->frames);
	free(a->by_line);
	free(a->by_tb);
	free(a->obj_tb);
	free(a->own_reason);
	memset(a, 0, sizeof(*a));
}

static void on_trace(void *arg, const struct pha_tm_trace *t)
{
	struct collect *c = arg;
	if (c->oom)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4096;
		struct trace *nt = realloc(c->t, cap * sizeof(*nt));
		if (!nt) {
			c->oom = true;
			return;
		}
		c->t = nt;
		c->cap = cap;
	}
	c->t[c->n++] = (struct trace){.ptr = t->ptr, .size = t->size, .tb = t->traceback,
				      .domain = t->domain};
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_fname_id(const void *a, const void *b)
{
	return cmp_u64(&((const struct fname *)a)->id, &((const struct fname *)b)->id);
}

static int cmp_fname_name(const void *a, const void *b)
{
	const struct fname *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : cmp_u64(&x->id, &y->id);
}

/* Distinct traceback ids (ids[0..*nids), sorted); each trace's tb becomes
 * its index. */
static uint64_t *unique_tbs(struct collect *c, uint32_t *nids)
{
	uint64_t *ids = malloc((c->n ? c->n : 1) * sizeof(*ids));
	if (!ids)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		ids[i] = c->t[i].tb;
	qsort(ids, c->n, sizeof(*ids), cmp_u64);
	uint32_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!n || ids[n - 1] != ids[i])
			ids[n++] = ids[i];
	}
	for (size_t i = 0; i < c->n; i++) {
		const uint64_t *p = bsearch(&c->t[i].tb, ids, n, sizeof(*ids), cmp_u64);
		c->t[i].tb = (uint64_t)(p - ids);
	}
	*nids = n;
	return ids;
}

/* The frames of every traceback; their file fields hold indexes into
 * *fn_ret (filename ids, in first-seen order) until intern_files. */
static struct pha_error *intern_tracebacks(const struct pha_source *s, struct pha_allocs *a,
					   const uint64_t *ids, uint32_t nids,
					   struct fname **fn_ret, size_t *nfn_ret)
{
	size_t max = a->max_frames ? a->max_frames : 1, cap = 0, nfn = 0;
	struct pha_tm_frame *buf = malloc(max * sizeof(*buf));
	struct fname *fn = NULL;
	a->tb_first = malloc(((size_t)nids + 1) * sizeof(*a->tb_first));
	if (!buf || !a->tb_first) {
		free(buf);
		return &pha_enomem;
	}
	size_t nframes = 0, fcap = 0;
	for (uint32_t t = 0; t < nids; t++) {
		size_t n = s->lay->tm_traceback(s->py, ids[t], buf, max);
		if (!n)	/* tracemalloc's own empty traceback: <unknown>:0 */
			buf[n++] = (struct pha_tm_frame){.filename = 0, .line = 0};
		a->tb_first[t] = (uint32_t)nframes;
		if (nframes + n > fcap) {
			fcap = (nframes + n) * 2;
			struct pha_alloc_frame *nf = realloc(a->frames, fcap * sizeof(*nf));
			if (!nf)
				goto oom;
			a->frames = nf;
		}
		for (size_t i = 0; i < n; i++) {
			if (nfn == cap) {
				cap = cap ? 2 * cap : 256;
				struct fname *nn = realloc(fn, cap * sizeof(*nn));
				if (!nn)
					goto oom;
				fn = nn;
			}
			fn[nfn] = (struct fname){.id = buf[i].filename, .index = (uint32_t)nframes};
			a->frames[nframes++] = (struct pha_alloc_frame){.file = (uint32_t)nfn++,
									.line = buf[i].line};
		}
	}
	a->tb_first[nids] = (uint32_t)nframes;
	a->ntb = nids;
	free(buf);
	*fn_ret = fn;
	*nfn_ret = nfn;
	return NULL;
oom:
	free(buf);
	free(fn);
	return &pha_enomem;
}

/* Every frame's file: one read per distinct filename id, names sorted
 * bytewise and made distinct (files[]). fn[i].index is frame i. */
static struct pha_error *intern_files(const struct pha_source *s, struct pha_allocs *a,
				      struct fname *fn, size_t nfn)
{
	char buf[FILENAME_MAX_LEN];
	if (nfn)	/* qsort(NULL, 0) is undefined */
		qsort(fn, nfn, sizeof(*fn), cmp_fname_id);
	for (size_t i = 0; i < nfn; i++) {
		if (i && fn[i].id == fn[i - 1].id) {
			fn[i].name = NULL;	/* same as the previous: shares its name */
			continue;
		}
		bool ok = fn[i].id && s->lay->tm_filename(s->py, fn[i].id, buf, sizeof(buf));
		fn[i].name = strdup(ok ? buf : "<unknown>");
		if (!fn[i].name)
			return &pha_enomem;
	}
	for (size_t i = 1; i < nfn; i++) {
		if (!fn[i].name)
			fn[i].name = fn[i - 1].name;
	}
	if (nfn)
		qsort(fn, nfn, sizeof(*fn), cmp_fname_name);
	a->files = malloc((nfn ? nfn : 1) * sizeof(*a->files));
	if (!a->files)
		return &pha_enomem;
	for (size_t i = 0; i < nfn; i++) {
		bool same = a->nfiles && !strcmp(a->files[a->nfiles - 1], fn[i].name);
		if (!same && !(a->files[a->nfiles] = strdup(fn[i].name)))
			return &pha_enomem;
		if (!same)
			a->nfiles++;
		a->frames[fn[i].index].file = a->nfiles - 1;
	}
	return NULL;
}

/* tracemalloc's Statistic order: size, count, then the traceback, all
 * descending; a Traceback compares its frames oldest first as (filename,
 * lineno) tuples. */
static const struct pha_allocs *sort_allocs;

static int cmp_frames(const struct pha_allocs *a, uint32_t x, uint32_t y)
{
	uint32_t xb = a->tb_first[x], xe = a->tb_first[x + 1];
	uint32_t yb = a->tb_first[y], ye = a->tb_first[y + 1];
	for (; xb < xe && yb < ye; xe--, ye--) {
		const struct pha_alloc_frame *f = &a->frames[xe - 1], *g = &a->frames[ye - 1];
		if (f->file != g->file)
			return f->file < g->file ? -1 : 1;
		if (f->line != g->line)
			return f->line < g->line ? -1 : 1;
	}
	return (xe - xb > ye - yb) - (xe - xb < ye - yb);
}

static int cmp_stat(const void *p, const void *q)
{
	const struct pha_alloc_stat *x = p, *y = q;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->tb != y->tb && x->tb != PHA_NO_TB && y->tb != PHA_NO_TB)
		return -cmp_frames(sort_allocs, x->tb, y->tb);
	if (x->file != y->file)
		return x->file > y->file ? -1 : 1;
	return (x->line < y->line) - (x->line > y->line);
}

void pha_allocs_sort_stats(struct pha_allocs *a)
{
	sort_allocs = a;
	if (a->nby_line)	/* qsort(NULL, 0) is undefined (a snapshot without rows) */
		qsort(a->by_line, a->nby_line, sizeof(*a->by_line), cmp_stat);
	if (a->nby_tb)
		qsort(a->by_tb, a->nby_tb, sizeof(*a->by_tb), cmp_stat);
	sort_allocs = NULL;
	if (a->nby_line > PHA_ALLOC_BY_LINE_MAX)
		a->nby_line = PHA_ALLOC_BY_LINE_MAX;
	if (a->nby_tb > PHA_ALLOC_BY_TB_MAX)
		a->nby_tb = PHA_ALLOC_BY_TB_MAX;
}

static int cmp_line_key(const void *p, const void *q)
{
	const struct pha_alloc_stat *x = p, *y = q;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* Tracebacks x and y by their frames (length first). */
static int tb_content(const struct pha_allocs *a, uint32_t x, uint32_t y)
{
	uint32_t xn = a->tb_first[x + 1] - a->tb_first[x], yn = a->tb_first[y + 1] - a->tb_first[y];
	if (xn != yn)
		return xn < yn ? -1 : 1;
	const struct pha_alloc_frame *f = &a->frames[a->tb_first[x]], *g = &a->frames[a->tb_first[y]];
	for (uint32_t i = 0; i < xn; i++) {
		if (f[i].file != g[i].file)
			return f[i].file < g[i].file ? -1 : 1;
		if (f[i].line != g[i].line)
			return f[i].line < g[i].line ? -1 : 1;
	}
	return 0;
}

static int cmp_tb_content(const void *p, const void *q)
{
	uint32_t x = *(const uint32_t *)p, y = *(const uint32_t *)q;
	int c = tb_content(sort_allocs, x, y);
	return c ? c : (x > y) - (x < y);
}

/* Tracebacks with the same frames become one (the smallest index): the
 * interpreter interns them by frames *and* total_nframe (3.9+), but a
 * Traceback compares its frames only, so statistics('traceback') merges
 * a stack cut at max_frames with a deeper one cut to the same frames. */
static struct pha_error *merge_tracebacks(struct pha_allocs *a, struct collect *c)
{
	uint32_t *order = malloc((a->ntb ? a->ntb : 1) * sizeof(*order));
	uint32_t *canon = malloc((a->ntb ? a->ntb : 1) * sizeof(*canon));
	if (!order || !canon) {
		free(order);
		free(canon);
		return &pha_enomem;
	}
	for (uint32_t t = 0; t < a->ntb; t++)
		order[t] = t;
	sort_allocs = a;
	if (a->ntb)
		qsort(order, a->ntb, sizeof(*order), cmp_tb_content);
	for (uint32_t i = 0; i < a->ntb; i++) {
		bool same = i && !tb_content(a, order[i - 1], order[i]);
		canon[order[i]] = same ? canon[order[i - 1]] : order[i];
	}
	sort_allocs = NULL;
	for (size_t i = 0; i < c->n; i++)
		c->t[i].tb = canon[c->t[i].tb];
	free(order);
	free(canon);
	return NULL;
}

/* by_traceback: one row per traceback that has traces; by_line: the rows
 * merged by their first frame. */
static struct pha_error *statistics(struct pha_allocs *a, const struct collect *c)
{
	a->by_tb = calloc(a->ntb ? a->ntb : 1, sizeof(*a->by_tb));
	a->by_line = calloc(a->ntb ? a->ntb : 1, sizeof(*a->by_line));
	if (!a->by_tb || !a->by_line)
		return &pha_enomem;
	for (uint32_t t = 0; t < a->ntb; t++)
		a->by_tb[t] = (struct pha_alloc_stat){.tb = t, .file = UINT32_MAX};
	for (size_t i = 0; i < c->n; i++) {
		a->by_tb[c->t[i].tb].bytes += c->t[i].size;
		a->by_tb[c->t[i].tb].count++;
	}
	uint32_t rows = 0;
	for (uint32_t t = 0; t < a->ntb; t++) {
		if (a->by_tb[t].count)
			a->by_tb[rows++] = a->by_tb[t];
	}
	for (uint32_t i = 0; i < rows; i++) {
		const struct pha_alloc_frame *f = &a->frames[a->tb_first[a->by_tb[i].tb]];
		a->by_line[i] = (struct pha_alloc_stat){.file = f->file, .line = f->line,
							.tb = PHA_NO_TB, .bytes = a->by_tb[i].bytes,
							.count = a->by_tb[i].count};
	}
	if (rows)
		qsort(a->by_line, rows, sizeof(*a->by_line), cmp_line_key);
	size_t n = 0;
	for (uint32_t t = 0; t < rows; t++) {
		struct pha_alloc_stat *r = &a->by_line[t];
		if (n && !cmp_line_key(&a->by_line[n - 1], r)) {
			a->by_line[n - 1].bytes += r->bytes;
			a->by_line[n - 1].count += r->count;
		} else {
			a->by_line[n++] = *r;
		}
	}
	a->nby_line = n;
	a->nby_tb = rows;
	pha_allocs_sort_stats(a);
	return NULL;
}

static int cmp_trace_ptr(const void *p, const void *q)
{
	return cmp_u64(&((const struct trace *)p)->ptr, &((const struct trace *)q)->ptr);
}

/* obj_tb: the domain-0 trace at each object's memory block. */
static struct pha_error *object_sites(const struct pha_source *s, struct pha_allocs *a,
				      const struct pha_heap *h, struct collect *c)
{
	size_t n0 = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->t[i].domain)
			c->t[n0++] = c->t[i];
	}
	if (n0)
		qsort(c->t, n0, sizeof(*c->t), cmp_trace_ptr);
	uint64_t *off = calloc(h->ntypes ? h->ntypes : 1, sizeof(*off));
	a->obj_tb = malloc((h->n ? h->n : 1) * sizeof(*a->obj_tb));
	if (!off || !a->obj_tb) {
		free(off);
		return &pha_enomem;
	}
	for (uint32_t i = 0; i < h->ntypes; i++)
		off[i] = s->lay->alloc_offset ? s->lay->alloc_offset(s->py, h->types[i].addr) : 0;
	a->nobj = h->n;
	for (uint32_t v = 0; v < h->n; v++) {
		struct trace key = {.ptr = h->addr[v] - off[h->type[v]]};
		const struct trace *t = n0 ? bsearch(&key, c->t, n0, sizeof(*c->t), cmp_trace_ptr)
					   : NULL;
		a->obj_tb[v] = t ? (uint32_t)t->tb : PHA_NO_TB;
	}
	free(off);
	return NULL;
}

static void warn_unavailable(struct pha_source *s, const struct pha_tm_state *st)
{
	if (st->unavailable)
		pha_source_warn(s, "tracemalloc: %s", st->unavailable);
}

struct pha_error *pha_allocs_from_target(struct pha_source *s, const struct pha_heap *h)
{
	struct pha_allocs *a = &s->allocs;
	if (!s->lay || !s->lay->tm_traces || !s->lay->tm_traceback || !s->lay->tm_filename)
		return NULL;
	struct pha_tm_state st;
	struct collect c = {0};
	struct pha_error *err = s->lay->tm_traces(s->py, &st, on_trace, &c);
	if (!err && c.oom)
		err = &pha_enomem;
	a->tracing = st.tracing;
	a->max_frames = st.max_frames;
	a->reason = st.unavailable;
	if (err || !st.tracing || (!st.traces_read && !c.n)) {
		if (!err && st.tracing)
			warn_unavailable(s, &st);
		free(c.t);
		return err;
	}
	warn_unavailable(s, &st);
	a->traces = true;
	a->traced_bytes = st.traced_bytes;
	a->peak_bytes = st.peak_bytes;
	a->ntraces = c.n;
	uint32_t nids = 0;
	struct fname *fn = NULL;
	size_t nfn = 0;
	uint64_t *ids = unique_tbs(&c, &nids);
	if (!ids)
		err = &pha_enomem;
	if (!err)
		err = intern_tracebacks(s, a, ids, nids, &fn, &nfn);
	free(ids);
	if (!err)
		err = intern_files(s, a, fn, nfn);
	if (fn) {
		for (size_t i = 0; i < nfn; i++) {
			if (i + 1 == nfn || fn[i].name != fn[i + 1].name)
				free(fn[i].name);
		}
	}
	free(fn);
	if (!err)
		err = merge_tracebacks(a, &c);
	if (!err)
		err = statistics(a, &c);
	if (!err)
		err = object_sites(s, a, h, &c);
	free(c.t);
	return err;
}

/* ---- sites ---- */

static uint64_t site_key(const struct pha_allocs *a, uint32_t v)
{
	if (!a->obj_tb || v >= a->nobj || a->obj_tb[v] == PHA_NO_TB)
		return UINT64_MAX;
	const struct pha_alloc_frame *f = &a->frames[a->tb_first[a->obj_tb[v]]];
	return (uint64_t)f->file << 32 | f->line;
}

/* The longest run of equal keys in sorted k[0..n) (UINT64_MAX excluded). */
static struct pha_alloc_site mode(const struct pha_allocs *a, const uint64_t *k, size_t n)
{
	struct pha_alloc_site best = {0};
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && k[j] == k[i])
			j++;
		if (k[i] != UINT64_MAX && j - i > best.objects)
			best = (struct pha_alloc_site){.file = a->files[k[i] >> 32],
						       .line = (uint32_t)k[i], .objects = j - i};
		i = j;
	}
	return best;
}

struct pha_alloc_site pha_allocs_commonest(const struct pha_allocs *a, const uint32_t *ids,
					   size_t n, uint64_t *scratch)
{
	if (!a->obj_tb)
		return (struct pha_alloc_site){0};
	for (size_t i = 0; i < n; i++)
		scratch[i] = site_key(a, ids[i]);
	qsort(scratch, n, sizeof(*scratch), cmp_u64);
	return mode(a, scratch, n);
}

struct pair {
	uint64_t group, key;
};

static int cmp_pair(const void *p, const void *q)
{
	const struct pair *x = p, *y = q;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return cmp_u64(&x->key, &y->key);
}

struct pha_error *pha_allocs_type_sites(const struct pha_allocs *a, const struct pha_heap *h,
					const uint32_t *group_of, size_t ngroups,
					struct pha_alloc_site *sites)
{
	memset(sites, 0, ngroups * sizeof(*sites));
	if (!a->obj_tb)
		return NULL;
	size_t n = 0;
	for (uint32_t v = 0; v < h->n; v++)
		n += site_key(a, v) != UINT64_MAX;
	struct pair *p = malloc((n ? n : 1) * sizeof(*p));
	uint64_t *k = malloc((n ? n : 1) * sizeof(*k));
	if (!p || !k) {
		free(p);
		free(k);
		return &pha_enomem;
	}
	n = 0;
	for (uint32_t v = 0; v < h->n; v++) {
		uint64_t key = site_key(a, v);
		if (key != UINT64_MAX)
			p[n++] = (struct pair){.group = group_of[h->type[v]], .key = key};
	}
	qsort(p, n, sizeof(*p), cmp_pair);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j].group == p[i].group) {
			k[j - i] = p[j].key;
			j++;
		}
		if (p[i].group < ngroups)
			sites[p[i].group] = mode(a, k, j - i);
		i = j;
	}
	free(p);
	free(k);
	return NULL;
}
