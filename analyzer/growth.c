/* Growth candidates (report/3, `growth_candidates`): the containers a later
 * `pyheap-analyze diff` compares between two dumps. A leak is a container
 * that keeps growing; a report that is all a user kept of a dump must
 * still name its largest containers by something another dump shares:
 * the labelled path from a root (stable across processes) and the address
 * (stable within one process: a dict keeps its address while its table
 * grows).
 *
 * The candidates: the GROWTH_BY_ITEMS objects holding the most items, then
 * the GROWTH_BY_RETAINED objects of at least two items retaining the most
 * that are not among them; objects no root reaches are left out (they have
 * no path). Items: the used items of a list, dict, set or frozenset when
 * the layout reads them (container_len, cores), else the object's strong
 * references (a dict's keys and values counted apart: halved for `dict`).
 * Runs inside pha_why_build, which lends its retained sizes and paths. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../plugins/pha_layout.h"

#define GROWTH_BY_ITEMS 150
#define GROWTH_BY_RETAINED 50

struct cand {
	uint32_t id;
	uint64_t items, retained;
};

/* a before b: more items, then more retained, then lower id (= address). */
static bool more_items(const struct cand *a, const struct cand *b)
{
	if (a->items != b->items)
		return a->items > b->items;
	if (a->retained != b->retained)
		return a->retained > b->retained;
	return a->id < b->id;
}

static bool more_retained(const struct cand *a, const struct cand *b)
{
	if (a->retained != b->retained)
		return a->retained > b->retained;
	if (a->items != b->items)
		return a->items > b->items;
	return a->id < b->id;
}

/* Insert x into the sorted bounded list top[0..*n) of capacity k. */
static void insert(struct cand *top, size_t *n, size_t k, struct cand x,
		   bool (*before)(const struct cand *, const struct cand *))
{
	if (*n == k && !before(&x, &top[k - 1]))
		return;
	size_t i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && before(&x, &top[i - 1])) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = x;
}

/* Per heap type: 1 list/set/frozenset, 2 dict (container_len answers for
 * them), 0 other. */
static uint8_t *container_kinds(const struct pha_heap *h)
{
	uint8_t *kind = calloc(h->ntypes ? h->ntypes : 1, 1);
	if (!kind)
		return NULL;
	for (uint32_t t = 0; t < h->ntypes; t++) {
		const char *nm = h->types[t].name;
		if (!nm)
			continue;
		if (!strcmp(nm, "dict"))
			kind[t] = 2;
		else if (!strcmp(nm, "list") || !strcmp(nm, "set") || !strcmp(nm, "frozenset"))
			kind[t] = 1;
	}
	return kind;
}

static uint64_t items_of(const struct pha_growth_view *v, const uint8_t *kind, uint32_t id)
{
	const struct pha_heap *h = v->h;
	const struct pha_layout *l = v->src->lay;
	uint8_t k = kind[h->type[id]];
	uint64_t used, cap;
	if (k && l && l->container_len && v->src->py &&
	    l->container_len(v->src->py, h->addr[id], &used, &cap))
		return used;
	uint64_t refs = 0;
	for (uint32_t e = h->first[id]; e < h->first[id + 1]; e++)
		refs += !(h->eflags[e] & PHA_EDGE_WEAK);
	return k == 2 ? refs / 2 : refs;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return more_items(x, y) ? -1 : more_items(y, x);
}

/* The chosen candidates (at most GROWTH_BY_ITEMS + GROWTH_BY_RETAINED), in
 * the report's order; *n_ret their number. */
static struct pha_error *choose(const struct pha_growth_view *v, struct cand *top, size_t *n_ret)
{
	const struct pha_heap *h = v->h;
	struct cand *byret = malloc(GROWTH_BY_RETAINED * sizeof(*byret));
	uint8_t *kind = container_kinds(h);
	if (!byret || !kind) {
		free(byret);
		free(kind);
		return &pha_enomem;
	}
	size_t n = 0, nr = 0;
	for (uint32_t id = 0; id < h->n; id++) {
		if (!v->retained[id])
			continue;
		struct cand x = {.id = id, .items = items_of(v, kind, id), .retained = v->retained[id]};
		if (!x.items)
			continue;
		/* What falls out of the items list may still retain most. */
		if (n == GROWTH_BY_ITEMS && more_items(&x, &top[n - 1])) {
			struct cand out = top[n - 1];
			insert(top, &n, GROWTH_BY_ITEMS, x, more_items);
			x = out;
		} else if (n < GROWTH_BY_ITEMS) {
			insert(top, &n, GROWTH_BY_ITEMS, x, more_items);
			continue;
		}
		if (x.items >= 2)
			insert(byret, &nr, GROWTH_BY_RETAINED, x, more_retained);
	}
	memcpy(top + n, byret, nr * sizeof(*byret));
	n += nr;
	qsort(top, n, sizeof(*top), cmp_cand);
	free(byret);
	free(kind);
	*n_ret = n;
	return NULL;
}

struct pha_error *pha_growth_build(const struct pha_growth_view *v, struct pha_why *w)
{
	struct cand *top = malloc((GROWTH_BY_ITEMS + GROWTH_BY_RETAINED) * sizeof(*top));
	if (!top)
		return &pha_enomem;
	size_t n;
	struct pha_error *err = choose(v, top, &n);
	if (!err && !(w->growth = calloc(n ? n : 1, sizeof(*w->growth))))
		err = &pha_enomem;
	for (size_t i = 0; !err && i < n; i++) {
		uint32_t id = top[i].id;
		struct pha_growth_candidate *g = &w->growth[w->ngrowth++];
		g->addr = v->h->addr[id];
		g->type = v->h->types[v->h->type[id]].name;
		g->items = top[i].items;
		g->retained = top[i].retained;
		struct pha_path p;
		if ((err = v->path(v->ctx, id, &p)))
			break;
		g->path = pha_path_text(&p);
		pha_path_free(&p);
		if (!g->path)
			err = &pha_enomem;
	}
	free(top);
	return err;
}

void pha_growth_deinit(struct pha_why *w)
{
	for (size_t i = 0; i < w->ngrowth; i++)
		free(w->growth[i].path);
	free(w->growth);
	w->growth = NULL;
	w->ngrowth = 0;
}
