/* Semi-NCA dominators (the variant LLVM uses; see Georgiadis' thesis for
 * the analysis): semidominators by Lengauer-Tarjan's path-compressed eval
 * in reverse DFS preorder, then each immediate dominator is the nearest
 * common ancestor of the DFS parent and the semidominator, found by walking
 * up the partially built tree. Everything runs in DFS-number space
 * (1 = super-root) with explicit stacks.
 */
#include "dominators.h"

#include <stdlib.h>
#include <string.h>

/* Path compression without recursion: collect the path to the linked
 * forest's root, then compress from the top down. */
static uint32_t eval(uint32_t v, uint32_t *anc, uint32_t *label, const uint32_t *semi,
		     uint32_t *stack)
{
	if (!anc[v])
		return v;
	uint32_t sp = 0;
	for (uint32_t u = v; anc[anc[u]]; u = anc[u])
		stack[sp++] = u;
	while (sp) {
		uint32_t u = stack[--sp];
		if (semi[label[anc[u]]] < semi[label[u]])
			label[u] = label[anc[u]];
		anc[u] = anc[anc[u]];
	}
	return label[v];
}

struct pha_error *pha_dominators(const struct pha_graph *g, const uint32_t *roots,
				 uint32_t nroots, struct pha_domtree *tree_ret)
{
	uint32_t n = g->n;
	uint64_t m = g->first[n];
	struct pha_error *err = &pha_enomem;
	/* Node space: 0..n (n = super-root). Number space: 1..N. */
	uint32_t *dfn = calloc((size_t)n + 1, sizeof(*dfn));
	uint32_t *vert = malloc(((size_t)n + 2) * sizeof(*vert));
	uint32_t *parent = malloc(((size_t)n + 2) * sizeof(*parent));
	uint32_t *semi = malloc(((size_t)n + 2) * sizeof(*semi));
	uint32_t *label = malloc(((size_t)n + 2) * sizeof(*label));
	uint32_t *anc = calloc((size_t)n + 2, sizeof(*anc));
	uint32_t *stack = malloc(((size_t)n + 2) * sizeof(*stack));
	uint64_t *epos = malloc(((size_t)n + 2) * sizeof(*epos));
	uint32_t *rfirst = calloc((size_t)n + 2, sizeof(*rfirst));
	uint32_t *rsrc = NULL;
	struct pha_domtree t = {.n = n};
	if (!dfn || !vert || !parent || !semi || !label || !anc || !stack || !epos || !rfirst)
		goto out;
	if (m + nroots > UINT32_MAX) {
		err = pha_error_create(PHA_ERR_INTERNAL, "graph too large for dominators");
		goto out;
	}

	/* Reverse edges (strong only), super-root edges included. */
	for (uint32_t u = 0; u < n; u++) {
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			if (g->dst[e] >= n) {
				err = pha_error_create(PHA_ERR_INTERNAL, "edge to %u out of range",
						       g->dst[e]);
				goto out;
			}
			if (!(g->eflags[e] & PHA_EDGE_WEAK))
				rfirst[g->dst[e] + 1]++;
		}
	}
	for (uint32_t i = 0; i < nroots; i++) {
		if (roots[i] >= n) {
			err = pha_error_create(PHA_ERR_INTERNAL, "root %u out of range", roots[i]);
			goto out;
		}
		rfirst[roots[i] + 1]++;
	}
	for (uint32_t v = 0; v <= n; v++)
		rfirst[v + 1] += rfirst[v];
	rsrc = malloc(((size_t)rfirst[n + 1] + 1) * sizeof(*rsrc));
	if (!rsrc)
		goto out;
	for (uint32_t v = 0; v <= n + 1; v++)
		epos[v] = rfirst[v];
	for (uint32_t u = 0; u < n; u++) {
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			if (!(g->eflags[e] & PHA_EDGE_WEAK))
				rsrc[epos[g->dst[e]]++] = u;
		}
	}
	for (uint32_t i = 0; i < nroots; i++)
		rsrc[epos[roots[i]]++] = n;

	/* Iterative DFS from the super-root: stack of nodes, epos = next edge. */
	uint32_t N = 0, sp = 0;
	dfn[n] = ++N;
	vert[N] = n;
	parent[N] = 0;
	epos[n] = 0;
	stack[sp++] = n;
	while (sp) {
		uint32_t u = stack[sp - 1];
		uint32_t next = UINT32_MAX;
		if (u == n) {
			while (epos[u] < nroots && next == UINT32_MAX) {
				uint32_t w = roots[epos[u]++];
				if (!dfn[w])
					next = w;
			}
		} else {
			uint64_t end = g->first[u + 1];
			while (g->first[u] + epos[u] < end && next == UINT32_MAX) {
				uint64_t e = g->first[u] + epos[u]++;
				if (!(g->eflags[e] & PHA_EDGE_WEAK) && !dfn[g->dst[e]])
					next = g->dst[e];
			}
		}
		if (next == UINT32_MAX) {
			sp--;
			continue;
		}
		dfn[next] = ++N;
		vert[N] = next;
		parent[N] = dfn[u];
		epos[next] = 0;
		stack[sp++] = next;
	}

	/* Semidominators in reverse preorder. */
	for (uint32_t k = 1; k <= N; k++) {
		semi[k] = k;
		label[k] = k;
	}
	for (uint32_t k = N; k >= 2; k--) {
		uint32_t w = vert[k];
		for (uint32_t e = rfirst[w]; e < rfirst[w + 1]; e++) {
			uint32_t v = dfn[rsrc[e]];
			if (!v)
				continue;	/* predecessor not reachable */
			uint32_t u = eval(v, anc, label, semi, stack);
			if (semi[u] < semi[k])
				semi[k] = semi[u];
		}
		anc[k] = parent[k];
	}
	/* Immediate dominators: walk up from the parent to the first vertex
	 * numbered at most the semidominator (reusing label[] for idom). */
	uint32_t *idomn = label;
	idomn[1] = 0;
	for (uint32_t k = 2; k <= N; k++) {
		uint32_t d = parent[k];
		while (d > semi[k])
			d = idomn[d];
		idomn[k] = d;
	}

	t.idom = malloc(((size_t)n ? n : 1) * sizeof(*t.idom));
	t.order = malloc(((size_t)N ? N : 1) * sizeof(*t.order));
	if (!t.idom || !t.order)
		goto out;
	for (uint32_t v = 0; v < n; v++)
		t.idom[v] = PHA_DOM_NONE;
	for (uint32_t k = 2; k <= N; k++) {
		t.idom[vert[k]] = vert[idomn[k]];
		t.order[t.norder++] = vert[k];
	}
	*tree_ret = t;
	t.idom = NULL;
	t.order = NULL;
	err = NULL;
out:
	pha_domtree_deinit(&t);
	free(dfn);
	free(vert);
	free(parent);
	free(semi);
	free(label);
	free(anc);
	free(stack);
	free(epos);
	free(rfirst);
	free(rsrc);
	return err;
}

void pha_domtree_deinit(struct pha_domtree *t)
{
	free(t->idom);
	free(t->order);
	t->idom = NULL;
	t->order = NULL;
}

void pha_retained(const struct pha_domtree *t, const uint64_t *size, uint64_t *retained,
		  uint64_t *total_ret)
{
	uint64_t total = 0;
	for (uint32_t v = 0; v < t->n; v++)
		retained[v] = t->idom[v] == PHA_DOM_NONE ? 0 : size[v];
	/* Children come after their dominator in preorder: accumulate bottom-up. */
	for (uint32_t i = t->norder; i-- > 0;) {
		uint32_t v = t->order[i];
		uint32_t d = t->idom[v];
		if (d == t->n)
			total += retained[v];
		else
			retained[d] += retained[v];
	}
	if (total_ret)
		*total_ret = total;
}
