/* Private to the why-is-it-alive phase (why.c, suspects.c): the state its
 * steps share and the helpers both files use. */
#ifndef PHA_WHY_INT_H
#define PHA_WHY_INT_H

#include "dominators.h"
#include "report.h"

#define UNSEEN UINT32_MAX
#define ROOT (UINT32_MAX - 1)
/* A path longer than this keeps its first and last PATH_KEEP/2 elements. */
#define PATH_MAX_ELEMS PHA_PATH_MAX_ELEMS
#define SUSPECTS_MAX 10
#define UNEXPLAINED_MAX 20
#define HELD_MAX 50
/* A missing Py_DECREF leaks once per call of the code path that has it:
 * thousands of objects of one type. What the interpreter and C modules
 * hold on purpose (module state, caches, singletons, the few objects a
 * type keeps) is a handful to a few hundred per type. So a group of
 * objects held from outside is a suspect when it has at least
 * LEAK_MIN_OBJECTS members, or at least LEAK_MIN_BIG members retaining
 * the suspect threshold of the heap; type objects and module definitions
 * never are. */
#define LEAK_MIN_OBJECTS 1000
#define LEAK_MIN_BIG 100
/* A "pass-through" object: one dominator-tree child retains >= 90% of
 * it; the child, not it, is where things accumulate. */
#define PASS_NUM 9
#define PASS_DEN 10

/* Unexplained references of one report type: objects no root reaches
 * whose refcount exceeds the references found (types: how many of them
 * are type objects). */
struct unexp {
	uint32_t group;
	uint64_t objects, excess, bytes, retained, types;
	uint64_t native;	/* native memory its objects' subtrees own */
	uint32_t example;
};

/* What the steps of pha_why_build share; ctx_deinit frees the scratch. */
struct ctx {
	struct pha_source *src;
	const struct pha_heap *h;
	const struct pha_report_options *opts;
	const uint32_t *group_of;
	struct pha_report *r;
	size_t ngroups;		/* entries of the per-report-type arrays (at least 1) */
	uint32_t *parent;	/* BFS parent; ROOT for roots; UNSEEN */
	uint32_t *queue;	/* BFS queue: [qh, qt) still to visit */
	uint32_t qh, qt;
	uint32_t *rootsrc;	/* per root id: sorted pairs (id, source index) */
	uint32_t nrootsrc;
	/* Per id, what roots it and where it is in the dominator tree (one
	 * byte, issue 12): the low two bits the interpreter root kind
	 * (why_iroot), WHY_EXT held from outside Python (why_ext), WHY_TREE
	 * and WHY_TOP. */
	uint8_t *rootk;
	/* per id: strong references found (phases 1-2); n + 2 entries, handed
	 * to pha_dominators_indeg in phase 3 as its reverse index */
	uint32_t *inref;
	struct unexp *ux;	/* per report type; then the suspect groups, in order */
	size_t nux;
	uint64_t *retained;
	/* With a memory section that found native memory beyond
	 * sys.getsizeof (procmem's native_ids/native_bytes): per id the part
	 * of it its dominator subtree owns, and the heap's total; NULL/0
	 * otherwise. Suspects and top retainers weigh retained + nret. */
	uint64_t *nret;
	uint64_t native_total;
	struct pha_domtree tree;
	uint32_t *cfirst, *cchild;	/* dominator-tree children; node n = super-root
					 * (cchild: the tree's preorder array, bigmem.h) */
	uint64_t *tret;		/* per report type: retained bytes (MAT's rule) */
	uint32_t *top, *acc;	/* top retainers and accumulation points, best first */
	size_t ntop, nacc, k;	/* k: capacity of top */
};

/* What an object keeps alive: its retained size and the native memory its
 * subtree owns. */
/* WHY_TREE: in the dominator tree (some root reaches it); WHY_TOP:
 * dominated only by the super-root (dominator_children sets both). */
enum { WHY_IROOT = 3, WHY_EXT = 4, WHY_TREE = 8, WHY_TOP = 16 };

/* Interpreter root: 0 no, 1 yes, 2 only as a frame local or by a C global. */
static inline unsigned why_iroot(const struct ctx *c, uint32_t v)
{
	return c->rootk[v] & WHY_IROOT;
}

/* Held from outside Python (excess references, not reached from roots). */
static inline bool why_ext(const struct ctx *c, uint32_t v)
{
	return c->rootk[v] & WHY_EXT;
}

static inline uint64_t why_weight(const struct ctx *c, uint32_t v)
{
	return c->retained[v] + (c->nret ? c->nret[v] : 0);
}

/* why.c */
const char *why_tname(const struct ctx *c, uint32_t v);
struct pha_error *why_make_path(const struct ctx *c, uint32_t v, struct pha_path *p);
bool why_static_object(const struct pha_heap *h, uint32_t v);

/* suspects.c */
/* Native memory (the memory section's native buffers and inferred chunks,
 * beyond sys.getsizeof) owned by the objects of v's dominator subtree; 0
 * without any. */
static inline uint64_t why_subtree_native(const struct ctx *c, uint32_t v)
{
	return c->nret ? c->nret[v] : 0;
}
/* r->why.suspects: the accumulation points (by retained size), then the
 * unexplained-reference groups (by excess). */
struct pha_error *why_find_suspects(struct ctx *c);

#endif
