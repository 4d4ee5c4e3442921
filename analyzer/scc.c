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

/* What one Tarjan run walks: from every object (roots NULL) or only from
 * those with roots[v], in id order; over the strong edges except those
 * into objects with cut[v] (cut NULL: none) or, with keep, into objects
 * without their bit. reach (optional, with cut): bit v set for each v
 * that reaches a cut object over the strong edges (the cut ones
 * included), v itself cut or not. */
struct walk {
	const uint8_t *cut;
	const uint8_t *roots;
	const uint64_t *keep;
	uint64_t *reach;
	uint8_t *self_loop;	/* optional, n entries: strong self-loops not cut */
	/* optional, n entries: cyclic[c] = 1 for a component c of two
	 * members or more, or of one with a self-loop (needs self_loop) */
	uint8_t *cyclic;
};

/* reach: every member of the component just emitted (v, and the stacked
 * vertices from cstack[lo] up to cstack[hi]) gets the OR of their bits.
 * An edge to a vertex still on the stack stays inside one component, so
 * the bits ORed along the way are parts of that OR. */
static void spread_reach(uint64_t *reach, uint32_t v, const uint32_t *cstack, size_t lo,
			 size_t hi)
{
	int any = test_bit(reach, v);
	for (size_t k = lo; k < hi && !any; k++)
		any = test_bit(reach, cstack[k]);
	if (!any)
		return;
	set_bit(reach, v);
	for (size_t k = lo; k < hi; k++)
		set_bit(reach, cstack[k]);
}

/* comp_ret[v]: the component numbers of the file comment, UINT32_MAX for
 * an object the walk did not reach (only with w->roots). */
static struct pha_error *tarjan(const struct pha_graph *g, const struct walk *w,
				uint32_t *comp_ret, uint32_t *ncomp_ret)
{
	const uint32_t n = g->n;
	const uint32_t *first = g->first, *dst = g->dst;
	const uint8_t *eflags = g->eflags, *cut = w->cut;
	const uint64_t *keep = w->keep;
	uint64_t *reach = w->reach;

	*ncomp_ret = 0;
	if (w->self_loop && n)
		memset(w->self_loop, 0, n);
	if (w->cyclic && n)
		memset(w->cyclic, 0, n);
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
	if (reach)
		memset(reach, 0, ((size_t)n + 63) / 64 * sizeof(*reach));

	struct pha_error *err = NULL;
	uint32_t index = 1;	/* next preorder index */
	uint32_t c = n;		/* rindex value of the next component */
	size_t csp = 0, dsp = 0;

	for (uint32_t r = 0; r < n; r++) {
		if (rindex[r] || (w->roots && !w->roots[r]))
			continue;
		rindex[r] = index++;
		set_bit(root, r);
		if (reach && cut[r])
			set_bit(reach, r);
		dfs[dsp++] = (struct frame){ r, first[r] };
		while (dsp) {
			struct frame *f = &dfs[dsp - 1];
			uint32_t v = f->v;
			if (f->e < first[v + 1]) {
				uint32_t e = f->e++;
				if (eflags[e] & PHA_EDGE_WEAK)
					continue;
				uint32_t x = dst[e];
				if (x >= n) {
					err = pha_error_create(PHA_ERR_INTERNAL,
							       "scc: edge %u of object %u points to %u, "
							       "beyond the %u objects", e, v, x, n);
					goto out;
				}
				if (cut && cut[x]) {
					if (reach)
						set_bit(reach, v);
					continue;
				}
				if (keep && !test_bit(keep, x))
					continue;
				if (x == v) {
					if (w->self_loop)
						w->self_loop[v] = 1;
					continue;
				}
				if (rindex[x] == 0) {
					/* Descend: dsp < n because x is not on the stack yet. */
					rindex[x] = index++;
					set_bit(root, x);
					if (reach && cut[x])
						set_bit(reach, x);
					dfs[dsp++] = (struct frame){ x, first[x] };
					continue;
				}
				if (reach && test_bit(reach, x))
					set_bit(reach, v);
				if (rindex[x] < rindex[v]) {
					rindex[v] = rindex[x];
					clear_bit(root, v);
				}
				continue;
			}

			/* All edges of v done: return from v. */
			dsp--;
			if (test_bit(root, v)) {
				/* v roots a component: v plus the stacked vertices
				 * visited after it. */
				size_t top = csp;
				index--;
				while (csp && rindex[v] <= rindex[cstack[csp - 1]]) {
					rindex[cstack[--csp]] = c;
					index--;
				}
				if (w->cyclic)
					w->cyclic[n - c] = top > csp || w->self_loop[v];
				rindex[v] = c--;
				if (reach)
					spread_reach(reach, v, cstack, csp, top);
			} else {
				cstack[csp++] = v;
			}
			if (dsp) {
				uint32_t u = dfs[dsp - 1].v;
				if (reach && test_bit(reach, v))
					set_bit(reach, u);
				if (rindex[v] < rindex[u]) {
					rindex[u] = rindex[v];
					clear_bit(root, u);
				}
			}
		}
	}

	/* Components got rindex n, n-1, ... in emission order. */
	for (uint32_t v = 0; v < n; v++)
		comp_ret[v] = rindex[v] ? n - rindex[v] : UINT32_MAX;
	*ncomp_ret = n - c;

out:
	pha_big_free(cstack);
	pha_big_free(dfs);
	pha_big_free(root);
	return err;
}

struct pha_error *pha_scc(const struct pha_graph *g, uint32_t *comp_ret,
			  uint32_t *ncomp_ret, uint8_t *self_loop_ret)
{
	return pha_scc_cut(g, NULL, comp_ret, ncomp_ret, self_loop_ret);
}

struct pha_error *pha_scc_cut(const struct pha_graph *g, const uint8_t *cut, uint32_t *comp_ret,
			      uint32_t *ncomp_ret, uint8_t *self_loop_ret)
{
	struct walk w = {.cut = cut, .self_loop = self_loop_ret};
	return tarjan(g, &w, comp_ret, ncomp_ret);
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

/* Rows of the cycles table (graph.h, pha_cycle_rows): two Tarjan passes.
 * The cut graph's first: its components number the user rows (and say
 * which are cycles as they are emitted), and it finds which objects reach
 * a world object in the full graph (reach, one bit an object: an edge
 * into one, or an edge to an object that does). Only those can share a
 * full component with a world object, so the full graph's pass starts
 * from the world objects and enters only objects that reach one (issue
 * 12: in a big heap most objects do not). Its components are exactly the
 * full components of the objects it visits, and every full component
 * that holds a world object is among them; an object it does not visit
 * keeps its cut-graph component for row. A row is a cut-graph component
 * (0..nq-1) or a full component (nq + its number): no renumbering, so
 * rows whose objects all went elsewhere stay empty, without flags. Every
 * pass after the two Tarjans reads the full components in object order
 * and works only for the visited. Scratch beyond the caller's arrays,
 * all freed here: the full pass's components (4 bytes an object), the
 * reach bits and the cut components' cycle flags (1 byte an object); then
 * per full component a count and a flag byte. */
struct pha_error *pha_cycle_rows(const struct pha_graph *g, const uint8_t *world,
				 uint32_t *row_ret, uint32_t *nrow_ret, uint8_t *self_loop_ret,
				 uint8_t **row_flags_ret)
{
	enum { P_WORLD = 1, P_CYCLIC = 2 };
	const uint32_t n = g->n;
	struct pha_error *err;
	uint32_t nq = 0, np = 0;
	uint32_t *pcomp = NULL, *count = NULL;
	uint8_t *qcyc = NULL, *pinfo = NULL, *flags = NULL;
	uint64_t *reach = NULL;

	*nrow_ret = 0;
	*row_flags_ret = NULL;
	reach = pha_big_malloc(((size_t)n + 63) / 64 * sizeof(*reach));
	qcyc = pha_big_malloc(n ? n : 1);
	if (!reach || !qcyc) {
		err = &pha_enomem;
		goto out;
	}
	/* The cut graph: row_ret holds its components. A cut-graph component
	 * is a user cycle: two members or more, or one (non-world) member
	 * with an edge to itself (edges into world objects, their self-loops
	 * included, are cut). */
	struct walk cutw = {.cut = world, .reach = reach, .self_loop = self_loop_ret,
			    .cyclic = qcyc};
	if ((err = tarjan(g, &cutw, row_ret, &nq)))
		goto out;
	/* The cut pass leaves out a world object's edge to itself. */
	for (uint32_t v = 0; v < n; v++) {
		if (!world[v])
			continue;
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
			if (g->dst[e] == v && !(g->eflags[e] & PHA_EDGE_WEAK))
				self_loop_ret[v] = 1;
		}
	}
	pcomp = pha_big_malloc((n ? n : 1) * sizeof(*pcomp));
	if (!pcomp) {
		err = &pha_enomem;
		goto out;
	}
	struct walk fullw = {.roots = world, .keep = reach};
	if ((err = tarjan(g, &fullw, pcomp, &np)))
		goto out;
	pha_big_free(reach);
	reach = NULL;
	if ((uint64_t)nq + np > UINT32_MAX - 1) {
		err = pha_error_create(PHA_ERR_INTERNAL, "cycle rows: %u + %u components", nq, np);
		goto out;
	}
	count = pha_big_calloc(np ? np : 1, sizeof(*count));
	pinfo = pha_big_calloc(np ? np : 1, 1);
	flags = pha_big_malloc((size_t)nq + np ? (size_t)nq + np : 1);
	if (!count || !pinfo || !flags) {
		err = &pha_enomem;
		goto out;
	}
	/* A full component (of a visited object): holds a world object; is a
	 * cycle. */
	for (uint32_t v = 0; v < n; v++) {
		if (pcomp[v] != UINT32_MAX)
			count[pcomp[v]]++;
	}
	for (uint32_t v = 0; v < n; v++) {
		uint32_t p = pcomp[v];
		if (p == UINT32_MAX)
			continue;
		if (world[v])
			pinfo[p] |= P_WORLD;
		if (count[p] >= 2 || self_loop_ret[v])
			pinfo[p] |= P_CYCLIC;
	}
	/* Row of v: its user cycle if it has one; else the rest of its full
	 * component when that holds a world object; else its full component,
	 * which then equals its cut-graph component. */
	for (uint32_t v = 0; v < n; v++) {
		uint32_t p = pcomp[v];
		if (p != UINT32_MAX && (pinfo[p] & P_WORLD) && !qcyc[row_ret[v]])
			row_ret[v] = nq + p;
	}
	for (uint32_t q = 0; q < nq; q++)
		flags[q] = qcyc[q] ? PHA_ROW_CYCLIC : 0;
	for (uint32_t p = 0; p < np; p++)
		flags[nq + p] = !(pinfo[p] & P_WORLD) ? 0
				: PHA_ROW_WORLD | (pinfo[p] & P_CYCLIC ? PHA_ROW_CYCLIC : 0);
	*nrow_ret = nq + np;
	*row_flags_ret = flags;
	flags = NULL;
out:
	pha_big_free(reach);
	pha_big_free(pcomp);
	pha_big_free(count);
	pha_big_free(qcyc);
	pha_big_free(pinfo);
	pha_big_free(flags);
	return err;
}
