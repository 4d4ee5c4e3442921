/* pha_dominators / pha_retained against a slow, obviously-correct twin:
 * iterative dataflow over dominator sets (Dom(super-root) = {super-root};
 * Dom(v) = {v} ∪ ⋂ Dom(p) over reachable strong predecessors p), on
 * thousands of random graphs, plus million-node chains (no recursion). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/dominators.h"
#include "check.h"
#include "graphgen.h"

/* Slow twin, n <= 63 (the super-root is bit n). */
static void twin(const struct pha_graph *g, const uint32_t *roots, uint32_t nroots,
		 uint32_t *idom)
{
	uint32_t n = g->n;
	uint64_t all = (n + 1 == 64) ? ~0ULL : ((1ULL << (n + 1)) - 1);
	uint64_t dom[64];
	/* Reachability from the super-root first (unreachable: no dominators). */
	uint64_t reach = 1ULL << n;
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t i = 0; i < nroots; i++) {
			if (!(reach >> roots[i] & 1)) {
				reach |= 1ULL << roots[i];
				changed = 1;
			}
		}
		for (uint32_t u = 0; u < n; u++) {
			if (!(reach >> u & 1))
				continue;
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
				if (!(g->eflags[e] & PHA_EDGE_WEAK) && !(reach >> g->dst[e] & 1)) {
					reach |= 1ULL << g->dst[e];
					changed = 1;
				}
			}
		}
	}
	for (uint32_t v = 0; v < n; v++)
		dom[v] = all;
	dom[n] = 1ULL << n;
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t v = 0; v < n; v++) {
			if (!(reach >> v & 1))
				continue;
			uint64_t meet = all;
			for (uint32_t i = 0; i < nroots; i++)
				if (roots[i] == v)
					meet &= dom[n];
			for (uint32_t u = 0; u < n; u++) {
				if (!(reach >> u & 1))
					continue;
				for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
					if (g->dst[e] == v && !(g->eflags[e] & PHA_EDGE_WEAK))
						meet &= dom[u];
			}
			uint64_t nd = meet | (1ULL << v);
			if (nd != dom[v]) {
				dom[v] = nd;
				changed = 1;
			}
		}
	}
	/* idom: the strict dominator with the largest dominator set. */
	for (uint32_t v = 0; v < n; v++) {
		if (!(reach >> v & 1)) {
			idom[v] = PHA_DOM_NONE;
			continue;
		}
		uint64_t strict = dom[v] & ~(1ULL << v);
		uint32_t best = PHA_DOM_NONE;
		int bestcount = -1;
		for (uint32_t d = 0; d <= n; d++) {
			if (strict >> d & 1) {
				int c = __builtin_popcountll(dom[d]);
				if (c > bestcount) {
					bestcount = c;
					best = d;
				}
			}
		}
		idom[v] = best;
	}
}

static void twin_retained(uint32_t n, const uint32_t *idom, const uint64_t *size, uint64_t *ret)
{
	/* retained(v) = sum of sizes of every w whose idom chain passes v. */
	for (uint32_t v = 0; v < n; v++)
		ret[v] = 0;
	for (uint32_t w = 0; w < n; w++) {
		if (idom[w] == PHA_DOM_NONE)
			continue;
		for (uint32_t d = w; d != n; d = idom[d])
			ret[d] += size[w];
	}
}

int main(void)
{
	CASE_BEGIN("dominators_random_vs_twin");
	{
		uint64_t seed = 0x5eed0d0eULL;
		rng_state = seed;
		for (int iter = 0; iter < 5000 && !check_case_failed; iter++) {
			uint32_t n = 1 + rng_below(63);
			uint32_t m = rng_below(4 * n + 1);
			struct edge *edges = xmalloc(m * sizeof(*edges) + 1);
			for (uint32_t i = 0; i < m; i++) {
				edges[i].src = rng_below(n);
				edges[i].dst = rng_below(n);
				edges[i].flags = rng_below(6) == 0 ? PHA_EDGE_WEAK : PHA_EDGE_TRAVERSED;
			}
			/* Sort by source (stable) so CSR keeps list order. */
			struct csr c;
			csr_build(&c, n, edges, m);
			uint32_t nroots = rng_below(n < 4 ? n + 1 : 4);
			uint32_t roots[4];
			for (uint32_t i = 0; i < nroots; i++)
				roots[i] = rng_below(n);
			struct pha_domtree t;
			struct pha_error *err = pha_dominators(&c.g, roots, nroots, &t);
			CHECKF(!err, "iter %d: %s", iter, err ? err->message : "");
			if (!err) {
				uint32_t want[64];
				twin(&c.g, roots, nroots, want);
				for (uint32_t v = 0; v < n; v++) {
					CHECKF(t.idom[v] == want[v],
					       "seed %llx iter %d n %u: idom[%u] = %u, twin %u",
					       (unsigned long long)seed, iter, n, v, t.idom[v], want[v]);
				}
				uint64_t size[64], got[64], exp[64], total = 0, exptotal = 0;
				for (uint32_t v = 0; v < n; v++)
					size[v] = 1 + rng_below(1000);
				pha_retained(&t, size, got, &total);
				twin_retained(n, want, size, exp);
				for (uint32_t v = 0; v < n; v++) {
					CHECKF(got[v] == exp[v], "iter %d: retained[%u] = %llu, twin %llu",
					       iter, v, (unsigned long long)got[v],
					       (unsigned long long)exp[v]);
					if (want[v] != PHA_DOM_NONE)
						exptotal += size[v];
				}
				/* Sum of top-level retained sizes = everything reachable. */
				CHECKF(total == exptotal, "iter %d: total %llu, reachable %llu", iter,
				       (unsigned long long)total, (unsigned long long)exptotal);
				/* Given the in-reference counts (why.c's way): the
				 * same tree, the same preorder. */
				uint32_t *indeg = calloc(n + 2, sizeof(*indeg));
				struct pha_domtree t2;
				CHECK(indeg && !pha_strong_inrefs(&c.g, indeg));
				err = pha_dominators_indeg(&c.g, roots, nroots, indeg, &t2);
				CHECKF(!err, "iter %d: indeg: %s", iter, err ? err->message : "");
				if (!err) {
					CHECKF(t2.norder == t.norder &&
					       !memcmp(t2.idom, t.idom, n * sizeof(*t.idom)) &&
					       !memcmp(t2.order, t.order, t.norder * sizeof(*t.order)),
					       "iter %d: pha_dominators_indeg differs", iter);
					pha_domtree_deinit(&t2);
				}
				pha_error_destroy(err);
				err = NULL;
				pha_domtree_deinit(&t);
			}
			csr_free(&c);
			free(edges);
		}
	}
	CASE_END();

	CASE_BEGIN("dominators_chain_1M");
	{
		/* root -> 0 -> 1 -> ... -> n-1: each node dominates the rest. */
		uint32_t n = 1000000;
		struct edge *edges = xmalloc((n - 1) * sizeof(*edges));
		for (uint32_t i = 0; i + 1 < n; i++)
			edges[i] = (struct edge){.src = i, .dst = i + 1, .flags = PHA_EDGE_TRAVERSED};
		struct csr c;
		csr_build(&c, n, edges, n - 1);
		uint32_t root = 0;
		struct pha_domtree t;
		CHECK(pha_dominators(&c.g, &root, 1, &t) == NULL);
		CHECK(t.idom[0] == n);
		int ok = 1;
		for (uint32_t i = 1; i < n; i++)
			ok &= t.idom[i] == i - 1;
		CHECK(ok);
		uint64_t *size = xmalloc(n * sizeof(*size)), *ret = xmalloc(n * sizeof(*ret)), total;
		for (uint32_t i = 0; i < n; i++)
			size[i] = 2;
		pha_retained(&t, size, ret, &total);
		CHECK(ret[0] == 2ULL * n && ret[n - 1] == 2 && total == 2ULL * n);
		free(size);
		free(ret);
		pha_domtree_deinit(&t);
		csr_free(&c);
		free(edges);
	}
	CASE_END();

	CASE_BEGIN("dominators_cycle_1M_two_entries");
	{
		/* A 1M cycle entered from two roots at nodes 0 and n/2: only the
		 * super-root dominates the entries; others are dominated by their
		 * cycle predecessor up to the next entry. */
		uint32_t n = 1000000;
		struct edge *edges = xmalloc(n * sizeof(*edges));
		for (uint32_t i = 0; i < n; i++)
			edges[i] = (struct edge){.src = i, .dst = (i + 1) % n, .flags = PHA_EDGE_TRAVERSED};
		struct csr c;
		csr_build(&c, n, edges, n);
		uint32_t roots[2] = {0, n / 2};
		struct pha_domtree t;
		CHECK(pha_dominators(&c.g, roots, 2, &t) == NULL);
		CHECK(t.idom[0] == n && t.idom[n / 2] == n);
		int ok = 1;
		for (uint32_t i = 1; i < n; i++)
			if (i != n / 2)
				ok &= t.idom[i] == i - 1;
		CHECK(ok);
		pha_domtree_deinit(&t);
		csr_free(&c);
		free(edges);
	}
	CASE_END();

	CASE_BEGIN("dominators_unreachable_and_weak");
	{
		/* 0 -> 1 strong, 0 -> 2 weak only, 3 isolated: 2 and 3 unreachable. */
		struct edge e[2] = {{0, 1, PHA_EDGE_TRAVERSED}, {0, 2, PHA_EDGE_WEAK}};
		struct csr c;
		csr_build(&c, 4, e, 2);
		uint32_t root = 0;
		struct pha_domtree t;
		CHECK(pha_dominators(&c.g, &root, 1, &t) == NULL);
		CHECK(t.idom[0] == 4 && t.idom[1] == 0);
		CHECK(t.idom[2] == PHA_DOM_NONE && t.idom[3] == PHA_DOM_NONE);
		CHECK(t.norder == 2);
		pha_domtree_deinit(&t);
		csr_free(&c);
	}
	CASE_END();
	CHECK_EXIT();
}
