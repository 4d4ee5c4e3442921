/* Dominator tree and retained sizes (Eclipse MAT's definition).
 *
 * A virtual super-root (id n) points at every root; weak edges are not
 * references for this purpose. idom[v] is v's immediate dominator: n for
 * objects dominated only by the super-root, PHA_DOM_NONE for objects no
 * root reaches. The retained size of v is the sum of the shallow sizes of
 * every object v dominates, v included.
 */
#ifndef PHA_DOMINATORS_H
#define PHA_DOMINATORS_H

#include <stdint.h>

#include "error.h"
#include "graph.h"

#define PHA_DOM_NONE UINT32_MAX

struct pha_domtree {
	uint32_t n;		/* objects; the super-root is n */
	uint32_t *idom;		/* n entries */
	uint32_t *order;	/* reachable objects in DFS preorder from the super-root */
	uint32_t norder;
};

/* Iterative Semi-NCA (no recursion: million-long chains are common). */
struct pha_error *pha_dominators(const struct pha_graph *g, const uint32_t *roots,
				 uint32_t nroots, struct pha_domtree *tree_ret);
/* The same, given indeg (a pha_big_* array of n + 2 entries whose first n
 * are the strong in-reference counts of pha_strong_inrefs, graph.h): it
 * becomes the reverse edges' index instead of a count over every edge
 * (issue 12), and is freed here whatever the outcome. */
struct pha_error *pha_dominators_indeg(const struct pha_graph *g, const uint32_t *roots,
				       uint32_t nroots, uint32_t *indeg,
				       struct pha_domtree *tree_ret);
void pha_domtree_deinit(struct pha_domtree *tree);

/* retained_ret[v] (n entries): size[v] plus the retained sizes of v's
 * children in the dominator tree; 0 for objects no root reaches.
 * *total_ret (optional): the retained size of the super-root. */
void pha_retained(const struct pha_domtree *tree, const uint64_t *size,
		  uint64_t *retained_ret, uint64_t *total_ret);

#endif
