/* The report model (report.h) from a heap and its source. pha_report_build
 * is the driver; its steps fill the model section by section: the header
 * (input, Python, process), the summary, types, unreachable objects
 * (reach.c), cycles and unreachable groups (scc.c, grouped by signature
 * here), why is it alive (why.c) and waste (waste.c). */
#include "bigmem.h"
#include "report.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "par.h"
#include "progress.h"
#include "warnings.h"

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
	if (x->world != y->world)
		return (int)x->world - (int)y->world;
	return (int)x->unreachable - (int)y->unreachable;
}

/* User rows before module-world rows, then bytes descending. */
static int cmp_groups_by_bytes(const void *a, const void *b)
{
	const struct pha_report_group *x = a, *y = b;
	if (x->world != y->world)
		return (int)x->world - (int)y->world;
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

/* What snprintf(part, cap, "%s%s×%u" or "%s%s", plus ? " + " : "", name,
 * count) writes, truncation included, without printf's cost (one call per
 * cycle: 2% of a run on a heap of many small cycles). Its length. */
static size_t sig_part(char *part, size_t cap, bool plus, const char *name, uint32_t count)
{
	size_t len = 0;
	char num[16];
	size_t nn = 0;
	const char *pieces[4] = {plus ? " + " : "", name, count > 1 ? "\xc3\x97" : "", num};
	if (count > 1) {
		char rev[16];
		size_t k = 0;
		for (uint32_t c = count; c; c /= 10)
			rev[k++] = (char)('0' + c % 10);
		while (k)
			num[nn++] = rev[--k];
	}
	num[nn] = 0;
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(pieces[i]);
		if (n > cap - 1 - len)
			n = cap - 1 - len;
		memcpy(part + len, pieces[i], n);
		len += n;
	}
	part[len] = 0;
	return len;
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
		size_t pl;
		if (i == SIG_MAX_ENTRIES) {
			snprintf(part, sizeof(part), " + … (+%zu types)", ne - i);
			pl = strlen(part);
		} else {
			pl = sig_part(part, sizeof(part), i > 0, types[scratch[i].group].name,
				      scratch[i].count);
		}
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

/* Merge groups with equal (signature, world, unreachable); frees
 * duplicate signatures. Returns the new count. */
static size_t merge_groups(struct pha_report_group *g, size_t n)
{
	if (n == 0)
		return 0;
	qsort(g, n, sizeof(*g), cmp_groups_by_sig);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && g[out - 1].unreachable == g[i].unreachable &&
		    g[out - 1].world == g[i].world && !strcmp(g[out - 1].signature, g[i].signature)) {
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

/* Input, Python and process, as the source says (argv left out under
 * --redact). */
static void report_header(const struct pha_source *src, const struct pha_report_options *opts,
			  struct pha_report *r)
{
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
	r->redacted = opts->redact;
}

/* "type at 0xaddr, ..." for the objects ids[0..n-1], a type named once. */
static void name_examples(const struct pha_heap *h, const uint32_t *ids, uint32_t n, char *list,
			  size_t cap)
{
	size_t pos = 0;
	list[0] = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = ids[i], j = 0;
		while (j < i && h->type[ids[j]] != h->type[v])
			j++;
		if (j < i)
			continue;
		int k = snprintf(list + pos, cap - pos, "%s%s at 0x%llx", pos ? ", " : "",
				 h->types[h->type[v]].name, (unsigned long long)h->addr[v]);
		if (k < 0 || (size_t)k >= cap - pos)
			break;
		pos += (size_t)k;
	}
}

/* The references that conservative scans of C objects found beyond
 * their targets' refcounts (reach.c: not counted), with the types and an
 * address of the first objects holding them. */
static void warn_uncounted(struct pha_source *src, const struct pha_heap *h,
			   const struct pha_gc_anomalies *anom)
{
	char list[512];
	name_examples(h, anom->src, anom->nsrc, list, sizeof(list));
	pha_source_warn(src, "conservative scans of %llu extension object%s (%s%s) found %llu "
			     "word%s pointing at objects beyond their refcounts: stale copies or "
			     "borrowed pointers, not counted by the unreachable arithmetic",
			(unsigned long long)anom->nsrc_total, anom->nsrc_total == 1 ? "" : "s", list,
			anom->nsrc_total > anom->nsrc ? ", ..." : "",
			(unsigned long long)anom->uncounted, anom->uncounted == 1 ? "" : "s");
}

/* r->unreachable: CPython's own arithmetic (reach.c). */
static struct pha_error *find_unreachable(struct pha_source *src, const struct pha_heap *h,
					  struct pha_report *r)
{
	struct pha_graph g = pha_heap_graph(h);
	r->unreachable = calloc(h->n ? h->n : 1, 1);
	if (!r->unreachable)
		return &pha_enomem;
	struct pha_gc_anomalies anom;
	pha_progress("finding unreachable objects", 0, 0);
	struct pha_error *err = pha_gc_unreachable(&g, h->flags, &h->refcnt, r->unreachable, &anom);
	if (err)
		return err;
	/* gc.collect() runs finalizers (__del__, tp_finalize, tp_del) of the
	 * unreachable objects first; what they resurrect stays alive, so the
	 * arithmetic alone gives an upper bound (e.g. 406 vs gc.collect()'s 6
	 * on 3.11 with a resurrecting __del__). */
	uint64_t fin = 0;
	for (uint32_t v = 0; v < h->n; v++)
		fin += r->unreachable[v] && (h->flags[v] & PHA_OBJ_FINALIZER);
	if (fin)
		pha_source_warn(src, "%llu unreachable objects have finalizers (__del__, tp_finalize "
				   "or tp_del): gc.collect() runs them first and whatever they "
				   "resurrect stays alive, so the unreachable counts are an upper "
				   "bound", (unsigned long long)fin);
	if (anom.negative) {
		char list[512];
		name_examples(h, anom.neg, anom.nneg, list, sizeof(list));
		pha_source_warn(src, "%llu GC objects have more references than their refcount "
				   "allows (layout mismatch or a core taken mid-update: %s%s); they "
				   "are treated as reachable", (unsigned long long)anom.negative, list,
				anom.negative > anom.nneg ? ", ..." : "");
	}
	if (anom.uncounted)
		warn_uncounted(src, h, &anom);
	return NULL;
}

/* What gc.collect() frees (reach.c): the unreachable set and what only
 * it keeps alive; the per-object marks are scratch. The strong
 * in-reference counts it needs are the why phase's too: *inref_ret. */
static struct pha_error *count_freed(const struct pha_heap *h, struct pha_report *r,
				     uint32_t **inref_ret)
{
	struct pha_graph g = pha_heap_graph(h);
	uint8_t *freed = pha_big_calloc(h->n ? h->n : 1, 1);
	/* n + 2: the dominators take it over as their reverse index (why.c) */
	uint32_t *inref = pha_big_calloc((size_t)h->n + 2, sizeof(*inref));
	if (!freed || !inref) {
		pha_big_free(freed);
		pha_big_free(inref);
		return &pha_enomem;
	}
	struct pha_error *err = pha_strong_inrefs(&g, inref);
	if (!err)
		err = pha_gc_freed(&g, h->flags, &h->refcnt, r->unreachable, inref, freed);
	/* sums in locals: through r, each += was a store and a reload */
	uint64_t nfreed = 0, freed_bytes = 0;
	for (uint32_t v = 0; !err && v < h->n; v++) {
		if (freed[v]) {
			nfreed++;
			freed_bytes += pha_heap_size(h, v);
		}
	}
	r->summary.unreachable_freed_objects += nfreed;
	r->summary.unreachable_bytes += freed_bytes;
	pha_big_free(freed);
	if (err)
		pha_big_free(inref);
	else
		*inref_ret = inref;
	return err;
}

/* The summary's counts that come straight from the heap (cycles are
 * counted by group_components). */
static void count_summary(const struct pha_heap *h, struct pha_report *r)
{
	uint64_t bytes = 0, unreachable = 0;	/* in locals, as count_freed */
	for (uint32_t v = 0; v < h->n; v++) {
		bytes += pha_heap_size(h, v);
		unreachable += r->unreachable[v] != 0;
	}
	r->summary.bytes += bytes;
	r->summary.unreachable_objects += unreachable;
	r->summary.objects = h->n;
	r->summary.gc_objects = h->gc_listed;
	r->summary.edges = h->nedges;
	r->summary.permanent_objects = h->permanent;
	r->summary.conservative_objects = h->conservative;
	r->summary.unknown_refs = h->unknown_refs;
}

/* r->types: one entry per distinct report name (heap types of equal name
 * are merged), in name order for now; group_of[heap type] = its entry. */
static struct pha_error *group_types(const struct pha_heap *h, struct pha_report *r,
				     uint32_t *group_of)
{
	const char **names = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*names));
	r->types = calloc(h->ntypes ? h->ntypes : 1, sizeof(*r->types));
	if (!names || !r->types) {
		free(names);
		return &pha_enomem;
	}
	for (uint32_t i = 0; i < h->ntypes; i++)
		names[i] = h->types[i].name;
	qsort(names, h->ntypes, sizeof(*names), cmp_str_ptr);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		if (!r->ntypes || strcmp(r->types[r->ntypes - 1].name, names[i]))
			r->types[r->ntypes++].name = names[i];
	}
	free(names);
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
	return NULL;
}

/* Per-type counts of r->types (objects, bytes, GC-tracked, unreachable). */
static void count_types(const struct pha_heap *h, const uint32_t *group_of, struct pha_report *r)
{
	for (uint32_t v = 0; v < h->n; v++) {
		struct pha_report_type *rt = &r->types[group_of[h->type[v]]];
		rt->count++;
		rt->bytes += pha_heap_size(h, v);
		if (h->flags[v] & PHA_OBJ_GC)
			rt->gc_count++;
		if (r->unreachable[v]) {
			rt->unreachable++;
			rt->unreachable_bytes += pha_heap_size(h, v);
		}
	}
}

/* The rows of the cycles table (pha_cycle_rows, graph.h) with the members
 * of the listed ones grouped by row (CSR: members[start[c] .. start[c] +
 * size[c])). "Components" below are these rows. */
struct components {
	uint32_t ncomp;
	uint32_t *comp, *size, *start, *members;
	uint8_t *self;		/* per object: a strong edge to itself */
	uint8_t *rflags;	/* per row: PHA_ROW_*, ROW_LISTED */
	uint32_t largest;	/* members of the largest listed component (at least 1) */
};

/* A row that is a cycle or holds an unreachable object: the only rows
 * group_component lists, and the only ones whose members are grouped
 * (issue 12: at 10^7 objects nearly every row is one reachable object,
 * and grouping them all was a tenth of the report's own time). Not a
 * flag of graph.h (bits 0 and 1 are). */
#define ROW_LISTED 0x80

static void components_deinit(struct components *cs)
{
	pha_big_free(cs->rflags);
	pha_big_free(cs->comp);
	free(cs->size);
	free(cs->start);
	pha_big_free(cs->members);
	pha_big_free(cs->self);
}

/* world[v] = 1 for the module world (REPORT.md, cycles[]): type objects,
 * module objects, and the dicts module objects reference (md_dict: the
 * layouts report no other dict of a module). */
static uint8_t *world_objects(const struct pha_heap *h)
{
	uint8_t *world = pha_big_calloc(h->n ? h->n : 1, 1);
	if (!world)
		return NULL;
	for (uint32_t v = 0; v < h->n; v++) {
		uint8_t kind = h->types[h->type[v]].kind;
		if (kind == PHA_TYPE_KIND_TYPE) {
			world[v] = 1;
		} else if (kind == PHA_TYPE_KIND_MODULE) {
			world[v] = 1;
			for (uint32_t e = h->first[v]; e < h->first[v + 1]; e++) {
				uint32_t w = h->dst[e];
				if (w < h->n && !(h->eflags[e] & PHA_EDGE_WEAK) &&
				    !strcmp(h->types[h->type[w]].name, "dict"))
					world[w] = 1;
			}
		}
	}
	return world;
}

static struct pha_error *components_find(const struct pha_heap *h, const uint8_t *unreachable,
					 struct components *cs)
{
	uint32_t n = h->n;
	struct pha_graph g = pha_heap_graph(h);
	struct pha_error *err;
	cs->comp = pha_big_malloc((n ? n : 1) * sizeof(*cs->comp));
	cs->self = pha_big_calloc(n ? n : 1, 1);
	uint8_t *world = world_objects(h);
	if (!cs->comp || !cs->self || !world) {
		pha_big_free(world);
		return &pha_enomem;
	}
	err = pha_cycle_rows(&g, world, cs->comp, &cs->ncomp, cs->self, &cs->rflags);
	pha_big_free(world);
	if (err)
		return err;
	for (uint32_t c = 0; c < cs->ncomp; c++) {
		if (cs->rflags[c] & PHA_ROW_CYCLIC)
			cs->rflags[c] |= ROW_LISTED;
	}
	for (uint32_t v = 0; v < n; v++) {
		if (unreachable[v])
			cs->rflags[cs->comp[v]] |= ROW_LISTED;
	}
	cs->size = calloc(cs->ncomp + 1, sizeof(*cs->size));
	cs->start = calloc(cs->ncomp + 1, sizeof(*cs->start));
	if (!cs->size || !cs->start)
		return &pha_enomem;
	uint64_t listed = 0;
	for (uint32_t v = 0; v < n; v++) {
		if (cs->rflags[cs->comp[v]] & ROW_LISTED) {
			cs->size[cs->comp[v]]++;
			listed++;
		}
	}
	cs->members = pha_big_malloc((listed ? listed : 1) * sizeof(*cs->members));
	if (!cs->members)
		return &pha_enomem;
	cs->largest = 1;
	for (uint32_t c = 0; c < cs->ncomp; c++)
		cs->largest = cs->size[c] > cs->largest ? cs->size[c] : cs->largest;
	for (uint32_t c = 0; c < cs->ncomp; c++)
		cs->start[c + 1] = cs->start[c] + cs->size[c];
	for (uint32_t v = 0; v < n; v++) {
		if (cs->rflags[cs->comp[v]] & ROW_LISTED)
			cs->members[cs->start[cs->comp[v]]++] = v;
	}
	for (uint32_t c = 0; c < cs->ncomp; c++)
		cs->start[c] -= cs->size[c];
	return NULL;
}

/* Append to a group array that doubles from 64; false on OOM. */
static bool push_group(struct pha_report_group **groups, size_t *n, size_t *cap,
		       struct pha_report_group g)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pha_report_group *ng = realloc(*groups, ncap * sizeof(*ng));
		if (!ng)
			return false;
		*groups = ng;
		*cap = ncap;
	}
	(*groups)[(*n)++] = g;
	return true;
}

/* The rows pushed so far by key (signature, world, unreachable), so that
 * a component whose row exists adds to it instead of pushing a copy that
 * merge_groups would merge (issue 12: one string and one sorted row per
 * component made 10^6 cycles cost a sort of 10^6 strings). Slots hold
 * (hash << 32) | (row index + 1), 0 = free. */
struct row_index {
	uint64_t *slots;
	size_t cap, n;
};

static uint32_t row_hash(const struct pha_report_group *g)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)g->signature; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	h ^= (uint64_t)g->world << 1 | (uint64_t)g->unreachable;
	h *= 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* Room for one more slot; false on OOM. */
static bool row_room(struct row_index *ri)
{
	if ((ri->n + 1) * 2 <= ri->cap)
		return true;
	size_t cap = ri->cap ? ri->cap * 2 : 256;
	uint64_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < ri->cap; i++) {
		if (!ri->slots[i])
			continue;
		size_t j = (ri->slots[i] >> 32) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = ri->slots[i];
	}
	free(ri->slots);
	ri->slots = slots;
	ri->cap = cap;
	return true;
}

/* Add row g: into the row with its key when there is one (*took false:
 * g.signature is still the caller's), else pushed (*took true). False on
 * OOM. */
static bool add_row(struct pha_report_group **groups, size_t *n, size_t *cap,
		    struct row_index *ri, struct pha_report_group g, bool *took)
{
	uint32_t hash = row_hash(&g);
	*took = false;
	if (!row_room(ri))
		return false;
	size_t j = hash & (ri->cap - 1);
	for (; ri->slots[j]; j = (j + 1) & (ri->cap - 1)) {
		struct pha_report_group *o = &(*groups)[(uint32_t)ri->slots[j] - 1];
		if ((uint32_t)(ri->slots[j] >> 32) == hash && o->world == g.world &&
		    o->unreachable == g.unreachable && !strcmp(o->signature, g.signature)) {
			o->instances += g.instances;
			o->objects += g.objects;
			o->bytes += g.bytes;
			return true;
		}
	}
	if (*n >= UINT32_MAX - 1 || !push_group(groups, n, cap, g))
		return false;
	ri->slots[j] = (uint64_t)hash << 32 | (uint64_t)*n;	/* index + 1 */
	ri->n++;
	*took = true;
	return true;
}

/* Signature scratch, sized by the largest component, not the heap. */
struct sig_scratch {
	uint32_t *groups;
	struct sig_entry *entries;
	size_t cycles_cap, ugroups_cap;
	struct row_index cycles_rows, ugroups_rows;
};

/* Row c as a cycle (PHA_ROW_CYCLIC) and/or as an unreachable group (some
 * members unreachable); neither: skipped. */
static struct pha_error *group_component(const struct pha_heap *h, const uint32_t *group_of,
					 const struct components *cs, uint32_t c,
					 struct sig_scratch *ss, struct pha_report *r)
{
	const uint32_t *mem = &cs->members[cs->start[c]];
	uint32_t size = cs->size[c];
	bool cyclic = cs->rflags[c] & PHA_ROW_CYCLIC;
	bool world = cs->rflags[c] & PHA_ROW_WORLD;
	uint64_t unreach = 0, ubytes = 0, bytes = 0;
	for (uint32_t k = 0; k < size; k++) {
		bytes += pha_heap_size(h, mem[k]);
		if (r->unreachable[mem[k]]) {
			unreach++;
			ubytes += pha_heap_size(h, mem[k]);
		}
	}
	if (!cyclic && !unreach)
		return NULL;
	for (uint32_t k = 0; k < size; k++)
		ss->groups[k] = group_of[h->type[mem[k]]];
	char *sig = signature(r->types, ss->groups, size, cs->self[mem[0]], ss->entries);
	if (!sig)
		return &pha_enomem;
	bool took;
	if (cyclic) {
		/* r->ncycles counts as it goes so that pha_report_destroy frees
		 * the signatures on error. */
		if (!add_row(&r->cycles, &r->ncycles, &ss->cycles_cap, &ss->cycles_rows,
			     (struct pha_report_group){
				     .signature = sig, .instances = 1, .objects = size,
				     .bytes = bytes, .unreachable = unreach > 0, .world = world,
			     }, &took)) {
			free(sig);
			return &pha_enomem;
		}
		r->summary.cycles++;
		r->summary.cycle_objects += size;
		r->summary.cycle_bytes += bytes;
		if (!world) {
			r->summary.user_cycles++;
			r->summary.user_cycle_objects += size;
			r->summary.user_cycle_bytes += bytes;
		}
		if (!unreach) {
			if (!took)
				free(sig);
			return NULL;
		}
		if (took && !(sig = strdup(sig)))
			return &pha_enomem;
	}
	if (!add_row(&r->ugroups, &r->nugroups, &ss->ugroups_cap, &ss->ugroups_rows,
		     (struct pha_report_group){
			     .signature = sig, .instances = 1, .objects = unreach, .bytes = ubytes,
			     .unreachable = true,
		     }, &took)) {
		free(sig);
		return &pha_enomem;
	}
	if (!took)
		free(sig);
	return NULL;
}

/* r->cycles and r->ugroups: one group per interesting component, then
 * merged by signature. */
static struct pha_error *group_components(const struct pha_heap *h, const uint32_t *group_of,
					  struct pha_report *r)
{
	struct components cs = {0};
	struct sig_scratch ss = {0};
	struct pha_error *err;
	pha_progress("finding reference cycles", 0, 0);
	if ((err = components_find(h, r->unreachable, &cs)))
		goto out;
	ss.groups = malloc(cs.largest * sizeof(*ss.groups));
	ss.entries = malloc(cs.largest * sizeof(*ss.entries));
	if (!ss.groups || !ss.entries) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t c = 0; c < cs.ncomp; c++) {
		if (!(cs.rflags[c] & ROW_LISTED))
			continue;
		if ((err = group_component(h, group_of, &cs, c, &ss, r)))
			goto out;
	}
	r->ncycles = merge_groups(r->cycles, r->ncycles);
	r->nugroups = merge_groups(r->ugroups, r->nugroups);
out:
	free(ss.groups);
	free(ss.entries);
	free(ss.cycles_rows.slots);
	free(ss.ugroups_rows.slots);
	components_deinit(&cs);
	return err;
}

/* Waste (waste.c), timed for -vv. */
static struct pha_error *build_waste(struct pha_source *src, const struct pha_heap *h,
				     const struct pha_report_options *opts, struct pha_report *r)
{
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	struct pha_error *err = pha_waste_build(src, h, opts, &r->why.waste);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &w1);
	if (src->verbose >= 2)
		fprintf(stderr, "pyheap-analyze: why: waste %.3f s\n",
			(double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	return NULL;
}

/* r->types by bytes, and r->unreachable_types, the types with unreachable
 * objects, by unreachable bytes. Last: why.c indexes r->types as built. */
static struct pha_error *sort_types(struct pha_report *r)
{
	qsort(r->types, r->ntypes, sizeof(*r->types), cmp_types);
	r->unreachable_types = malloc((r->ntypes ? r->ntypes : 1) * sizeof(*r->unreachable_types));
	if (!r->unreachable_types)
		return &pha_enomem;
	for (size_t i = 0; i < r->ntypes; i++) {
		if (r->types[i].unreachable)
			r->unreachable_types[r->nunreachable_types++] = &r->types[i];
	}
	qsort(r->unreachable_types, r->nunreachable_types, sizeof(*r->unreachable_types),
	      cmp_unreach_types);
	return NULL;
}

/* allocations: tracemalloc's (borrowed from the source) and each type's
 * commonest allocation site (r->types not yet sorted). */
static struct pha_error *type_sites(struct pha_source *src, const struct pha_heap *h,
				    const uint32_t *group_of, struct pha_report *r)
{
	r->allocs = &src->allocs;
	if (!src->allocs.obj_tb || !r->ntypes)
		return NULL;
	struct pha_alloc_site *sites = calloc(r->ntypes, sizeof(*sites));
	if (!sites)
		return &pha_enomem;
	struct pha_error *err = pha_allocs_type_sites(&src->allocs, h, group_of, r->ntypes, sites);
	for (size_t i = 0; !err && i < r->ntypes; i++)
		r->types[i].top_alloc = sites[i];
	free(sites);
	return err;
}

/* Work on a second thread beside graph-only phases (issue 12: wall time
 * on two cores). Where no thread can be made, it runs on the caller's,
 * at the join. */
struct side {
	struct pha_error *(*fn)(void *arg);
	void *arg;
	struct pha_error *err;
	pthread_t th;
	bool started;		/* on its thread */
	bool pending;		/* not yet run or joined */
};

static void *side_main(void *p)
{
	struct side *s = p;
	pha_progress_thread_quiet();
	s->err = s->fn(s->arg);
	return NULL;
}

static void side_start(struct side *s, struct pha_error *(*fn)(void *), void *arg)
{
	*s = (struct side){.fn = fn, .arg = arg, .pending = fn != NULL};
	s->started = fn && pha_par_allowed() && pthread_create(&s->th, NULL, side_main, s) == 0;
}

/* The side's error, NULL when it succeeded or never ran. */
static struct pha_error *side_join(struct side *s)
{
	if (!s->pending)
		return NULL;
	s->pending = false;
	if (s->started)
		pthread_join(s->th, NULL);
	else
		s->err = s->fn(s->arg);
	return s->err;
}

/* The first error of a phase and of the side beside it; the other freed. */
static struct pha_error *first_error(struct pha_error *main_err, struct pha_error *side_err)
{
	if (!main_err)
		return side_err;
	if (side_err)
		pha_error_destroy(side_err);
	return main_err;
}

struct waste_job {
	struct pha_source *src;
	const struct pha_heap *h;
	const struct pha_report_options *opts;
	struct pha_report *r;
};

/* Its warnings (the layout's, on the core's values) are dropped: they
 * were always made after the source had taken the target's. */
static struct pha_error *waste_job(void *arg)
{
	struct waste_job *j = arg;
	pha_warnings_mute_thread(true);
	struct pha_error *err = build_waste(j->src, j->h, j->opts, j->r);
	pha_warnings_mute_thread(false);
	return err;
}

/* The phases of the report, each freeing its scratch before the next:
 * reachability (reach.c), the type histogram, SCCs (scc.c) grouped into
 * cycles and unreachable groups, why is it alive (why.c), waste (waste.c).
 * Threads and warnings are borrowed from the source. */
struct pha_error *pha_report_build(struct pha_source *src, const struct pha_heap *h,
				   const struct pha_report_options *opts,
				   struct pha_report **report_ret)
{
	struct pha_report_options defaults = {.suspect_threshold = 0.10, .top = 20};
	if (!opts)
		opts = &defaults;
	struct pha_error *err = NULL;
	uint32_t *inref = NULL;
	struct pha_report *r = calloc(1, sizeof(*r));
	uint32_t *group_of = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*group_of));
	if (!r || !group_of) {
		free(r);
		free(group_of);
		return &pha_enomem;
	}
	report_header(src, opts, r);
	/* Two cores (issue 12): waste, which reads the core, beside the
	 * unreachable set, then opts->side beside the cycles; joined before
	 * the cycles and before the why phase, whose peaks they would add
	 * to. The phases on this thread between work on the graph only. */
	struct waste_job wj = {src, h, opts, r};
	struct side side;
	side_start(&side, waste_job, &wj);
	err = find_unreachable(src, h, r);
	if (!err) {
		count_summary(h, r);
		err = group_types(h, r, group_of);
	}
	/* its error, if both fail, after the unreachable set's */
	struct pha_error *waste_err = side_join(&side);
	if (err || waste_err) {
		err = first_error(err, waste_err);
		goto out;
	}
	count_types(h, group_of, r);
	side_start(&side, opts->side, opts->side_arg);
	err = group_components(h, group_of, r);
	/* last before the why phase: its in-reference counts are that
	 * phase's, and are not alive beside the cycle rows' scratch */
	if (!err)
		err = count_freed(h, r, &inref);
	err = first_error(err, side_join(&side));
	if (!err && opts->side_done)
		err = opts->side_done(opts->side_arg);
	if (err)
		goto out;
	/* pha_why_deinit walks the locals by thread: the threads first. */
	r->threads = src->threads;
	r->nthreads = src->nthreads;
	err = pha_why_build(src, h, opts, group_of, inref, r);
	inref = NULL;	/* the why phase's now */
	if (err)
		goto out;
	if ((err = type_sites(src, h, group_of, r)))
		goto out;
	if ((err = sort_types(r)))
		goto out;
	pha_progress_done();
	r->memory = src->memory;
	r->warnings = src->warnings;
	r->nwarnings = src->nwarnings;
	*report_ret = r;
	r = NULL;
out:
	pha_big_free(inref);
	free(group_of);
	pha_report_destroy(r);
	return err;
}

const enum pha_report_section pha_report_sections[PHA_SECTION_COUNT] = {
	PHA_SECTION_HEADER, PHA_SECTION_SUMMARY, PHA_SECTION_TYPES, PHA_SECTION_UNREACHABLE,
	PHA_SECTION_CYCLES, PHA_SECTION_THREADS, PHA_SECTION_WHY, PHA_SECTION_WASTE,
	PHA_SECTION_MEMORY, PHA_SECTION_ALLOCATIONS, PHA_SECTION_WARNINGS,
};

void pha_report_walk(const struct pha_report *r, const struct pha_report_writer *w, void *ctx)
{
	if (w->begin)
		w->begin(ctx, r);
	for (size_t i = 0; i < w->norder; i++) {
		if (w->section[w->order[i]])
			w->section[w->order[i]](ctx, r);
	}
	if (w->end)
		w->end(ctx, r);
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
