/* Leak suspects (report/2, the last step of why.c's pha_why_build): what
 * an accumulation point holds (the commonest type among its dominator-tree
 * children, reached through untraversed references only when nothing
 * else), the groups of unexplained references, their native memory
 * (report/3) and tracemalloc allocation sites, and the paste-ready
 * sentences. */
#include "why_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Objects in v's dominator subtree, v included (stk: room for every
 * object the tree reaches). */
static uint64_t subtree_objects(const struct ctx *c, uint32_t v, uint32_t *stk)
{
	uint64_t objects = 0;
	size_t ssp = 0;
	stk[ssp++] = v;
	while (ssp) {
		uint32_t u = stk[--ssp];
		objects++;
		for (uint32_t e = c->cfirst[u]; e < c->cfirst[u + 1]; e++)
			stk[ssp++] = c->cchild[e];
	}
	return objects;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* keys[0..n): sorted; is x among them? */
static bool among(const uint32_t *keys, size_t n, uint32_t x)
{
	return n && bsearch(&x, keys, n, sizeof(*keys), cmp_u32) != NULL;
}

/* The objects v refers to only through references tp_traverse does not
 * visit: a dict's str keys (3.8 - 3.10 skip exact str keys, 3.11+ str-key
 * tables visit only the values), a module's name. Sorted, in keys_ret (a
 * malloc'd array, NULL when there are none or on ENOMEM). */
static size_t untraversed_only(const struct ctx *c, uint32_t v, uint32_t **keys_ret)
{
	const struct pha_heap *h = c->h;
	*keys_ret = NULL;
	uint32_t b = h->first[v], e = h->first[v + 1];
	size_t n = 0;
	for (uint32_t k = b; k < e; k++)
		n += !(h->eflags[k] & (PHA_EDGE_TRAVERSED | PHA_EDGE_WEAK));
	if (!n)
		return 0;
	uint32_t *keys = malloc(n * sizeof(*keys)), *trav = malloc((e - b) * sizeof(*trav));
	if (!keys || !trav) {
		free(keys);
		free(trav);
		return 0;
	}
	size_t nk = 0, nt = 0;
	for (uint32_t k = b; k < e; k++) {
		if (h->eflags[k] & PHA_EDGE_WEAK)
			continue;
		if (h->eflags[k] & PHA_EDGE_TRAVERSED)
			trav[nt++] = h->dst[k];
		else
			keys[nk++] = h->dst[k];
	}
	qsort(trav, nt, sizeof(*trav), cmp_u32);
	size_t o = 0;
	for (size_t i = 0; i < nk; i++) {
		if (!among(trav, nt, keys[i]))
			keys[o++] = keys[i];
	}
	free(trav);
	qsort(keys, o, sizeof(*keys), cmp_u32);
	*keys_ret = keys;
	return o;
}

/* What v holds: the report type of its direct dominator-tree children
 * that retains most (ties: by name), with their count and retained bytes.
 * A dict is described by its values: children v refers to only through
 * references tp_traverse skips (its str keys) are left out, unless
 * nothing else is left. hb, hc: per report type, zero on entry and on
 * return. */
static void commonest_child_type(const struct ctx *c, uint32_t v, uint64_t *hb, uint64_t *hc,
				 struct pha_suspect *s)
{
	const struct pha_report *r = c->r;
	const uint32_t *type = c->h->type;
	uint32_t best = UINT32_MAX;
	uint32_t *keys;
	size_t nkeys = untraversed_only(c, v, &keys);
	size_t kept = 0;
	for (uint32_t e = c->cfirst[v]; e < c->cfirst[v + 1]; e++)
		kept += !among(keys, nkeys, c->cchild[e]);
	if (!kept)
		nkeys = 0;
	for (uint32_t e = c->cfirst[v]; e < c->cfirst[v + 1]; e++) {
		uint32_t ch = c->cchild[e];
		if (nkeys && among(keys, nkeys, ch))
			continue;
		uint32_t gv = c->group_of[type[ch]];
		hc[gv]++;
		hb[gv] += c->retained[ch];
	}
	for (uint32_t e = c->cfirst[v]; e < c->cfirst[v + 1]; e++) {
		uint32_t ch = c->cchild[e];
		if (nkeys && among(keys, nkeys, ch))
			continue;
		uint32_t gv = c->group_of[type[ch]];
		if (best == UINT32_MAX || hb[gv] > hb[best] ||
		    (hb[gv] == hb[best] && strcmp(r->types[gv].name, r->types[best].name) < 0))
			best = gv;
	}
	free(keys);
	if (best != UINT32_MAX) {
		s->holds_type = r->types[best].name;
		s->holds_count = hc[best];
		s->holds_bytes = hb[best];
	}
	for (uint32_t e = c->cfirst[v]; e < c->cfirst[v + 1]; e++) {
		uint32_t gv = c->group_of[type[c->cchild[e]]];
		hb[gv] = hc[gv] = 0;
	}
}

/* "1.2 MiB", or with native memory "1.2 MiB (+ 700.0 MiB native)". */
static void retained_text(uint64_t bytes, uint64_t native, char *buf, size_t size)
{
	char b[32], nb[32];
	pha_size_text(bytes, b, sizeof(b));
	if (!native) {
		snprintf(buf, size, "%s", b);
		return;
	}
	pha_size_text(native, nb, sizeof(nb));
	snprintf(buf, size, "%s (+ %s native)", b, nb);
}

/* tracemalloc: the commonest allocation site among v's dominator-tree
 * children of the report type named `type` (ids, k: room for n). */
static struct pha_alloc_site children_site(const struct ctx *c, uint32_t v, const char *type,
					   uint32_t *ids, uint64_t *k)
{
	size_t n = 0;
	for (uint32_t e = c->cfirst[v]; type && e < c->cfirst[v + 1]; e++) {
		if (c->r->types[c->group_of[c->h->type[c->cchild[e]]]].name == type)
			ids[n++] = c->cchild[e];
	}
	return pha_allocs_commonest(&c->src->allocs, ids, n, k);
}

/* ", allocated at FILE:LINE" when the site is known, else "". */
static void site_text(const struct pha_alloc_site *a, char *buf, size_t size)
{
	buf[0] = 0;
	if (a->file)
		snprintf(buf, size, ", allocated at %s:%u", a->file, a->line);
}

/* "a dict holding 1,000 str objects (56.0 KiB) retains 1.2 MiB, 40% of
 * the heap, via sys.modules['app'].__dict__['_CACHE']" */
/* native_total: the heap's native memory beyond sys.getsizeof (0: none); the
 * share is of the heap with it. */
static struct pha_error *accumulation_sentence(const struct pha_why *w, uint64_t native_total,
					      struct pha_suspect *s)
{
	char b1[80], b2[32], b3[80], n1[32], at[600];
	char *pt = pha_path_text(&s->path);
	site_text(&s->alloc, at, sizeof(at));
	if (!pt)
		return &pha_enomem;
	retained_text(s->retained_bytes, s->native_bytes, b1, sizeof(b1));
	pha_size_text(s->holds_bytes, b2, sizeof(b2));
	uint64_t all = w->heap_bytes + native_total;
	snprintf(b3, sizeof(b3), "%.0f%% of the heap", all ?
		 100.0 * (double)(s->retained_bytes + s->native_bytes) / (double)all : 0.0);
	pha_count_text(s->holds_count, n1, sizeof(n1));
	int rc;
	if (s->holds_type)
		rc = asprintf(&s->sentence,
			      "a %s holding %s %s object%s (%s)%s%s retains %s, %s, "
			      "via %s",
			      s->type, n1, s->holds_type, s->holds_count == 1 ? "" : "s", b2,
			      at, at[0] ? "," : "", b1, b3, pt[0] ? pt : "no path from a root");
	else
		rc = asprintf(&s->sentence, "a %s retains %s, %s, via %s", s->type,
			      b1, b3, pt[0] ? pt : "no path from a root");
	free(pt);
	if (rc < 0) {
		s->sentence = NULL;
		return &pha_enomem;
	}
	return NULL;
}

/* One accumulation point (hb, hc, stk: scratch of commonest_child_type and
 * subtree_objects). */
static struct pha_error *accumulation_suspect(struct ctx *c, uint32_t v, uint64_t *hb,
					      uint64_t *hc, uint32_t *stk, uint64_t *k)
{
	struct pha_why *w = &c->r->why;
	struct pha_suspect *s = &w->suspects[w->nsuspects++];
	s->kind = PHA_SUSPECT_ACCUMULATION;
	s->type = why_tname(c, v);
	s->addr = c->h->addr[v];
	s->retained_bytes = c->retained[v];
	s->native_bytes = why_subtree_native(c, v);
	s->objects = subtree_objects(c, v, stk);
	commonest_child_type(c, v, hb, hc, s);
	if (k)
		s->alloc = children_site(c, v, s->holds_type, stk, k);
	struct pha_error *err = why_make_path(c, v, &s->path);
	if (err)
		return err;
	return accumulation_sentence(w, c->native_total, s);
}

/* One unexplained-references group; its path is its first member's. */
static struct pha_error *unexplained_suspect(struct ctx *c, const struct unexp *u,
					     uint32_t *ids, uint64_t *k)
{
	struct pha_why *w = &c->r->why;
	struct pha_suspect *s = &w->suspects[w->nsuspects++];
	char b1[32], b2[80], n1[32], n2[32], at[600];
	size_t n = 0;
	for (uint32_t v = 0; k && v < c->h->n; v++) {
		if (why_ext(c, v) && !why_static_object(c->h, v) && c->group_of[c->h->type[v]] == u->group)
			ids[n++] = v;
	}
	s->alloc = pha_allocs_commonest(&c->src->allocs, ids, n, k);
	site_text(&s->alloc, at, sizeof(at));
	s->kind = PHA_SUSPECT_UNEXPLAINED;
	s->type = c->r->types[u->group].name;
	s->objects = u->objects;
	s->excess_refs = u->excess;
	s->retained_bytes = u->retained;
	s->native_bytes = u->native;
	struct pha_error *err = why_make_path(c, u->example, &s->path);
	if (err)
		return err;
	pha_count_text(s->objects, n1, sizeof(n1));
	pha_count_text(s->excess_refs, n2, sizeof(n2));
	pha_size_text(u->bytes, b1, sizeof(b1));
	retained_text(s->retained_bytes, s->native_bytes, b2, sizeof(b2));
	if (asprintf(&s->sentence,
		     "%s %s object%s (%s, retaining %s)%s%s %s %s reference%s more than the "
		     "references found in the heap, and no root reaches %s: held from "
		     "outside Python (a C extension's missing Py_DECREF?)",
		     n1, s->type, s->objects == 1 ? "" : "s", b1, b2, at, at[0] ? "," : "",
		     s->objects == 1 ? "has" : "have", n2, s->excess_refs == 1 ? "" : "s",
		     s->objects == 1 ? "it" : "them") < 0) {
		s->sentence = NULL;
		return &pha_enomem;
	}
	return NULL;
}

/* w->suspects: the accumulation points (by retained size), then the
 * unexplained-reference groups (by excess). */
struct pha_error *why_find_suspects(struct ctx *c)
{
	struct pha_why *w = &c->r->why;
	struct pha_error *err = NULL;
	w->suspects = calloc(c->nux + c->nacc + 1, sizeof(*w->suspects));
	uint64_t *hb = calloc(c->ngroups, sizeof(*hb));
	uint64_t *hc = calloc(c->ngroups, sizeof(*hc));
	size_t nstk = (size_t)c->tree.norder + 1 > c->h->n ? (size_t)c->tree.norder + 1 : c->h->n;
	uint32_t *stk = malloc(nstk * sizeof(*stk));
	/* tracemalloc: the sort scratch of the allocation sites */
	uint64_t *k = c->src->allocs.obj_tb ? malloc(nstk * sizeof(*k)) : NULL;
	if (!w->suspects || !hb || !hc || !stk || (c->src->allocs.obj_tb && !k)) {
		err = &pha_enomem;
		goto out;
	}
	for (size_t i = 0; i < c->nacc && !err; i++)
		err = accumulation_suspect(c, c->acc[i], hb, hc, stk, k);
	for (size_t i = 0; i < c->nux && !err; i++)
		err = unexplained_suspect(c, &c->ux[i], stk, k);
	for (size_t i = 0; k && i < w->ntop; i++) {
		struct pha_suspect tmp = {0};
		uint32_t v = pha_heap_find(c->h, w->top[i].addr);
		commonest_child_type(c, v, hb, hc, &tmp);
		w->top[i].alloc = children_site(c, v, tmp.holds_type, stk, k);
	}
out:
	free(hb);
	free(hc);
	free(stk);
	free(k);
	return err;
}
