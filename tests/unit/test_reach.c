/* pha_gc_unreachable: hand-made graphs whose answers are worked out in the
 * comments, a million-object chain (no recursion), and a comparison with a
 * slow fixed-point twin on random graphs with random flags and refcounts.
 *
 * Notation in the comments: "a -> b" is a TRAVERSED edge unless said
 * otherwise; gc_refs(x) = refcnt(x) - (counted edges from candidates to x).
 */
#include "../../analyzer/graph.h"
/* check.h's first comment contains "/" "*": tolerate it until it is fixed. */
#include "check.h"
#include "graphgen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T PHA_EDGE_TRAVERSED
#define W PHA_EDGE_WEAK
#define GC PHA_OBJ_GC
#define PERM PHA_OBJ_PERMANENT
#define IMM PHA_OBJ_IMMORTAL

/* The uncounted guessed references and their sources of the last call of
 * gc_unreachable64 that asked for the negative count. */
static uint64_t last_uncounted, last_nsrc;

/* pha_gc_unreachable with the refcounts as plain uint64_t (the heap keeps
 * them as a struct pha_col: 32 bits, the larger ones aside). */
static struct pha_error *gc_unreachable64(const struct pha_graph *g, const uint8_t *oflags,
					  const uint64_t *refcnt, uint8_t *out, uint64_t *negative)
{
	struct pha_col col = {0};
	if (refcnt) {
		col.v = xmalloc((g->n ? g->n : 1) * sizeof(*col.v));
		for (uint32_t v = 0; v < g->n; v++)
			CHECK(pha_col_set(&col, v, refcnt[v]));
		pha_col_sort(&col);
		for (uint32_t v = 0; v < g->n; v++)
			CHECK(pha_col_get(&col, v) == refcnt[v]);
	}
	struct pha_gc_anomalies anom;
	struct pha_error *err = pha_gc_unreachable(g, oflags, refcnt ? &col : NULL, out,
						   negative ? &anom : NULL);
	if (negative && !err) {
		*negative = anom.negative;
		last_uncounted = anom.uncounted;
		last_nsrc = anom.nsrc_total;
	}
	free(col.v);
	pha_col_free_wide(&col);
	return err;
}

/* Run pha_gc_unreachable on a small hand graph and compare with the
 * expected unreachable flags and negative count. */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HAND(name, edges_, oflags_, refcnt_, expect_, negative_) do { \
	CASE_BEGIN(name); \
	_Static_assert(ARRAY_LEN(oflags_) == ARRAY_LEN(refcnt_), "n mismatch"); \
	_Static_assert(ARRAY_LEN(oflags_) == ARRAY_LEN(expect_), "n mismatch"); \
	run_hand(edges_, ARRAY_LEN(edges_), oflags_, refcnt_, expect_, \
		 (uint32_t)ARRAY_LEN(oflags_), negative_); \
	CASE_END(); } while (0)

static void run_hand(const struct edge *edges, size_t m, const uint8_t *oflags,
		     const uint64_t *refcnt, const uint8_t *expect, uint32_t n,
		     uint64_t negative_expect)
{
	struct csr c;
	csr_build(&c, n, edges, (uint32_t)m);
	uint8_t *out = xmalloc(n);
	memset(out, 0xaa, n);	/* every entry must be written */
	uint64_t negative = 777;
	struct pha_error *err = gc_unreachable64(&c.g, oflags, refcnt, out, &negative);
	CHECKF(!err, "error: %s", err ? err->message : "");
	pha_error_destroy(err);
	for (uint32_t v = 0; v < n; v++)
		CHECKF(out[v] == expect[v], "object %u: unreachable=%u, expected %u",
		       v, out[v], expect[v]);
	CHECKF(negative == negative_expect, "negative=%llu, expected %llu",
	       (unsigned long long)negative, (unsigned long long)negative_expect);
	/* Same answer without negative_ret. */
	memset(out, 0xaa, n);
	err = gc_unreachable64(&c.g, oflags, refcnt, out, NULL);
	CHECK(!err);
	pha_error_destroy(err);
	for (uint32_t v = 0; v < n; v++)
		CHECKF(out[v] == expect[v], "(negative_ret NULL) object %u: unreachable=%u", v, out[v]);
	free(out);
	csr_free(&c);
}

static void test_hand(void)
{
	{
		/* (a) 0 <-> 1, refcnt 1 each, nothing else. gc_refs: 1-1=0 for
		 * both; no seed, so both unreachable. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 1, 1 };
		HAND("reach_a_two_cycle_garbage", e, f, r, x, 0);
	}
	{
		/* (b) As (a) but refcnt(0)=2: gc_refs(0)=1 is a seed; 1 is
		 * reached from 0. Both alive. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 2, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_b_two_cycle_external_ref", e, f, r, x, 0);
	}
	{
		/* (c) A list containing itself, refcnt 1: gc_refs = 1-1 = 0. */
		struct edge e[] = { { 0, 0, T } };
		uint8_t f[] = { GC };
		uint64_t r[] = { 1 };
		uint8_t x[] = { 1 };
		HAND("reach_c_self_reference", e, f, r, x, 0);
	}
	{
		/* (d) Garbage cycle 0 <-> 1 (refcnt 1 each) pointing at 2, which
		 * has refcnt 2 (0's reference + an external one). gc_refs:
		 * 0:0, 1:0, 2:2-1=1. 2 is a seed but points nowhere; the cycle is
		 * not reached from any seed. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T }, { 0, 2, T } };
		uint8_t f[] = { GC, GC, GC };
		uint64_t r[] = { 1, 1, 2 };
		uint8_t x[] = { 1, 1, 0 };
		HAND("reach_d_garbage_cycle_to_live_object", e, f, r, x, 0);
	}
	{
		/* (e) 2 (held externally: refcnt 1, no GC referrer) -> 0, and
		 * 0 <-> 1. refcnt(0)=2 (from 1 and 2), refcnt(1)=1. gc_refs:
		 * 2:1, 0:0, 1:0. Seed 2 reaches 0, which reaches 1: all alive. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T }, { 2, 0, T } };
		uint8_t f[] = { GC, GC, GC };
		uint64_t r[] = { 2, 1, 1 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_e_live_object_into_cycle", e, f, r, x, 0);
	}
	{
		/* (f) 0 is on the permanent generation (GC|PERMANENT, not a
		 * candidate) and references 1, refcnt(1)=1. The edge's source is
		 * not a candidate, so it is not subtracted: gc_refs(1)=1, alive.
		 * 0 itself is no candidate: 0. */
		struct edge e[] = { { 0, 1, T } };
		uint8_t f[] = { GC | PERM, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_f_permanent_referrer_not_subtracted", e, f, r, x, 0);
	}
	{
		/* (f2) Same with a young cycle: permanent 0 -> 1, 1 <-> 2.
		 * refcnt(1)=2 (from 0 and 2), refcnt(2)=1. gc_refs(1)=2-1=1
		 * (only 2's edge subtracted), gc_refs(2)=0; 1 reaches 2: all
		 * alive. */
		struct edge e[] = { { 0, 1, T }, { 1, 2, T }, { 2, 1, T } };
		uint8_t f[] = { GC | PERM, GC, GC };
		uint64_t r[] = { 1, 2, 1 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_f2_permanent_referrer_keeps_cycle", e, f, r, x, 0);
	}
	{
		/* (f3) The referrer is untracked (no PHA_OBJ_GC, e.g. an
		 * untracked tuple): same as permanent, its reference counts as
		 * external. 0 (untracked) -> 1, refcnt(1)=1: alive. Also an
		 * untracked object with refcnt 0 is never reported. */
		struct edge e[] = { { 0, 1, T } };
		uint8_t f[] = { 0, GC, 0 };
		uint64_t r[] = { 1, 1, 0 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_f3_untracked_referrer_not_subtracted", e, f, r, x, 0);
	}
	{
		/* (g) 0 <-> 1 with refcnt 1 each, but 0 is immortal: gc_refs(0)=0
		 * yet immortal objects are seeds; 0 reaches 1. Both alive. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC | IMM, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_g_immortal_small_refcnt", e, f, r, x, 0);
	}
	{
		/* (h) 0 <-> 1, refcnt 1 each, but 0 -> 1 has no TRAVERSED flag
		 * (tp_traverse does not visit it): not subtracted, so
		 * gc_refs(1)=1 (seed) and gc_refs(0)=0; 1 -> 0 reaches 0. */
		struct edge e[] = { { 0, 1, 0 }, { 1, 0, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_h_untraversed_edge_not_subtracted", e, f, r, x, 0);
	}
	{
		/* (h2) Nor does liveness propagate over an untraversed edge.
		 * 0 (refcnt 1, external) -> 1 untraversed; 1 -> 1 (refcnt 1,
		 * the self reference only). gc_refs(0)=1 seed, gc_refs(1)=0;
		 * the only path from 0 to 1 is untraversed: 1 unreachable. */
		struct edge e[] = { { 0, 1, 0 }, { 1, 1, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 1 };
		HAND("reach_h2_no_propagation_over_untraversed", e, f, r, x, 0);
	}
	{
		/* (i) Multiplicity: tuple 0 holds 1 twice, 1 (a list) holds the
		 * tuple. refcnt(0)=1, refcnt(1)=2. gc_refs(1)=2-2=0,
		 * gc_refs(0)=1-1=0: both unreachable. (Counting the tuple's
		 * reference once would wrongly make 1 a seed.) */
		struct edge e[] = { { 0, 1, T }, { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 2 };
		uint8_t x[] = { 1, 1 };
		HAND("reach_i_multiplicity", e, f, r, x, 0);
	}
	{
		/* (i2) Same tuple but refcnt(1)=3: one external reference left,
		 * gc_refs(1)=1, both alive. */
		struct edge e[] = { { 0, 1, T }, { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 3 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_i2_multiplicity_external", e, f, r, x, 0);
	}
	{
		/* (j) Negative gc_refs: 0 -> 1 twice, 1 -> 0, 1 -> 2;
		 * refcnt(0)=1, refcnt(1)=1, refcnt(2)=0. gc_refs: 0:0, 1:1-2=-1,
		 * 2:0-1=-1. Two negatives, counted and treated as seeds; 1
		 * reaches 0. All alive. */
		struct edge e[] = { { 0, 1, T }, { 0, 1, T }, { 1, 0, T }, { 1, 2, T } };
		uint8_t f[] = { GC, GC, GC };
		uint64_t r[] = { 1, 1, 0 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_j_negative_counted_and_alive", e, f, r, x, 2);
	}
	{
		/* (l) Weak edges count for nothing. 0 (refcnt 1, external) ->
		 * 1 with TRAVERSED|WEAK; 1 -> 1, refcnt(1)=1. gc_refs(1)=0 (the
		 * weak edge is not subtracted, the self edge is), and 0's weak
		 * edge does not keep 1 alive: 1 unreachable. */
		struct edge e[] = { { 0, 1, T | W }, { 1, 1, T } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 1 };
		HAND("reach_l_weak_edge_ignored", e, f, r, x, 0);
	}
	{
		/* (l2) 0 <-> 1 where 1 -> 0 is weak; refcnt(0)=1 (a reference
		 * the weak edge does not explain), refcnt(1)=1. gc_refs(0)=1
		 * (weak edge not subtracted), gc_refs(1)=0; 0 -> 1: both alive. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T | W } };
		uint8_t f[] = { GC, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_l2_weak_edge_not_subtracted", e, f, r, x, 0);
	}
	{
		/* (m) Huge refcounts stay positive: 0 <-> 1 <-> 2 (a cycle
		 * 0->1->2->0) with refcnt(0)=UINT64_MAX, refcnt(1)=2^63,
		 * refcnt(2)=2^62. Each loses 1: all still > 0, none negative. A
		 * lone 3 with self edge and refcnt 1 is garbage. */
		struct edge e[] = { { 0, 1, T }, { 1, 2, T }, { 2, 0, T }, { 3, 3, T } };
		uint8_t f[] = { GC, GC, GC, GC };
		uint64_t r[] = { UINT64_MAX, (uint64_t)1 << 63, (uint64_t)1 << 62, 1 };
		uint8_t x[] = { 0, 0, 0, 1 };
		HAND("reach_m_huge_refcnt", e, f, r, x, 0);
	}
	{
		/* (n) Non-candidates are always 0 whatever their refcount: an
		 * untracked object (0) and a permanent one (1) in a 2-cycle with
		 * refcnt 0 each, and a third with only CONSERVATIVE|FAULT. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { 0, GC | PERM, PHA_OBJ_CONSERVATIVE | PHA_OBJ_FAULT };
		uint64_t r[] = { 0, 0, 0 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_n_non_candidates_zero", e, f, r, x, 0);
	}
	{
		/* (o) Other object flags do not matter: a CONSERVATIVE|FAULT GC
		 * object in a garbage 2-cycle is still unreachable. */
		struct edge e[] = { { 0, 1, T }, { 1, 0, T } };
		uint8_t f[] = { GC | PHA_OBJ_CONSERVATIVE | PHA_OBJ_FAULT, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 1, 1 };
		HAND("reach_o_other_flags_irrelevant", e, f, r, x, 0);
	}

	{
		/* (p) A C struct's stale copy (multidict after a deletion: the
		 * spare slot still holds the moved pair): conservative 0 -> 1
		 * twice, refcnt(1)=1. The first guess takes gc_refs(1) to 0,
		 * the second is not counted (not a negative); 0 (refcnt 1, an
		 * outside reference) keeps 1 alive. */
		struct edge e[] = { { 0, 1, T }, { 0, 1, T } };
		uint8_t f[] = { GC | PHA_OBJ_CONSERVATIVE, GC };
		uint64_t r[] = { 1, 1 };
		uint8_t x[] = { 0, 0 };
		HAND("reach_p_stale_guess_not_negative", e, f, r, x, 0);
		CHECK(last_uncounted == 1 && last_nsrc == 1);
	}
	{
		/* (q) Exact references are subtracted before guesses: 0
		 * (conservative) -> 2 and 1 (exact) -> 2, refcnt(2)=1. The exact
		 * one takes gc_refs(2) to 0, the guess is dropped; 0 and 1 hold
		 * nothing else and have refcnt 1 (outside): all alive. */
		struct edge e[] = { { 0, 2, T }, { 1, 2, T } };
		uint8_t f[] = { GC | PHA_OBJ_CONSERVATIVE, GC, GC };
		uint64_t r[] = { 1, 1, 1 };
		uint8_t x[] = { 0, 0, 0 };
		HAND("reach_q_exact_before_guess", e, f, r, x, 0);
		CHECK(last_uncounted == 1 && last_nsrc == 1);
	}
	{
		/* (r) A garbage cycle through a C object with a stale copy:
		 * 0 (conservative) -> 1 twice, 1 -> 0, refcnt 1 each. gc_refs
		 * 0 for both once the copy is dropped: both unreachable, as the
		 * collector (whose tp_traverse visits the pair once) finds. An
		 * exact negative is still one: 1 -> 2 twice, refcnt(2)=1. */
		struct edge e[] = { { 0, 1, T }, { 0, 1, T }, { 1, 0, T }, { 1, 2, T }, { 1, 2, T } };
		uint8_t f[] = { GC | PHA_OBJ_CONSERVATIVE, GC, GC };
		uint64_t r[] = { 1, 1, 1 };
		uint8_t x[] = { 1, 1, 0 };
		HAND("reach_r_stale_guess_in_garbage", e, f, r, x, 1);
		CHECK(last_uncounted == 1 && last_nsrc == 1);
	}

	CASE_BEGIN("reach_empty_graph");
	{
		struct csr c;
		csr_build(&c, 0, NULL, 0);
		uint64_t negative = 5;
		struct pha_error *err = gc_unreachable64(&c.g, NULL, NULL, NULL, &negative);
		CHECK(!err);
		CHECK(negative == 0);
		csr_free(&c);
	}
	CASE_END();

	CASE_BEGIN("reach_bad_edge_is_error");
	{
		struct edge e[] = { { 0, 1, T } };
		uint8_t f[] = { GC, GC }, out[2];
		uint64_t r[] = { 1, 1 };
		struct csr c;
		csr_build(&c, 2, e, 1);
		c.dst[0] = 9;
		struct pha_error *err = gc_unreachable64(&c.g, f, r, out, NULL);
		CHECK(err && err->kind == PHA_ERR_INTERNAL);
		pha_error_destroy(err);
		csr_free(&c);
	}
	CASE_END();
}

/* ---- (k) a million-object chain hanging off a garbage cycle ---- */

#define BIG 1000000u

static void test_chain(void)
{
	/* Objects: A=0 and B=1 form the cycle A <-> B; the chain c_0 .. c_{BIG-1}
	 * gets ids in reverse (c_i = BIG+1-i), so it runs against id order:
	 * A -> c_0 -> c_1 -> ... Every object's refcnt is 1 (its one referrer). */
	const uint32_t n = BIG + 2;
	struct edge *edges = xmalloc((size_t)(BIG + 2) * sizeof(*edges));
	uint8_t *f = xmalloc(n), *out = xmalloc(n);
	uint64_t *r = xmalloc((size_t)n * sizeof(*r));
	uint32_t m = 0;
	edges[m++] = (struct edge){ 0, 1, T };
	edges[m++] = (struct edge){ 1, 0, T };
	edges[m++] = (struct edge){ 0, BIG + 1, T };
	for (uint32_t i = 0; i + 1 < BIG; i++)
		edges[m++] = (struct edge){ BIG + 1 - i, BIG - i, T };
	struct csr c;
	csr_build(&c, n, edges, m);
	memset(f, GC, n);
	for (uint32_t v = 0; v < n; v++)
		r[v] = 1;
	uint64_t negative;
	struct pha_error *err;

	CASE_BEGIN("reach_k_chain_1M_garbage");
	/* All gc_refs are 0: no seed, everything unreachable. */
	err = gc_unreachable64(&c.g, f, r, out, &negative);
	CHECK(!err);
	CHECK(negative == 0);
	for (uint32_t v = 0; v < n && !check_case_failed; v++)
		CHECKF(out[v] == 1, "object %u alive", v);
	CASE_END();

	CASE_BEGIN("reach_k_chain_1M_head_held");
	/* c_0 gets an external reference (refcnt 2, gc_refs 1): the whole
	 * chain is alive by propagation; the cycle A <-> B stays unreachable
	 * (nothing alive points into it). */
	r[BIG + 1] = 2;
	err = gc_unreachable64(&c.g, f, r, out, &negative);
	CHECK(!err);
	CHECK(out[0] == 1 && out[1] == 1);
	for (uint32_t v = 2; v < n && !check_case_failed; v++)
		CHECKF(out[v] == 0, "chain object %u unreachable", v);
	r[BIG + 1] = 1;
	CASE_END();

	CASE_BEGIN("reach_k_chain_1M_cycle_held");
	/* B gets an external reference: B -> A -> c_0 -> ... all alive. */
	r[1] = 2;
	err = gc_unreachable64(&c.g, f, r, out, &negative);
	CHECK(!err);
	for (uint32_t v = 0; v < n && !check_case_failed; v++)
		CHECKF(out[v] == 0, "object %u unreachable", v);
	CASE_END();

	csr_free(&c);
	free(edges);
	free(f);
	free(out);
	free(r);
}

/* ---- random graphs against a slow twin ---- */

#define MAXN 60

static int twin_candidate(uint8_t f)
{
	return (f & PHA_OBJ_GC) && !(f & PHA_OBJ_PERMANENT);
}

static int twin_counted(uint8_t ef)
{
	return (ef & PHA_EDGE_TRAVERSED) && !(ef & PHA_EDGE_WEAK);
}

/* The definition, literally: count referrers per object by scanning every
 * edge, compare as unsigned numbers, then grow the alive set until nothing
 * changes. */
static void twin(const struct pha_graph *g, const uint8_t *oflags, const uint64_t *refcnt,
		 uint8_t *unreachable, uint64_t *negative, uint64_t *uncounted)
{
	uint32_t n = g->n;
	uint64_t exact[MAXN] = { 0 }, guess[MAXN] = { 0 };
	uint8_t alive[MAXN] = { 0 };
	for (uint32_t u = 0; u < n; u++)
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
			if (twin_candidate(oflags[u]) && twin_counted(g->eflags[e])) {
				if (oflags[u] & PHA_OBJ_CONSERVATIVE)
					guess[g->dst[e]]++;
				else
					exact[g->dst[e]]++;
			}
	*negative = *uncounted = 0;
	for (uint32_t v = 0; v < n; v++) {
		if (!twin_candidate(oflags[v]))
			continue;
		/* Guesses count only as far as the refcount allows. */
		uint64_t left;
		if (refcnt[v] < exact[v]) {
			(*negative)++;
			*uncounted += guess[v];
			alive[v] = 1;
			continue;
		}
		left = refcnt[v] - exact[v];
		if (guess[v] > left) {
			*uncounted += guess[v] - left;
			left = 0;
		} else {
			left -= guess[v];
		}
		if (left || (oflags[v] & PHA_OBJ_IMMORTAL))
			alive[v] = 1;
	}
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t u = 0; u < n; u++)
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
				uint32_t w = g->dst[e];
				if (twin_candidate(oflags[u]) && alive[u] &&
				    twin_counted(g->eflags[e]) && twin_candidate(oflags[w]) &&
				    !alive[w]) {
					alive[w] = 1;
					changed = 1;
				}
			}
	}
	for (uint32_t v = 0; v < n; v++)
		unreachable[v] = twin_candidate(oflags[v]) && !alive[v];
}

static void test_random(void)
{
	CASE_BEGIN("reach_random_vs_twin");
	const uint64_t seed = 0x9cc0113c7ULL;
	rng_state = seed;
	struct edge edges[4 * MAXN + 1];
	uint8_t oflags[MAXN], out[MAXN], expect[MAXN];
	uint64_t refcnt[MAXN], found[MAXN];
	uint64_t unreachable_total = 0, objects_total = 0, negative_total = 0, uncounted_total = 0;
	for (uint32_t iter = 0; iter < 8000 && !check_case_failed; iter++) {
		uint32_t n = 1 + rng_below(MAXN);
		uint32_t m = rng_below(4 * n + 1);
		uint32_t pct_t = 50 + rng_below(51), pct_w = rng_below(3) ? rng_below(15) : 0;
		for (uint32_t i = 0; i < m; i++) {
			uint32_t u = rng_below(n), v;
			if (rng_below(10) == 0)
				v = u;	/* self reference */
			else if (i > 0 && rng_below(8) == 0)
				u = edges[i - 1].src, v = edges[i - 1].dst;	/* repeated reference */
			else
				v = rng_below(n);
			uint8_t ef = 0;
			if (rng_below(100) < pct_t)
				ef |= T;
			if (rng_below(100) < pct_w)
				ef |= W;
			edges[i] = (struct edge){ u, v, ef };
		}
		for (uint32_t v = 0; v < n; v++) {
			uint32_t k = rng_below(100);
			oflags[v] = (uint8_t)(k < 85 ? GC : k < 92 ? GC | PERM : k < 96 ? 0 : GC | IMM);
			if (rng_below(20) == 0)
				oflags[v] |= PHA_OBJ_CONSERVATIVE;
			if (rng_below(20) == 0)
				oflags[v] |= PHA_OBJ_FAULT;
		}
		struct csr c;
		csr_build(&c, n, edges, m);
		/* Refcounts near the number of counted referrers, so that all
		 * outcomes (garbage, external refs, negative) are common. */
		memset(found, 0, sizeof(found));
		for (uint32_t i = 0; i < m; i++)
			if (twin_candidate(oflags[edges[i].src]) && twin_counted(edges[i].flags))
				found[edges[i].dst]++;
		for (uint32_t v = 0; v < n; v++) {
			uint32_t k = rng_below(100);
			if (k < 3) {
				static const uint64_t huge[] = { UINT64_MAX, (uint64_t)1 << 63,
								 (uint64_t)1 << 62,
								 ((uint64_t)1 << 62) - 1,
								 (uint64_t)INT64_MAX + 1 };
				refcnt[v] = huge[rng_below(5)];
			} else if (k < 70) {
				refcnt[v] = found[v];
			} else if (k < 88) {
				refcnt[v] = found[v] + 1 + rng_below(2);
			} else {
				refcnt[v] = found[v] >= 1 ? found[v] - 1 : 0;
			}
		}
		uint64_t neg = 12345, neg_expect, unc_expect;
		last_uncounted = 12345;
		memset(out, 0xaa, sizeof(out));
		struct pha_error *err = gc_unreachable64(&c.g, oflags, refcnt, out,
							  rng_below(4) ? &neg : NULL);
		twin(&c.g, oflags, refcnt, expect, &neg_expect, &unc_expect);
		CHECKF(!err, "seed %llu iter %u: error %s", (unsigned long long)seed, iter,
		       err ? err->message : "");
		pha_error_destroy(err);
		for (uint32_t v = 0; v < n; v++)
			CHECKF(out[v] == expect[v],
			       "seed %llu iter %u n %u m %u: object %u unreachable=%u, twin %u",
			       (unsigned long long)seed, iter, n, m, v, out[v], expect[v]);
		CHECKF(neg == 12345 || neg == neg_expect,
		       "seed %llu iter %u: negative %llu, twin %llu", (unsigned long long)seed,
		       iter, (unsigned long long)neg, (unsigned long long)neg_expect);
		CHECKF(neg == 12345 || last_uncounted == unc_expect,
		       "seed %llu iter %u: uncounted %llu, twin %llu", (unsigned long long)seed,
		       iter, (unsigned long long)last_uncounted, (unsigned long long)unc_expect);
		uncounted_total += unc_expect;
		for (uint32_t v = 0; v < n; v++)
			unreachable_total += expect[v];
		objects_total += n;
		negative_total += neg_expect;
		csr_free(&c);
	}
	/* The generator must exercise both outcomes substantially. */
	CHECKF(unreachable_total > objects_total / 20 && unreachable_total < objects_total / 2 &&
	       negative_total > 100 && uncounted_total > 100,
	       "weak generator: %llu unreachable of %llu objects, %llu negative, %llu uncounted",
	       (unsigned long long)unreachable_total, (unsigned long long)objects_total,
	       (unsigned long long)negative_total, (unsigned long long)uncounted_total);
	CASE_END();
}

int main(void)
{
	test_hand();
	test_chain();
	test_random();
	CHECK_EXIT();
}
