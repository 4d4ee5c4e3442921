/* Building the heap model.
 *
 * Phase 1 (discovery): seed with every object on the GC lists and every
 * object the interpreter holds directly (roots), then follow references
 * breadth-first; non-GC objects (str, int, untracked tuples…) are found
 * this way. An address set maps addresses to discovery indices.
 * Phase 2: drop addresses that turned out not to be objects, number the
 * rest in address order, and build the CSR edge arrays by asking the
 * layout for each object's references a second time (the walk is
 * deterministic), which avoids storing 12+ bytes per edge during phase 1.
 *
 * pha_heap_build's steps: discover (phase 1; frees nothing, the address
 * set lives until the edges are built), number_objects, alloc_objects,
 * read_objects (attributes, type addresses), type_table (frees the
 * id -> discovery order), collect_edges (phase 2); build_deinit frees the
 * address set and the discovery arrays.
 */
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

enum { GEN_NONE = 255 };

struct build {
	struct pha_target *t;
	const struct pha_layout *l;
	struct pha_py *py;

	/* Address set: open addressing over indices into addr[] (EMPTY = free
	 * slot), 4 bytes a slot instead of 12 for key + value. */
	uint32_t *slots;
	size_t hcap;

	/* Discovery order. Only what phase 2 cannot recompute is kept: type,
	 * size and refcount are read again from the core, which is cheaper
	 * than 24 bytes per object at the peak. */
	uint64_t *addr;
	uint8_t *flags, *gen, *bad;
	size_t n, cap;
	bool oom;

	/* numbering and attributes */
	uint32_t *order;	/* id -> discovery index, while the attributes are read */
	/* Set of type addresses (open addressing, 0 = empty); h->type[] holds
	 * slot numbers until type_table turns them into indices. */
	uint64_t *taddrs;
	size_t tcap, nt;

	/* phase 2 */
	uint32_t *idmap;	/* discovery index -> id */
	uint32_t *dst;
	uint8_t *eflags;
	uint64_t nedges, ecap;
	uint64_t unknown_refs;
};

#define EMPTY UINT32_MAX

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9E3779B97F4A7C15ULL;
	x ^= x >> 29;
	return x;
}

static size_t hash_find(const struct build *b, uint64_t addr)
{
	size_t mask = b->hcap - 1;
	size_t i = mix(addr) & mask;
	while (b->slots[i] != EMPTY && b->addr[b->slots[i]] != addr)
		i = (i + 1) & mask;
	return i;
}

static bool hash_grow(struct build *b)
{
	size_t cap = b->hcap ? b->hcap * 2 : 1 << 16;
	uint32_t *old = b->slots;
	size_t ocap = b->hcap;
	b->slots = malloc(cap * sizeof(*b->slots));
	if (!b->slots) {
		b->slots = old;
		return false;
	}
	memset(b->slots, 0xff, cap * sizeof(*b->slots));
	b->hcap = cap;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i] != EMPTY)
			b->slots[hash_find(b, b->addr[old[i]])] = old[i];
	}
	free(old);
	return true;
}

#define GROW(arr, cap) do { \
	void *p_ = realloc((arr), (cap) * sizeof(*(arr))); \
	if (!p_) return UINT32_MAX; \
	(arr) = p_; } while (0)

static uint32_t grow_arrays(struct build *b)
{
	size_t cap = b->cap ? b->cap * 2 : 1 << 16;
	GROW(b->addr, cap);
	GROW(b->flags, cap);
	GROW(b->gen, cap);
	GROW(b->bad, cap);
	b->cap = cap;
	return 0;
}

/* Index of addr, adding it if new; UINT32_MAX on OOM or too many objects. */
static uint32_t add(struct build *b, uint64_t addr)
{
	if ((b->n + 1) * 2 > b->hcap && !hash_grow(b)) {
		b->oom = true;
		return UINT32_MAX;
	}
	size_t i = hash_find(b, addr);
	if (b->slots[i] != EMPTY)
		return b->slots[i];
	if (b->n >= UINT32_MAX - 1) {
		b->oom = true;
		return UINT32_MAX;
	}
	if (b->n == b->cap && grow_arrays(b) == UINT32_MAX) {
		b->oom = true;
		return UINT32_MAX;
	}
	uint32_t idx = (uint32_t)b->n++;
	b->slots[i] = idx;
	b->addr[idx] = addr;
	b->flags[idx] = 0;
	b->gen[idx] = GEN_NONE;
	b->bad[idx] = 0;
	return idx;
}

static void on_gc(void *arg, uint64_t addr, unsigned gen)
{
	struct build *b = arg;
	uint32_t i = add(b, addr);
	if (i == UINT32_MAX)
		return;
	b->gen[i] = (uint8_t)gen;
	b->flags[i] |= gen == PHA_GEN_PERMANENT ? PHA_OBJ_PERMANENT : PHA_OBJ_GC;
}

static void on_discover(void *arg, uint64_t addr, unsigned flags)
{
	struct build *b = arg;
	add(b, addr);
}

static struct pha_error *discover(struct build *b)
{
	struct pha_error *err;
	if ((err = b->l->enumerate_gc(b->py, on_gc, b)))
		return err;
	if ((err = b->l->roots(b->py, on_discover, b)))
		return err;
	for (size_t i = 0; i < b->n && !b->oom; i++) {
		struct pha_object_info info;
		if ((i & 0xffff) == 0)
			pha_progress("finding objects", i, 0);
		err = b->l->object_info(b->py, b->addr[i], &info);
		if (err) {
			if (err == &pha_enomem)
				return err;
			if (b->t->verbose >= 2)
				fprintf(stderr, "pyheap-analyze: skipped 0x%llx: %s\n",
					(unsigned long long)b->addr[i], err->message);
			pha_error_destroy(err);
			b->bad[i] = 1;
			continue;
		}
		add(b, info.type);
		if ((err = b->l->for_each_ref(b->py, b->addr[i], &info, on_discover, b)))
			return err;
	}
	pha_progress_done();
	return b->oom ? &pha_enomem : NULL;
}

static void on_edge(void *arg, uint64_t addr, unsigned flags)
{
	struct build *b = arg;
	size_t i = hash_find(b, addr);
	uint32_t id = b->slots[i] != EMPTY ? b->idmap[b->slots[i]] : PHA_NO_ID;
	if (id == PHA_NO_ID) {
		b->unknown_refs++;
		return;
	}
	if (b->nedges == b->ecap) {
		uint64_t cap = b->ecap ? b->ecap * 2 : 1 << 20;
		if (cap > UINT32_MAX) {
			b->oom = true;
			return;
		}
		uint32_t *d = realloc(b->dst, cap * sizeof(*d));
		if (!d) {
			b->oom = true;
			return;
		}
		b->dst = d;
		uint8_t *f = realloc(b->eflags, cap);
		if (!f) {
			b->oom = true;
			return;
		}
		b->eflags = f;
		b->ecap = cap;
	}
	b->dst[b->nedges] = id;
	b->eflags[b->nedges] = (uint8_t)flags;
	b->nedges++;
}

static const uint64_t *sort_keys;

static int cmp_by_addr(const void *x, const void *y)
{
	uint64_t a = sort_keys[*(const uint32_t *)x], c = sort_keys[*(const uint32_t *)y];
	return a < c ? -1 : a > c;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;
	return a < c ? -1 : a > c;
}

static void build_deinit(struct build *b)
{
	free(b->slots);
	free(b->order);
	free(b->taddrs);
	free(b->addr);
	free(b->flags);
	free(b->gen);
	free(b->bad);
	free(b->idmap);
	free(b->dst);
	free(b->eflags);
}

uint32_t pha_heap_find(const struct pha_heap *h, uint64_t addr)
{
	uint32_t lo = 0, hi = h->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->addr[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->n && h->addr[lo] == addr ? lo : PHA_NO_ID;
}

static uint32_t type_index(const struct pha_heap *h, uint64_t taddr)
{
	uint32_t lo = 0, hi = h->ntypes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->types[mid].addr < taddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Number the good objects in address order: b->order (id -> discovery
 * index) and b->idmap (discovery index -> id, PHA_NO_ID for the bad). */
static struct pha_error *number_objects(struct build *b, struct pha_heap *h)
{
	size_t ngood = 0;
	b->order = malloc((b->n ? b->n : 1) * sizeof(*b->order));
	b->idmap = malloc((b->n ? b->n : 1) * sizeof(*b->idmap));
	if (!b->order || !b->idmap)
		return &pha_enomem;
	for (size_t i = 0; i < b->n; i++) {
		b->idmap[i] = PHA_NO_ID;
		if (!b->bad[i])
			b->order[ngood++] = (uint32_t)i;
		else
			h->bad_objects++;
	}
	sort_keys = b->addr;
	qsort(b->order, ngood, sizeof(*b->order), cmp_by_addr);
	for (size_t id = 0; id < ngood; id++)
		b->idmap[b->order[id]] = (uint32_t)id;
	if (h->bad_objects)
		pha_target_warn(b->t, "%llu addresses referenced as objects could not be read as "
				      "objects and were skipped", (unsigned long long)h->bad_objects);
	h->n = (uint32_t)ngood;
	return NULL;
}

static struct pha_error *alloc_objects(struct pha_heap *h)
{
	size_t n1 = h->n ? h->n : 1;
	h->addr = malloc(n1 * sizeof(*h->addr));
	h->type = malloc(n1 * sizeof(*h->type));
	h->size = malloc(n1 * sizeof(*h->size));
	h->refcnt = malloc(n1 * sizeof(*h->refcnt));
	h->flags = malloc(n1);
	h->gen = malloc(n1);
	h->first = malloc((n1 + 1) * sizeof(*h->first));
	if (!h->addr || !h->type || !h->size || !h->refcnt || !h->flags || !h->gen || !h->first)
		return &pha_enomem;
	return NULL;
}

/* The slot of type address ta in b->taddrs, added if new; false on OOM.
 * The set doubles when half full, which moves the types already in it,
 * and the slot numbers handed out before are not remapped: a known bug
 * (more than 511 distinct types make earlier h->type[] entries point at
 * the wrong or an unset slot), kept as is by the refactor that split
 * pha_heap_build; to be fixed on its own. */
static bool type_slot(struct build *b, uint64_t ta, size_t *slot_ret)
{
	if ((b->nt + 1) * 2 > b->tcap) {
		uint64_t *nset = calloc(b->tcap * 2, sizeof(*nset));
		if (!nset)
			return false;
		for (size_t k = 0; k < b->tcap; k++) {
			if (!b->taddrs[k])
				continue;
			size_t j = mix(b->taddrs[k]) & (b->tcap * 2 - 1);
			while (nset[j])
				j = (j + 1) & (b->tcap * 2 - 1);
			nset[j] = b->taddrs[k];
		}
		free(b->taddrs);
		b->taddrs = nset;
		b->tcap *= 2;
	}
	size_t j = mix(ta) & (b->tcap - 1);
	while (b->taddrs[j] && b->taddrs[j] != ta)
		j = (j + 1) & (b->tcap - 1);
	if (!b->taddrs[j]) {
		b->taddrs[j] = ta;
		b->nt++;
	}
	*slot_ret = j;
	return true;
}

/* Attributes in id order; object_info is read again (it succeeded in
 * discovery and is deterministic). Distinct type addresses are collected
 * on the way; h->type[] gets their slots (type_table finishes it). */
static struct pha_error *read_objects(struct build *b, struct pha_heap *h)
{
	struct pha_error *err;
	b->tcap = 1024;
	b->taddrs = calloc(b->tcap, sizeof(*b->taddrs));
	if (!b->taddrs)
		return &pha_enomem;
	for (size_t id = 0; id < h->n; id++) {
		uint32_t i = b->order[id];
		struct pha_object_info info;
		if ((id & 0xffff) == 0)
			pha_progress("reading objects", id, h->n);
		if ((err = b->l->object_info(b->py, b->addr[i], &info)))
			return err;
		h->addr[id] = b->addr[i];
		h->size[id] = info.size;
		h->refcnt[id] = info.refcnt;
		h->flags[id] = b->flags[i] | (info.immortal ? PHA_OBJ_IMMORTAL : 0) |
			       (info.conservative ? PHA_OBJ_CONSERVATIVE : 0) |
			       (info.finalizer ? PHA_OBJ_FINALIZER : 0);
		h->gen[id] = b->gen[i];
		if (h->flags[id] & PHA_OBJ_GC)
			h->gc_listed++;
		if (h->flags[id] & PHA_OBJ_PERMANENT)
			h->permanent++;
		if (h->flags[id] & PHA_OBJ_CONSERVATIVE)
			h->conservative++;
		size_t slot;
		if (!type_slot(b, info.type, &slot))
			return &pha_enomem;
		h->type[id] = (uint32_t)slot;
	}
	return NULL;
}

/* h->types sorted by address, with names and object ids; h->type[] from
 * slot numbers to indices of that table. */
static struct pha_error *type_table(struct build *b, struct pha_heap *h)
{
	uint32_t *slot_to_index = malloc(b->tcap * sizeof(*slot_to_index));
	h->types = calloc(b->nt ? b->nt : 1, sizeof(*h->types));
	if (!slot_to_index || !h->types) {
		free(slot_to_index);
		return &pha_enomem;
	}
	h->ntypes = 0;
	for (size_t k = 0; k < b->tcap; k++) {
		if (b->taddrs[k])
			h->types[h->ntypes++].addr = b->taddrs[k];
	}
	qsort(h->types, h->ntypes, sizeof(*h->types), cmp_u64);	/* addr is the first member */
	for (size_t k = 0; k < b->tcap; k++) {
		if (b->taddrs[k])
			slot_to_index[k] = type_index(h, b->taddrs[k]);
	}
	for (size_t id = 0; id < h->n; id++)
		h->type[id] = slot_to_index[h->type[id]];
	free(slot_to_index);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		h->types[i].name = b->l->type_name(b->py, h->types[i].addr);
		h->types[i].kind = b->l->type_kind
			? (uint8_t)b->l->type_kind(b->py, h->types[i].addr)
			: pha_type_kind_by_name(h->types[i].name);
		h->types[i].obj = pha_heap_find(h, h->types[i].addr);
	}
	return NULL;
}

/* Phase 2: edges in id order (CSR), the layout asked a second time. */
static struct pha_error *collect_edges(struct build *b, struct pha_heap *h)
{
	struct pha_error *err;
	for (size_t id = 0; id < h->n && !b->oom; id++) {
		if ((id & 0xffff) == 0)
			pha_progress("collecting references", id, h->n);
		h->first[id] = (uint32_t)b->nedges;
		struct pha_object_info info = {
			.type = h->types[h->type[id]].addr,
			.refcnt = h->refcnt[id],
			.size = h->size[id],
			.immortal = h->flags[id] & PHA_OBJ_IMMORTAL,
			.conservative = h->flags[id] & PHA_OBJ_CONSERVATIVE,
		};
		if ((err = b->l->for_each_ref(b->py, h->addr[id], &info, on_edge, b)))
			return err;
	}
	pha_progress_done();
	if (b->oom)
		return &pha_enomem;
	h->first[h->n] = (uint32_t)b->nedges;
	h->nedges = b->nedges;
	h->dst = b->dst ? b->dst : malloc(sizeof(uint32_t));
	h->eflags = b->eflags ? b->eflags : malloc(1);
	b->dst = NULL;
	b->eflags = NULL;
	h->unknown_refs = b->unknown_refs;
	if (!h->dst || !h->eflags)
		return &pha_enomem;
	return NULL;
}

/* The phases of the file comment: discovery, then numbering, attributes,
 * the type table and the edges. */
struct pha_error *pha_heap_build(struct pha_target *t, struct pha_heap **heap_ret)
{
	struct build b = {.t = t, .l = t->layout, .py = t->py};
	struct pha_heap *h = calloc(1, sizeof(*h));
	struct pha_error *err = NULL;
	if (!h)
		return &pha_enomem;
	if (!hash_grow(&b)) {
		err = &pha_enomem;
		goto out;
	}
	if ((err = discover(&b)))
		goto out;
	if ((err = number_objects(&b, h)))
		goto out;
	if ((err = alloc_objects(h)))
		goto out;
	if ((err = read_objects(&b, h)))
		goto out;
	if ((err = type_table(&b, h)))
		goto out;
	free(b.order);
	b.order = NULL;
	pha_progress_done();
	if ((err = collect_edges(&b, h)))
		goto out;
	*heap_ret = h;
	h = NULL;
out:
	build_deinit(&b);
	pha_heap_destroy(h);
	return err;
}

void pha_heap_destroy(struct pha_heap *h)
{
	if (!h)
		return;
	free(h->addr);
	free(h->type);
	free(h->size);
	free(h->refcnt);
	free(h->flags);
	free(h->gen);
	free(h->first);
	free(h->dst);
	free(h->eflags);
	free(h->types);
	free(h);
}
