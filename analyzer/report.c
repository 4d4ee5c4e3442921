#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "progress.h"

/* Signature entries shown before "+ N more types". */
#define SIG_MAX_ENTRIES 6

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_types(const void *a, const void *b)
{
	const struct pha_report_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_unreach_types(const void *a, const void *b)
{
	const struct pha_report_type *x = *(struct pha_report_type *const *)a;
	const struct pha_report_type *y = *(struct pha_report_type *const *)b;
	if (x->unreachable_bytes != y->unreachable_bytes)
		return x->unreachable_bytes > y->unreachable_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_groups_by_sig(const void *a, const void *b)
{
	const struct pha_report_group *x = a, *y = b;
	int c = strcmp(x->signature, y->signature);
	if (c)
		return c;
	return (int)x->unreachable - (int)y->unreachable;
}

static int cmp_groups_by_bytes(const void *a, const void *b)
{
	const struct pha_report_group *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return cmp_groups_by_sig(a, b);
}

struct sig_entry {
	uint32_t group;	/* report type index */
	uint32_t count;
};

static const struct pha_report_type *sig_types;

static int cmp_sig_entry(const void *a, const void *b)
{
	const struct sig_entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(sig_types[x->group].name, sig_types[y->group].name);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* "__main__.Node×2", "list (self)", "dict×40 + function×35 + … (+12 types)". */
static char *signature(const struct pha_report_type *types, uint32_t *groups, size_t n,
		       bool self_loop, struct sig_entry *scratch)
{
	qsort(groups, n, sizeof(*groups), cmp_u32);
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		if (ne && scratch[ne - 1].group == groups[i])
			scratch[ne - 1].count++;
		else
			scratch[ne++] = (struct sig_entry){.group = groups[i], .count = 1};
	}
	sig_types = types;
	qsort(scratch, ne, sizeof(*scratch), cmp_sig_entry);
	size_t cap = 256, len = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < ne; i++) {
		char part[600];
		if (i == SIG_MAX_ENTRIES) {
			snprintf(part, sizeof(part), " + … (+%zu types)", ne - i);
		} else if (scratch[i].count > 1) {
			snprintf(part, sizeof(part), "%s%s×%u", i ? " + " : "",
				 types[scratch[i].group].name, scratch[i].count);
		} else {
			snprintf(part, sizeof(part), "%s%s", i ? " + " : "",
				 types[scratch[i].group].name);
		}
		size_t pl = strlen(part);
		if (len + pl + 16 > cap) {
			cap = (len + pl + 16) * 2;
			char *ns = realloc(s, cap);
			if (!ns) {
				free(s);
				return NULL;
			}
			s = ns;
		}
		memcpy(s + len, part, pl + 1);
		len += pl;
		if (i == SIG_MAX_ENTRIES)
			break;
	}
	if (n == 1 && self_loop)
		strcat(s, " (self)");
	return s;
}

/* Merge groups with equal (signature, unreachable); frees duplicate
 * signatures. Returns the new count. */
static size_t merge_groups(struct pha_report_group *g, size_t n)
{
	if (n == 0)
		return 0;
	qsort(g, n, sizeof(*g), cmp_groups_by_sig);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && g[out - 1].unreachable == g[i].unreachable &&
		    !strcmp(g[out - 1].signature, g[i].signature)) {
			g[out - 1].instances += g[i].instances;
			g[out - 1].objects += g[i].objects;
			g[out - 1].bytes += g[i].bytes;
			free(g[i].signature);
		} else {
			g[out++] = g[i];
		}
	}
	qsort(g, out, sizeof(*g), cmp_groups_by_bytes);
	return out;
}

struct pha_error *pha_report_build(struct pha_source *src, const struct pha_heap *h,
				   const struct pha_report_options *opts,
				   struct pha_report **report_ret)
{
	struct pha_report_options defaults = {.suspect_threshold = 0.10, .top = 20};
	if (!opts)
		opts = &defaults;
	struct pha_error *err = NULL;
	struct pha_report *r = calloc(1, sizeof(*r));
	uint32_t *comp = NULL, *csize = NULL, *cstart = NULL, *members = NULL, *group_of = NULL;
	uint32_t *tmp = NULL;
	uint8_t *self = NULL;
	const char **names = NULL;
	struct sig_entry *scratch = NULL;
	if (!r)
		return &pha_enomem;
	uint32_t n = h->n;
	struct pha_graph g = pha_heap_graph(h);

	r->input_path = src->input_path;
	r->input_kind = src->input_kind;
	r->input_bytes = src->input_bytes;
	r->compressed = src->compressed;
	memcpy(r->version, src->version, sizeof(r->version));
	r->hexversion = src->hexversion;
	r->layout = src->layout;
	r->free_threaded = src->free_threaded;
	r->pid = src->pid;
	r->signal = src->signal;
	r->executable = src->executable;
	r->argv = opts->redact ? NULL : src->argv;
	r->argc = opts->redact ? 0 : src->argc;

	/* Unreachable: CPython's own arithmetic. */
	r->unreachable = calloc(n ? n : 1, 1);
	if (!r->unreachable) {
		err = &pha_enomem;
		goto out;
	}
	uint64_t negative = 0;
	pha_progress("finding unreachable objects", 0, 0);
	if ((err = pha_gc_unreachable(&g, h->flags, h->refcnt, r->unreachable, &negative)))
		goto out;
	if (negative)
		pha_source_warn(src, "%llu GC objects have more references than their refcount "
				   "allows (layout mismatch or a core taken mid-update); they are "
				   "treated as reachable", (unsigned long long)negative);

	/* Type histogram, grouped by report name. */
	names = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*names));
	group_of = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*group_of));
	r->types = calloc(h->ntypes ? h->ntypes : 1, sizeof(*r->types));
	if (!names || !group_of || !r->types) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t i = 0; i < h->ntypes; i++)
		names[i] = h->types[i].name;
	qsort(names, h->ntypes, sizeof(*names), cmp_str_ptr);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		if (!r->ntypes || strcmp(r->types[r->ntypes - 1].name, names[i]))
			r->types[r->ntypes++].name = names[i];
	}
	for (uint32_t i = 0; i < h->ntypes; i++) {
		const char *key = h->types[i].name;
		size_t lo = 0, hi = r->ntypes;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(r->types[mid].name, key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		group_of[i] = (uint32_t)lo;
	}
	for (uint32_t v = 0; v < n; v++) {
		struct pha_report_type *rt = &r->types[group_of[h->type[v]]];
		rt->count++;
		rt->bytes += h->size[v];
		if (h->flags[v] & PHA_OBJ_GC)
			rt->gc_count++;
		r->summary.bytes += h->size[v];
		if (r->unreachable[v]) {
			rt->unreachable++;
			rt->unreachable_bytes += h->size[v];
			r->summary.unreachable_objects++;
			r->summary.unreachable_bytes += h->size[v];
		}
	}
	r->summary.objects = n;
	r->summary.gc_objects = h->gc_listed;
	r->summary.edges = h->nedges;
	r->summary.permanent_objects = h->permanent;
	r->summary.conservative_objects = h->conservative;
	r->summary.unknown_refs = h->unknown_refs;

	/* Strongly connected components; members grouped by component. */
	pha_progress("finding reference cycles", 0, 0);
	uint32_t ncomp = 0;
	comp = malloc((n ? n : 1) * sizeof(*comp));
	self = calloc(n ? n : 1, 1);
	if (!comp || !self) {
		err = &pha_enomem;
		goto out;
	}
	if ((err = pha_scc(&g, comp, &ncomp, self)))
		goto out;
	csize = calloc(ncomp + 1, sizeof(*csize));
	cstart = calloc(ncomp + 1, sizeof(*cstart));
	members = malloc((n ? n : 1) * sizeof(*members));
	if (!csize || !cstart || !members) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t v = 0; v < n; v++)
		csize[comp[v]]++;
	/* Signature scratch sized by the largest component, not the heap. */
	uint32_t maxc = 1;
	for (uint32_t c = 0; c < ncomp; c++)
		maxc = csize[c] > maxc ? csize[c] : maxc;
	tmp = malloc(maxc * sizeof(*tmp));
	scratch = malloc(maxc * sizeof(*scratch));
	if (!tmp || !scratch) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t c = 0; c < ncomp; c++)
		cstart[c + 1] = cstart[c] + csize[c];
	for (uint32_t v = 0; v < n; v++)
		members[cstart[comp[v]]++] = v;
	for (uint32_t c = 0; c < ncomp; c++)
		cstart[c] -= csize[c];

	/* One group per interesting component, merged by signature below. */
	size_t ncyc = 0, nug = 0, cyc_cap = 0, ug_cap = 0;
	for (uint32_t c = 0; c < ncomp; c++) {
		uint32_t first = members[cstart[c]];
		bool cyclic = csize[c] >= 2 || self[first];
		uint64_t unreach = 0, ubytes = 0, bytes = 0;
		for (uint32_t k = 0; k < csize[c]; k++) {
			uint32_t v = members[cstart[c] + k];
			bytes += h->size[v];
			if (r->unreachable[v]) {
				unreach++;
				ubytes += h->size[v];
			}
		}
		if (!cyclic && !unreach)
			continue;
		for (uint32_t k = 0; k < csize[c]; k++)
			tmp[k] = group_of[h->type[members[cstart[c] + k]]];
		char *sig = signature(r->types, tmp, csize[c], self[first], scratch);
		if (!sig) {
			err = &pha_enomem;
			goto out;
		}
		if (cyclic) {
			if (ncyc == cyc_cap) {
				cyc_cap = cyc_cap ? cyc_cap * 2 : 64;
				struct pha_report_group *ng = realloc(r->cycles, cyc_cap * sizeof(*ng));
				if (!ng) {
					free(sig);
					err = &pha_enomem;
					goto out;
				}
				r->cycles = ng;
			}
			char *dup = unreach ? strdup(sig) : sig;
			if (!dup) {
				free(sig);
				err = &pha_enomem;
				goto out;
			}
			r->cycles[ncyc++] = (struct pha_report_group){
				.signature = dup, .instances = 1, .objects = csize[c], .bytes = bytes,
				.unreachable = unreach > 0,
			};
			r->ncycles = ncyc;	/* so pha_report_destroy frees it on error */
			r->summary.cycles++;
			r->summary.cycle_objects += csize[c];
			r->summary.cycle_bytes += bytes;
			if (!unreach)
				continue;
		}
		if (nug == ug_cap) {
			ug_cap = ug_cap ? ug_cap * 2 : 64;
			struct pha_report_group *ng = realloc(r->ugroups, ug_cap * sizeof(*ng));
			if (!ng) {
				free(sig);
				err = &pha_enomem;
				goto out;
			}
			r->ugroups = ng;
		}
		r->ugroups[nug++] = (struct pha_report_group){
			.signature = sig, .instances = 1, .objects = unreach, .bytes = ubytes,
			.unreachable = true,
		};
		r->nugroups = nug;
	}
	r->ncycles = merge_groups(r->cycles, ncyc);
	r->nugroups = merge_groups(r->ugroups, nug);

	/* Why is it alive (report/2), before r->types is sorted: group_of
	 * indexes it as built. */
	r->threads = src->threads;
	r->nthreads = src->nthreads;
	if ((err = pha_why_build(src, h, opts, group_of, r)))
		goto out;
	{
		struct timespec w0, w1;
		clock_gettime(CLOCK_MONOTONIC, &w0);
		if ((err = pha_waste_build(src, h, opts, &r->why.waste)))
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &w1);
		if (src->verbose >= 2)
			fprintf(stderr, "pyheap-analyze: why: waste %.3f s\n",
				(double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	}

	qsort(r->types, r->ntypes, sizeof(*r->types), cmp_types);
	r->unreachable_types = malloc((r->ntypes ? r->ntypes : 1) * sizeof(*r->unreachable_types));
	if (!r->unreachable_types) {
		err = &pha_enomem;
		goto out;
	}
	for (size_t i = 0; i < r->ntypes; i++) {
		if (r->types[i].unreachable)
			r->unreachable_types[r->nunreachable_types++] = &r->types[i];
	}
	qsort(r->unreachable_types, r->nunreachable_types, sizeof(*r->unreachable_types),
	      cmp_unreach_types);

	r->threads = src->threads;
	r->nthreads = src->nthreads;
	pha_progress_done();

	r->warnings = src->warnings;
	r->nwarnings = src->nwarnings;
	*report_ret = r;
	r = NULL;
out:
	free(comp);
	free(self);
	free(csize);
	free(cstart);
	free(members);
	free(tmp);
	free(scratch);
	free(names);
	free(group_of);
	pha_report_destroy(r);
	return err;
}

void pha_report_destroy(struct pha_report *r)
{
	if (!r)
		return;
	free(r->types);
	free(r->unreachable_types);
	for (size_t i = 0; i < r->nugroups; i++)
		free(r->ugroups[i].signature);
	free(r->ugroups);
	for (size_t i = 0; i < r->ncycles; i++)
		free(r->cycles[i].signature);
	free(r->cycles);
	pha_why_deinit(r);
	free(r->unreachable);
	free(r);
}
