/* Semi-NCA dominators (the variant LLVM uses; see Georgiadis' thesis for
 * the analysis): semidominators by Lengauer-Tarjan's path-compressed eval
 * in reverse DFS preorder, then each immediate dominator is the nearest
 * common ancestor of the DFS parent and the semidominator, found by walking
 * up the partially built tree. Everything runs in DFS-number space
 * (1 = super-root) with explicit stacks.
 *
 * pha_dominators' steps: reverse_edges, dfs, semidominators,
 * immediate_dominators, fill_tree; all scratch (struct snca) is freed
 * before it returns, each array as soon as its last step is done: at most
 * 28 bytes per object plus 4 per edge into an object with two referrers
 * or more are alive at once (reverse edges,
 * dfn, vert, parent, DFS positions; then the reverse edges in DFS
 * numbers, vert, parent, semi, label, anc; the tree is filled after the
 * reverse edges and anc are freed). The explicit stack (DFS, then eval's
 * path compression) grows as deep as the walk goes, not to n.
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

/* Path compression without recursion: collect the path to the linked
 * forest's root, then compress from the top down. UINT32_MAX on OOM. */
static uint32_t eval(uint32_t v, uint32_t *anc, uint32_t *label, const uint32_t *semi,
		     struct ustack *st)
{
	if (!anc[v])
		return v;
	size_t sp = 0;
	for (uint32_t u = v; anc[anc[u]]; u = anc[u]) {
		if (!ustack_room(st, sp))
			return UINT32_MAX;
		st->a[sp++] = u;
	}
	uint32_t *stack = st->a;
	while (sp) {
		uint32_t u = stack[--sp];
		if (semi[label[anc[u]]] < semi[label[u]])
			label[u] = label[anc[u]];
		anc[u] = anc[anc[u]];
	}
	return label[v];
}

/* Scratch of one run, in DFS-number space unless said otherwise. */
struct snca {
	const struct pha_graph *g;
	const uint32_t *roots;
	uint32_t nroots;
	uint32_t n;		/* objects; node n is the super-root */
	uint32_t N;		/* nodes reached, numbered 1..N in DFS preorder */
	uint32_t *dfn;		/* node -> number; 0: not reached */
	uint32_t *vert;		/* number -> node */
	uint32_t *parent;	/* DFS tree parent */
	uint32_t *semi, *label, *anc;
	struct ustack stack;	/* the DFS's, then eval's */
	uint32_t *epos;		/* node -> next edge (DFS); fill position (reverse edges) */
	uint32_t *rfirst, *rsrc;	/* strong predecessors of each node (CSR over nodes 0..n) */
};

static bool snca_init(struct snca *s)
{
	size_t n = s->n;
	s->dfn = pha_big_calloc(n + 1, sizeof(*s->dfn));
	s->vert = pha_big_malloc((n + 2) * sizeof(*s->vert));
	s->parent = pha_big_malloc((n + 2) * sizeof(*s->parent));
	s->epos = pha_big_malloc((n + 2) * sizeof(*s->epos));
	s->rfirst = pha_big_calloc(n + 2, sizeof(*s->rfirst));
	return s->dfn && s->vert && s->parent && s->epos && s->rfirst;
}

/* After the DFS: its positions go, the reverse edges' sources become DFS
 * numbers (0: not reached) and dfn goes, the semidominator arrays come. */
static bool snca_after_dfs(struct snca *s)
{
	size_t n = s->n;
	pha_big_free(s->epos);
	s->epos = NULL;
	for (uint32_t e = 0; e < s->rfirst[n + 1]; e++)
		s->rsrc[e] = s->dfn[s->rsrc[e]];
	pha_big_free(s->dfn);
	s->dfn = NULL;
	s->semi = pha_big_malloc((n + 2) * sizeof(*s->semi));
	s->label = pha_big_malloc((n + 2) * sizeof(*s->label));
	s->anc = pha_big_calloc(n + 2, sizeof(*s->anc));
	return s->semi && s->label && s->anc;
}

/* After the semidominators: what the tree does not need. */
static void snca_before_tree(struct snca *s)
{
	pha_big_free(s->rfirst);
	pha_big_free(s->rsrc);
	pha_big_free(s->anc);
	free(s->stack.a);
	s->rfirst = s->rsrc = s->anc = s->stack.a = NULL;
	s->stack.cap = 0;
}

static void snca_deinit(struct snca *s)
{
	pha_big_free(s->dfn);
	pha_big_free(s->vert);
	pha_big_free(s->parent);
	pha_big_free(s->semi);
	pha_big_free(s->label);
	pha_big_free(s->anc);
	free(s->stack.a);
	pha_big_free(s->epos);
	pha_big_free(s->rfirst);
	pha_big_free(s->rsrc);
}

/* Reverse edges (strong only), the super-root's edges to the roots
 * included, by counting sort; ids out of range are internal errors. A node
 * with one predecessor gets none: reached, that one is its DFS parent and
 * its semidominator (semidominators), so only the nodes with two or more
 * keep their predecessors (most objects of a Python heap have one
 * referrer: 4 bytes an edge not spent on them). */
static struct pha_error *reverse_edges(struct snca *s)
{
	const struct pha_graph *g = s->g;
	uint32_t n = s->n;
	for (uint32_t u = 0; u < n; u++) {
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			if (g->dst[e] >= n)
				return pha_error_create(PHA_ERR_INTERNAL, "edge to %u out of range",
							g->dst[e]);
			if (!(g->eflags[e] & PHA_EDGE_WEAK))
				s->rfirst[g->dst[e] + 1]++;
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
	if (!s->rsrc)
		return &pha_enomem;
	for (uint32_t v = 0; v <= n + 1; v++)
		s->epos[v] = s->rfirst[v];
	for (uint32_t u = 0; u < n; u++) {
		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t w = g->dst[e];
			if (!(g->eflags[e] & PHA_EDGE_WEAK) && s->epos[w] < s->rfirst[w + 1])
				s->rsrc[s->epos[w]++] = u;
		}
	}
	for (uint32_t i = 0; i < s->nroots; i++) {
		uint32_t w = s->roots[i];
		if (s->epos[w] < s->rfirst[w + 1])
			s->rsrc[s->epos[w]++] = n;
	}
	return NULL;
}

/* The next node u's DFS visits (its edges, or the roots for the
 * super-root, from epos[u] on); UINT32_MAX when none is left. */
static uint32_t next_unvisited(struct snca *s, uint32_t u)
{
	const struct pha_graph *g = s->g;
	if (u == s->n) {
		while (s->epos[u] < s->nroots) {
			uint32_t w = s->roots[s->epos[u]++];
			if (!s->dfn[w])
				return w;
		}
		return UINT32_MAX;
	}
	uint64_t end = g->first[u + 1];
	while (g->first[u] + s->epos[u] < end) {
		uint64_t e = g->first[u] + s->epos[u]++;
		if (!(g->eflags[e] & PHA_EDGE_WEAK) && !s->dfn[g->dst[e]])
			return g->dst[e];
	}
	return UINT32_MAX;
}

/* Iterative DFS from the super-root: stack of nodes, epos = next edge.
 * False on OOM. */
static bool dfs(struct snca *s)
{
	uint32_t n = s->n;
	size_t sp = 0;
	s->N = 0;
	s->dfn[n] = ++s->N;
	s->vert[s->N] = n;
	s->parent[s->N] = 0;
	s->epos[n] = 0;
	if (!ustack_room(&s->stack, sp))
		return false;
	s->stack.a[sp++] = n;
	while (sp) {
		uint32_t u = s->stack.a[sp - 1];
		uint32_t next = next_unvisited(s, u);
		if (next == UINT32_MAX) {
			sp--;
			continue;
		}
		s->dfn[next] = ++s->N;
		s->vert[s->N] = next;
		s->parent[s->N] = s->dfn[u];
		s->epos[next] = 0;
		if (!ustack_room(&s->stack, sp))
			return false;
		s->stack.a[sp++] = next;
	}
	return true;
}

/* Semidominators in reverse preorder (the reverse edges' sources are DFS
 * numbers by now). False on OOM. */
static bool semidominators(struct snca *s)
{
	for (uint32_t k = 1; k <= s->N; k++) {
		s->semi[k] = k;
		s->label[k] = k;
	}
	for (uint32_t k = s->N; k >= 2; k--) {
		uint32_t w = s->vert[k];
		/* One predecessor (none kept): the parent, not linked yet
		 * (numbered below k), so eval gives it back and its semi is
		 * itself. */
		if (s->rfirst[w] == s->rfirst[w + 1])
			s->semi[k] = s->parent[k];
		for (uint32_t e = s->rfirst[w]; e < s->rfirst[w + 1]; e++) {
			uint32_t v = s->rsrc[e];
			if (!v)
				continue;	/* predecessor not reachable */
			uint32_t u = eval(v, s->anc, s->label, s->semi, &s->stack);
			if (u == UINT32_MAX)
				return false;
			if (s->semi[u] < s->semi[k])
				s->semi[k] = s->semi[u];
		}
		s->anc[k] = s->parent[k];
	}
	return true;
}

/* Immediate dominators: walk up from the parent to the first vertex
 * numbered at most the semidominator. Returns them by number, in label[]
 * (eval is done with it). */
static uint32_t *immediate_dominators(struct snca *s)
{
	uint32_t *idomn = s->label;
	idomn[1] = 0;
	for (uint32_t k = 2; k <= s->N; k++) {
		uint32_t d = s->parent[k];
		while (d > s->semi[k])
			d = idomn[d];
		idomn[k] = d;
	}
	return idomn;
}

/* The tree in node space: idom per object, the reached ones in preorder. */
static struct pha_error *fill_tree(const struct snca *s, const uint32_t *idomn,
				   struct pha_domtree *t)
{
	uint32_t n = s->n;
	t->idom = pha_big_malloc(((size_t)n ? n : 1) * sizeof(*t->idom));
	t->order = pha_big_malloc(((size_t)s->N ? s->N : 1) * sizeof(*t->order));
	if (!t->idom || !t->order)
		return &pha_enomem;
	for (uint32_t v = 0; v < n; v++)
		t->idom[v] = PHA_DOM_NONE;
	for (uint32_t k = 2; k <= s->N; k++) {
		t->idom[s->vert[k]] = s->vert[idomn[k]];
		t->order[t->norder++] = s->vert[k];
	}
	return NULL;
}

struct pha_error *pha_dominators(const struct pha_graph *g, const uint32_t *roots,
				 uint32_t nroots, struct pha_domtree *tree_ret)
{
	/* Node space: 0..n (n = super-root). Number space: 1..N. */
	struct snca s = {.g = g, .roots = roots, .nroots = nroots, .n = g->n};
	struct pha_domtree t = {.n = g->n};
	struct pha_error *err = &pha_enomem;
	if (!snca_init(&s))
		goto out;
	if ((uint64_t)g->first[g->n] + nroots > UINT32_MAX) {
		err = pha_error_create(PHA_ERR_INTERNAL, "graph too large for dominators");
		goto out;
	}
	if ((err = reverse_edges(&s)))
		goto out;
	err = &pha_enomem;
	if (!dfs(&s) || !snca_after_dfs(&s) || !semidominators(&s))
		goto out;
	snca_before_tree(&s);
	if ((err = fill_tree(&s, immediate_dominators(&s), &t)))
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
