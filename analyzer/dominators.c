/* Semi-NCA dominators (the variant LLVM uses; see Georgiadis' thesis for
 * the analysis): semidominators by Lengauer-Tarjan's path-compressed eval
 * in reverse DFS preorder, then each immediate dominator is the nearest
 * common ancestor of the DFS parent and the semidominator, found by walking
 * up the partially built tree. Everything runs in DFS-number space
 * (1 = super-root) with explicit stacks.
 *
 * pha_dominators' steps: reverse_edges (node space; one predecessor kept
 * by nobody), dfs, regroup (the kept predecessors by DFS number, as DFS
 * numbers), semidominators, immediate_dominators, fill_tree. All scratch
 * (struct snca) is freed before it returns, each array as soon as its
 * last step is done: at most 16 bytes an object, plus 8 an edge into an
 * object with two referrers or more and 12 such an object, are alive at
 * once (DFS: reverse edges, dfn, vert, parent; regroup: the reverse edges
 * twice, vert, parent; semidominators: vert, ancestor, idom, best and the
 * regrouped edges). Three tricks keep it there: the DFS parent doubles as
 * the linked forest's ancestor (a number is linked once the loop has gone
 * below it), a copy of the parent becomes the immediate dominator in
 * place, and eval keeps the least semidominator on a path (best) instead
 * of a label, so semidominators are kept only for numbers with kept
 * predecessors (for the others it is the parent). The DFS keeps its
 * position in each node's edges on its stack; the preorder returned is
 * vert moved down. The explicit stacks grow as deep as the walks go.
 */
#include "dominators.h"

#include "bigmem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A stack that grows when pushed (deep chains are rare; n is the bound). */
struct ustack {
	uint32_t *a;
	size_t cap;
};

static bool ustack_room(struct ustack *st, size_t sp)
{
	if (sp < st->cap)
		return true;
	size_t cap = st->cap ? st->cap * 2 : 4096;
	uint32_t *a = realloc(st->a, cap * sizeof(*a));
	if (!a)
		return false;
	st->a = a;
	st->cap = cap;
	return true;
}

/* Scratch of one run, in DFS-number space unless said otherwise. */
struct snca {
	const struct pha_graph *g;
	const uint32_t *roots;
	uint32_t nroots;
	uint32_t n;		/* objects; node n is the super-root */
	uint32_t N;		/* nodes reached, numbered 1..N in DFS preorder */
	/* reverse edges, node space (reverse_edges to regroup) */
	uint32_t *rfirst, *rsrc;	/* strong predecessors (CSR over nodes 0..n) */
	uint32_t *dfn;		/* node -> number; 0: not reached (dfs to regroup) */
	uint32_t *vert;		/* number -> node (the tree's preorder at the end) */
	/* DFS tree parent, then the linked forest's ancestor (eval compresses
	 * it; a number is linked once the loop has gone below it) */
	uint32_t *anc;
	uint32_t *idom;		/* the parent, then the immediate dominator */
	uint32_t *best;		/* of a linked number: min semi over its compressed path */
	/* Numbers with predecessors kept, descending (nk of them): the
	 * sources of rk[j] (DFS numbers) are psrc[rend[j - 1] .. rend[j]);
	 * semi[j] its semidominator. */
	uint32_t *rk, *rend, *psrc, *semi;
	uint32_t nk;
	struct ustack stack;	/* eval's path */
};

static void snca_deinit(struct snca *s)
{
	pha_big_free(s->rfirst);
	pha_big_free(s->rsrc);
	pha_big_free(s->dfn);
	pha_big_free(s->vert);
	pha_big_free(s->anc);
	pha_big_free(s->idom);
	pha_big_free(s->best);
	pha_big_free(s->rk);
	pha_big_free(s->rend);
	pha_big_free(s->psrc);
	pha_big_free(s->semi);
	free(s->stack.a);
}

/* Reverse edges (strong only), the super-root's edges to the roots
 * included, by counting sort; ids out of range are internal errors. A node
 * with one predecessor gets none: reached, that one is its DFS parent and
 * its semidominator (semidominators), so only the nodes with two or more
 * keep their predecessors (most objects of a Python heap have one
 * referrer: 4 bytes an edge not spent on them). */
static struct pha_error *reverse_edges(struct snca *s, uint32_t *indeg)
{
	const struct pha_graph *g = s->g;
	uint32_t n = s->n;
	if (indeg) {	/* the counts, one place to the right */
		s->rfirst = indeg;
		memmove(s->rfirst + 1, s->rfirst, (size_t)n * sizeof(*s->rfirst));
		s->rfirst[0] = s->rfirst[n + 1] = 0;
	} else {
		s->rfirst = pha_big_calloc((size_t)n + 2, sizeof(*s->rfirst));
		if (!s->rfirst)
			return &pha_enomem;
		for (uint32_t u = 0; u < n; u++) {
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
				if (g->dst[e] >= n)
					return pha_error_create(PHA_ERR_INTERNAL, "edge to %u out of range",
								g->dst[e]);
				if (!(g->eflags[e] & PHA_EDGE_WEAK))
					s->rfirst[g->dst[e] + 1]++;
			}
		}
	}
	for (uint32_t i = 0; i < s->nroots; i++) {
		if (s->roots[i] >= n)
			return pha_error_create(PHA_ERR_INTERNAL, "root %u out of range", s->roots[i]);
		s->rfirst[s->roots[i] + 1]++;
	}
	for (uint32_t v = 0; v <= n; v++) {
		if (s->rfirst[v + 1] == 1)
			s->rfirst[v + 1] = 0;
		s->rfirst[v + 1] += s->rfirst[v];
	}
	s->rsrc = pha_big_malloc(((size_t)s->rfirst[n + 1] + 1) * sizeof(*s->rsrc));
	uint32_t *pos = pha_big_malloc(((size_t)n + 2) * sizeof(*pos));
	if (!s->rsrc || !pos) {
		pha_big_free(pos);
		return &pha_enomem;
	}
	memcpy(pos, s->rfirst, ((size_t)n + 2) * sizeof(*pos));
	for (uint32_t u = 0; u < n; u++) {
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t w = g->dst[e];
			if (w < n && !(g->eflags[e] & PHA_EDGE_WEAK) && pos[w] < s->rfirst[w + 1])
				s->rsrc[pos[w]++] = u;
		}
	}
	for (uint32_t i = 0; i < s->nroots; i++) {
		uint32_t w = s->roots[i];
		if (pos[w] < s->rfirst[w + 1])
			s->rsrc[pos[w]++] = n;
	}
	pha_big_free(pos);
	return NULL;
}

/* The DFS's stack: a node and the next of its edges to try (for the
 * super-root, the next root). */
struct frame {
	uint32_t node, next;
};

/* The next node u's DFS visits from f->next on; UINT32_MAX when none is
 * left. */
static uint32_t next_unvisited(struct snca *s, struct frame *f)
{
	const struct pha_graph *g = s->g;
	uint32_t u = f->node;
	if (u == s->n) {
		while (f->next < s->nroots) {
			uint32_t w = s->roots[f->next++];
			if (!s->dfn[w])
				return w;
		}
		return UINT32_MAX;
	}
	uint64_t end = g->first[u + 1];
	while (g->first[u] + (uint64_t)f->next < end) {
		uint64_t e = g->first[u] + f->next++;
		if (!(g->eflags[e] & PHA_EDGE_WEAK) && !s->dfn[g->dst[e]])
			return g->dst[e];
	}
	return UINT32_MAX;
}

/* Iterative DFS from the super-root: dfn, vert, and the parents in anc.
 * The stack grows as deep as the walk goes. False on OOM. */
static bool dfs(struct snca *s)
{
	uint32_t n = s->n;
	size_t sp = 0, cap = 4096;
	s->dfn = pha_big_calloc((size_t)n + 1, sizeof(*s->dfn));
	s->vert = pha_big_malloc(((size_t)n + 2) * sizeof(*s->vert));
	s->anc = pha_big_malloc(((size_t)n + 2) * sizeof(*s->anc));
	struct frame *st = malloc(cap * sizeof(*st));
	if (!s->dfn || !s->vert || !s->anc || !st) {
		free(st);
		return false;
	}
	s->N = 0;
	s->dfn[n] = ++s->N;
	s->vert[s->N] = n;
	s->anc[s->N] = 0;
	st[sp++] = (struct frame){n, 0};
	while (sp) {
		uint32_t next = next_unvisited(s, &st[sp - 1]);
		if (next == UINT32_MAX) {
			sp--;
			continue;
		}
		s->dfn[next] = ++s->N;
		s->vert[s->N] = next;
		s->anc[s->N] = s->dfn[st[sp - 1].node];
		if (sp == cap) {
			struct frame *f = realloc(st, 2 * cap * sizeof(*st));
			if (!f) {
				free(st);
				return false;
			}
			st = f;
			cap *= 2;
		}
		st[sp++] = (struct frame){next, 0};
	}
	free(st);
	return true;
}

/* The kept predecessors regrouped by the number of their target, in
 * descending order (the semidominators' order), as DFS numbers, the
 * unreached left out; then the node-space arrays and dfn go, and the
 * parents are copied into idom. */
static bool regroup(struct snca *s)
{
	uint32_t n = s->n, nk = 0;
	/* sources as DFS numbers (0: not reached) first, so that dfn goes
	 * before the regrouped copy comes */
	for (uint32_t e = 0; e < s->rfirst[n + 1]; e++)
		s->rsrc[e] = s->dfn[s->rsrc[e]];
	/* the reached numbers 2..N with kept predecessors, counted in node
	 * order (sequential) rather than number order */
	for (uint32_t w = 0; w < n; w++)
		nk += s->dfn[w] >= 2 && s->rfirst[w] < s->rfirst[w + 1];
	pha_big_free(s->dfn);
	s->dfn = NULL;
	s->rk = pha_big_malloc(((size_t)nk + 1) * sizeof(*s->rk));
	s->rend = pha_big_malloc(((size_t)nk + 1) * sizeof(*s->rend));
	s->psrc = pha_big_malloc(((size_t)s->rfirst[n + 1] + 1) * sizeof(*s->psrc));
	if (!s->rk || !s->rend || !s->psrc)
		return false;
	uint32_t np = 0;
	for (uint32_t k = s->N; k >= 2; k--) {
		uint32_t w = s->vert[k], np0 = np;
		for (uint32_t e = s->rfirst[w]; e < s->rfirst[w + 1]; e++) {
			if (s->rsrc[e])
				s->psrc[np++] = s->rsrc[e];
		}
		if (np > np0) {
			s->rk[s->nk] = k;
			s->rend[s->nk++] = np;
		}
	}
	pha_big_free(s->rfirst);
	pha_big_free(s->rsrc);
	s->rfirst = s->rsrc = NULL;
	s->idom = pha_big_malloc(((size_t)s->N + 1) * sizeof(*s->idom));
	s->best = pha_big_malloc(((size_t)s->N + 1) * sizeof(*s->best));
	s->semi = pha_big_malloc(((size_t)s->nk + 1) * sizeof(*s->semi));
	if (!s->idom || !s->best || !s->semi)
		return false;
	memcpy(s->idom, s->anc, ((size_t)s->N + 1) * sizeof(*s->idom));
	return true;
}

/* Lengauer-Tarjan's eval while the semidominator of number k is computed:
 * numbers above k are linked, under their DFS parent until compressed.
 * Returns the least semidominator on v's path to its forest root (v itself
 * when unlinked: its semidominator is still v). Path compression without
 * recursion: collect the path to the root, then compress top down.
 * UINT32_MAX on OOM. */
static uint32_t eval(struct snca *s, uint32_t v, uint32_t k)
{
	if (v <= k)
		return v;
	uint32_t *anc = s->anc, *best = s->best;
	size_t sp = 0;
	for (uint32_t u = v; anc[u] > k; u = anc[u]) {
		if (!ustack_room(&s->stack, sp))
			return UINT32_MAX;
		s->stack.a[sp++] = u;
	}
	uint32_t *stack = s->stack.a;
	while (sp) {
		uint32_t u = stack[--sp];
		if (best[anc[u]] < best[u])
			best[u] = best[anc[u]];
		anc[u] = anc[anc[u]];
	}
	return best[v];
}

/* Semidominators in descending numbers; a number without kept
 * predecessors has one (its parent, the semidominator). Each number is
 * linked once done. False on OOM. */
static bool semidominators(struct snca *s)
{
	uint32_t j = 0;
	for (uint32_t k = s->N; k >= 2; k--) {
		uint32_t sk = s->idom[k];	/* the parent */
		if (j < s->nk && s->rk[j] == k) {
			sk = k;
			for (uint32_t e = j ? s->rend[j - 1] : 0; e < s->rend[j]; e++) {
				uint32_t u = eval(s, s->psrc[e], k);
				if (u == UINT32_MAX)
					return false;
				if (u < sk)
					sk = u;
			}
			s->semi[j++] = sk;
		}
		s->best[k] = sk;
	}
	return true;
}

/* Immediate dominators in ascending numbers: walk up from the parent to
 * the first number at most the semidominator (at once for a number whose
 * parent is its semidominator). */
static void immediate_dominators(struct snca *s)
{
	uint32_t *idom = s->idom;
	idom[1] = 0;
	for (uint32_t j = s->nk; j-- > 0;) {
		uint32_t k = s->rk[j], d = idom[k];
		while (d > s->semi[j])
			d = idom[d];
		idom[k] = d;
	}
}

/* The tree in node space: idom per object, the reached ones in preorder
 * (vert's numbers 2..N, moved down in place). */
static struct pha_error *fill_tree(struct snca *s, struct pha_domtree *t)
{
	uint32_t n = s->n;
	t->idom = pha_big_malloc(((size_t)n ? n : 1) * sizeof(*t->idom));
	if (!t->idom)
		return &pha_enomem;
	for (uint32_t v = 0; v < n; v++)
		t->idom[v] = PHA_DOM_NONE;
	for (uint32_t k = 2; k <= s->N; k++)
		t->idom[s->vert[k]] = s->vert[s->idom[k]];
	t->norder = s->N - 1;
	memmove(s->vert, s->vert + 2, (size_t)t->norder * sizeof(*s->vert));
	t->order = s->vert;	/* n + 2 entries, norder used */
	s->vert = NULL;
	return NULL;
}

struct pha_error *pha_dominators(const struct pha_graph *g, const uint32_t *roots,
				 uint32_t nroots, struct pha_domtree *tree_ret)
{
	return pha_dominators_indeg(g, roots, nroots, NULL, tree_ret);
}

struct pha_error *pha_dominators_indeg(const struct pha_graph *g, const uint32_t *roots,
				       uint32_t nroots, uint32_t *indeg,
				       struct pha_domtree *tree_ret)
{
	/* Node space: 0..n (n = super-root). Number space: 1..N. */
	struct snca s = {.g = g, .roots = roots, .nroots = nroots, .n = g->n};
	struct pha_domtree t = {.n = g->n};
	struct pha_error *err;
	if ((uint64_t)g->first[g->n] + nroots > UINT32_MAX) {
		err = pha_error_create(PHA_ERR_INTERNAL, "graph too large for dominators");
		pha_big_free(indeg);
		goto out;
	}
	if ((err = reverse_edges(&s, indeg)))
		goto out;
	err = &pha_enomem;
	if (!dfs(&s) || !regroup(&s) || !semidominators(&s))
		goto out;
	/* what the tree does not need */
	pha_big_free(s.anc);
	pha_big_free(s.best);
	pha_big_free(s.psrc);
	free(s.stack.a);
	s.anc = s.best = s.psrc = s.stack.a = NULL;
	immediate_dominators(&s);
	pha_big_free(s.rk);
	pha_big_free(s.rend);
	pha_big_free(s.semi);
	s.rk = s.rend = s.semi = NULL;
	if ((err = fill_tree(&s, &t)))
		goto out;
	*tree_ret = t;
	t.idom = NULL;
	t.order = NULL;
out:
	pha_domtree_deinit(&t);
	snca_deinit(&s);
	return err;
}

void pha_domtree_deinit(struct pha_domtree *t)
{
	pha_big_free(t->idom);
	pha_big_free(t->order);
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
