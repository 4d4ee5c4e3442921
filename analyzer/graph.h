/* The object graph as the algorithms see it: dense uint32_t ids, forward
 * edges in CSR form, one flag byte per edge and per object.
 *
 * Every algorithm here is iterative (explicit stacks): Python heaps contain
 * million-long chains, and recursion proportional to the heap would
 * overflow the C stack.
 */
#ifndef PHA_GRAPH_H
#define PHA_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Edge flags. */
enum {
	/* CPython's tp_traverse of the source visits this reference, so the
	 * cycle collector subtracts it from the target's refcount. */
	PHA_EDGE_TRAVERSED = 1u << 0,
	/* A weak reference (weakref.ref's referent): not a strong reference;
	 * ignored by reachability, SCC and (later) dominators. */
	PHA_EDGE_WEAK = 1u << 1,
};

/* Object flags. */
enum {
	PHA_OBJ_GC = 1u << 0,		/* on a GC generation list 0..2 (what gc.get_objects() lists) */
	PHA_OBJ_PERMANENT = 1u << 1,	/* on the permanent generation (gc.freeze()) */
	PHA_OBJ_IMMORTAL = 1u << 2,	/* immortal refcount (3.12+) */
	PHA_OBJ_CONSERVATIVE = 1u << 3,	/* referents found by scanning memory (unknown type) */
	PHA_OBJ_FAULT = 1u << 4,	/* some of its memory could not be read */
	PHA_OBJ_FINALIZER = 1u << 5,	/* its type has a finalizer (tp_finalize or tp_del) */
};

/* A value per object that nearly always fits 32 bits (sizes, refcounts:
 * 8 bytes an object saved over uint64_t): v[id], or PHA_COL_WIDE there and
 * the value in wide[] (sorted by id, binary-searched; UINT32_MAX itself is
 * wide too). Filled by pha_col_set, then pha_col_sort (heap.c). */
#define PHA_COL_WIDE UINT32_MAX
struct pha_col_wide {
	uint32_t id;
	uint64_t v;
};
struct pha_col {
	uint32_t *v;
	struct pha_col_wide *wide;
	size_t nwide, capwide;
};

uint64_t pha_col_wide_get(const struct pha_col *c, uint32_t id);

static inline uint64_t pha_col_get(const struct pha_col *c, uint32_t id)
{
	uint32_t x = c->v[id];
	return x != PHA_COL_WIDE ? x : pha_col_wide_get(c, id);
}

bool pha_col_set_wide(struct pha_col *c, uint32_t id, uint64_t v);

/* Sets id's value (each id once); false when out of memory. */
static inline bool pha_col_set(struct pha_col *c, uint32_t id, uint64_t v)
{
	if (v < PHA_COL_WIDE) {
		c->v[id] = (uint32_t)v;
		return true;
	}
	return pha_col_set_wide(c, id, v);
}
/* Sorts wide[] by id (once every value is set). */
void pha_col_sort(struct pha_col *c);
/* Frees wide[] (v is its owner's to free). */
void pha_col_free_wide(struct pha_col *c);

struct pha_graph {
	uint32_t n;			/* number of objects */
	const uint32_t *first;		/* n+1 entries: edges of v are [first[v], first[v+1]) */
	const uint32_t *dst;		/* first[n] entries */
	const uint8_t *eflags;		/* first[n] entries, PHA_EDGE_* */
};

/* Strongly connected components over the strong edges (every edge without
 * PHA_EDGE_WEAK). comp_ret[v] gets a component number in 0..*ncomp_ret-1;
 * numbering is deterministic for a given graph (Tarjan order: a component is
 * numbered before every component that can reach it).
 * self_loop_ret (optional, n entries) gets 1 for objects with a strong edge
 * to themselves. */
struct pha_error *pha_scc(const struct pha_graph *g, uint32_t *comp_ret,
			  uint32_t *ncomp_ret, uint8_t *self_loop_ret);

/* pha_scc on the graph without the edges into objects with cut[v] != 0
 * (cut: n entries, or NULL for none; a cut object's self-loop is cut too). */
struct pha_error *pha_scc_cut(const struct pha_graph *g, const uint8_t *cut, uint32_t *comp_ret,
			      uint32_t *ncomp_ret, uint8_t *self_loop_ret);

/* Row flags of pha_cycle_rows. */
enum {
	PHA_ROW_CYCLIC = 1u << 0,	/* a cycle: a row of cycles[] */
	PHA_ROW_WORLD = 1u << 1,	/* a module-world row (else a user row) */
};

/* The rows of the cycles table (formats/REPORT.md, "cycles[]"), given
 * world[v] != 0 for the module world's objects (type objects, modules,
 * module namespaces):
 *   Q = SCCs of the graph without the edges INTO world objects (no world
 *       object is in a Q cycle); a Q component is a user cycle if it has
 *       two members or more, or one (non-world) member with a self-loop;
 *   P = SCCs of the full graph (pha_scc).
 * Every object v gets one row: its Q component if that is a user cycle;
 * else, if its P component holds a world object, the module-world row of
 * that P component (its members outside user cycles: the world objects
 * and what only they tie together), cyclic when the P component is
 * (two members or more, or a self-loop); else its P component (equal to
 * its Q component, trivial). So the cyclic rows partition exactly the
 * objects that lie on cycles of the full graph.
 * row_ret (n entries) gets rows in 0..*nrow_ret-1, deterministic for a
 * given graph; rows are numbered without renumbering, so some have no
 * object (and no flags); *row_flags_ret (pha_big_*, nrow entries, the
 * caller frees it with pha_big_free) the PHA_ROW_* flags of each;
 * self_loop_ret (n entries, required) as pha_scc's on the full graph.
 * O(V + E), iterative. */
struct pha_error *pha_cycle_rows(const struct pha_graph *g, const uint8_t *world,
				 uint32_t *row_ret, uint32_t *nrow_ret, uint8_t *self_loop_ret,
				 uint8_t **row_flags_ret);

/* Size of each component: size_ret (ncomp entries) gets the number of v in
 * 0..n-1 with comp[v] == c. Fails (PHA_ERR_INTERNAL) if some comp[v] >= ncomp. */
struct pha_error *pha_scc_sizes(uint32_t n, const uint32_t *comp, uint32_t ncomp,
				uint32_t *size_ret);

/* CPython's cycle-collector arithmetic on a snapshot, as a full
 * gc.collect() would do it:
 *   candidates = objects with PHA_OBJ_GC (not permanent);
 *   gc_refs(x) = refcnt(x) - number of PHA_EDGE_TRAVERSED edges from
 *                candidates to x (counted with multiplicity; guessed ones
 *                capped, see below);
 *   alive      = candidates with gc_refs > 0 or PHA_OBJ_IMMORTAL, plus every
 *                candidate reachable from them over TRAVERSED edges;
 *   unreachable = candidates - alive.
 * unreachable_ret[v] is set to 1 for unreachable objects, 0 otherwise.
 *
 * The edges of PHA_OBJ_CONSERVATIVE sources are guesses (words of a C
 * struct that point at objects): they are subtracted after the others and
 * only while the target's gc_refs stays >= 0. One that would take it below
 * is proven not to be an owned reference (a stale copy left in a C
 * struct's spare slots, a borrowed pointer) and is not counted.
 * *anom_ret (optional) tells what did not add up. */
#define PHA_GC_SRC_MAX 4
struct pha_gc_anomalies {
	/* Candidates whose gc_refs came out < 0 from exact edges alone (more
	 * references found than the refcount allows: a sign of a wrong layout
	 * or a core taken mid-update); they are treated as alive. */
	uint64_t negative;
	uint32_t nneg;		/* the first PHA_GC_SRC_MAX of those candidates */
	uint32_t neg[PHA_GC_SRC_MAX];
	/* Guessed references not counted, the number of their sources, and
	 * the first PHA_GC_SRC_MAX of those sources. */
	uint64_t uncounted;
	uint64_t nsrc_total;
	uint32_t nsrc;
	uint32_t src[PHA_GC_SRC_MAX];
};
struct pha_error *pha_gc_unreachable(const struct pha_graph *g, const uint8_t *oflags,
				     const struct pha_col *refcnt, uint8_t *unreachable_ret,
				     struct pha_gc_anomalies *anom_ret);

/* What that gc.collect() frees: the unreachable objects and every object
 * only they keep alive (a str, an int, an untracked dict... referenced
 * from garbage only), cascades included (a GC object that only a non-GC
 * object of the garbage holds is alive for the collector's arithmetic,
 * but freed when that holder goes). An object is freed iff no alive
 * object reaches it over strong (not PHA_EDGE_WEAK) edges, traversed or
 * not, where the alive seeds are the objects whose refcount exceeds the
 * strong references found to them from any object (held by C code, a
 * frame, an interpreter root), immortal objects and the permanent
 * generation. inref: pha_strong_inrefs' counts. freed_ret[v] gets 1
 * for freed objects, 0 otherwise; unreachable objects are always freed. */
struct pha_error *pha_gc_freed(const struct pha_graph *g, const uint8_t *oflags,
			       const struct pha_col *refcnt, const uint8_t *unreachable,
			       const uint32_t *inref, uint8_t *freed_ret);

/* inref_ret[v] (n entries, zeroed by the caller): the strong (not
 * PHA_EDGE_WEAK) references to v from any object, multiplicity counted,
 * saturating at UINT32_MAX. */
struct pha_error *pha_strong_inrefs(const struct pha_graph *g, uint32_t *inref_ret);

#endif
