/* Strongly connected components: an iterative form of Tarjan's algorithm in
 * the space-saving variant published by D. J. Pearce ("A space-efficient
 * algorithm for finding strongly connected components", 2016), where one
 * array per vertex (rindex) holds the preorder index, then the low-link,
 * then the component number.
 *
 * rindex lives in the caller's comp_ret array. Extra memory: the component
 * stack (n u32), the DFS stack of (vertex, edge cursor) frames (2n u32) and a
 * root bit per vertex: about 12.1 bytes per object. No recursion.
 *
 * Invariants (k = components emitted so far, a = vertices visited but not yet
 * in a component): active vertices have rindex in 1..a (index - 1 == a);
 * finished vertices have rindex == n - (their component number), which is
 * >= n - k + 1 > a because a + k <= n. So a finished vertex never lowers the
 * low-link of an active one, and 0 always means "not visited yet".
 */
#include "bigmem.h"
#include "graph.h"

#include <stdlib.h>
#include <string.h>

struct frame {
	uint32_t v;
	uint32_t e;	/* next edge of v to look at */
};

static inline void set_bit(uint64_t *bits, uint32_t v)
{
	bits[v >> 6] |= (uint64_t)1 << (v & 63);
}

static inline void clear_bit(uint64_t *bits, uint32_t v)
{
	bits[v >> 6] &= ~((uint64_t)1 << (v & 63));
}

static inline int test_bit(const uint64_t *bits, uint32_t v)
{
	return (bits[v >> 6] >> (v & 63)) & 1;
}

struct pha_error *pha_scc(const struct pha_graph *g, uint32_t *comp_ret,
			  uint32_t *ncomp_ret, uint8_t *self_loop_ret)
{
	return pha_scc_cut(g, NULL, comp_ret, ncomp_ret, self_loop_ret);
}

struct pha_error *pha_scc_cut(const struct pha_graph *g, const uint8_t *cut, uint32_t *comp_ret,
			      uint32_t *ncomp_ret, uint8_t *self_loop_ret)
{
	const uint32_t n = g->n;
	const uint32_t *first = g->first, *dst = g->dst;
	const uint8_t *eflags = g->eflags;

	*ncomp_ret = 0;
	if (self_loop_ret && n)
		memset(self_loop_ret, 0, n);
	if (n == 0)
		return NULL;

	uint32_t *rindex = comp_ret;
	uint32_t *cstack = pha_big_malloc((size_t)n * sizeof(*cstack));
	struct frame *dfs = pha_big_malloc((size_t)n * sizeof(*dfs));
	uint64_t *root = pha_big_malloc(((size_t)n + 63) / 64 * sizeof(*root));
	if (!cstack || !dfs || !root) {
		pha_big_free(cstack);
		pha_big_free(dfs);
		pha_big_free(root);
		return &pha_enomem;
	}
	memset(rindex, 0, (size_t)n * sizeof(*rindex));

	struct pha_error *err = NULL;
	uint32_t index = 1;	/* next preorder index */
	uint32_t c = n;		/* rindex value of the next component */
	size_t csp = 0, dsp = 0;

	for (uint32_t r = 0; r < n; r++) {
		if (rindex[r])
			continue;
		rindex[r] = index++;
		set_bit(root, r);
		dfs[dsp++] = (struct frame){ r, first[r] };
		while (dsp) {
			struct frame *f = &dfs[dsp - 1];
			uint32_t v = f->v;
			if (f->e < first[v + 1]) {
				uint32_t e = f->e++;
				if (eflags[e] & PHA_EDGE_WEAK)
					continue;
				uint32_t w = dst[e];
				if (w >= n) {
					err = pha_error_create(PHA_ERR_INTERNAL,
							       "scc: edge %u of object %u points to %u, "
							       "beyond the %u objects", e, v, w, n);
					goto out;
				}
				if (cut && cut[w])
					continue;
				if (w == v) {
					if (self_loop_ret)
						self_loop_ret[v] = 1;
					continue;
				}
				if (rindex[w] == 0) {
					/* Descend: dsp < n because w is not on the stack yet. */
					rindex[w] = index++;
					set_bit(root, w);
					dfs[dsp++] = (struct frame){ w, first[w] };
					continue;
				}
				if (rindex[w] < rindex[v]) {
					rindex[v] = rindex[w];
					clear_bit(root, v);
				}
				continue;
			}

			/* All edges of v done: return from v. */
			dsp--;
			if (test_bit(root, v)) {
				/* v roots a component: v plus the stacked vertices
				 * visited after it. */
				index--;
				while (csp && rindex[v] <= rindex[cstack[csp - 1]]) {
					rindex[cstack[--csp]] = c;
					index--;
				}
				rindex[v] = c--;
			} else {
				cstack[csp++] = v;
			}
			if (dsp) {
				uint32_t u = dfs[dsp - 1].v;
				if (rindex[v] < rindex[u]) {
					rindex[u] = rindex[v];
					clear_bit(root, u);
				}
			}
		}
	}

	/* Components got rindex n, n-1, ... in emission order. */
	for (uint32_t v = 0; v < n; v++)
		comp_ret[v] = n - rindex[v];
	*ncomp_ret = n - c;

out:
	pha_big_free(cstack);
	pha_big_free(dfs);
	pha_big_free(root);
	return err;
}

struct pha_error *pha_scc_sizes(uint32_t n, const uint32_t *comp, uint32_t ncomp,
				uint32_t *size_ret)
{
	if (ncomp)
		memset(size_ret, 0, (size_t)ncomp * sizeof(*size_ret));
	for (uint32_t v = 0; v < n; v++) {
		if (comp[v] >= ncomp)
			return pha_error_create(PHA_ERR_INTERNAL,
						"scc: object %u has component %u of only %u",
						v, comp[v], ncomp);
		size_ret[comp[v]]++;
	}
	return NULL;
}

/* Rows of the cycles table (graph.h, pha_cycle_rows): two Tarjan passes,
 * the cut graph's first (its components number the user rows), then the
 * full graph's (the module-world rows). Scratch beyond the caller's arrays,
 * all freed here: the full graph's components (4 bytes an object), then
 * per component a count (4 bytes, freed before the renumbering map of 4
 * bytes per component of either graph) and a flag byte. At most about 10
 * bytes an object beside Tarjan's 12.1, which are freed before. */
struct pha_error *pha_cycle_rows(const struct pha_graph *g, const uint8_t *world,
				 uint32_t *row_ret, uint32_t *nrow_ret, uint8_t *self_loop_ret,
				 uint8_t **row_flags_ret)
{
	enum { P_WORLD = 1, P_CYCLIC = 2 };
	const uint32_t n = g->n;
	struct pha_error *err;
	uint32_t nq = 0, np = 0, nrow = 0;
	uint32_t *pcomp = NULL, *count = NULL, *map = NULL;
	uint8_t *qcyc = NULL, *pinfo = NULL, *flags = NULL;

	*nrow_ret = 0;
	*row_flags_ret = NULL;
	/* The cut graph: row_ret holds its components for now. */
	if ((err = pha_scc_cut(g, world, row_ret, &nq, NULL)))
		return err;
	pcomp = pha_big_malloc((n ? n : 1) * sizeof(*pcomp));
	if (!pcomp)
		return &pha_enomem;
	if ((err = pha_scc(g, pcomp, &np, self_loop_ret)))
		goto out;
	count = pha_big_malloc(((nq > np ? nq : np) + 1) * sizeof(*count));
	qcyc = pha_big_calloc(nq ? nq : 1, 1);
	pinfo = pha_big_calloc(np ? np : 1, 1);
	if (!count || !qcyc || !pinfo) {
		err = &pha_enomem;
		goto out;
	}
	/* A cut-graph component is a user cycle: two members or more, or one
	 * non-world member with an edge to itself (edges into world objects,
	 * their self-loops included, are cut). */
	if ((err = pha_scc_sizes(n, row_ret, nq, count)))
		goto out;
	for (uint32_t v = 0; v < n; v++) {
		if (count[row_ret[v]] >= 2 || (self_loop_ret[v] && !world[v]))
			qcyc[row_ret[v]] = 1;
	}
	/* A full component: holds a world object; is a cycle. */
	if ((err = pha_scc_sizes(n, pcomp, np, count)))
		goto out;
	for (uint32_t v = 0; v < n; v++) {
		uint32_t p = pcomp[v];
		if (world[v])
			pinfo[p] |= P_WORLD;
		if (count[p] >= 2 || self_loop_ret[v])
			pinfo[p] |= P_CYCLIC;
	}
	pha_big_free(count);
	count = NULL;
	/* Row of v: its user cycle if it has one; else the rest of its full
	 * component when that holds a world object; else its full component,
	 * which then equals its cut-graph component. Old row numbers: q in
	 * 0..nq-1, nq + p for the rest of full component p; renumbered
	 * densely in that order. */
	for (uint32_t v = 0; v < n; v++) {
		uint32_t q = row_ret[v], p = pcomp[v];
		row_ret[v] = (pinfo[p] & P_WORLD) && !qcyc[q] ? nq + p : q;
	}
	map = pha_big_malloc(((size_t)nq + np + 1) * sizeof(*map));
	if (!map) {
		err = &pha_enomem;
		goto out;
	}
	memset(map, 0xff, ((size_t)nq + np) * sizeof(*map));
	for (uint32_t v = 0; v < n; v++)
		map[row_ret[v]] = 0;
	for (size_t k = 0; k < (size_t)nq + np; k++) {
		if (map[k] == 0)
			map[k] = nrow++;
	}
	flags = pha_big_calloc(nrow ? nrow : 1, 1);
	if (!flags) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t v = 0; v < n; v++) {
		uint32_t old = row_ret[v], r = map[old];
		if (old < nq)
			flags[r] |= qcyc[old] ? PHA_ROW_CYCLIC : 0;
		else
			flags[r] |= PHA_ROW_WORLD |
				    (pinfo[old - nq] & P_CYCLIC ? PHA_ROW_CYCLIC : 0);
		row_ret[v] = r;
	}
	*nrow_ret = nrow;
	*row_flags_ret = flags;
	flags = NULL;
out:
	pha_big_free(pcomp);
	pha_big_free(count);
	pha_big_free(qcyc);
	pha_big_free(pinfo);
	pha_big_free(map);
	pha_big_free(flags);
	return err;
}
