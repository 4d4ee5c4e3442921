/* pha_report_build's report/2 part (analyzer/why.c) against slow twins on
 * random heaps: held-from-outside roots (excess references, reachability
 * by repeated relaxation), MAT's per-type retained sizes (each object's
 * dominator chain walked up), the heap-total arithmetic, and the
 * unexplained-references grouping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/dominators.h"
#include "../../analyzer/heap.h"
#include "../../analyzer/report.h"
#include "../../analyzer/source.h"
#include "../../plugins/pha_layout.h"
#include "check.h"
#include "graphgen.h"

#define NT 3
static const char *tnames[NT] = {"A", "B", "C"};

static int one(uint32_t n, uint32_t m, uint64_t seed)
{
	rng_state = seed;
	struct edge *edges = xmalloc(m * sizeof(*edges));
	for (uint32_t i = 0; i < m; i++)
		edges[i] = (struct edge){rng_below(n), rng_below(n), rng_below(8) == 0 ? PHA_EDGE_WEAK
											: PHA_EDGE_TRAVERSED};
	struct csr c;
	csr_build(&c, n, edges, m);
	struct pha_heap h = {0};
	h.n = n;
	h.addr = xmalloc(n * sizeof(*h.addr));
	h.type = xmalloc(n * sizeof(*h.type));
	h.size.v = xmalloc(n * sizeof(*h.size.v));
	h.refcnt.v = xmalloc(n * sizeof(*h.refcnt.v));
	uint64_t *size = xmalloc(n * sizeof(*size));
	h.flags = xmalloc(n);
	h.gen = xmalloc(n);
	h.first = c.first;
	h.dst = c.dst;
	h.eflags = c.eflags;
	h.nedges = m;
	struct pha_heap_type types[NT];
	for (int t = 0; t < NT; t++)
		types[t] = (struct pha_heap_type){.addr = 0x10 + t, .name = tnames[t], .obj = PHA_NO_ID};
	h.types = types;
	h.ntypes = NT;
	uint32_t *in = calloc(n, sizeof(*in));
	for (uint32_t e = 0; e < m; e++)
		if (!(c.eflags[e] & PHA_EDGE_WEAK))
			in[c.dst[e]]++;
	for (uint32_t v = 0; v < n; v++) {
		h.addr[v] = 0x1000 + 16ull * v;
		h.type[v] = rng_below(NT);
		size[v] = 16 + rng_below(100);
		CHECK(pha_col_set(&h.size, v, size[v]));
		/* mostly explained, sometimes one or two more */
		CHECK(pha_col_set(&h.refcnt, v, in[v] + (rng_below(6) == 0 ? 1 + rng_below(2) : 0)));
		h.flags[v] = PHA_OBJ_GC;
		h.gen[v] = 0;
	}
	struct pha_source src;
	pha_source_init(&src);
	src.input_path = strdup("x");
	src.input_kind = "snapshot";
	src.layout = strdup("test");
	uint32_t nr = n ? 1 + rng_below(3) : 0;
	src.roots = xmalloc((nr + 1) * sizeof(*src.roots));
	for (uint32_t i = 0; i < nr; i++)
		src.roots[src.nroots++] = h.addr[rng_below(n)];

	struct pha_report_options opts = {.suspect_threshold = 0.10, .top = 20};
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_build(&src, &h, &opts, &r);
	CHECKF(!err, "build failed: %s", err ? err->message : "");
	if (err) {
		pha_error_destroy(err);
		return 1;
	}

	/* Twin: interpreter-root reachability, then outside-held roots. */
	uint8_t *reach = calloc(n, 1), *ext = calloc(n, 1);
	for (uint32_t i = 0; i < src.nroots; i++)
		reach[(src.roots[i] - 0x1000) / 16] = 1;
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t u = 0; u < n; u++)
			for (uint32_t e = c.first[u]; reach[u] && e < c.first[u + 1]; e++)
				if (!(c.eflags[e] & PHA_EDGE_WEAK) && !reach[c.dst[e]])
					reach[c.dst[e]] = changed = 1;
	}
	uint32_t *roots = xmalloc((n + 1) * sizeof(*roots)), nroots = 0;
	uint64_t next = 0, excess[NT] = {0}, cnt[NT] = {0};
	for (uint32_t v = 0; v < n; v++) {
		if (!reach[v] && pha_col_get(&h.refcnt, v) > in[v]) {
			ext[v] = 1;
			next++;
			excess[h.type[v]] += pha_col_get(&h.refcnt, v) - in[v];
			cnt[h.type[v]]++;
		}
		int isroot = 0;
		for (uint32_t i = 0; i < src.nroots; i++)
			isroot |= src.roots[i] == h.addr[v];
		if (isroot || ext[v])
			roots[nroots++] = v;
	}
	CHECKF(r->why.external_roots == next, "held from outside %llu, twin %llu",
	       (unsigned long long)r->why.external_roots, (unsigned long long)next);
	/* Twin: every group held from outside is a suspect or a held-by-C
	 * row (groups this small are rows), with the same counts. */
	uint64_t held_total = 0;
	for (int t = 0; t < NT; t++) {
		held_total += cnt[t];
		int rows = 0;
		for (size_t i = 0; i < r->why.nheld_by_c; i++) {
			const struct pha_held_group *g = &r->why.held_by_c[i];
			if (strcmp(g->type, tnames[t]))
				continue;
			rows++;
			CHECKF(g->objects == cnt[t] && g->excess_refs == excess[t] && g->reason,
			       "held type %s: %llu objects %llu excess, twin %llu %llu", g->type,
			       (unsigned long long)g->objects, (unsigned long long)g->excess_refs,
			       (unsigned long long)cnt[t], (unsigned long long)excess[t]);
		}
		CHECKF(rows == (cnt[t] ? 1 : 0), "type %s: %d held rows for %llu objects", tnames[t],
		       rows, (unsigned long long)cnt[t]);
	}
	CHECK(r->why.held_by_c_objects == held_total);
	/* Twin: what gc.collect() frees, by fixpoint: alive = reachable from
	 * the objects whose refcount exceeds the strong references found
	 * (immortal and permanent ones too), the unreachable set excluded. */
	uint8_t *alive = calloc(n + 1, 1);
	for (uint32_t v = 0; v < n; v++)
		alive[v] = !r->unreachable[v] && pha_col_get(&h.refcnt, v) > in[v];
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t u = 0; u < n; u++)
			for (uint32_t e = c.first[u]; alive[u] && e < c.first[u + 1]; e++)
				if (!(c.eflags[e] & PHA_EDGE_WEAK) && !alive[c.dst[e]] &&
				    !r->unreachable[c.dst[e]])
					alive[c.dst[e]] = changed = 1;
	}
	uint64_t fobj = 0, fbytes = 0, uobj = 0;
	for (uint32_t v = 0; v < n; v++) {
		uobj += r->unreachable[v];
		if (!alive[v]) {
			fobj++;
			fbytes += size[v];
		}
	}
	CHECKF(r->summary.unreachable_freed_objects == fobj && r->summary.unreachable_bytes == fbytes &&
	       r->summary.unreachable_objects == uobj,
	       "freed %llu objects %llu bytes (unreachable %llu), twin %llu %llu (%llu)",
	       (unsigned long long)r->summary.unreachable_freed_objects,
	       (unsigned long long)r->summary.unreachable_bytes,
	       (unsigned long long)r->summary.unreachable_objects, (unsigned long long)fobj,
	       (unsigned long long)fbytes, (unsigned long long)uobj);
	free(alive);
	for (size_t i = 0; i < r->why.nsuspects; i++) {
		const struct pha_suspect *s = &r->why.suspects[i];
		if (s->kind != PHA_SUSPECT_UNEXPLAINED)
			continue;
		int t = s->type[0] - 'A';
		CHECKF(s->objects == cnt[t] && s->excess_refs == excess[t],
		       "type %s: %llu objects %llu excess, twin %llu %llu", s->type,
		       (unsigned long long)s->objects, (unsigned long long)s->excess_refs,
		       (unsigned long long)cnt[t], (unsigned long long)excess[t]);
	}
	/* Twin: MAT per-type retained by walking each dominator chain. */
	struct pha_domtree tree;
	err = pha_dominators(&c.g, roots, nroots, &tree);
	CHECK(!err);
	uint64_t *ret = calloc(n + 1, sizeof(*ret)), total = 0, tret[NT] = {0}, heap = 0;
	pha_retained(&tree, size, ret, &total);
	for (uint32_t v = 0; v < n; v++) {
		if (tree.idom[v] == PHA_DOM_NONE)
			continue;
		heap += size[v];
		int shadowed = 0;
		for (uint32_t u = tree.idom[v]; u != n; u = tree.idom[u])
			shadowed |= h.type[u] == h.type[v];
		if (!shadowed)
			tret[h.type[v]] += ret[v];
	}
	CHECKF(r->why.heap_bytes == heap && heap == total && r->why.top_level_bytes == heap,
	       "heap %llu top-level %llu, twin %llu / %llu", (unsigned long long)r->why.heap_bytes,
	       (unsigned long long)r->why.top_level_bytes, (unsigned long long)heap,
	       (unsigned long long)total);
	uint64_t got[NT] = {0};
	for (size_t i = 0; i < r->why.ntypes; i++) {
		got[r->why.types[i].name[0] - 'A'] = r->why.types[i].retained_bytes;
		CHECK(r->why.types[i].retained_bytes <= r->why.heap_bytes);
	}
	for (int t = 0; t < NT; t++)
		CHECKF(got[t] == tret[t], "type %s retained %llu, twin %llu", tnames[t],
		       (unsigned long long)got[t], (unsigned long long)tret[t]);
	for (size_t i = 0; i < r->why.ntop; i++) {
		uint32_t v = (uint32_t)((r->why.top[i].addr - 0x1000) / 16);
		CHECK(r->why.top[i].retained == ret[v]);
		CHECK(i == 0 || r->why.top[i].retained <= r->why.top[i - 1].retained);
		CHECK(r->why.top[i].path.n >= 1);
	}
	pha_domtree_deinit(&tree);
	pha_report_destroy(r);
	pha_source_deinit(&src);
	free(ret);
	free(roots);
	free(reach);
	free(ext);
	free(in);
	free(h.addr);
	free(h.type);
	free(h.size.v);
	free(h.refcnt.v);
	free(size);
	free(h.flags);
	free(h.gen);
	csr_free(&c);
	free(edges);
	return check_case_failed;
}

/* A layout with the report/2 hooks, for the labelled path. */
static bool fake_edge_label(struct pha_py *py, uint64_t src, uint64_t dst, bool redact, char *buf,
			    size_t size)
{
	snprintf(buf, size, redact ? "[<str>]" : "['k%llu']", (unsigned long long)(dst - 0x1000) / 16);
	return true;
}

static bool fake_preview(struct pha_py *py, uint64_t addr, bool redact, char *buf, size_t size)
{
	snprintf(buf, size, "len=%llu", (unsigned long long)(addr - 0x1000) / 16);
	return true;
}

/* Chain 0 -> 1 -> 2 -> ... -> 9, each object 100 bytes; object 0 is a
 * frame local ("<local 'batch' in f() at x.py:1>"), object 10 a module
 * root holding 11. Object 0 is a pass-through (its child retains 900 of
 * its 1000 bytes, 90%); object 1 (800 of 900) is not, so it is the top
 * retainer, reached as <local 'batch' ...> then ['k1']. */
static void labelled(void)
{
	CASE_BEGIN("why/labelled-paths-and-locals");
	enum { N = 12 };
	struct edge edges[N];
	uint32_t m = 0;
	for (uint32_t v = 0; v + 1 < 10; v++)
		edges[m++] = (struct edge){v, v + 1, PHA_EDGE_TRAVERSED};
	edges[m++] = (struct edge){10, 11, PHA_EDGE_TRAVERSED};
	struct csr c;
	csr_build(&c, N, edges, m);
	struct pha_heap h = {0};
	uint64_t addr[N];
	uint32_t size[N], refcnt[N];
	uint32_t type[N];
	uint8_t flags[N], gen[N];
	for (uint32_t v = 0; v < N; v++) {
		addr[v] = 0x1000 + 16ull * v;
		size[v] = v < 10 ? 100 : 10;
		refcnt[v] = v == 0 || v == 10 ? 1 : 1;
		type[v] = v == 0 ? 0 : 1;
		flags[v] = PHA_OBJ_GC;
		gen[v] = 0;
	}
	struct pha_heap_type types[2] = {{.addr = 1, .name = "list", .obj = PHA_NO_ID},
					 {.addr = 2, .name = "Node", .obj = PHA_NO_ID}};
	h = (struct pha_heap){.n = N, .addr = addr, .type = type, .size = {.v = size}, .refcnt = {.v = refcnt},
			      .flags = flags, .gen = gen, .first = c.first, .dst = c.dst,
			      .eflags = c.eflags, .nedges = m, .types = types, .ntypes = 2};
	struct pha_layout lay = {.name = "fake", .edge_label = fake_edge_label,
				 .preview = fake_preview};
	int dummy;
	struct pha_source src;
	pha_source_init(&src);
	src.input_path = strdup("x");
	src.input_kind = "core";
	src.layout = strdup("fake");
	src.lay = &lay;
	src.py = (struct pha_py *)&dummy;
	src.roots = xmalloc(2 * sizeof(*src.roots));
	src.root_labels = xmalloc(2 * sizeof(*src.root_labels));
	src.root_kinds = xmalloc(2);
	src.roots[0] = addr[0];
	src.root_labels[0] = strdup("<local 'batch' in f() at x.py:1>");
	src.root_kinds[0] = PHA_ROOT_FRAME_LOCAL;
	src.roots[1] = addr[10];
	src.root_labels[1] = strdup("sys.modules");
	src.root_kinds[1] = PHA_ROOT_MODULES;
	src.nroots = 2;
	src.threads = calloc(1, sizeof(*src.threads));
	src.nthreads = 1;
	src.threads[0].frames = calloc(1, sizeof(*src.threads[0].frames));
	src.threads[0].nframes = 1;
	struct pha_report_frame *f = &src.threads[0].frames[0];
	f->function = strdup("f");
	f->filename = strdup("x.py");
	f->line = 1;
	f->locals = calloc(2, sizeof(*f->locals));
	f->nlocals = 2;
	f->locals[0] = (struct pha_report_local){strdup("batch"), addr[0]};
	f->locals[1] = (struct pha_report_local){strdup("unbound"), 0};

	struct pha_report_options opts = {.suspect_threshold = 0.10, .top = 20};
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_build(&src, &h, &opts, &r);
	CHECK(!err);
	if (!err) {
		const struct pha_why *w = &r->why;
		CHECK(w->labelled_roots && w->edge_labels);
		CHECK(w->heap_bytes == 1020 && w->top_level_bytes == 1020);
		CHECK(w->ntop >= 1 && w->top[0].addr == addr[1] && w->top[0].retained == 900);
		CHECK(w->ntop >= 1 && w->top[0].path.n == 2);
		if (w->ntop >= 1 && w->top[0].path.n == 2) {
			CHECK(!strcmp(w->top[0].path.elems[0].label, "<local 'batch' in f() at x.py:1>"));
			CHECK(!strcmp(w->top[0].path.elems[0].type, "list"));
			CHECK(!strcmp(w->top[0].path.elems[1].label, "['k1']"));
			CHECK(!strcmp(w->top[0].path.elems[1].type, "Node"));
		}
		/* object 1 retains 900 of 1020 bytes: an accumulation suspect */
		CHECK(w->nsuspects >= 1 && w->suspects[0].kind == PHA_SUSPECT_ACCUMULATION &&
		      w->suspects[0].addr == addr[1] && w->suspects[0].objects == 9 &&
		      w->suspects[0].holds_count == 1 && w->suspects[0].sentence &&
		      strstr(w->suspects[0].sentence, "<local 'batch' in f() at x.py:1>['k1']"));
		const struct pha_frame_local *loc = w->locals ? w->locals[0][0] : NULL;
		CHECK(loc && !strcmp(loc[0].name, "batch") && !strcmp(loc[0].type, "list") &&
		      loc[0].retained == 1000 && loc[0].preview && !strcmp(loc[0].preview, "len=0"));
		CHECK(loc && !loc[1].type && !loc[1].preview);
		pha_report_destroy(r);
	}
	/* Redacted: the layout is asked for redacted labels. */
	opts.redact = true;
	r = NULL;
	err = pha_report_build(&src, &h, &opts, &r);
	CHECK(!err);
	if (!err) {
		CHECKF(r->why.ntop && r->why.top[0].path.n == 2 &&
		       !strcmp(r->why.top[0].path.elems[1].label, "[<str>]"), "ntop %zu path %zu",
		       r->why.ntop, r->why.ntop ? r->why.top[0].path.n : 0);
		pha_report_destroy(r);
	}
	pha_source_deinit(&src);
	csr_free(&c);
	CASE_END();
}

/* A heap with no edges and no roots: every object is held from outside
 * (refcount 1, no reference found). Objects 0..1499 are of type Leaked
 * (a missing Py_DECREF in a loop: the suspect), 1500..1504 of type Few
 * (what a C module keeps: a held-by-C row), 1505..1507 are type objects
 * (of type "type"; 1507 is also the type object of Few): a row. */
/* C globals (a word of an image's .data/.bss holding the object): roots
 * that are never held-from-outside (so never unexplained_refs suspects);
 * their BFS stage comes after the frames (a stale word must not take the
 * path from the local that really holds the object), and what one holds
 * may still be an accumulation suspect. */
static void c_globals(void)
{
	CASE_BEGIN("why/c-global-roots-stage-and-not-suspects");
	enum { N = 11 };
	struct edge edges[N];
	uint32_t m = 0;
	for (uint32_t v = 0; v + 1 < 10; v++)
		edges[m++] = (struct edge){v, v + 1, PHA_EDGE_TRAVERSED};
	struct csr c;
	csr_build(&c, N, edges, m);
	uint64_t addr[N];
	uint32_t size[N], refcnt[N];
	uint32_t type[N];
	uint8_t flags[N], gen[N];
	for (uint32_t v = 0; v < N; v++) {
		addr[v] = 0x1000 + 16ull * v;
		size[v] = v < 10 ? 100 : 10;
		/* object 10: one reference the heap does not explain */
		refcnt[v] = 1;
		type[v] = v == 0 ? 0 : 1;
		flags[v] = PHA_OBJ_GC;
		gen[v] = 0;
	}
	struct pha_heap_type types[2] = {{.addr = 1, .name = "list", .obj = PHA_NO_ID},
					 {.addr = 2, .name = "Node", .obj = PHA_NO_ID}};
	struct pha_heap h = {.n = N, .addr = addr, .type = type, .size = {.v = size}, .refcnt = {.v = refcnt},
			     .flags = flags, .gen = gen, .first = c.first, .dst = c.dst,
			     .eflags = c.eflags, .nedges = m, .types = types, .ntypes = 2};
	struct pha_source src;
	pha_source_init(&src);
	src.input_path = strdup("x");
	src.input_kind = "snapshot";
	src.layout = strdup("test");
	src.roots = xmalloc(4 * sizeof(*src.roots));
	src.root_labels = xmalloc(4 * sizeof(*src.root_labels));
	src.root_kinds = xmalloc(4);
	src.roots[0] = addr[0];
	src.root_labels[0] = strdup("<local 'batch' in f() at x.py:1>");
	src.root_kinds[0] = PHA_ROOT_FRAME_LOCAL;
	src.roots[1] = addr[0];
	src.root_labels[1] = strdup("<C global in ext.so+0x4010>");
	src.root_kinds[1] = PHA_ROOT_C_GLOBAL;
	src.roots[2] = addr[10];
	src.root_labels[2] = strdup("<C global in python3.11+0xac5480>");
	src.root_kinds[2] = PHA_ROOT_C_GLOBAL;
	/* stale (a free list's slot): object 5's refcount is explained by
	 * object 4, so this word is no root */
	src.roots[3] = addr[5];
	src.root_labels[3] = strdup("<C global in python3.11+0xa6af40>");
	src.root_kinds[3] = PHA_ROOT_C_GLOBAL;
	src.nroots = 4;

	struct pha_report_options opts = {.suspect_threshold = 0.10, .top = 20};
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_build(&src, &h, &opts, &r);
	CHECK(!err);
	if (!err) {
		const struct pha_why *w = &r->why;
		CHECKF(w->external_roots == 0, "%llu held from outside",
		       (unsigned long long)w->external_roots);
		CHECK(w->interpreter_roots == 2);
		CHECK(w->ntop >= 1 && w->top[0].path.n >= 1 &&
		      !strcmp(w->top[0].path.elems[0].label, "<local 'batch' in f() at x.py:1>"));
		for (size_t i = 0; i < w->nsuspects; i++)
			CHECK(w->suspects[i].kind != PHA_SUSPECT_UNEXPLAINED);
		CHECK(w->nsuspects >= 1 && w->suspects[0].kind == PHA_SUSPECT_ACCUMULATION &&
		      w->suspects[0].addr == addr[1] && w->suspects[0].objects == 9);
		pha_report_destroy(r);
	}
	pha_source_deinit(&src);
	csr_free(&c);
	CASE_END();
}

static void leak_like_groups(void)
{
	CASE_BEGIN("why/unexplained-refs-vs-held-by-c");
	enum { N = 1508 };
	uint64_t *addr = xmalloc(N * sizeof(*addr));
	uint32_t *size = xmalloc(N * sizeof(*size)), *refcnt = xmalloc(N * sizeof(*refcnt));
	uint32_t *type = xmalloc(N * sizeof(*type));
	uint8_t *flags = xmalloc(N), *gen = xmalloc(N);
	for (uint32_t v = 0; v < N; v++) {
		addr[v] = 0x1000 + 16ull * v;
		size[v] = 32;
		refcnt[v] = 1;
		type[v] = v < 1500 ? 0 : v < 1505 ? 1 : 2;
		flags[v] = PHA_OBJ_GC;
		gen[v] = 0;
	}
	struct pha_heap_type types[3] = {{.addr = 1, .name = "Leaked", .obj = PHA_NO_ID},
					 {.addr = addr[1507], .name = "Few", .obj = 1507},
					 {.addr = 3, .name = "type", .obj = PHA_NO_ID}};
	uint32_t first[N + 1] = {0};
	struct pha_heap h = {.n = N, .addr = addr, .type = type, .size = {.v = size}, .refcnt = {.v = refcnt},
			     .flags = flags, .gen = gen, .first = first, .dst = NULL,
			     .eflags = NULL, .nedges = 0, .types = types, .ntypes = 3};
	struct pha_source src;
	pha_source_init(&src);
	src.input_path = strdup("x");
	src.input_kind = "snapshot";
	src.layout = strdup("test");
	struct pha_report_options opts = {.suspect_threshold = 0.10, .top = 20};
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_build(&src, &h, &opts, &r);
	CHECK(!err);
	if (!err) {
		const struct pha_why *w = &r->why;
		size_t nunexp = 0;
		for (size_t i = 0; i < w->nsuspects; i++) {
			const struct pha_suspect *sp = &w->suspects[i];
			if (sp->kind != PHA_SUSPECT_UNEXPLAINED)
				continue;
			nunexp++;
			CHECKF(!strcmp(sp->type, "Leaked") && sp->objects == 1500 &&
			       sp->excess_refs == 1500, "suspect %s %llu", sp->type,
			       (unsigned long long)sp->objects);
		}
		CHECKF(nunexp == 1, "%zu unexplained_refs suspects", nunexp);
		CHECKF(w->nheld_by_c == 2 && w->held_by_c_objects == 8 && w->held_by_c_bytes == 256,
		       "%zu held rows, %llu objects", w->nheld_by_c,
		       (unsigned long long)w->held_by_c_objects);
		if (w->nheld_by_c == 2) {
			CHECK(!strcmp(w->held_by_c[0].type, "Few") && w->held_by_c[0].objects == 5 &&
			      strstr(w->held_by_c[0].reason, "few objects"));
			CHECK(!strcmp(w->held_by_c[1].type, "type") && w->held_by_c[1].objects == 3 &&
			      strstr(w->held_by_c[1].reason, "type objects"));
		}
		/* Nothing is garbage: every object is held from outside. */
		CHECK(r->summary.unreachable_objects == 0 && r->summary.unreachable_bytes == 0 &&
		      r->summary.unreachable_freed_objects == 0);
		pha_report_destroy(r);
	}
	pha_source_deinit(&src);
	free(addr);
	free(size);
	free(refcnt);
	free(type);
	free(flags);
	free(gen);
	CASE_END();
}

/* Regression (path_text counted the 5-byte " → " as 4 bytes: a heap
 * overflow on paths of more than about 40 elements): a chain of 100
 * objects from one root, the last one retaining most of the heap, so its
 * accumulation sentence joins 64 "<ref>" labels (the path is elided).
 * ASan (make asan) catches the overflow; the text is checked here. */
static void long_path_text(void)
{
	CASE_BEGIN("why/long-path-text");
	enum { N = 100 };
	struct edge edges[N];
	uint32_t m = 0;
	for (uint32_t v = 0; v + 1 < N; v++)
		edges[m++] = (struct edge){v, v + 1, PHA_EDGE_TRAVERSED};
	struct csr c;
	csr_build(&c, N, edges, m);
	uint64_t addr[N];
	uint32_t size[N], refcnt[N];
	uint32_t type[N];
	uint8_t flags[N], gen[N];
	for (uint32_t v = 0; v < N; v++) {
		addr[v] = 0x1000 + 16ull * v;
		size[v] = v == N - 1 ? 100000 : 8;
		refcnt[v] = v == 0 ? 2 : 1;
		type[v] = 0;
		flags[v] = PHA_OBJ_GC;
		gen[v] = 0;
	}
	struct pha_heap_type types[1] = {{.addr = 1, .name = "Node", .obj = PHA_NO_ID}};
	struct pha_heap h = {.n = N, .addr = addr, .type = type, .size = {.v = size}, .refcnt = {.v = refcnt},
			     .flags = flags, .gen = gen, .first = c.first, .dst = c.dst,
			     .eflags = c.eflags, .nedges = m, .types = types, .ntypes = 1};
	struct pha_source src;
	pha_source_init(&src);
	src.input_path = strdup("x");
	src.input_kind = "snapshot";
	src.layout = strdup("test");
	src.roots = xmalloc(sizeof(*src.roots));
	src.roots[0] = addr[0];
	src.nroots = 1;
	struct pha_report_options opts = {.suspect_threshold = 0.10, .top = 20};
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_build(&src, &h, &opts, &r);
	CHECK(!err);
	if (!err) {
		const struct pha_why *w = &r->why;
		const struct pha_suspect *sp = w->nsuspects ? &w->suspects[0] : NULL;
		CHECK(sp && sp->kind == PHA_SUSPECT_ACCUMULATION && sp->addr == addr[N - 1]);
		CHECK(sp && sp->path.n == 64 && sp->path.elided == N - 64);
		/* "<root> → <ref> → … → <ref>…<ref> → … <ref>": 63 separators. */
		const char *t = sp && sp->sentence ? strstr(sp->sentence, "via <root>") : NULL;
		CHECK(t != NULL);
		if (t) {
			size_t seps = 0;
			for (const char *q = t; (q = strstr(q, " → ")); q++)
				seps++;
			CHECKF(seps == 63, "%zu separators", seps);
			CHECK(strstr(t, "…") != NULL);
			size_t want = strlen("via ") + strlen("<root>") + 63 * (strlen("<ref>") +
				      strlen(" → ")) + strlen("…");
			CHECKF(strlen(t) == want, "path text %zu bytes, want %zu", strlen(t), want);
		}
		pha_report_destroy(r);
	}
	pha_source_deinit(&src);
	csr_free(&c);
	CASE_END();
}

int main(void)
{
	labelled();
	c_globals();
	leak_like_groups();
	long_path_text();
	CASE_BEGIN("why/random-heaps-vs-twins");
	for (uint64_t seed = 1; seed <= 3000 && !check_case_failed; seed++) {
		rng_state = seed * 0x9E3779B97F4A7C15ULL;
		uint32_t n = 1 + rng_below(40);
		uint32_t m = rng_below(3 * n + 1);
		if (one(n, m, seed * 0x9E3779B97F4A7C15ULL | 1)) {
			printf("  (seed %llu, n %u, m %u)\n", (unsigned long long)seed, n, m);
			break;
		}
	}
	CASE_END();
	CHECK_EXIT();
}
