/* Why is it alive (report/2): roots, "held from outside Python" roots,
 * dominator tree and retained sizes, per-type retained sizes (MAT's rule),
 * top retainers, labelled shortest paths, leak suspects and frame locals.
 *
 * Phases, each freeing its scratch before the next:
 *   1. interpreter roots -> ids; multi-source BFS over strong edges from
 *      them (parent pointers, u32), so every path shown is a shortest one;
 *   2. excess(x) = refcnt(x) - strong references to x found in the heap
 *      (all objects, not only GC ones; multiplicity counted); objects with
 *      excess > 0 that the BFS did not reach become "held from outside
 *      Python" roots, and the BFS continues from them;
 *   3. dominators from a super-root over both kinds of roots, retained
 *      sizes; dominator-tree children (CSR) for one iterative preorder walk
 *      (per-type retained, MAT's rule) and for the suspects' contents;
 *   4. top retainers, suspects, paths, locals.
 * Nothing here recurses.
 */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugins/pha_layout.h"
#include "dominators.h"
#include "progress.h"

#define UNSEEN UINT32_MAX
#define ROOT (UINT32_MAX - 1)
/* A path longer than this keeps its first and last PATH_KEEP/2 elements. */
#define PATH_MAX_ELEMS 64
#define SUSPECTS_MAX 10
#define UNEXPLAINED_MAX 20
/* A "pass-through" object: one dominator-tree child retains >= 90% of
 * it; the child, not it, is where things accumulate. */
#define PASS_NUM 9
#define PASS_DEN 10

struct ctx {
	struct pha_source *src;
	const struct pha_heap *h;
	const struct pha_report_options *opts;
	const uint32_t *group_of;
	struct pha_report *r;
	uint32_t *parent;	/* BFS parent; ROOT for roots; UNSEEN */
	uint32_t *rootsrc;	/* per root id: sorted pairs (id, source index) */
	uint32_t nrootsrc;
	uint8_t *is_ext;	/* per id: held from outside Python */
	uint8_t *is_iroot;	/* per id: interpreter root (2: only as a frame local) */
	uint64_t *retained;
	struct pha_domtree tree;
	uint32_t *cfirst, *cchild;	/* dominator-tree children; node n = super-root */
};

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

static void human(uint64_t b, char *buf, size_t size)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, size, "%" PRIu64 " B", b);
	else
		snprintf(buf, size, "%.1f %s", v, u[i]);
}

static void grouped(uint64_t v, char *buf, size_t size)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	size_t len = strlen(tmp), o = 0;
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
}

static const char *tname(const struct ctx *c, uint32_t v)
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

static const char *root_label(const struct ctx *c, uint32_t v)
{
	if (c->is_ext[v] && !c->is_iroot[v])
		return "<held from outside Python>";
	size_t lo = 0, hi = c->nrootsrc;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->rootsrc[2 * mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The first labelled source root for this object. */
	for (size_t i = lo; i < c->nrootsrc && c->rootsrc[2 * i] == v; i++) {
		uint32_t k = c->rootsrc[2 * i + 1];
		if (c->src->root_labels && c->src->root_labels[k])
			return c->src->root_labels[k];
	}
	return "<root>";
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
static struct pha_error *make_path(const struct ctx *c, uint32_t v, struct pha_path *p)
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
		e->type = tname(c, w);
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

/* "sys.modules['app'].__dict__['_CACHE']": labels joined (the root's label
 * first); "" for an empty path. */
static char *path_text(const struct pha_path *p)
{
	size_t len = 1;
	for (size_t i = 0; i < p->n; i++)
		len += strlen(p->elems[i].label) + 4;
	len += 32;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->elided && i == PATH_MAX_ELEMS / 2)
			strcat(s, "…");
		const char *l = p->elems[i].label;
		if (i && l[0] != '.' && l[0] != '[')
			strcat(s, " → ");
		strcat(s, l);
	}
	return s;
}

static void path_free(struct pha_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->elems[i].label);
	free(p->elems);
	memset(p, 0, sizeof(*p));
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
static bool static_object(const struct pha_heap *h, uint32_t v)
{
	return (h->flags[v] & PHA_OBJ_IMMORTAL) || h->refcnt[v] >= 999999999u;
}

static uint64_t max_child(const struct ctx *c, uint32_t v)
{
	uint64_t m = 0;
	for (uint32_t k = c->cfirst[v]; k < c->cfirst[v + 1]; k++) {
		uint64_t r = c->retained[c->cchild[k]];
		m = r > m ? r : m;
	}
	return m;
}

static bool pass_through(const struct ctx *c, uint32_t v)
{
	uint64_t m = max_child(c, v);
	return m && m * PASS_DEN >= c->retained[v] * PASS_NUM;
}

static bool better(const struct ctx *c, uint32_t a, uint32_t b)
{
	if (c->retained[a] != c->retained[b])
		return c->retained[a] > c->retained[b];
	return c->h->addr[a] < c->h->addr[b];
}

/* Insert v into the sorted top list (size *n, capacity k). */
static void top_insert(const struct ctx *c, uint32_t *top, size_t *n, size_t k, uint32_t v)
{
	if (*n == k && !better(c, v, top[k - 1]))
		return;
	size_t i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && better(c, v, top[i - 1])) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = v;
}

struct unexp {
	uint32_t group;
	uint64_t objects, excess, bytes, retained;
	uint32_t example;
};

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
				loc[k].type = tname(c, id);
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

struct pha_error *pha_why_build(struct pha_source *src, const struct pha_heap *h,
				const struct pha_report_options *opts, const uint32_t *group_of,
				struct pha_report *r)
{
	struct pha_error *err = NULL;
	uint32_t n = h->n;
	size_t nn = n ? n : 1;
	struct pha_why *w = &r->why;
	struct ctx c = {.src = src, .h = h, .opts = opts, .group_of = group_of, .r = r};
	uint32_t *queue = NULL, *inref = NULL, *roots = NULL, *stk = NULL, *cur = NULL;
	uint32_t *cnt = NULL, *top = NULL, *acc = NULL;
	uint64_t *tret = NULL, *hb = NULL, *hc = NULL;
	struct unexp *ux = NULL;
	uint32_t nroots = 0;
	struct pha_graph g = pha_heap_graph(h);

	w->suspect_threshold = opts->suspect_threshold;
	w->edge_labels = src->lay && src->lay->edge_label && src->py;
	w->previews = src->lay && src->lay->preview && src->py;

	double t0 = now();
	pha_progress("finding roots", 0, 0);
	c.parent = malloc(nn * sizeof(*c.parent));
	queue = malloc(nn * sizeof(*queue));
	c.is_ext = calloc(nn, 1);
	c.is_iroot = calloc(nn, 1);
	c.rootsrc = malloc((src->nroots ? src->nroots : 1) * 2 * sizeof(*c.rootsrc));
	if (!c.parent || !queue || !c.is_ext || !c.is_iroot || !c.rootsrc)
		goto oom;
	for (uint32_t v = 0; v < n; v++)
		c.parent[v] = UNSEEN;
	for (size_t i = 0; i < src->nroots; i++) {
		uint32_t id = pha_heap_find(h, src->roots[i]);
		if (id == PHA_NO_ID)
			continue;
		c.rootsrc[2 * c.nrootsrc] = id;
		c.rootsrc[2 * c.nrootsrc + 1] = (uint32_t)i;
		c.nrootsrc++;
	}
	qsort(c.rootsrc, c.nrootsrc, 2 * sizeof(*c.rootsrc), cmp_pair);
	/* BFS from the interpreter roots, in root-id order (deterministic). */
	uint32_t qh = 0, qt = 0;
	for (uint32_t i = 0; i < c.nrootsrc; i++) {
		uint32_t id = c.rootsrc[2 * i];
		uint32_t k = c.rootsrc[2 * i + 1];
		/* 2: held only as a frame's local (may be a suspect); 1: any
		 * other root (the interpreter's own structures are not). */
		uint8_t want = src->root_kinds && src->root_kinds[k] == PHA_ROOT_FRAME_LOCAL ? 2 : 1;
		if (!c.is_iroot[id]) {
			c.is_iroot[id] = want;
			w->interpreter_roots++;
		} else if (want == 1) {
			c.is_iroot[id] = 1;
		}
		if (src->root_labels && src->root_labels[k])
			w->labelled_roots = true;
		bfs_push(queue, &qt, c.parent, id, ROOT);
	}
	bfs_run(h, queue, &qh, &qt, c.parent);

	/* Excess references: refcount minus strong references found. */
	inref = calloc(nn, sizeof(*inref));
	if (!inref)
		goto oom;
	for (uint64_t e = 0; e < h->first[n]; e++) {
		if (!(h->eflags[e] & PHA_EDGE_WEAK) && inref[h->dst[e]] < UINT32_MAX)
			inref[h->dst[e]]++;
	}
	/* Unexplained references, grouped by report type. */
	size_t ngroups = r->ntypes ? r->ntypes : 1;
	ux = calloc(ngroups, sizeof(*ux));
	if (!ux)
		goto oom;
	for (uint32_t v = 0; v < n; v++) {
		if (c.parent[v] != UNSEEN || h->refcnt[v] <= inref[v])
			continue;
		c.is_ext[v] = 1;
		w->external_roots++;
		if (static_object(h, v))
			continue;
		struct unexp *u = &ux[group_of[h->type[v]]];
		if (!u->objects)
			u->example = v;
		u->objects++;
		u->excess += h->refcnt[v] - inref[v];
		u->bytes += h->size[v];
	}
	free(inref);
	inref = NULL;
	for (uint32_t v = 0; v < n; v++) {
		if (c.is_ext[v] && bfs_push(queue, &qt, c.parent, v, ROOT))
			bfs_run(h, queue, &qh, &qt, c.parent);
	}

	phase(src, "roots, excess references, BFS", &t0);
	/* Dominators over every root. */
	pha_progress("computing dominators", 0, 0);
	roots = queue;	/* reuse: the BFS is over */
	queue = NULL;
	for (uint32_t v = 0; v < n; v++) {
		if (c.is_iroot[v] || c.is_ext[v])
			roots[nroots++] = v;
	}
	if ((err = pha_dominators(&g, roots, nroots, &c.tree)))
		goto out;
	free(roots);
	roots = NULL;
	c.retained = calloc(nn, sizeof(*c.retained));
	if (!c.retained)
		goto oom;
	phase(src, "dominators", &t0);
	pha_retained(&c.tree, h->size, c.retained, NULL);
	/* The heap total counted on its own (not from the retained sizes), so
	 * that the tests can check sum(top-level retained) == heap total. */
	for (uint32_t v = 0; v < n; v++) {
		if (c.tree.idom[v] == PHA_DOM_NONE) {
			w->unrooted_objects++;
			w->unrooted_bytes += h->size[v];
			continue;
		}
		w->heap_objects++;
		w->heap_bytes += h->size[v];
		if (c.tree.idom[v] == n) {
			w->top_level_bytes += c.retained[v];
			if (c.is_ext[v] && !c.is_iroot[v])
				w->external_bytes += c.retained[v];
		}
	}
	/* Children of the dominator tree (CSR over 0..n). */
	c.cfirst = calloc((size_t)n + 2, sizeof(*c.cfirst));
	c.cchild = malloc((c.tree.norder ? c.tree.norder : 1) * sizeof(*c.cchild));
	if (!c.cfirst || !c.cchild)
		goto oom;
	for (uint32_t v = 0; v < n; v++) {
		if (c.tree.idom[v] != PHA_DOM_NONE)
			c.cfirst[c.tree.idom[v] + 1]++;
	}
	for (uint32_t v = 0; v <= n; v++)
		c.cfirst[v + 1] += c.cfirst[v];
	for (uint32_t v = 0; v < n; v++) {
		if (c.tree.idom[v] != PHA_DOM_NONE)
			c.cchild[c.cfirst[c.tree.idom[v]]++] = v;
	}
	for (uint32_t v = n + 1; v-- > 0;)
		c.cfirst[v + 1] = c.cfirst[v];
	c.cfirst[0] = 0;

	/* Per-type retained (MAT): an object counts when no dominator-tree
	 * ancestor has its type. Iterative preorder walk with enter/leave. */
	pha_progress("retained sizes", 0, 0);
	stk = malloc(((size_t)c.tree.norder + 1) * sizeof(*stk));
	cur = malloc(((size_t)c.tree.norder + 1) * sizeof(*cur));
	cnt = calloc(ngroups, sizeof(*cnt));
	tret = calloc(ngroups, sizeof(*tret));
	if (!stk || !cur || !cnt || !tret)
		goto oom;
	size_t sp = 0;
	stk[sp] = n;
	cur[sp++] = c.cfirst[n];
	while (sp) {
		uint32_t u = stk[sp - 1];
		if (cur[sp - 1] < c.cfirst[u + 1]) {
			uint32_t v = c.cchild[cur[sp - 1]++];
			uint32_t gv = group_of[h->type[v]];
			if (!cnt[gv])
				tret[gv] += c.retained[v];
			cnt[gv]++;
			stk[sp] = v;
			cur[sp++] = c.cfirst[v];
		} else {
			sp--;
			if (u != n)
				cnt[group_of[h->type[u]]]--;
		}
	}
	free(stk);
	free(cur);
	stk = cur = NULL;
	phase(src, "retained sizes, per-type retained", &t0);
	w->types = calloc(ngroups, sizeof(*w->types));
	if (!w->types)
		goto oom;
	for (size_t i = 0; i < r->ntypes; i++) {
		if (tret[i])
			w->types[w->ntypes++] =
				(struct pha_retained_type){.name = r->types[i].name, .retained_bytes = tret[i]};
	}
	qsort(w->types, w->ntypes, sizeof(*w->types), cmp_rtype);

	/* Top retainers and accumulation points. */
	size_t k = opts->top ? opts->top : 20;
	top = malloc(k * sizeof(*top));
	acc = malloc(SUSPECTS_MAX * sizeof(*acc));
	if (!top || !acc)
		goto oom;
	size_t ntop = 0, nacc = 0;
	double thr = opts->suspect_threshold * (double)w->heap_bytes;
	for (uint32_t v = 0; v < n; v++) {
		if (!c.retained[v])
			continue;
		bool topc = ntop < k || better(&c, v, top[k - 1]);
		bool accc = c.is_iroot[v] != 1 && (double)c.retained[v] >= thr && c.retained[v] &&
			    (nacc < SUSPECTS_MAX || better(&c, v, acc[SUSPECTS_MAX - 1]));
		if (!topc && !accc)
			continue;
		if (pass_through(&c, v))
			continue;
		if (topc)
			top_insert(&c, top, &ntop, k, v);
		if (accc)
			top_insert(&c, acc, &nacc, SUSPECTS_MAX, v);
	}
	pha_progress("labelling paths", 0, 0);
	w->top = calloc(k, sizeof(*w->top));
	if (!w->top)
		goto oom;
	for (size_t i = 0; i < ntop; i++) {
		uint32_t v = top[i];
		struct pha_retainer *t = &w->top[w->ntop++];
		t->addr = h->addr[v];
		t->type = tname(&c, v);
		t->shallow = h->size[v];
		t->retained = c.retained[v];
		if ((err = make_path(&c, v, &t->path)))
			goto out;
	}

	/* Suspects: unexplained references first (by excess), then
	 * accumulation points (by retained). */
	size_t nux = 0;
	for (size_t i = 0; i < r->ntypes; i++) {
		if (ux[i].objects) {
			ux[i].group = (uint32_t)i;
			ux[nux++] = ux[i];
		}
	}
	qsort(ux, nux, sizeof(*ux), cmp_unexp);
	if (nux > UNEXPLAINED_MAX)
		nux = UNEXPLAINED_MAX;
	/* retained by each group: its members the super-root dominates
	 * directly (a member dominated by another is counted there) */
	for (uint32_t v = 0; v < n; v++) {
		if (!c.is_ext[v] || c.is_iroot[v] || static_object(h, v) ||
		    c.tree.idom[v] != n)
			continue;
		uint32_t gv = group_of[h->type[v]];
		for (size_t i = 0; i < nux; i++) {
			if (ux[i].group == gv) {
				ux[i].retained += c.retained[v];
				break;
			}
		}
	}
	w->suspects = calloc(nux + nacc + 1, sizeof(*w->suspects));
	hb = calloc(ngroups, sizeof(*hb));
	hc = calloc(ngroups, sizeof(*hc));
	stk = malloc(((size_t)c.tree.norder + 1) * sizeof(*stk));
	if (!w->suspects || !hb || !hc || !stk)
		goto oom;
	char b1[32], b2[32], b3[32], n1[32], n2[32];
	for (size_t i = 0; i < nacc; i++) {
		uint32_t v = acc[i];
		struct pha_suspect *s = &w->suspects[w->nsuspects++];
		s->kind = PHA_SUSPECT_ACCUMULATION;
		s->type = tname(&c, v);
		s->addr = h->addr[v];
		s->retained_bytes = c.retained[v];
		/* objects it retains: its dominator subtree */
		size_t ssp = 0;
		stk[ssp++] = v;
		while (ssp) {
			uint32_t u = stk[--ssp];
			s->objects++;
			for (uint32_t e = c.cfirst[u]; e < c.cfirst[u + 1]; e++)
				stk[ssp++] = c.cchild[e];
		}
		/* what it holds: its direct children by type */
		uint32_t best = UINT32_MAX;
		for (uint32_t e = c.cfirst[v]; e < c.cfirst[v + 1]; e++) {
			uint32_t ch = c.cchild[e];
			uint32_t gv = group_of[h->type[ch]];
			hc[gv]++;
			hb[gv] += c.retained[ch];
		}
		for (uint32_t e = c.cfirst[v]; e < c.cfirst[v + 1]; e++) {
			uint32_t gv = group_of[h->type[c.cchild[e]]];
			if (best == UINT32_MAX || hb[gv] > hb[best] ||
			    (hb[gv] == hb[best] && strcmp(r->types[gv].name, r->types[best].name) < 0))
				best = gv;
		}
		if (best != UINT32_MAX) {
			s->holds_type = r->types[best].name;
			s->holds_count = hc[best];
			s->holds_bytes = hb[best];
		}
		for (uint32_t e = c.cfirst[v]; e < c.cfirst[v + 1]; e++) {
			uint32_t gv = group_of[h->type[c.cchild[e]]];
			hb[gv] = hc[gv] = 0;
		}
		if ((err = make_path(&c, v, &s->path)))
			goto out;
		char *pt = path_text(&s->path);
		if (!pt)
			goto oom;
		human(s->retained_bytes, b1, sizeof(b1));
		human(s->holds_bytes, b2, sizeof(b2));
		snprintf(b3, sizeof(b3), "%.0f%%",
			 w->heap_bytes ? 100.0 * (double)s->retained_bytes / (double)w->heap_bytes : 0.0);
		grouped(s->holds_count, n1, sizeof(n1));
		int rc;
		if (s->holds_type)
			rc = asprintf(&s->sentence,
				      "a %s holding %s %s object%s (%s) retains %s, %s of the heap, "
				      "via %s",
				      s->type, n1, s->holds_type, s->holds_count == 1 ? "" : "s", b2,
				      b1, b3, pt[0] ? pt : "no path from a root");
		else
			rc = asprintf(&s->sentence, "a %s retains %s, %s of the heap, via %s", s->type,
				      b1, b3, pt[0] ? pt : "no path from a root");
		free(pt);
		if (rc < 0) {
			s->sentence = NULL;
			goto oom;
		}
	}

	for (size_t i = 0; i < nux; i++) {
		struct pha_suspect *s = &w->suspects[w->nsuspects++];
		s->kind = PHA_SUSPECT_UNEXPLAINED;
		s->type = r->types[ux[i].group].name;
		s->objects = ux[i].objects;
		s->excess_refs = ux[i].excess;
		s->retained_bytes = ux[i].retained;
		if ((err = make_path(&c, ux[i].example, &s->path)))
			goto out;
		grouped(s->objects, n1, sizeof(n1));
		grouped(s->excess_refs, n2, sizeof(n2));
		human(ux[i].bytes, b1, sizeof(b1));
		human(s->retained_bytes, b2, sizeof(b2));
		if (asprintf(&s->sentence,
			     "%s %s object%s (%s, retaining %s) %s %s reference%s more than the "
			     "references found in the heap, and no root reaches %s: held from "
			     "outside Python (a C extension's missing Py_DECREF?)",
			     n1, s->type, s->objects == 1 ? "" : "s", b1, b2,
			     s->objects == 1 ? "has" : "have", n2, s->excess_refs == 1 ? "" : "s",
			     s->objects == 1 ? "it" : "them") < 0) {
			s->sentence = NULL;
			goto oom;
		}
	}
	if ((err = locals_build(&c)))
		goto out;
	phase(src, "top retainers, suspects, paths, locals", &t0);
	goto out;
oom:
	err = &pha_enomem;
out:
	free(c.parent);
	free(queue);
	free(c.is_ext);
	free(c.is_iroot);
	free(c.rootsrc);
	free(inref);
	free(roots);
	free(c.retained);
	pha_domtree_deinit(&c.tree);
	free(c.cfirst);
	free(c.cchild);
	free(stk);
	free(cur);
	free(cnt);
	free(tret);
	free(top);
	free(acc);
	free(hb);
	free(hc);
	free(ux);
	return err;
}

void pha_why_deinit(struct pha_report *r)
{
	struct pha_why *w = &r->why;
	free(w->types);
	for (size_t i = 0; i < w->ntop; i++)
		path_free(&w->top[i].path);
	free(w->top);
	for (size_t i = 0; i < w->nsuspects; i++) {
		path_free(&w->suspects[i].path);
		free(w->suspects[i].sentence);
	}
	free(w->suspects);
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
	memset(w, 0, sizeof(*w));
}
