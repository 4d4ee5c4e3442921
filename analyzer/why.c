/* Why is it alive (report/2): roots, "held from outside Python" roots,
 * dominator tree and retained sizes, per-type retained sizes (MAT's rule),
 * top retainers, labelled shortest paths, leak suspects and frame locals.
 *
 * Phases, each freeing its scratch before the next (the steps of
 * pha_why_build, at the end of this file):
 *   1. interpreter roots (C globals included) -> ids; multi-source BFS
 *      over strong edges from them (parent pointers, u32), so every path
 *      shown is a shortest one (find_interpreter_roots);
 *   2. excess(x) = refcnt(x) - strong references to x found in the heap
 *      (all objects, not only GC ones; multiplicity counted); objects with
 *      excess > 0 that the BFS did not reach become "held from outside
 *      Python" roots, and the BFS continues from them (find_outside_roots);
 *   3. dominators from a super-root over both kinds of roots; the
 *      dominator-tree children (CSR; the tree's idom goes) for one
 *      iterative walk that sums the retained sizes, the native bytes of
 *      each subtree and the per-type retained (MAT's rule), and for the
 *      suspects' contents (dominators_of_roots, dominator_children,
 *      native_owners, subtree_sums, list_retained_types);
 *   4. top retainers, suspects, paths, locals, growth candidates
 *      (select_top, top_retainers, unexplained_groups, find_suspects:
 *      suspects.c, locals_build, growth_candidates: growth.c); the groups of
 *      step 2 that do not look like a leak (LEAK_MIN_OBJECTS) are the
 *      held-by-C table, not suspects.
 * Nothing here recurses.
 */
#include "why_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugins/pha_layout.h"
#include "dominators.h"
#include "bigmem.h"
#include "progress.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -vv: how long each phase took. */
static void phase(const struct pha_source *src, const char *what, double *t0)
{
	double t = now();
	if (src->verbose >= 2)
		fprintf(stderr, "pyheap-analyze: why: %s %.3f s\n", what, t - *t0);
	*t0 = t;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

const char *why_tname(const struct ctx *c, uint32_t v)
{
	return c->h->types[c->h->type[v]].name;
}

static int cmp_pair(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* The BFS stage of a root: 0 the interpreter's own structures (and roots
 * of unknown kind: a snapshot without kinds), 1 what a thread or one of
 * its frames holds, 2 C globals. */
static int root_stage(const struct pha_source *src, uint32_t k)
{
	if (!src->root_kinds)
		return 0;
	uint8_t kind = src->root_kinds[k];
	if (kind == PHA_ROOT_C_GLOBAL)
		return 2;
	return kind == PHA_ROOT_THREAD || kind == PHA_ROOT_FRAME || kind == PHA_ROOT_FRAME_LOCAL
		? 1 : 0;
}

static const char *root_label(const struct ctx *c, uint32_t v)
{
	if (why_ext(c, v) && !why_iroot(c, v))
		return "<held from outside Python>";
	size_t lo = 0, hi = c->nrootsrc;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->rootsrc[2 * mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The first labelled source root for this object of the earliest
	 * BFS stage (root_stage): the root the BFS started from. */
	const char *best = "<root>";
	int best_stage = 3;
	for (size_t i = lo; i < c->nrootsrc && c->rootsrc[2 * i] == v; i++) {
		uint32_t k = c->rootsrc[2 * i + 1];
		int stage = root_stage(c->src, k);
		if (c->src->root_labels && c->src->root_labels[k] && stage < best_stage) {
			best = c->src->root_labels[k];
			best_stage = stage;
		}
	}
	return best;
}

static char *edge_label(const struct ctx *c, uint32_t u, uint32_t v)
{
	char buf[512];
	const struct pha_layout *l = c->src->lay;
	if (l && l->edge_label && c->src->py &&
	    l->edge_label(c->src->py, c->h->addr[u], c->h->addr[v], c->opts->redact, buf,
			  sizeof(buf))) {
		buf[sizeof(buf) - 1] = 0;
		if (buf[0])
			return strdup(buf);
	}
	return strdup("<ref>");
}

/* The shortest path from a root to v (empty if no root reaches v). */
struct pha_error *why_make_path(const struct ctx *c, uint32_t v, struct pha_path *p)
{
	memset(p, 0, sizeof(*p));
	if (c->parent[v] == UNSEEN)
		return NULL;
	size_t len = 1, cap = 64;
	uint32_t *ids = malloc(cap * sizeof(*ids));
	if (!ids)
		return &pha_enomem;
	ids[0] = v;
	for (uint32_t u = v; c->parent[u] != ROOT; u = c->parent[u]) {
		if (len == cap) {
			cap *= 2;
			uint32_t *ni = realloc(ids, cap * sizeof(*ni));
			if (!ni) {
				free(ids);
				return &pha_enomem;
			}
			ids = ni;
		}
		ids[len++] = c->parent[u];
	}
	/* ids: v ... root; reverse to root ... v */
	for (size_t i = 0; i < len / 2; i++) {
		uint32_t t = ids[i];
		ids[i] = ids[len - 1 - i];
		ids[len - 1 - i] = t;
	}
	size_t keep = len, head = len;
	if (len > PATH_MAX_ELEMS) {
		keep = PATH_MAX_ELEMS;
		head = PATH_MAX_ELEMS / 2;
		p->elided = len - keep;
	}
	p->elems = calloc(keep, sizeof(*p->elems));
	if (!p->elems) {
		free(ids);
		return &pha_enomem;
	}
	for (size_t k = 0; k < keep; k++) {
		size_t i = k < head ? k : len - (keep - k);
		uint32_t w = ids[i];
		struct pha_path_elem *e = &p->elems[k];
		e->type = why_tname(c, w);
		e->addr = c->h->addr[w];
		if (i == 0)
			e->label = xstrdup(root_label(c, w));
		else
			e->label = edge_label(c, ids[i - 1], w);
		p->n++;
		if (!e->label) {
			free(ids);
			return &pha_enomem;
		}
	}
	free(ids);
	return NULL;
}

static bool bfs_push(uint32_t *queue, uint32_t *qt, uint32_t *parent, uint32_t v, uint32_t from)
{
	if (parent[v] != UNSEEN)
		return false;
	parent[v] = from;
	queue[(*qt)++] = v;
	return true;
}

static void bfs_run(const struct pha_heap *h, uint32_t *queue, uint32_t *qh, uint32_t *qt,
		    uint32_t *parent)
{
	while (*qh < *qt) {
		uint32_t u = queue[(*qh)++];
		for (uint32_t e = h->first[u]; e < h->first[u + 1]; e++) {
			if (h->eflags[e] & PHA_EDGE_WEAK)
				continue;
			bfs_push(queue, qt, parent, h->dst[e], u);
		}
	}
}

/* Immortal (3.12+), or a statically allocated singleton of an older
 * version, whose refcount starts at 999999999 (_PyObject_IMMORTAL_INIT in
 * 3.11): not a leak. */
bool why_static_object(const struct pha_heap *h, uint32_t v)
{
	return (h->flags[v] & PHA_OBJ_IMMORTAL) || pha_heap_refcnt(h, v) >= 999999999u;
}

/* What v keeps alive: its retained size, and with `native` the native
 * memory its subtree owns too (the suspects weigh that; the top retainers
 * are Python sizes, as a snapshot has them). */
static uint64_t weight(const struct ctx *c, uint32_t v, bool native)
{
	return native ? why_weight(c, v) : c->retained[v];
}

static uint64_t max_child(const struct ctx *c, uint32_t v, bool native)
{
	uint64_t m = 0;
	for (uint32_t k = c->cfirst[v]; k < c->cfirst[v + 1]; k++) {
		uint64_t r = weight(c, c->cchild[k], native);
		m = r > m ? r : m;
	}
	return m;
}

static bool pass_through(const struct ctx *c, uint32_t v, bool native)
{
	uint64_t m = max_child(c, v, native);
	return m && m * PASS_DEN >= weight(c, v, native) * PASS_NUM;
}

static bool better(const struct ctx *c, uint32_t a, uint32_t b, bool native)
{
	uint64_t wa = weight(c, a, native), wb = weight(c, b, native);
	if (wa != wb)
		return wa > wb;
	return c->h->addr[a] < c->h->addr[b];
}

/* Insert v into the sorted top list (size *n, capacity k). */
static void top_insert(const struct ctx *c, uint32_t *top, size_t *n, size_t k, uint32_t v,
		       bool native)
{
	if (*n == k && !better(c, v, top[k - 1], native))
		return;
	size_t i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && better(c, v, top[i - 1], native)) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = v;
}

static int cmp_unexp(const void *a, const void *b)
{
	const struct unexp *x = a, *y = b;
	if (x->excess != y->excess)
		return x->excess > y->excess ? -1 : 1;
	if (x->objects != y->objects)
		return x->objects > y->objects ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

static int cmp_rtype(const void *a, const void *b)
{
	const struct pha_retained_type *x = a, *y = b;
	if (x->retained_bytes != y->retained_bytes)
		return x->retained_bytes > y->retained_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct pha_error *locals_build(struct ctx *c)
{
	struct pha_report *r = c->r;
	struct pha_source *src = c->src;
	struct pha_why *w = &r->why;
	w->locals = calloc(src->nthreads ? src->nthreads : 1, sizeof(*w->locals));
	if (!w->locals)
		return &pha_enomem;
	const struct pha_layout *l = src->lay;
	for (size_t t = 0; t < src->nthreads; t++) {
		const struct pha_report_thread *th = &src->threads[t];
		w->locals[t] = calloc(th->nframes ? th->nframes : 1, sizeof(*w->locals[t]));
		if (!w->locals[t])
			return &pha_enomem;
		for (size_t f = 0; f < th->nframes; f++) {
			const struct pha_report_frame *fr = &th->frames[f];
			if (!fr->nlocals)
				continue;
			struct pha_frame_local *loc = calloc(fr->nlocals, sizeof(*loc));
			if (!loc)
				return &pha_enomem;
			w->locals[t][f] = loc;
			for (size_t k = 0; k < fr->nlocals; k++) {
				loc[k].name = fr->locals[k].name;
				loc[k].addr = fr->locals[k].addr;
				uint32_t id = fr->locals[k].addr ? pha_heap_find(c->h, fr->locals[k].addr)
								  : PHA_NO_ID;
				if (id == PHA_NO_ID)
					continue;
				loc[k].type = why_tname(c, id);
				loc[k].retained = c->retained[id];
				char buf[256];
				if (l && l->preview && src->py &&
				    l->preview(src->py, loc[k].addr, c->opts->redact, buf, sizeof(buf))) {
					buf[sizeof(buf) - 1] = 0;
					if (!(loc[k].preview = strdup(buf)))
						return &pha_enomem;
				}
			}
		}
	}
	return NULL;
}

/* Phase 1: interpreter roots -> ids (rootsrc: sorted (id, source index)
 * pairs), then a BFS from them in three stages, each in root-id order
 * (deterministic). */
/* The BFS from the interpreter's roots, stage by stage (see below). */
static void bfs_staged(struct ctx *c)
{
	for (int stage = 0; stage < 3; stage++) {
		for (uint32_t i = 0; i < c->nrootsrc; i++) {
			uint32_t k = c->rootsrc[2 * i + 1];
			if (root_stage(c->src, k) != stage)
				continue;
			bfs_push(c->queue, &c->qt, c->parent, c->rootsrc[2 * i], ROOT);
		}
		bfs_run(c->h, c->queue, &c->qh, &c->qt, c->parent);
	}
}

/* Then from each object held from outside, in id order. */
static void bfs_external(struct ctx *c)
{
	for (uint32_t v = 0; v < c->h->n; v++) {
		if (why_ext(c, v) && bfs_push(c->queue, &c->qt, c->parent, v, ROOT))
			bfs_run(c->h, c->queue, &c->qh, &c->qt, c->parent);
	}
}

/* The BFS parents again, after the dominators: the same pushes in the same
 * order give the same parents, and their 4 bytes an object were not alive
 * beside the dominators' scratch. The queue is freed at its end. */
static struct pha_error *bfs_again(struct ctx *c)
{
	size_t nn = c->h->n ? c->h->n : 1;
	c->parent = pha_big_malloc(nn * sizeof(*c->parent));
	c->queue = pha_big_malloc(nn * sizeof(*c->queue));
	if (!c->parent || !c->queue)
		return &pha_enomem;
	for (uint32_t v = 0; v < c->h->n; v++)
		c->parent[v] = UNSEEN;
	c->qh = c->qt = 0;
	bfs_staged(c);
	bfs_external(c);
	pha_big_free(c->queue);
	c->queue = NULL;
	return NULL;
}

static struct pha_error *find_interpreter_roots(struct ctx *c)
{
	const struct pha_source *src = c->src;
	struct pha_why *w = &c->r->why;
	uint32_t n = c->h->n;
	size_t nn = n ? n : 1;
	pha_progress("finding roots", 0, 0);
	c->parent = pha_big_malloc(nn * sizeof(*c->parent));
	c->queue = pha_big_malloc(nn * sizeof(*c->queue));
	c->rootk = pha_big_calloc(nn, 1);
	c->rootsrc = malloc((src->nroots ? src->nroots : 1) * 2 * sizeof(*c->rootsrc));
	if (!c->parent || !c->queue || !c->rootk || !c->rootsrc || !c->inref)
		return &pha_enomem;
	const struct pha_heap *h = c->h;
	for (uint32_t v = 0; v < n; v++)
		c->parent[v] = UNSEEN;
	for (size_t i = 0; i < src->nroots; i++) {
		uint32_t id = pha_heap_find(c->h, src->roots[i]);
		if (id == PHA_NO_ID)
			continue;
		/* A C global explains a reference the heap does not: one to an
		 * object whose refcount the heap explains is borrowed or stale
		 * (free lists keep the addresses of the objects they handed
		 * out again), and as a root it would take the object from the
		 * dominator subtree of what really holds it. */
		if (src->root_kinds && src->root_kinds[i] == PHA_ROOT_C_GLOBAL &&
		    pha_heap_refcnt(h, id) <= c->inref[id])
			continue;
		c->rootsrc[2 * c->nrootsrc] = id;
		c->rootsrc[2 * c->nrootsrc + 1] = (uint32_t)i;
		c->nrootsrc++;
	}
	qsort(c->rootsrc, c->nrootsrc, 2 * sizeof(*c->rootsrc), cmp_pair);
	for (uint32_t i = 0; i < c->nrootsrc; i++) {
		uint32_t id = c->rootsrc[2 * i];
		uint32_t k = c->rootsrc[2 * i + 1];
		/* 2: held only as a frame's local or by a C global (may be a
		 * suspect: a C global can be a stale word, e.g. a free list's
		 * slot past its count, that happens to hold a live object's
		 * address); 1: any other root (the interpreter's own
		 * structures are not). */
		uint8_t want = src->root_kinds && (src->root_kinds[k] == PHA_ROOT_FRAME_LOCAL ||
						   src->root_kinds[k] == PHA_ROOT_C_GLOBAL) ? 2 : 1;
		if (!why_iroot(c, id)) {
			c->rootk[id] = want;
			w->interpreter_roots++;
		} else if (want == 1) {
			c->rootk[id] = 1;	/* nothing else is set yet */
		}
		if (src->root_labels && src->root_labels[k])
			w->labelled_roots = true;
	}
	/* The interpreter's own structures first (sys.modules, sys.__dict__,
	 * builtins, interned strings, static types), then what threads and
	 * frames hold that those do not reach, then the C globals neither
	 * reaches: a module's globals dict reads "sys.modules['app'].__dict__",
	 * not "<globals of f()>", whichever frame runs, while an object only a
	 * frame holds still reads "<local 'x' in f()>". C globals come last
	 * because a word of .data/.bss may be stale (a free list keeps the
	 * addresses of objects it handed out again): such a word must not
	 * take a path from the root that really holds the object. */
	bfs_staged(c);
	return NULL;
}

/* Phase 2: excess(x) = refcount minus the strong references found. An
 * object with excess > 0 that the BFS did not reach is held from outside
 * Python: a root, grouped by report type for the suspects (static objects
 * left out), and the BFS continues from it. */
static struct pha_error *find_outside_roots(struct ctx *c)
{
	const struct pha_heap *h = c->h;
	struct pha_why *w = &c->r->why;
	uint32_t n = h->n;
	const uint32_t *inref = c->inref;	/* then the dominators' (dominators_of_roots) */
	c->ux = calloc(c->ngroups, sizeof(*c->ux));
	uint8_t *is_type = pha_big_calloc(n ? n : 1, 1);
	if (!c->ux || !is_type) {
		pha_big_free(is_type);
		return &pha_enomem;
	}
	/* Type objects: those with instances in the heap, and instances of
	 * `type` (a metaclass's instance without instances of its own is
	 * missed: it then counts as an object of its report type). */
	for (uint32_t t = 0; t < h->ntypes; t++) {
		if (h->types[t].obj != PHA_NO_ID && h->types[t].obj < n)
			is_type[h->types[t].obj] = 1;
	}
	for (uint32_t v = 0; v < n; v++) {
		if (c->parent[v] != UNSEEN || pha_heap_refcnt(h, v) <= inref[v])
			continue;
		c->rootk[v] |= WHY_EXT;
		w->external_roots++;
		if (why_static_object(h, v))
			continue;
		struct unexp *u = &c->ux[c->group_of[h->type[v]]];
		if (!u->objects)
			u->example = v;
		u->objects++;
		u->excess += pha_heap_refcnt(h, v) - inref[v];
		u->bytes += pha_heap_size(h, v);
		if (is_type[v] || !strcmp(why_tname(c, v), "type"))
			u->types++;
	}
	pha_big_free(is_type);
	bfs_external(c);
	return NULL;
}

/* Phase 3: dominators from a super-root over every root (both kinds, in
 * id order); the BFS parents are dropped while they run and made again
 * (bfs_again). */
static struct pha_error *dominators_of_roots(struct ctx *c)
{
	uint32_t n = c->h->n, nroots = 0;
	struct pha_graph g = pha_heap_graph(c->h);
	pha_progress("computing dominators", 0, 0);
	uint32_t *roots = c->queue;	/* reuse: the BFS is over */
	c->queue = NULL;
	pha_big_free(c->parent);
	c->parent = NULL;
	for (uint32_t v = 0; v < n; v++) {
		if (why_iroot(c, v) || why_ext(c, v))
			roots[nroots++] = v;
	}
	uint32_t *fit = pha_big_realloc(roots, (nroots ? nroots : 1) * sizeof(*roots));
	if (fit)	/* the rest of the queue is not needed while dominators run */
		roots = fit;
	/* the in-reference counts become the dominators' reverse index */
	struct pha_error *err = pha_dominators_indeg(&g, roots, nroots, c->inref, &c->tree);
	c->inref = NULL;
	pha_big_free(roots);
	if (err || (err = bfs_again(c)))
		return err;
	return NULL;
}

/* Children of the dominator tree (CSR over 0..n, n = the super-root), in
 * id order, by counting sort, where the tree's preorder was (norder
 * entries). Each object's place in the tree goes to rootk (WHY_TREE,
 * WHY_TOP) and the tree's idom is freed: everything after walks the
 * children, and the 4 bytes an object are not alive beside the retained
 * sizes (issue 12). */
static struct pha_error *dominator_children(struct ctx *c)
{
	uint32_t n = c->h->n;
	const uint32_t *idom = c->tree.idom;
	c->cfirst = pha_big_calloc((size_t)n + 2, sizeof(*c->cfirst));
	if (!c->cfirst)
		return &pha_enomem;
	c->cchild = c->tree.order;
	c->tree.order = NULL;
	for (uint32_t v = 0; v < n; v++) {
		if (idom[v] == PHA_DOM_NONE)
			continue;
		c->cfirst[idom[v] + 1]++;
		c->rootk[v] |= WHY_TREE | (idom[v] == n ? WHY_TOP : 0);
	}
	for (uint32_t v = 0; v <= n; v++)
		c->cfirst[v + 1] += c->cfirst[v];
	for (uint32_t v = 0; v < n; v++) {
		if (idom[v] != PHA_DOM_NONE)
			c->cchild[c->cfirst[idom[v]]++] = v;
	}
	for (uint32_t v = n + 1; v-- > 0;)
		c->cfirst[v + 1] = c->cfirst[v];
	c->cfirst[0] = 0;
	pha_big_free(c->tree.idom);
	c->tree.idom = NULL;
	return NULL;
}

/* The native memory owned beyond sys.getsizeof (report/3; only when the
 * memory section found some), at its owners in the tree: the rest of the
 * calloc'd array stays zero pages (8 bytes an object no RssAnon counts)
 * while subtree_sums adds it up, writing only where there is something to
 * add. */
static struct pha_error *native_owners(struct ctx *c)
{
	const struct pha_procmem *pm = c->src->memory;
	uint32_t n = c->h->n;
	if (!pm || !pm->nnative)
		return NULL;
	c->nret = pha_big_calloc(n ? n : 1, sizeof(*c->nret));
	if (!c->nret)
		return &pha_enomem;
	for (size_t i = 0; i < pm->nnative; i++) {
		uint32_t v = pm->native_ids[i];
		if (v < n && (c->rootk[v] & WHY_TREE))
			c->nret[v] = pm->native_bytes[i];
	}
	return NULL;
}

/* Retained sizes (and the native bytes of each subtree) by a walk of the
 * children after each object's own, and in the same walk the per-type
 * retained (MAT): an object counts for its report type when no
 * dominator-tree ancestor has that type (cnt[g]: objects of type g on the
 * current path, itself included). The heap total is counted on its own
 * (not from the retained sizes), so that the tests can check
 * sum(top-level retained) == heap total. */
static struct pha_error *subtree_sums(struct ctx *c)
{
	const struct pha_heap *h = c->h;
	struct pha_why *w = &c->r->why;
	uint32_t n = h->n;
	pha_progress("retained sizes", 0, 0);
	c->retained = pha_big_calloc(n ? n : 1, sizeof(*c->retained));
	c->tret = calloc(c->ngroups, sizeof(*c->tret));
	uint32_t *cnt = calloc(c->ngroups, sizeof(*cnt));
	uint32_t *stk = pha_big_malloc(((size_t)c->tree.norder + 1) * sizeof(*stk));
	uint32_t *cur = pha_big_malloc(((size_t)c->tree.norder + 1) * sizeof(*cur));
	if (!c->retained || !c->tret || !cnt || !stk || !cur) {
		free(cnt);
		pha_big_free(stk);
		pha_big_free(cur);
		return &pha_enomem;
	}
	size_t sp = 0;
	stk[sp] = n;
	cur[sp++] = c->cfirst[n];
	while (sp) {
		uint32_t u = stk[sp - 1];
		if (cur[sp - 1] < c->cfirst[u + 1]) {
			uint32_t v = c->cchild[cur[sp - 1]++];
			c->retained[v] = pha_heap_size(h, v);
			cnt[c->group_of[h->type[v]]]++;
			stk[sp] = v;
			cur[sp++] = c->cfirst[v];
			continue;
		}
		if (--sp == 0)
			break;
		uint32_t gu = c->group_of[h->type[u]];
		if (--cnt[gu] == 0)
			c->tret[gu] += c->retained[u];
		uint32_t d = stk[sp - 1];
		if (d == n) {
			if (c->nret)
				c->native_total += c->nret[u];
			continue;
		}
		c->retained[d] += c->retained[u];
		if (c->nret && c->nret[u])
			c->nret[d] += c->nret[u];
	}
	free(cnt);
	pha_big_free(stk);
	pha_big_free(cur);
	/* sums in locals: through w, each += was a store and a reload */
	uint64_t unrooted = 0, unrooted_bytes = 0, objects = 0, bytes = 0, top = 0, ext = 0;
	for (uint32_t v = 0; v < n; v++) {
		if (!(c->rootk[v] & WHY_TREE)) {
			unrooted++;
			unrooted_bytes += pha_heap_size(h, v);
			continue;
		}
		objects++;
		bytes += pha_heap_size(h, v);
		if (c->rootk[v] & WHY_TOP) {
			top += c->retained[v];
			if (why_ext(c, v) && !why_iroot(c, v))
				ext += c->retained[v];
		}
	}
	w->unrooted_objects += unrooted;
	w->unrooted_bytes += unrooted_bytes;
	w->heap_objects += objects;
	w->heap_bytes += bytes;
	w->top_level_bytes += top;
	w->external_bytes += ext;
	return NULL;
}

/* w->types: the report types that retain anything, by retained bytes. */
static struct pha_error *list_retained_types(struct ctx *c)
{
	const struct pha_report *r = c->r;
	struct pha_why *w = &c->r->why;
	w->types = calloc(c->ngroups, sizeof(*w->types));
	if (!w->types)
		return &pha_enomem;
	for (size_t i = 0; i < r->ntypes; i++) {
		if (c->tret[i])
			w->types[w->ntypes++] = (struct pha_retained_type){
				.name = r->types[i].name, .retained_bytes = c->tret[i]};
	}
	qsort(w->types, w->ntypes, sizeof(*w->types), cmp_rtype);
	return NULL;
}

/* Phase 4: the k objects retaining most (top) and the accumulation
 * points: objects that are not interpreter roots and retain at least the
 * suspect threshold (acc). Pass-through objects are neither. */
static struct pha_error *select_top(struct ctx *c)
{
	uint32_t n = c->h->n;
	c->k = c->opts->top ? c->opts->top : 20;
	c->top = malloc(c->k * sizeof(*c->top));
	c->acc = malloc(SUSPECTS_MAX * sizeof(*c->acc));
	if (!c->top || !c->acc)
		return &pha_enomem;
	double thr = c->opts->suspect_threshold * (double)(c->r->why.heap_bytes + c->native_total);
	for (uint32_t v = 0; v < n; v++) {
		uint64_t wv = why_weight(c, v);
		if (!wv)
			continue;
		bool topc = c->retained[v] &&
			    (c->ntop < c->k || better(c, v, c->top[c->k - 1], false));
		bool accc = why_iroot(c, v) != 1 && (double)wv >= thr &&
			    (c->nacc < SUSPECTS_MAX || better(c, v, c->acc[SUSPECTS_MAX - 1], true));
		if (topc && !pass_through(c, v, false))
			top_insert(c, c->top, &c->ntop, c->k, v, false);
		if (accc && !pass_through(c, v, true))
			top_insert(c, c->acc, &c->nacc, SUSPECTS_MAX, v, true);
	}
	return NULL;
}

/* w->top: the top retainers with their paths. */
static struct pha_error *top_retainers(struct ctx *c)
{
	const struct pha_heap *h = c->h;
	struct pha_why *w = &c->r->why;
	pha_progress("labelling paths", 0, 0);
	w->top = calloc(c->k, sizeof(*w->top));
	if (!w->top)
		return &pha_enomem;
	struct pha_error *err = NULL;
	for (size_t i = 0; i < c->ntop && !err; i++) {
		uint32_t v = c->top[i];
		struct pha_retainer *t = &w->top[w->ntop++];
		t->addr = h->addr[v];
		t->type = why_tname(c, v);
		t->shallow = pha_heap_size(h, v);
		t->retained = c->retained[v];
		t->retained_native = why_subtree_native(c, v);
		err = why_make_path(c, v, &t->path);
	}
	return err;
}

/* Why a group of objects held from outside is not a leak suspect (NULL:
 * it is one); see LEAK_MIN_OBJECTS. */
static const char *held_reason(const struct ctx *c, const struct unexp *u)
{
	const char *name = c->r->types[u->group].name;
	if (u->types == u->objects)
		return "type objects: static types and the types C modules create, held by the "
		       "interpreter and module state";
	if (!strcmp(name, "moduledef"))
		return "module definitions (PyModuleDef) of C modules: static data";
	if (u->objects >= LEAK_MIN_OBJECTS)
		return NULL;
	if (u->objects >= LEAK_MIN_BIG &&
	    (double)(u->retained + u->native) >=
		    c->opts->suspect_threshold * (double)(c->r->why.heap_bytes + c->native_total))
		return NULL;
	return "few objects of the type: what the interpreter and C modules keep in their "
	       "state and caches";
}

static int cmp_held(const void *a, const void *b)
{
	const struct pha_held_group *x = a, *y = b;
	if (x->objects != y->objects)
		return x->objects > y->objects ? -1 : 1;
	return strcmp(x->type, y->type);
}

/* The groups of objects held from outside Python (static objects left
 * out), each with what it retains: its members the super-root dominates
 * directly (a member dominated by another is counted there). Leak-like
 * groups become the unexplained-reference suspects (c->ux[0..nux), by
 * excess, at most UNEXPLAINED_MAX); the others the held-by-C table (by
 * objects, at most HELD_MAX rows; the totals count every row). */
static struct pha_error *unexplained_groups(struct ctx *c)
{
	const struct pha_heap *h = c->h;
	struct pha_why *w = &c->r->why;
	uint32_t n = h->n;
	for (uint32_t v = 0; v < n; v++) {
		if (!why_ext(c, v) || why_iroot(c, v) || why_static_object(h, v) || !(c->rootk[v] & WHY_TOP))
			continue;
		c->ux[c->group_of[h->type[v]]].retained += c->retained[v];
		c->ux[c->group_of[h->type[v]]].native += why_subtree_native(c, v);
	}
	size_t nux = 0, nheld = 0;
	for (size_t i = 0; i < c->r->ntypes; i++)
		nheld += c->ux[i].objects != 0;
	w->held_by_c = calloc(nheld ? nheld : 1, sizeof(*w->held_by_c));
	if (!w->held_by_c)
		return &pha_enomem;
	for (size_t i = 0; i < c->r->ntypes; i++) {
		struct unexp u = c->ux[i];
		if (!u.objects)
			continue;
		u.group = (uint32_t)i;
		const char *why = held_reason(c, &u);
		if (!why) {
			c->ux[nux++] = u;
			continue;
		}
		w->held_by_c[w->nheld_by_c++] = (struct pha_held_group){
			.type = c->r->types[i].name, .reason = why, .objects = u.objects,
			.excess_refs = u.excess, .bytes = u.bytes, .retained_bytes = u.retained,
			.example = h->addr[u.example]};
		w->held_by_c_objects += u.objects;
		w->held_by_c_bytes += u.bytes;
	}
	qsort(c->ux, nux, sizeof(*c->ux), cmp_unexp);
	c->nux = nux > UNEXPLAINED_MAX ? UNEXPLAINED_MAX : nux;
	qsort(w->held_by_c, w->nheld_by_c, sizeof(*w->held_by_c), cmp_held);
	if (w->nheld_by_c > HELD_MAX)
		w->nheld_by_c = HELD_MAX;
	return NULL;
}

static struct pha_error *view_path(const void *ctx, uint32_t v, struct pha_path *p)
{
	return why_make_path(ctx, v, p);
}

/* growth.c: the candidates a later diff compares. */
static struct pha_error *growth_candidates(struct ctx *c)
{
	struct pha_growth_view v = {.src = c->src, .h = c->h, .retained = c->retained,
				    .path = view_path, .ctx = c};
	return pha_growth_build(&v, &c->r->why);
}

static void ctx_deinit(struct ctx *c)
{
	pha_big_free(c->parent);
	pha_big_free(c->queue);
	pha_big_free(c->rootk);
	pha_big_free(c->inref);
	free(c->rootsrc);
	free(c->ux);
	pha_big_free(c->retained);
	pha_big_free(c->nret);
	pha_domtree_deinit(&c->tree);
	pha_big_free(c->cfirst);
	pha_big_free(c->cchild);	/* the tree's preorder (bigmem.h) */
	free(c->tret);
	free(c->top);
	free(c->acc);
}

/* The phases of the file comment, in order; -vv times them. */
struct pha_error *pha_why_build(struct pha_source *src, const struct pha_heap *h,
				const struct pha_report_options *opts, const uint32_t *group_of,
				uint32_t *inref, struct pha_report *r)
{
	struct ctx c = {.src = src, .h = h, .opts = opts, .group_of = group_of, .r = r,
			.ngroups = r->ntypes ? r->ntypes : 1, .inref = inref};
	struct pha_why *w = &r->why;
	struct pha_error *err;
	w->suspect_threshold = opts->suspect_threshold;
	w->edge_labels = src->lay && src->lay->edge_label && src->py;
	w->previews = src->lay && src->lay->preview && src->py;

	double t0 = now();
	if ((err = find_interpreter_roots(&c)))
		goto out;
	if ((err = find_outside_roots(&c)))
		goto out;
	phase(src, "roots, excess references, BFS", &t0);
	if ((err = dominators_of_roots(&c)))
		goto out;
	phase(src, "dominators", &t0);
	if ((err = dominator_children(&c)) || (err = native_owners(&c)) ||
	    (err = subtree_sums(&c)))
		goto out;
	phase(src, "retained sizes, per-type retained", &t0);
	if ((err = list_retained_types(&c)))
		goto out;
	if ((err = select_top(&c)))
		goto out;
	if ((err = top_retainers(&c)))
		goto out;
	if ((err = unexplained_groups(&c)))
		goto out;
	if ((err = why_find_suspects(&c)))
		goto out;
	if ((err = locals_build(&c)))
		goto out;
	if ((err = growth_candidates(&c)))
		goto out;
	phase(src, "top retainers, suspects, paths, locals, growth candidates", &t0);
out:
	ctx_deinit(&c);
	return err;
}

void pha_why_deinit(struct pha_report *r)
{
	struct pha_why *w = &r->why;
	free(w->types);
	for (size_t i = 0; i < w->ntop; i++)
		pha_path_free(&w->top[i].path);
	free(w->top);
	for (size_t i = 0; i < w->nsuspects; i++) {
		pha_path_free(&w->suspects[i].path);
		free(w->suspects[i].sentence);
	}
	free(w->suspects);
	free(w->held_by_c);
	if (w->locals) {
		for (size_t t = 0; t < r->nthreads; t++) {
			if (!w->locals[t])
				continue;
			for (size_t f = 0; f < r->threads[t].nframes; f++) {
				struct pha_frame_local *loc = w->locals[t][f];
				if (!loc)
					continue;
				for (size_t k = 0; k < r->threads[t].frames[f].nlocals; k++)
					free(loc[k].preview);
				free(loc);
			}
			free(w->locals[t]);
		}
	}
	free(w->locals);
	pha_waste_deinit(&w->waste);
	pha_growth_deinit(w);
	memset(w, 0, sizeof(*w));
}
