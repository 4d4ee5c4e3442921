/* CPython's cycle-collector arithmetic (gc.collect() over all generations)
 * applied to a snapshot of the object graph.
 *
 * Only edges with PHA_EDGE_TRAVERSED and without PHA_EDGE_WEAK count, both
 * for the subtraction and for the propagation. A reference whose source is
 * not a candidate (untracked, permanent generation) is not subtracted: as in
 * CPython it is a reference from outside the collected set. The edges of
 * conservatively scanned objects are guesses, subtracted last and never
 * below zero (graph.h).
 *
 * Memory: gc_refs as int64 (8 bytes per object), freed before the
 * propagation stack (4 bytes per object) is allocated. No recursion.
 */
#include "bigmem.h"
#include "graph.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Refcounts at or above this are "huge": kept positive whatever is
 * subtracted (an edge count is below 2^32). */
#define HUGE_REFCNT ((uint64_t)1 << 62)

static inline int is_candidate(uint8_t f)
{
	return (f & (PHA_OBJ_GC | PHA_OBJ_PERMANENT)) == PHA_OBJ_GC;
}

static inline int counts(uint8_t ef)
{
	return (ef & (PHA_EDGE_TRAVERSED | PHA_EDGE_WEAK)) == PHA_EDGE_TRAVERSED;
}

static struct pha_error *bad_edge(uint32_t e, uint32_t v, uint32_t w, uint32_t n)
{
	return pha_error_create(PHA_ERR_INTERNAL,
				"gc arithmetic: edge %u of object %u points to %u, "
				"beyond the %u objects", e, v, w, n);
}

/* Subtracts the counted edges of candidate sources whose PHA_OBJ_CONSERVATIVE
 * flag equals guessed: all of them (exact sources), or, for guessed
 * sources, only while the target's gc_refs is above 0, counting the rest
 * in *anom. */
static struct pha_error *subtract(const struct pha_graph *g, const uint8_t *oflags,
				  int64_t *gc_refs, bool guessed, struct pha_gc_anomalies *anom)
{
	const uint32_t n = g->n;
	for (uint32_t v = 0; v < n; v++) {
		if (!is_candidate(oflags[v]) || !(oflags[v] & PHA_OBJ_CONSERVATIVE) != !guessed)
			continue;
		bool dropped = false;
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
			if (!counts(g->eflags[e]))
				continue;
			uint32_t w = g->dst[e];
			if (w >= n)
				return bad_edge(e, v, w, n);
			if (!is_candidate(oflags[w]))
				continue;
			if (!guessed || gc_refs[w] > 0) {
				gc_refs[w]--;
			} else {
				anom->uncounted++;
				dropped = true;
			}
		}
		if (dropped && anom->nsrc < PHA_GC_SRC_MAX)
			anom->src[anom->nsrc++] = v;
		anom->nsrc_total += dropped;
	}
	return NULL;
}

struct pha_error *pha_gc_unreachable(const struct pha_graph *g, const uint8_t *oflags,
				     const struct pha_col *refcnt, uint8_t *unreachable_ret,
				     struct pha_gc_anomalies *anom_ret)
{
	const uint32_t n = g->n;
	const uint32_t *first = g->first, *dst = g->dst;
	const uint8_t *eflags = g->eflags;
	struct pha_gc_anomalies anom = {0};

	if (anom_ret)
		*anom_ret = anom;
	if (n == 0)
		return NULL;

	/* 1. gc_refs = refcnt - references from candidates: the exact ones,
	 * then the guessed ones (conservative scans) as far as the refcount
	 * allows. A word a scan took for a reference that makes gc_refs
	 * negative is proven not to be owned (a stale copy, a borrowed
	 * pointer); an exact reference that does is a walker's mistake. */
	int64_t *gc_refs = pha_big_malloc((size_t)n * sizeof(*gc_refs));
	if (!gc_refs)
		return &pha_enomem;
	for (uint32_t v = 0; v < n; v++) {
		uint64_t r = pha_col_get(refcnt, v);
		gc_refs[v] = r >= HUGE_REFCNT ? (int64_t)HUGE_REFCNT : (int64_t)r;
	}
	struct pha_error *err = subtract(g, oflags, gc_refs, false, &anom);
	if (!err)
		err = subtract(g, oflags, gc_refs, true, &anom);
	if (err) {
		pha_big_free(gc_refs);
		return err;
	}

	/* 2. Tentatively unreachable: candidates with gc_refs == 0 that are not
	 * immortal. Everything else (non-candidates included) is 0 here; the
	 * candidates among them are the alive seeds. */
	for (uint32_t v = 0; v < n; v++) {
		uint8_t f = oflags[v];
		unreachable_ret[v] = 0;
		if (!is_candidate(f))
			continue;
		if (gc_refs[v] < 0) {
			anom.negative++;
			if (anom.nneg < PHA_GC_SRC_MAX)
				anom.neg[anom.nneg++] = v;
		}
		else if (gc_refs[v] == 0 && !(f & PHA_OBJ_IMMORTAL))
			unreachable_ret[v] = 1;
	}
	pha_big_free(gc_refs);
	if (anom_ret)
		*anom_ret = anom;

	/* 3. Everything reachable from an alive candidate over counted edges is
	 * alive. Each object enters the stack at most once. */
	uint32_t *stack = pha_big_malloc((size_t)n * sizeof(*stack));
	if (!stack)
		return &pha_enomem;
	size_t sp = 0;
	for (uint32_t v = 0; v < n; v++)
		if (is_candidate(oflags[v]) && !unreachable_ret[v])
			stack[sp++] = v;
	while (sp) {
		uint32_t v = stack[--sp];
		for (uint32_t e = first[v]; e < first[v + 1]; e++) {
			if (!counts(eflags[e]))
				continue;
			uint32_t w = dst[e];
			if (w >= n) {
				pha_big_free(stack);
				return bad_edge(e, v, w, n);
			}
			if (unreachable_ret[w]) {
				unreachable_ret[w] = 0;
				stack[sp++] = w;
			}
		}
	}
	pha_big_free(stack);
	return NULL;
}

struct pha_error *pha_strong_inrefs(const struct pha_graph *g, uint32_t *inref)
{
	const uint32_t n = g->n;
	for (uint32_t v = 0; v < n; v++) {
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
			uint32_t w = g->dst[e];
			if (w >= n)
				return bad_edge(e, v, w, n);
			if (!(g->eflags[e] & PHA_EDGE_WEAK) && inref[w] < UINT32_MAX)
				inref[w]++;
		}
	}
	return NULL;
}

/* Seeds, then a depth-first marking over strong edges. freed_ret doubles
 * as the mark (1 = not reached yet). */
struct pha_error *pha_gc_freed(const struct pha_graph *g, const uint8_t *oflags,
			       const struct pha_col *refcnt, const uint8_t *unreachable,
			       const uint32_t *inref, uint8_t *freed_ret)
{
	const uint32_t n = g->n;
	const uint32_t *first = g->first, *dst = g->dst;
	const uint8_t *eflags = g->eflags;
	if (n == 0)
		return NULL;
	for (uint32_t v = 0; v < n; v++) {
		uint8_t f = oflags[v];
		bool seed;
		if (unreachable[v])
			seed = false;
		else if (f & (PHA_OBJ_IMMORTAL | PHA_OBJ_PERMANENT))
			seed = true;
		else
			seed = pha_col_get(refcnt, v) > inref[v];
		freed_ret[v] = !seed;
	}
	uint32_t *stack = pha_big_malloc((size_t)n * sizeof(*stack));
	if (!stack)
		return &pha_enomem;
	size_t sp = 0;
	for (uint32_t v = 0; v < n; v++)
		if (!freed_ret[v])
			stack[sp++] = v;
	while (sp) {
		uint32_t v = stack[--sp];
		for (uint32_t e = first[v]; e < first[v + 1]; e++) {
			uint32_t w = dst[e];
			if (!(eflags[e] & PHA_EDGE_WEAK) && freed_ret[w] && !unreachable[w]) {
				freed_ret[w] = 0;
				stack[sp++] = w;
			}
		}
	}
	pha_big_free(stack);
	return NULL;
}
