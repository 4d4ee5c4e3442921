/* pha_scc against slow twins on random graphs, plus million-node chains and
 * cycles (no recursion), the empty graph and determinism.
 *
 * Twins:
 *   - partition: u and v share a component iff each reaches the other over
 *     strong edges (reachability by a BFS from every vertex);
 *   - numbering: a textbook recursive Tarjan (fine for n <= 60) started
 *     from vertices in increasing id order, edges in CSR order; its emission
 *     order must be exactly pha_scc's numbering.
 *   - cycle rows (pha_cycle_rows, random world objects): the definition of
 *     graph.h written with two reachability matrices, full and cut (no
 *     edge into a world object), compared pair by pair.
 */
#include "../../analyzer/graph.h"
/* check.h's first comment contains "/" "*": tolerate it until it is fixed. */
#include "check.h"
#include "graphgen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int strong(uint8_t f)
{
	return !(f & PHA_EDGE_WEAK);
}

/* ---- twin 1: reachability matrix ---- */

#define MAXN 64

static void reach_matrix(const struct pha_graph *g, uint8_t reach[MAXN][MAXN])
{
	uint32_t queue[MAXN];
	for (uint32_t s = 0; s < g->n; s++) {
		memset(reach[s], 0, MAXN);
		uint32_t head = 0, tail = 0;
		reach[s][s] = 1;	/* every vertex reaches itself (path of length 0) */
		queue[tail++] = s;
		while (head < tail) {
			uint32_t v = queue[head++];
			for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
				uint32_t w = g->dst[e];
				if (strong(g->eflags[e]) && !reach[s][w]) {
					reach[s][w] = 1;
					queue[tail++] = w;
				}
			}
		}
	}
}

/* ---- twin 2: recursive textbook Tarjan (small n only) ---- */

struct rtarjan {
	const struct pha_graph *g;
	uint32_t index[MAXN], low[MAXN], comp[MAXN];
	uint8_t on_stack[MAXN], visited[MAXN];
	uint32_t stack[MAXN], sp, next_index, ncomp;
};

static void rtarjan_visit(struct rtarjan *t, uint32_t v)
{
	t->index[v] = t->low[v] = t->next_index++;
	t->visited[v] = 1;
	t->stack[t->sp++] = v;
	t->on_stack[v] = 1;
	for (uint32_t e = t->g->first[v]; e < t->g->first[v + 1]; e++) {
		if (!strong(t->g->eflags[e]))
			continue;
		uint32_t w = t->g->dst[e];
		if (!t->visited[w]) {
			rtarjan_visit(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->on_stack[w] && t->index[w] < t->low[v]) {
			t->low[v] = t->index[w];
		}
	}
	if (t->low[v] == t->index[v]) {
		uint32_t w;
		do {
			w = t->stack[--t->sp];
			t->on_stack[w] = 0;
			t->comp[w] = t->ncomp;
		} while (w != v);
		t->ncomp++;
	}
}

static void rtarjan(const struct pha_graph *g, struct rtarjan *t)
{
	memset(t, 0, sizeof(*t));
	t->g = g;
	for (uint32_t v = 0; v < g->n; v++)
		if (!t->visited[v])
			rtarjan_visit(t, v);
}

/* ---- random graphs ---- */

static uint32_t random_graph(uint32_t n, struct edge *edges, uint32_t max_edges)
{
	if (n == 0)
		return 0;
	/* Densities from empty to ~4n edges; some graphs cluster edges into a
	 * few blocks so that large components and DAGs of components appear. */
	uint32_t m;
	switch (rng_below(4)) {
	case 0: m = rng_below(n + 1); break;
	case 1: m = n + rng_below(n + 1); break;
	case 2: m = rng_below(2 * n + 1); break;
	default: m = rng_below(4 * n + 1); break;
	}
	if (m > max_edges)
		m = max_edges;
	uint32_t weak_pct = rng_below(4) == 0 ? 0 : rng_below(40);
	uint32_t self_pct = rng_below(3) == 0 ? 0 : rng_below(15);
	int forwardish = rng_below(4) == 0;	/* mostly u < v edges: many components */
	for (uint32_t i = 0; i < m; i++) {
		uint32_t u = rng_below(n), v;
		if (rng_below(100) < self_pct)
			v = u;
		else if (i > 0 && rng_below(10) == 0) {
			uint32_t j = rng_below(i);	/* parallel edge to an earlier one */
			u = edges[j].src;
			v = edges[j].dst;
		} else
			v = rng_below(n);
		if (forwardish && u > v && rng_below(10) != 0) {
			uint32_t t = u;
			u = v;
			v = t;
		}
		uint8_t f = (uint8_t)(rng_below(2) ? PHA_EDGE_TRAVERSED : 0);
		if (rng_below(100) < weak_pct)
			f |= PHA_EDGE_WEAK;
		edges[i] = (struct edge){ u, v, f };
	}
	/* Exact duplicate of an existing edge now and then. */
	if (m > 0 && m < max_edges && rng_below(3) == 0)
		edges[m] = edges[rng_below(m)], m++;
	return m;
}

/* Compare one graph against the twins; returns 0 on success, else prints a
 * FAIL line (once per case) and returns 1. */
static int check_graph(const struct csr *c, uint64_t seed, uint32_t iter)
{
	const struct pha_graph *g = &c->g;
	uint32_t n = g->n;
	uint32_t comp[MAXN], ncomp = 12345, comp2[MAXN], ncomp2 = 0;
	uint8_t self[MAXN], self2[MAXN];
	uint8_t reach[MAXN][MAXN];
	struct rtarjan t;

	struct pha_error *err = pha_scc(g, comp, &ncomp, self);
	CHECKF(!err, "seed %llu iter %u: pha_scc failed: %s", (unsigned long long)seed, iter,
	       err ? err->message : "");
	if (err)
		return 1;

	reach_matrix(g, reach);
	for (uint32_t u = 0; u < n; u++) {
		CHECKF(comp[u] < ncomp, "seed %llu iter %u n %u: comp[%u]=%u >= ncomp %u",
		       (unsigned long long)seed, iter, n, u, comp[u], ncomp);
		for (uint32_t v = 0; v < n; v++) {
			int same = reach[u][v] && reach[v][u];
			CHECKF(same == (comp[u] == comp[v]),
			       "seed %llu iter %u n %u: vertices %u,%u: mutual reach %d but comp %u,%u",
			       (unsigned long long)seed, iter, n, u, v, same, comp[u], comp[v]);
		}
	}
	/* Every number 0..ncomp-1 is used, and sizes add up. */
	uint32_t sizes[MAXN + 1];
	err = pha_scc_sizes(n, comp, ncomp, sizes);
	CHECKF(!err, "seed %llu iter %u: pha_scc_sizes failed", (unsigned long long)seed, iter);
	pha_error_destroy(err);
	if (!err) {
		uint32_t total = 0;
		for (uint32_t k = 0; k < ncomp; k++) {
			CHECKF(sizes[k] > 0, "seed %llu iter %u: component %u is empty",
			       (unsigned long long)seed, iter, k);
			total += sizes[k];
		}
		CHECKF(total == n, "seed %llu iter %u: sizes add up to %u, n %u",
		       (unsigned long long)seed, iter, total, n);
	}
	/* Self loops: a strong edge v->v. */
	for (uint32_t v = 0; v < n; v++) {
		int want = 0;
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++)
			if (g->dst[e] == v && strong(g->eflags[e]))
				want = 1;
		CHECKF(self[v] == want, "seed %llu iter %u: self_loop[%u]=%u, expected %d",
		       (unsigned long long)seed, iter, v, self[v], want);
	}
	/* Numbering property: a component is numbered before those reaching it. */
	for (uint32_t u = 0; u < n; u++)
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t v = g->dst[e];
			if (strong(g->eflags[e]) && comp[u] != comp[v])
				CHECKF(comp[v] < comp[u],
				       "seed %llu iter %u: edge %u->%u but comp %u -> %u",
				       (unsigned long long)seed, iter, u, v, comp[u], comp[v]);
		}
	/* Exact Tarjan emission order. */
	rtarjan(g, &t);
	CHECKF(t.ncomp == ncomp, "seed %llu iter %u: ncomp %u, recursive Tarjan %u",
	       (unsigned long long)seed, iter, ncomp, t.ncomp);
	for (uint32_t v = 0; v < n; v++)
		CHECKF(t.comp[v] == comp[v], "seed %llu iter %u: comp[%u]=%u, recursive Tarjan %u",
		       (unsigned long long)seed, iter, v, comp[v], t.comp[v]);
	/* Determinism, and self_loop_ret optional. */
	err = pha_scc(g, comp2, &ncomp2, NULL);
	CHECKF(!err && ncomp2 == ncomp && (n == 0 || !memcmp(comp, comp2, n * sizeof(*comp))),
	       "seed %llu iter %u: second run differs", (unsigned long long)seed, iter);
	pha_error_destroy(err);
	err = pha_scc(g, comp2, &ncomp2, self2);
	CHECKF(!err && (n == 0 || !memcmp(self, self2, n)),
	       "seed %llu iter %u: self loops differ on second run", (unsigned long long)seed, iter);
	pha_error_destroy(err);
	return check_case_failed;
}

/* ---- twin 3: cycle rows from reachability matrices ---- */

/* Like reach_matrix, without the edges into world objects. */
static void cut_reach_matrix(const struct pha_graph *g, const uint8_t *world,
			     uint8_t reach[MAXN][MAXN])
{
	uint32_t queue[MAXN];
	for (uint32_t s = 0; s < g->n; s++) {
		memset(reach[s], 0, MAXN);
		uint32_t head = 0, tail = 0;
		reach[s][s] = 1;
		queue[tail++] = s;
		while (head < tail) {
			uint32_t v = queue[head++];
			for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
				uint32_t w = g->dst[e];
				if (strong(g->eflags[e]) && !world[w] && !reach[s][w]) {
					reach[s][w] = 1;
					queue[tail++] = w;
				}
			}
		}
	}
}

struct twin_rows {
	uint8_t user[MAXN];	/* on a user cycle */
	uint8_t pworld[MAXN];	/* its full component holds a world object */
	uint8_t pcyc[MAXN];	/* its full component is a cycle */
};

static int check_rows(const struct pha_graph *g, const uint8_t *world, uint64_t seed,
		      uint32_t iter)
{
	uint32_t n = g->n, row[MAXN], row2[MAXN], nrow = 777, nrow2 = 0;
	uint8_t self[MAXN], *flags = NULL, *flags2 = NULL;
	static uint8_t full[MAXN][MAXN], cut[MAXN][MAXN];
	struct twin_rows t;

	struct pha_error *err = pha_cycle_rows(g, world, row, &nrow, self, &flags);
	CHECKF(!err, "seed %llu iter %u: pha_cycle_rows failed: %s", (unsigned long long)seed,
	       iter, err ? err->message : "");
	if (err) {
		pha_error_destroy(err);
		return 1;
	}
	reach_matrix(g, full);
	cut_reach_matrix(g, world, cut);
	for (uint32_t v = 0; v < n; v++) {
		int loop = 0;
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++)
			if (g->dst[e] == v && strong(g->eflags[e]))
				loop = 1;
		CHECKF(self[v] == loop, "seed %llu iter %u: self[%u]=%u, expected %d",
		       (unsigned long long)seed, iter, v, self[v], loop);
		t.user[v] = !world[v] && loop;
		t.pworld[v] = 0;
		t.pcyc[v] = loop;
		for (uint32_t u = 0; u < n; u++) {
			int mfull = full[u][v] && full[v][u], mcut = cut[u][v] && cut[v][u];
			if (u != v && mcut)
				t.user[v] = 1;
			if (mfull && world[u])
				t.pworld[v] = 1;
			if (u != v && mfull)
				t.pcyc[v] = 1;
		}
		CHECKF(!(world[v] && t.user[v]), "twin: world object %u on a user cycle", v);
	}
	for (uint32_t u = 0; u < n; u++) {
		CHECKF(row[u] < nrow, "seed %llu iter %u: row[%u]=%u >= nrow %u",
		       (unsigned long long)seed, iter, u, row[u], nrow);
		if (row[u] >= nrow)
			break;
		int wrow = !t.user[u] && t.pworld[u];
		uint8_t want = (uint8_t)((wrow ? PHA_ROW_WORLD : 0) |
					 (t.user[u] || (wrow && t.pcyc[u]) ? PHA_ROW_CYCLIC : 0));
		CHECKF(flags[row[u]] == want, "seed %llu iter %u: object %u: row flags %u, expected %u",
		       (unsigned long long)seed, iter, u, flags[row[u]], want);
		for (uint32_t v = 0; v < n; v++) {
			int same;
			if (t.user[u])
				same = t.user[v] && cut[u][v] && cut[v][u];
			else if (t.pworld[u])
				same = !t.user[v] && t.pworld[v] && full[u][v] && full[v][u];
			else
				same = full[u][v] && full[v][u];
			CHECKF(same == (row[u] == row[v]),
			       "seed %llu iter %u n %u: objects %u,%u: same row %d but rows %u,%u",
			       (unsigned long long)seed, iter, n, u, v, same, row[u], row[v]);
		}
	}
	/* Rows without members have no flags (pha_cycle_rows does not
	 * renumber); at most two rows an object; determinism. */
	static uint8_t used[2 * MAXN + 1];
	memset(used, 0, sizeof(used));
	CHECKF(nrow <= 2 * n, "seed %llu iter %u: %u rows for %u objects", (unsigned long long)seed,
	       iter, nrow, n);
	for (uint32_t v = 0; v < n; v++)
		if (row[v] < 2 * MAXN)
			used[row[v]] = 1;
	for (uint32_t k = 0; k < nrow && k < 2 * MAXN; k++)
		CHECKF(used[k] || !flags[k], "seed %llu iter %u: row %u has no member but flags %u",
		       (unsigned long long)seed, iter, k, flags[k]);
	err = pha_cycle_rows(g, world, row2, &nrow2, self, &flags2);
	CHECKF(!err && nrow2 == nrow && (n == 0 || !memcmp(row, row2, n * sizeof(*row))) &&
	       (nrow == 0 || !memcmp(flags, flags2, nrow)),
	       "seed %llu iter %u: second run differs", (unsigned long long)seed, iter);
	pha_error_destroy(err);
	free(flags);
	free(flags2);
	return check_case_failed;
}

static void test_rows_random(void)
{
	CASE_BEGIN("cycle_rows_random_vs_twin");
	const uint64_t seed = 0xc7c1e5ULL;
	rng_state = seed;
	struct edge edges[4 * MAXN + 2];
	uint8_t world[MAXN];
	for (uint32_t iter = 0; iter < 6000 && !check_case_failed; iter++) {
		uint32_t n = 1 + rng_below(60);
		uint32_t m = random_graph(n, edges, 4 * MAXN + 1);
		static const uint32_t pct[] = {0, 5, 20, 50, 100};
		uint32_t p = pct[rng_below(5)];
		for (uint32_t v = 0; v < n; v++)
			world[v] = rng_below(100) < p;
		struct csr c;
		csr_build(&c, n, edges, m);
		check_rows(&c.g, world, seed, iter);
		csr_free(&c);
	}
	CASE_END();
}

static void test_rows_hand(void)
{
	CASE_BEGIN("cycle_rows_module_world");
	/* 0 module -> 1 its dict -> 2 class, 1 -> 3 list -> 4, 5 instances
	 * -> 2 (their class); 2 -> 6 class dict -> 7 function -> 1 (globals);
	 * 8 <-> 9 a parent/child pair in the list (3 -> 8), 8 -> 2; 10 -> 10
	 * a list holding itself. World: 0, 1, 2. One full component
	 * {0..9} minus nothing; the cut graph keeps only {8, 9} and {10}. */
	struct edge e[] = {
		{0, 1, 1}, {1, 2, 1}, {1, 3, 1}, {3, 4, 1}, {3, 5, 1}, {4, 2, 1}, {5, 2, 1},
		{2, 6, 1}, {6, 7, 1}, {7, 1, 1}, {3, 8, 1}, {8, 9, 1}, {9, 8, 1}, {8, 2, 1},
		{1, 0, 1}, {10, 10, 1}, {1, 10, 1},
	};
	uint8_t world[11] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	uint32_t row[11], nrow;
	uint8_t self[11], *flags = NULL;
	struct csr c;
	csr_build(&c, 11, e, sizeof(e) / sizeof(e[0]));
	struct pha_error *err = pha_cycle_rows(&c.g, world, row, &nrow, self, &flags);
	CHECK(!err);
	if (!err) {
		uint32_t nonempty = 0;
		for (uint32_t k = 0; k < nrow; k++) {
			int has = 0;
			for (uint32_t v = 0; v < 11; v++)
				has |= row[v] == k;
			nonempty += has;
		}
		CHECK(nonempty == 3);
		CHECK(row[8] == row[9] && flags[row[8]] == PHA_ROW_CYCLIC);
		CHECK(flags[row[10]] == PHA_ROW_CYCLIC && row[10] != row[8]);
		for (uint32_t v = 0; v < 8; v++)
			CHECKF(row[v] == row[0], "object %u not in the module-world row", v);
		CHECK(flags[row[0]] == (PHA_ROW_WORLD | PHA_ROW_CYCLIC));
	}
	free(flags);
	csr_free(&c);
	CASE_END();
}

static void test_random(void)
{
	CASE_BEGIN("scc_random_vs_twins");
	const uint64_t seed = 0x5cc5eed2026ULL;
	rng_state = seed;
	struct edge edges[4 * MAXN + 2];
	for (uint32_t iter = 0; iter < 6000 && !check_case_failed; iter++) {
		uint32_t n = 1 + rng_below(60);
		uint32_t m = random_graph(n, edges, 4 * MAXN + 1);
		struct csr c;
		csr_build(&c, n, edges, m);
		check_graph(&c, seed, iter);
		csr_free(&c);
	}
	CASE_END();
}

static void test_small_cases(void)
{
	struct csr c;
	uint32_t comp[8], ncomp;
	uint8_t self[8];

	CASE_BEGIN("scc_empty_graph");
	csr_build(&c, 0, NULL, 0);
	ncomp = 99;
	struct pha_error *err = pha_scc(&c.g, comp, &ncomp, self);
	CHECK(!err);
	CHECK(ncomp == 0);
	CHECK(!pha_scc_sizes(0, comp, 0, NULL));
	csr_free(&c);
	CASE_END();

	CASE_BEGIN("scc_weak_edge_breaks_cycle");
	{
		/* 0 -> 1 strong, 1 -> 0 weak: two singleton components; 1 is
		 * emitted first (0 reaches it). A weak self loop is no loop. */
		struct edge e[] = { { 0, 1, PHA_EDGE_TRAVERSED }, { 1, 0, PHA_EDGE_WEAK },
				    { 1, 1, PHA_EDGE_WEAK } };
		csr_build(&c, 2, e, 3);
		err = pha_scc(&c.g, comp, &ncomp, self);
		CHECK(!err);
		CHECK(ncomp == 2);
		CHECK(comp[1] == 0 && comp[0] == 1);
		CHECK(self[0] == 0 && self[1] == 0);
		csr_free(&c);
	}
	CASE_END();

	CASE_BEGIN("scc_hand_graph");
	{
		/* 0 -> 1 -> 2 -> 1, 2 -> 3, 3 -> 3, 4 -> 0, 5 isolated.
		 * DFS from 0: 0,1,2,3; 3 finishes first ({3}, self loop) = 0;
		 * then {1,2} = 1; then {0} = 2; DFS from 4: {4} = 3; {5} = 4. */
		struct edge e[] = { { 0, 1, 1 }, { 1, 2, 1 }, { 2, 1, 0 }, { 2, 3, 1 },
				    { 3, 3, 1 }, { 4, 0, 1 } };
		csr_build(&c, 6, e, 6);
		err = pha_scc(&c.g, comp, &ncomp, self);
		CHECK(!err);
		CHECK(ncomp == 5);
		CHECK(comp[3] == 0);
		CHECK(comp[1] == 1 && comp[2] == 1);
		CHECK(comp[0] == 2);
		CHECK(comp[4] == 3);
		CHECK(comp[5] == 4);
		CHECK(self[3] == 1 && self[0] == 0 && self[1] == 0 && self[2] == 0);
		uint32_t sizes[5];
		CHECK(!pha_scc_sizes(6, comp, ncomp, sizes));
		CHECK(sizes[0] == 1 && sizes[1] == 2 && sizes[2] == 1 && sizes[3] == 1 &&
		      sizes[4] == 1);
		csr_free(&c);
	}
	CASE_END();

	CASE_BEGIN("scc_bad_edge_is_error");
	{
		/* A target id beyond n is reported, not followed. */
		struct edge e[] = { { 0, 1, 1 } };
		csr_build(&c, 2, e, 1);
		c.dst[0] = 7;
		err = pha_scc(&c.g, comp, &ncomp, self);
		CHECK(err && err->kind == PHA_ERR_INTERNAL);
		pha_error_destroy(err);
		csr_free(&c);
	}
	CASE_END();

	CASE_BEGIN("scc_sizes_rejects_bad_component");
	{
		uint32_t cm[2] = { 0, 3 }, sizes[2];
		err = pha_scc_sizes(2, cm, 2, sizes);
		CHECK(err && err->kind == PHA_ERR_INTERNAL);
		pha_error_destroy(err);
	}
	CASE_END();
}

#define BIG 1000000u

static void test_big(void)
{
	struct edge *edges = malloc((size_t)(BIG + 1) * sizeof(*edges));
	uint32_t *comp = malloc((size_t)BIG * sizeof(*comp));
	uint8_t *self = malloc(BIG);
	if (!edges || !comp || !self) {
		fprintf(stderr, "test_scc: out of memory\n");
		exit(2);
	}
	struct csr c;
	uint32_t ncomp;
	struct pha_error *err;

	CASE_BEGIN("scc_chain_1M");
	/* 0 -> 1 -> ... -> 999999: DFS depth 1M; the tail is emitted first. */
	for (uint32_t i = 0; i + 1 < BIG; i++)
		edges[i] = (struct edge){ i, i + 1, PHA_EDGE_TRAVERSED };
	csr_build(&c, BIG, edges, BIG - 1);
	err = pha_scc(&c.g, comp, &ncomp, self);
	CHECK(!err);
	CHECK(ncomp == BIG);
	for (uint32_t i = 0; i < BIG && !check_case_failed; i++) {
		CHECKF(comp[i] == BIG - 1 - i, "comp[%u]=%u", i, comp[i]);
		CHECKF(!self[i], "self[%u]", i);
	}
	csr_free(&c);
	CASE_END();

	CASE_BEGIN("scc_reverse_chain_1M");
	/* i+1 -> i: every DFS is one step deep; components in id order. */
	for (uint32_t i = 0; i + 1 < BIG; i++)
		edges[i] = (struct edge){ i + 1, i, PHA_EDGE_TRAVERSED };
	csr_build(&c, BIG, edges, BIG - 1);
	err = pha_scc(&c.g, comp, &ncomp, self);
	CHECK(!err);
	CHECK(ncomp == BIG);
	for (uint32_t i = 0; i < BIG && !check_case_failed; i++)
		CHECKF(comp[i] == i, "comp[%u]=%u", i, comp[i]);
	csr_free(&c);
	CASE_END();

	CASE_BEGIN("scc_cycle_1M");
	/* 0 -> 1 -> ... -> 999999 -> 0: one component, DFS depth 1M. */
	for (uint32_t i = 0; i < BIG; i++)
		edges[i] = (struct edge){ i, (i + 1) % BIG, PHA_EDGE_TRAVERSED };
	csr_build(&c, BIG, edges, BIG);
	err = pha_scc(&c.g, comp, &ncomp, self);
	CHECK(!err);
	CHECK(ncomp == 1);
	for (uint32_t i = 0; i < BIG && !check_case_failed; i++)
		CHECKF(comp[i] == 0, "comp[%u]=%u", i, comp[i]);
	{
		uint32_t size = 0;
		CHECK(!pha_scc_sizes(BIG, comp, ncomp, &size));
		CHECK(size == BIG);
	}
	csr_free(&c);
	CASE_END();

	CASE_BEGIN("scc_cycle_1M_with_weak_closing_edge");
	/* Same cycle but the closing edge is weak: a chain again. */
	for (uint32_t i = 0; i < BIG; i++)
		edges[i] = (struct edge){ i, (i + 1) % BIG,
					  i + 1 == BIG ? PHA_EDGE_WEAK : PHA_EDGE_TRAVERSED };
	csr_build(&c, BIG, edges, BIG);
	err = pha_scc(&c.g, comp, &ncomp, self);
	CHECK(!err);
	CHECK(ncomp == BIG);
	csr_free(&c);
	CASE_END();

	CASE_BEGIN("scc_deterministic_1M");
	/* A random-ish big graph twice: identical numbering. */
	rng_state = 0xde7e2;
	for (uint32_t i = 0; i < BIG; i++)
		edges[i] = (struct edge){ rng_below(BIG), rng_below(BIG),
					  (uint8_t)(rng_below(8) == 0 ? PHA_EDGE_WEAK : 0) };
	csr_build(&c, BIG, edges, BIG);
	{
		uint32_t *comp2 = malloc((size_t)BIG * sizeof(*comp2));
		uint32_t ncomp2;
		CHECK(comp2);
		err = pha_scc(&c.g, comp, &ncomp, NULL);
		CHECK(!err);
		err = pha_scc(&c.g, comp2, &ncomp2, NULL);
		CHECK(!err);
		CHECK(ncomp == ncomp2);
		CHECK(!memcmp(comp, comp2, (size_t)BIG * sizeof(*comp)));
		/* Numbering property on the big graph too. */
		for (uint32_t u = 0; u < BIG && !check_case_failed; u++)
			for (uint32_t e = c.first[u]; e < c.first[u + 1]; e++)
				if (strong(c.eflags[e]) && comp[u] != comp[c.dst[e]])
					CHECKF(comp[c.dst[e]] < comp[u], "edge %u->%u", u, c.dst[e]);
		free(comp2);
	}
	csr_free(&c);
	CASE_END();

	free(edges);
	free(comp);
	free(self);
}

int main(void)
{
	test_small_cases();
	test_random();
	test_rows_hand();
	test_rows_random();
	test_big();
	CHECK_EXIT();
}
