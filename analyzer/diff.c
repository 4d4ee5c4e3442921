/* The diff model (diff.h) from two reports. pha_diff_build is the driver;
 * each step fills one part, in the order of the diff document:
 *
 *   same_process    same pid and executable: addresses can be compared
 *   diff_types      the type histogram, merged by name
 *   diff_growth     growth candidates matched by address, then by path
 *   diff_groups     unreachable groups and cycle shapes, by signature
 *   diff_numbers    summary and memory-section numbers
 *   thresholds      --fail-on-growth, --fail-on-type-growth
 *   verdict         one sentence
 */
#include "diff.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROWTH_MAX 100
#define APPEARED_MAX 20
#define GROUPS_MAX 50

static int64_t delta(uint64_t old, uint64_t new_)
{
	return (int64_t)new_ - (int64_t)old;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static bool same_process(const struct pha_report *a, const struct pha_report *b)
{
	return a->pid >= 0 && a->pid == b->pid && a->executable && b->executable &&
	       !strcmp(a->executable, b->executable);
}

/* ---- types ---------------------------------------------------------- */

static int cmp_type_ptr(const void *a, const void *b)
{
	const struct pha_report_type *x = *(const struct pha_report_type *const *)a;
	const struct pha_report_type *y = *(const struct pha_report_type *const *)b;
	return strcmp(x->name, y->name);
}

static int cmp_rtype_name(const void *a, const void *b)
{
	const struct pha_retained_type *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* r's retained types by name (a copy), for retained_of. */
static struct pha_retained_type *retained_by_name(const struct pha_report *r)
{
	const struct pha_why *w = &r->why;
	struct pha_retained_type *v = malloc((w->ntypes ? w->ntypes : 1) * sizeof(*v));
	if (!v)
		return NULL;
	if (w->ntypes)
		memcpy(v, w->types, w->ntypes * sizeof(*v));
	qsort(v, w->ntypes, sizeof(*v), cmp_rtype_name);
	return v;
}

static uint64_t retained_of(const struct pha_retained_type *v, size_t n, const char *name)
{
	struct pha_retained_type key = {.name = name};
	const struct pha_retained_type *hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_rtype_name)
						: NULL;
	return hit ? hit->retained_bytes : 0;
}

static const struct pha_report_type **types_by_name(const struct pha_report *r)
{
	const struct pha_report_type **v = malloc((r->ntypes ? r->ntypes : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->ntypes; i++)
		v[i] = &r->types[i];
	qsort(v, r->ntypes, sizeof(*v), cmp_type_ptr);
	return v;
}

static int cmp_dtype(const void *a, const void *b)
{
	const struct pha_diff_type *x = a, *y = b;
	if (x->bytes_delta != y->bytes_delta)
		return x->bytes_delta > y->bytes_delta ? -1 : 1;
	if (x->count_delta != y->count_delta)
		return x->count_delta > y->count_delta ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One type of the merge (o or n NULL when the other report lacks it). */
static void diff_type(struct pha_diff *d, const struct pha_report_type *o,
		      const struct pha_report_type *n, uint64_t ret_old, uint64_t ret_new)
{
	struct pha_diff_type t = {
		.name = n ? n->name : o->name,
		.count_old = o ? o->count : 0, .count_new = n ? n->count : 0,
		.bytes_old = o ? o->bytes : 0, .bytes_new = n ? n->bytes : 0,
	};
	t.count_delta = delta(t.count_old, t.count_new);
	t.bytes_delta = delta(t.bytes_old, t.bytes_new);
	t.retained_delta = delta(ret_old, ret_new);
	if (t.count_delta || t.bytes_delta || t.retained_delta)
		d->types[d->ntypes++] = t;
	else
		d->types_unchanged++;
}

static struct pha_error *diff_types(struct pha_diff *d)
{
	const struct pha_report *ro = d->old, *rn = d->new_;
	const struct pha_report_type **o = types_by_name(ro), **n = types_by_name(rn);
	struct pha_retained_type *reto = retained_by_name(ro), *retn = retained_by_name(rn);
	d->types = calloc(ro->ntypes + rn->ntypes + 1, sizeof(*d->types));
	struct pha_error *err = NULL;
	if (!o || !n || !reto || !retn || !d->types) {
		err = &pha_enomem;
		goto out;
	}
	size_t i = 0, k = 0, nro = ro->why.ntypes, nrn = rn->why.ntypes;
	while (i < ro->ntypes || k < rn->ntypes) {
		int c = i == ro->ntypes ? 1 : k == rn->ntypes ? -1 : strcmp(o[i]->name, n[k]->name);
		const struct pha_report_type *to = c <= 0 ? o[i++] : NULL;
		const struct pha_report_type *tn = c >= 0 ? n[k++] : NULL;
		const char *name = tn ? tn->name : to->name;
		diff_type(d, to, tn, retained_of(reto, nro, name), retained_of(retn, nrn, name));
	}
	qsort(d->types, d->ntypes, sizeof(*d->types), cmp_dtype);
out:
	free(o);
	free(n);
	free(reto);
	free(retn);
	return err;
}

/* ---- growth --------------------------------------------------------- */

static const struct pha_growth_candidate *cand_base;

static int cmp_cand_addr(const void *a, const void *b)
{
	const struct pha_growth_candidate *x = &cand_base[*(const uint32_t *)a];
	const struct pha_growth_candidate *y = &cand_base[*(const uint32_t *)b];
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_cand_path(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, k = *(const uint32_t *)b;
	int c = cmp_str(cand_base[i].path, cand_base[k].path);
	return c ? c : (i < k ? -1 : i > k);
}

/* Indices of w's candidates sorted by address (by_addr) and by path. */
static bool index_candidates(const struct pha_why *w, uint32_t **by_addr, uint32_t **by_path)
{
	*by_addr = malloc((w->ngrowth ? w->ngrowth : 1) * sizeof(**by_addr));
	*by_path = malloc((w->ngrowth ? w->ngrowth : 1) * sizeof(**by_path));
	if (!*by_addr || !*by_path)
		return false;
	for (size_t i = 0; i < w->ngrowth; i++)
		(*by_addr)[i] = (*by_path)[i] = (uint32_t)i;
	cand_base = w->growth;
	qsort(*by_addr, w->ngrowth, sizeof(**by_addr), cmp_cand_addr);
	qsort(*by_path, w->ngrowth, sizeof(**by_path), cmp_cand_path);
	return true;
}

/* The candidate of w at addr, or -1. */
static long find_addr(const struct pha_why *w, const uint32_t *by_addr, uint64_t addr)
{
	size_t lo = 0, hi = w->ngrowth;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->growth[by_addr[mid]].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->ngrowth && w->growth[by_addr[lo]].addr == addr ? (long)by_addr[lo] : -1;
}

/* The only candidate of w with this path, or -1 (none, or several: a path
 * shared by candidates names none of them; an empty path and the roots
 * without a name name nothing). */
static long find_path(const struct pha_why *w, const uint32_t *by_path, const char *path)
{
	if (!path || !path[0] || !strncmp(path, "<held from outside Python>", 26) ||
	    !strncmp(path, "<root>", 6))
		return -1;
	size_t lo = 0, hi = w->ngrowth;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cmp_str(w->growth[by_path[mid]].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= w->ngrowth || cmp_str(w->growth[by_path[lo]].path, path))
		return -1;
	if (lo + 1 < w->ngrowth && !cmp_str(w->growth[by_path[lo + 1]].path, path))
		return -1;
	return (long)by_path[lo];
}

static struct pha_diff_growth growth_entry(const struct pha_growth_candidate *o,
					   const struct pha_growth_candidate *n,
					   enum pha_diff_match m)
{
	struct pha_diff_growth g = {
		.match = m, .type = n->type, .path = n->path, .addr_new = n->addr,
		.items_new = n->items, .retained_new = n->retained,
	};
	if (o) {
		g.path_old = o->path;
		g.addr_old = o->addr;
		g.items_old = o->items;
		g.retained_old = o->retained;
		g.same_object = m == PHA_MATCH_ADDRESS;
	}
	g.items_delta = delta(g.items_old, g.items_new);
	g.retained_delta = delta(g.retained_old, g.retained_new);
	return g;
}

static int cmp_growth(const void *a, const void *b)
{
	const struct pha_diff_growth *x = a, *y = b;
	if (x->items_delta != y->items_delta)
		return x->items_delta > y->items_delta ? -1 : 1;
	if (x->retained_delta != y->retained_delta)
		return x->retained_delta > y->retained_delta ? -1 : 1;
	int c = cmp_str(x->path, y->path);
	return c ? c : (x->addr_new < y->addr_new ? -1 : x->addr_new > y->addr_new);
}

/* match[i]: OLD's candidate for NEW's candidate i (-1 none), by address
 * in one process first, then by a path unique in both. */
static void match_candidates(const struct pha_diff *d, const uint32_t *oaddr,
			     const uint32_t *opath, const uint32_t *npath, long *match,
			     uint8_t *used)
{
	const struct pha_why *wo = &d->old->why, *wn = &d->new_->why;
	for (size_t i = 0; i < wn->ngrowth; i++) {
		long k = d->same_process ? find_addr(wo, oaddr, wn->growth[i].addr) : -1;
		if (k >= 0 && cmp_str(wo->growth[k].type, wn->growth[i].type))
			k = -1;
		match[i] = k;
		if (k >= 0)
			used[k] = 1;
	}
	for (size_t i = 0; i < wn->ngrowth; i++) {
		if (match[i] >= 0 || find_path(wn, npath, wn->growth[i].path) < 0)
			continue;
		long k = find_path(wo, opath, wn->growth[i].path);
		if (k >= 0 && !used[k] && !cmp_str(wo->growth[k].type, wn->growth[i].type)) {
			match[i] = -2 - k;	/* by path */
			used[k] = 1;
		}
	}
}

static struct pha_error *diff_growth(struct pha_diff *d)
{
	const struct pha_why *wo = &d->old->why, *wn = &d->new_->why;
	uint32_t *oaddr = NULL, *opath = NULL, *naddr = NULL, *npath = NULL;
	long *match = malloc((wn->ngrowth ? wn->ngrowth : 1) * sizeof(*match));
	uint8_t *used = calloc(wo->ngrowth ? wo->ngrowth : 1, 1);
	struct pha_error *err = NULL;
	d->growth = calloc(wn->ngrowth + 1, sizeof(*d->growth));
	d->appeared = calloc(wn->ngrowth + 1, sizeof(*d->appeared));
	if (!match || !used || !d->growth || !d->appeared || !index_candidates(wo, &oaddr, &opath) ||
	    !index_candidates(wn, &naddr, &npath)) {
		err = &pha_enomem;
		goto out;
	}
	match_candidates(d, oaddr, opath, npath, match, used);
	for (size_t i = 0; i < wn->ngrowth; i++) {
		const struct pha_growth_candidate *n = &wn->growth[i];
		if (match[i] == -1) {
			if (d->nappeared < APPEARED_MAX)
				d->appeared[d->nappeared++] = growth_entry(NULL, n, PHA_MATCH_NONE);
			continue;
		}
		long k = match[i] >= 0 ? match[i] : -2 - match[i];
		struct pha_diff_growth g = growth_entry(&wo->growth[k], n,
							match[i] >= 0 ? PHA_MATCH_ADDRESS : PHA_MATCH_PATH);
		if (g.items_delta > 0 || g.retained_delta > 0)
			d->growth[d->ngrowth++] = g;
	}
	qsort(d->growth, d->ngrowth, sizeof(*d->growth), cmp_growth);
	if (d->ngrowth > GROWTH_MAX)
		d->ngrowth = GROWTH_MAX;
out:
	free(match);
	free(used);
	free(oaddr);
	free(opath);
	free(naddr);
	free(npath);
	return err;
}

/* ---- unreachable groups and cycle shapes ------------------------------ */

static int cmp_group_key(const struct pha_report_group *x, const struct pha_report_group *y)
{
	int c = strcmp(x->signature, y->signature);
	return c ? c : (int)x->world - (int)y->world;
}

static int cmp_group_ptr(const void *a, const void *b)
{
	return cmp_group_key(*(const struct pha_report_group *const *)a,
			     *(const struct pha_report_group *const *)b);
}

static int cmp_dgroup(const void *a, const void *b)
{
	const struct pha_diff_group *x = a, *y = b;
	int64_t dx = delta(x->bytes_old, x->bytes_new), dy = delta(y->bytes_old, y->bytes_new);
	int64_t ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	int c = strcmp(x->signature, y->signature);
	return c ? c : cmp_str(x->kind, y->kind);
}

static const struct pha_report_group **groups_by_key(const struct pha_report_group *g, size_t n)
{
	const struct pha_report_group **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &g[i];
	qsort(v, n, sizeof(*v), cmp_group_ptr);
	return v;
}

static void push_group(struct pha_diff_groups *out, const struct pha_report_group *o,
		       const struct pha_report_group *n, bool cycles)
{
	const struct pha_report_group *any = n ? n : o;
	struct pha_diff_group g = {
		.signature = any->signature,
		.kind = cycles ? (any->world ? "module-world" : "user") : NULL,
		.instances_old = o ? o->instances : 0, .instances_new = n ? n->instances : 0,
		.objects_old = o ? o->objects : 0, .objects_new = n ? n->objects : 0,
		.bytes_old = o ? o->bytes : 0, .bytes_new = n ? n->bytes : 0,
	};
	if (!o)
		out->appeared[out->nappeared++] = g;
	else if (!n)
		out->vanished[out->nvanished++] = g;
	else if (g.instances_old != g.instances_new || g.objects_old != g.objects_new ||
		 g.bytes_old != g.bytes_new)
		out->changed[out->nchanged++] = g;
}

static struct pha_error *diff_groups(struct pha_diff_groups *out,
				     const struct pha_report_group *go, size_t no,
				     const struct pha_report_group *gn, size_t nn, bool cycles)
{
	const struct pha_report_group **o = groups_by_key(go, no), **n = groups_by_key(gn, nn);
	out->appeared = calloc(nn + 1, sizeof(*out->appeared));
	out->vanished = calloc(no + 1, sizeof(*out->vanished));
	out->changed = calloc(nn + 1, sizeof(*out->changed));
	struct pha_error *err = NULL;
	if (!o || !n || !out->appeared || !out->vanished || !out->changed) {
		err = &pha_enomem;
		goto out;
	}
	size_t i = 0, k = 0;
	while (i < no || k < nn) {
		int c = i == no ? 1 : k == nn ? -1 : cmp_group_key(o[i], n[k]);
		const struct pha_report_group *a = c <= 0 ? o[i++] : NULL;
		const struct pha_report_group *b = c >= 0 ? n[k++] : NULL;
		push_group(out, a, b, cycles);
	}
	struct pha_diff_group *arr[] = {out->appeared, out->vanished, out->changed};
	size_t *cnt[] = {&out->nappeared, &out->nvanished, &out->nchanged};
	for (int a = 0; a < 3; a++) {
		qsort(arr[a], *cnt[a], sizeof(*arr[a]), cmp_dgroup);
		if (*cnt[a] > GROUPS_MAX)
			*cnt[a] = GROUPS_MAX;
	}
out:
	free(o);
	free(n);
	return err;
}

/* ---- numbers ---------------------------------------------------------- */

static void num(struct pha_diff_num *v, size_t *n, const char *name, uint64_t old, uint64_t new_)
{
	if (*n < PHA_DIFF_MAX_NUMS)
		v[(*n)++] = (struct pha_diff_num){.name = name, .old = old, .new_ = new_};
}

static void diff_numbers(struct pha_diff *d)
{
	const struct pha_report *o = d->old, *n = d->new_;
#define SUM(f) num(d->summary, &d->nsummary, #f, o->summary.f, n->summary.f)
#define WHY(f) num(d->summary, &d->nsummary, #f, o->why.f, n->why.f)
	SUM(objects); SUM(gc_objects); SUM(bytes); SUM(edges);
	SUM(unreachable_objects); SUM(unreachable_bytes); SUM(unreachable_freed_objects);
	SUM(cycles); SUM(cycle_objects); SUM(cycle_bytes);
	SUM(user_cycles); SUM(user_cycle_objects); SUM(user_cycle_bytes);
	WHY(heap_objects); WHY(heap_bytes); WHY(unrooted_objects); WHY(unrooted_bytes);
	WHY(held_by_c_objects); WHY(held_by_c_bytes);
#undef SUM
#undef WHY
	const struct pha_procmem *mo = o->memory, *mn = n->memory;
	d->memory = mo && mn;
	if (!d->memory)
		return;
	num(d->mem, &d->nmem, "total_bytes", mo->total_bytes, mn->total_bytes);
	for (int c = 0; c < PHA_MEM_COUNT; c++)
		num(d->mem, &d->nmem, pha_memcat_name(c), mo->cat[c], mn->cat[c]);
	if (mo->pymalloc.found && mn->pymalloc.found) {
		num(d->mem, &d->nmem, "pymalloc.allocated_bytes", mo->pymalloc.allocated_bytes,
		    mn->pymalloc.allocated_bytes);
		num(d->mem, &d->nmem, "pymalloc.free_bytes", mo->pymalloc.free_bytes,
		    mn->pymalloc.free_bytes);
	}
	if (mo->malloc.walked && mn->malloc.walked) {
		num(d->mem, &d->nmem, "malloc.in_use_bytes", mo->malloc.in_use_bytes,
		    mn->malloc.in_use_bytes);
		num(d->mem, &d->nmem, "malloc.free_bytes", mo->malloc.free_bytes,
		    mn->malloc.free_bytes);
	}
}

/* ---- thresholds and verdict --------------------------------------------- */

static const struct pha_diff_type *find_type(const struct pha_diff *d, const char *name)
{
	for (size_t i = 0; i < d->ntypes; i++)
		if (!strcmp(d->types[i].name, name))
			return &d->types[i];
	return NULL;
}

static struct pha_error *thresholds(struct pha_diff *d, const struct pha_diff_options *opts)
{
	d->thresholds = calloc(opts->ntype_limits + 2, sizeof(*d->thresholds));
	if (!d->thresholds)
		return &pha_enomem;
	if (opts->fail_on_growth)
		d->thresholds[d->nthresholds++] = (struct pha_diff_threshold){
			.kind = PHA_THRESHOLD_GROWTH, .limit = opts->growth_limit,
			.value = delta(d->old->summary.bytes, d->new_->summary.bytes)};
	for (size_t i = 0; i < opts->ntype_limits; i++) {
		const struct pha_diff_type *t = find_type(d, opts->type_limits[i].type);
		d->thresholds[d->nthresholds++] = (struct pha_diff_threshold){
			.kind = PHA_THRESHOLD_TYPE, .type = opts->type_limits[i].type,
			.limit = opts->type_limits[i].limit, .value = t ? t->count_delta : 0};
	}
	for (size_t i = 0; i < d->nthresholds; i++) {
		struct pha_diff_threshold *t = &d->thresholds[i];
		t->exceeded = t->value > 0 && (uint64_t)t->value > t->limit;
		d->exceeded |= t->exceeded;
	}
	return NULL;
}

/* "+1.5 MiB", "-512 B", "+0 B" */
static void signed_size(int64_t v, char *buf, size_t size)
{
	char b[32];
	pha_size_text(v < 0 ? (uint64_t)-v : (uint64_t)v, b, sizeof(b));
	snprintf(buf, size, "%s%s", v < 0 ? "-" : "+", b);
}

static void signed_count(int64_t v, char *buf, size_t size)
{
	char b[32];
	pha_count_text(v < 0 ? (uint64_t)-v : (uint64_t)v, b, sizeof(b));
	snprintf(buf, size, "%s%s", v < 0 ? "-" : "+", b);
}

/* The first growth entry whose items grew, else NULL. */
static const struct pha_diff_growth *top_growth(const struct pha_diff *d)
{
	return d->ngrowth && d->growth[0].items_delta > 0 ? &d->growth[0] : NULL;
}

/* "; most of it in PATH (the same dict, +30,000 items, +24.0 MiB retained)" */
static int growth_clause(const struct pha_diff_growth *g, char **out)
{
	char items[40], ret[40];
	signed_count(g->items_delta, items, sizeof(items));
	signed_size(g->retained_delta, ret, sizeof(ret));
	return asprintf(out, "; the container that grew most: the %s at %s (%s, %s items, %s "
			"retained)", g->type, g->path[0] ? g->path : "(no path)",
			g->same_object ? "the same object" : "matched by path", items, ret);
}

static struct pha_error *verdict(struct pha_diff *d)
{
	int64_t bytes = delta(d->old->summary.bytes, d->new_->summary.bytes);
	int64_t objects = delta(d->old->summary.objects, d->new_->summary.objects);
	const struct pha_diff_growth *g = top_growth(d);
	const struct pha_diff_type *t = d->ntypes && d->types[0].bytes_delta > 0 ? &d->types[0]
										: NULL;
	char b[40], o[40], tb[40], tc[40];
	signed_size(bytes, b, sizeof(b));
	signed_count(objects, o, sizeof(o));
	char *gc = NULL;
	if (g && growth_clause(g, &gc) < 0)
		return &pha_enomem;
	int rc;
	if (bytes <= 0 && !g) {
		rc = asprintf(&d->verdict, "No growth: the heap changed by %s (%s objects) and no "
			      "container grew.", b, o);
	} else if (t) {
		signed_size(t->bytes_delta, tb, sizeof(tb));
		signed_count(t->count_delta, tc, sizeof(tc));
		rc = asprintf(&d->verdict, "The heap grew by %s (%s objects); the type that grew "
			      "most: %s (%s objects, %s)%s.", b, o, t->name, tc, tb, gc ? gc : "");
	} else {
		rc = asprintf(&d->verdict, "The heap changed by %s (%s objects)%s.", b, o,
			      gc ? gc : "");
	}
	free(gc);
	if (rc < 0) {
		d->verdict = NULL;
		return &pha_enomem;
	}
	return NULL;
}

struct pha_error *pha_diff_build(const struct pha_report *old, const struct pha_report *new_,
				 const struct pha_diff_options *opts, struct pha_diff **diff_ret)
{
	struct pha_diff *d = calloc(1, sizeof(*d));
	if (!d)
		return &pha_enomem;
	d->old = old;
	d->new_ = new_;
	d->same_process = same_process(old, new_);
	struct pha_error *err;
	if ((err = diff_types(d)) || (err = diff_growth(d)) ||
	    (err = diff_groups(&d->unreachable, old->ugroups, old->nugroups, new_->ugroups,
			       new_->nugroups, false)) ||
	    (err = diff_groups(&d->cycles, old->cycles, old->ncycles, new_->cycles, new_->ncycles,
			       true))) {
		pha_diff_destroy(d);
		return err;
	}
	diff_numbers(d);
	if ((err = thresholds(d, opts)) || (err = verdict(d))) {
		pha_diff_destroy(d);
		return err;
	}
	*diff_ret = d;
	return NULL;
}

static void groups_deinit(struct pha_diff_groups *g)
{
	free(g->appeared);
	free(g->vanished);
	free(g->changed);
}

void pha_diff_destroy(struct pha_diff *d)
{
	if (!d)
		return;
	free(d->types);
	free(d->growth);
	free(d->appeared);
	groups_deinit(&d->unreachable);
	groups_deinit(&d->cycles);
	free(d->thresholds);
	free(d->verdict);
	free(d);
}
