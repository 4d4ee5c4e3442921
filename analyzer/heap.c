/* Building the heap model.
 *
 * Phase 1 (discovery): seed with every object on the GC lists and every
 * object the interpreter holds directly (roots), then follow references
 * breadth-first; non-GC objects (str, int, untracked tuples…) are found
 * this way. An address set maps addresses to discovery indices.
 * Each object's references are asked once, in discovery, and kept as
 * the targets' addresses (in chunks: no copy while they grow).
 * Phase 2: drop addresses that turned out not to be objects, number the
 * rest in address order, turn the kept targets into ids, read the
 * attributes in id order, and lay the edges out in id order (CSR).
 *
 * pha_heap_build's steps: discover (phase 1: each object's attributes
 * and references asked once), number_objects, edge_ids, gather_objects
 * (the attributes into id order, one array at a time; then the discovery
 * arrays go), type_table, collect_edges (CSR from the kept edges);
 * build_deinit frees what is left.
 *
 * Two address sets (issue 12): the fast one is a bitmap over the readable
 * memory with ranks (addrset.h): membership is one bit, the id of an
 * object is its rank (no sort, no hash probe per reference); the hash set
 * then holds only the addresses the bitmap cannot (not 8-aligned, not in
 * readable memory). Whatever the bitmap cannot number exactly as the hash
 * path would (an object listed twice on the GC lists, a readable object
 * at an address it cannot hold) switches the build to the hash set for
 * every address (to_slow), the original path, which stays the reference
 * (PHA_HASH_ADDRS=1 in the environment forces it, for comparisons).
 */
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrset.h"
#include "bigmem.h"
#include "progress.h"

enum { GEN_NONE = 255 };

struct build {
	struct pha_target *t;
	const struct pha_layout *l;
	struct pha_py *py;

	/* Address set: open addressing over indices into addr[] (EMPTY = free
	 * slot), 4 bytes a slot instead of 12 for key + value. */
	uint32_t *slots;
	size_t hcap, hn;	/* slots, addresses in them */
	struct pha_addrset as;
	bool fast;		/* the bitmap holds what it can; see the file comment */

	/* Discovery order: each object's attributes as object_info gave
	 * them (type as a dense index, see tlist), gathered into id order by
	 * gather_objects one array at a time. */
	uint64_t *addr;
	uint8_t *flags, *gen, *bad;
	uint32_t *type;
	struct pha_col size, refcnt;
	size_t n, cap;
	bool oom;
	/* Direct-mapped: type addresses added, with their dense indices
	 * (type_index_of), so that most objects need neither. */
	uint64_t types_added[64];
	uint32_t types_index[64];
	/* The references discovery reported, by discovery index (efirst: the
	 * first of each object's, nraw in all), in chunks of EDGE_CHUNK:
	 * the target's address (raddr) until edge_ids turns it into an id
	 * (rid, PHA_NO_ID for no object), and the flags (rflag). */
	uint32_t *efirst;
	uint64_t **raddr;
	uint32_t **rid;
	uint8_t **rflag;
	size_t nchunks, chunks_cap;
	uint64_t nraw;

	/* numbering and attributes */
	uint32_t *order;	/* id -> discovery index, until the edges are laid out */
	/* Distinct type addresses in order of first appearance (tlist, nt of
	 * them) and a set over it (open addressing, tcap slots of indices into
	 * tlist, EMPTY = free); h->type[] holds these dense indices until
	 * type_table turns them into indices of the address-sorted table. */
	uint32_t *tset;
	uint64_t *tlist;
	size_t tcap, nt;
	/* Types whose own __sizeof__ the layout does not reproduce, with
	 * their object counts (few: searched linearly). */
	struct unmodeled { uint64_t type, objects; } *unmod;
	size_t nunmod;

	/* phase 2 */
	uint32_t *idmap;	/* discovery index -> id */
	uint32_t *dst;
	uint8_t *eflags;
	uint64_t nedges;
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
	void *p_ = pha_big_realloc((arr), (cap) * sizeof(*(arr))); \
	if (!p_) return UINT32_MAX; \
	(arr) = p_; } while (0)

static uint32_t grow_arrays(struct build *b)
{
	size_t cap = b->cap ? b->cap * 2 : 1 << 16;
	GROW(b->addr, cap);
	GROW(b->flags, cap);
	GROW(b->gen, cap);
	GROW(b->bad, cap);
	GROW(b->efirst, cap);
	GROW(b->type, cap);
	GROW(b->size.v, cap);
	GROW(b->refcnt.v, cap);
	b->cap = cap;
	return 0;
}

/* Returned by add for an address the bitmap already holds. */
#define PRESENT (UINT32_MAX - 1)

static uint32_t append(struct build *b, uint64_t addr);

/* Index of addr, adding it if new (PRESENT: already in the bitmap, index
 * unknown); UINT32_MAX on OOM or too many objects. */
static uint32_t add(struct build *b, uint64_t addr)
{
	if (b->fast) {
		int r = pha_addrset_add(&b->as, addr);
		if (r == PHA_ADDRSET_PRESENT)
			return PRESENT;
		if (r == PHA_ADDRSET_NEW)
			return append(b, addr);
	}
	if ((b->hn + 1) * 2 > b->hcap && !hash_grow(b)) {
		b->oom = true;
		return UINT32_MAX;
	}
	size_t i = hash_find(b, addr);
	if (b->slots[i] != EMPTY)
		return b->slots[i];
	uint32_t idx = append(b, addr);
	if (idx != UINT32_MAX) {
		b->slots[i] = idx;
		b->hn++;
	}
	return idx;
}

/* Leave the bitmap: every address discovered so far into the hash set. */
static bool to_slow(struct build *b)
{
	size_t cap = 1 << 16;
	while (cap < (b->n + 1) * 2)
		cap *= 2;
	uint32_t *slots = malloc(cap * sizeof(*slots));
	if (!slots)
		return false;
	memset(slots, 0xff, cap * sizeof(*slots));
	free(b->slots);
	b->slots = slots;
	b->hcap = cap;
	for (size_t k = 0; k < b->n; k++)
		b->slots[hash_find(b, b->addr[k])] = (uint32_t)k;
	b->hn = b->n;
	b->fast = false;
	pha_addrset_deinit(&b->as);
	return true;
}

static uint32_t append(struct build *b, uint64_t addr)
{
	if (b->n >= UINT32_MAX - 2) {
		b->oom = true;
		return UINT32_MAX;
	}
	if (b->n == b->cap && grow_arrays(b) == UINT32_MAX) {
		b->oom = true;
		return UINT32_MAX;
	}
	uint32_t idx = (uint32_t)b->n++;
	b->addr[idx] = addr;
	b->flags[idx] = 0;
	b->gen[idx] = GEN_NONE;
	b->bad[idx] = 0;
	return idx;
}

static bool type_index_of(struct build *b, uint64_t ta, uint32_t *index_ret);
static bool count_unmodeled(struct build *b, uint64_t ta);

static void on_gc(void *arg, uint64_t addr, unsigned gen)
{
	struct build *b = arg;
	uint32_t i = add(b, addr);
	if (i == PRESENT) {	/* listed twice: the hash set knows where */
		if (!to_slow(b)) {
			b->oom = true;
			return;
		}
		i = add(b, addr);
	}
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

#define EDGE_CHUNK (1u << 20)

static bool new_chunk(struct build *b)
{
	if (b->nchunks == b->chunks_cap) {
		size_t cap = b->chunks_cap ? 2 * b->chunks_cap : 64;
		uint64_t **a = realloc(b->raddr, cap * sizeof(*a));
		if (a)
			b->raddr = a;
		uint32_t **r = realloc(b->rid, cap * sizeof(*r));
		if (r)
			b->rid = r;
		uint8_t **f = realloc(b->rflag, cap * sizeof(*f));
		if (f)
			b->rflag = f;
		if (!a || !r || !f)
			return false;
		b->chunks_cap = cap;
	}
	b->raddr[b->nchunks] = pha_big_malloc(EDGE_CHUNK * sizeof(**b->raddr));
	b->rflag[b->nchunks] = pha_big_malloc(EDGE_CHUNK);
	b->rid[b->nchunks] = NULL;
	if (!b->raddr[b->nchunks] || !b->rflag[b->nchunks]) {
		pha_big_free(b->raddr[b->nchunks]);
		pha_big_free(b->rflag[b->nchunks]);
		return false;
	}
	b->nchunks++;
	return true;
}

/* A reference of an object: discovered, and kept as an edge. */
static void on_edge_found(void *arg, uint64_t addr, unsigned flags)
{
	struct build *b = arg;
	on_discover(b, addr, flags);
	if (b->nraw >= UINT32_MAX - 1) {
		b->oom = true;
		return;
	}
	if (b->nraw % EDGE_CHUNK == 0 && !new_chunk(b)) {
		b->oom = true;
		return;
	}
	b->raddr[b->nraw / EDGE_CHUNK][b->nraw % EDGE_CHUNK] = addr;
	b->rflag[b->nraw / EDGE_CHUNK][b->nraw % EDGE_CHUNK] = (uint8_t)flags;
	b->nraw++;
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
		b->efirst[i] = (uint32_t)b->nraw;
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
		b->flags[i] |= (info.immortal ? PHA_OBJ_IMMORTAL : 0) |
			       (info.conservative ? PHA_OBJ_CONSERVATIVE : 0) |
			       (info.finalizer ? PHA_OBJ_FINALIZER : 0);
		if (!pha_col_set(&b->size, (uint32_t)i, info.size) ||
		    !pha_col_set(&b->refcnt, (uint32_t)i, info.refcnt) ||
		    (info.size_unmodeled && !count_unmodeled(b, info.type)))
			return &pha_enomem;
		/* a type address added before is in the set for good, and its
		 * index fixed: most objects' types are among the last few seen */
		unsigned slot = (unsigned)(info.type >> 4) & 63;
		if (b->types_added[slot] == info.type && info.type) {
			b->type[i] = b->types_index[slot];
		} else {
			if (!type_index_of(b, info.type, &b->type[i]))
				return &pha_enomem;
			add(b, info.type);
			b->types_added[slot] = info.type;
			b->types_index[slot] = b->type[i];
		}
		if ((err = b->l->for_each_ref(b->py, b->addr[i], &info, on_edge_found, b)))
			return err;
	}
	pha_progress_done();
	return b->oom ? &pha_enomem : NULL;
}

/* The id of the object at addr, PHA_NO_ID for no object (after
 * number_objects). */
static uint32_t target_id(struct build *b, uint64_t addr)
{
	if (b->fast)	/* the hash set holds only addresses that are no object */
		return pha_addrset_id(&b->as, addr);
	size_t i = hash_find(b, addr);
	return b->slots[i] != EMPTY ? b->idmap[b->slots[i]] : PHA_NO_ID;
}

/* The kept references' targets become ids, chunk by chunk (each address
 * chunk is freed as its id chunk is made). */
static struct pha_error *edge_ids(struct build *b)
{
	for (size_t c = 0; c < b->nchunks; c++) {
		uint64_t k = b->nraw - (uint64_t)c * EDGE_CHUNK;
		if (k > EDGE_CHUNK)
			k = EDGE_CHUNK;
		b->rid[c] = pha_big_malloc(EDGE_CHUNK * sizeof(**b->rid));
		if (!b->rid[c])
			return &pha_enomem;
		for (uint64_t j = 0; j < k; j++)
			b->rid[c][j] = target_id(b, b->raddr[c][j]);
		pha_big_free(b->raddr[c]);
		b->raddr[c] = NULL;
	}
	return NULL;
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

/* The address sets and the hash path's discovery index -> id: edge_ids
 * is their last user. */
static void free_lookup(struct build *b)
{
	free(b->slots);
	pha_addrset_deinit(&b->as);
	pha_big_free(b->idmap);
	b->slots = NULL;
	b->idmap = NULL;
}

/* The discovery arrays (gather_objects is their last user). */
static void free_discovery(struct build *b)
{
	pha_big_free(b->addr);
	pha_big_free(b->flags);
	pha_big_free(b->gen);
	pha_big_free(b->bad);
	pha_big_free(b->type);
	pha_big_free(b->size.v);
	pha_big_free(b->refcnt.v);
	pha_col_free_wide(&b->size);
	pha_col_free_wide(&b->refcnt);
	b->type = NULL;
	b->size.v = b->refcnt.v = NULL;
	b->addr = NULL;
	b->flags = b->gen = b->bad = NULL;
}

static void free_edges(struct build *b)
{
	for (size_t c = 0; c < b->nchunks; c++) {
		pha_big_free(b->raddr[c]);
		pha_big_free(b->rid[c]);
		pha_big_free(b->rflag[c]);
	}
	free(b->raddr);
	free(b->rid);
	free(b->rflag);
	pha_big_free(b->efirst);
	b->raddr = NULL;
	b->rid = NULL;
	b->rflag = NULL;
	b->efirst = NULL;
	b->nchunks = b->chunks_cap = 0;
}

static void build_deinit(struct build *b)
{
	pha_big_free(b->order);
	free(b->tset);
	free(b->tlist);
	free(b->unmod);
	free_lookup(b);
	free_discovery(b);
	free_edges(b);
	pha_big_free(b->dst);
	pha_big_free(b->eflags);
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

/* The fast numbering: the bad leave the bitmap, ids are ranks. False
 * when a good object is not in the bitmap (the caller goes slow). */
static bool number_by_rank(struct build *b, size_t ngood)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->bad[i])
			pha_addrset_remove(&b->as, b->addr[i]);
	}
	if (!pha_addrset_rank(&b->as) || b->as.members != ngood)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		if (b->bad[i])
			continue;
		uint32_t id = pha_addrset_id(&b->as, b->addr[i]);
		if (id >= ngood)
			return false;
		b->order[id] = (uint32_t)i;
	}
	return true;
}

/* Number the good objects in address order: b->order (id -> discovery
 * index) and, on the hash path, b->idmap (discovery index -> id,
 * PHA_NO_ID for the bad). */
static struct pha_error *number_objects(struct build *b, struct pha_heap *h)
{
	size_t ngood = 0;
	b->order = pha_big_malloc((b->n ? b->n : 1) * sizeof(*b->order));
	if (!b->order)
		return &pha_enomem;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->bad[i])
			b->order[ngood++] = (uint32_t)i;
		else
			h->bad_objects++;
	}
	if (b->fast && !number_by_rank(b, ngood)) {
		if (!to_slow(b))
			return &pha_enomem;
		ngood = 0;	/* number_by_rank wrote over the order */
		for (size_t i = 0; i < b->n; i++) {
			if (!b->bad[i])
				b->order[ngood++] = (uint32_t)i;
		}
	}
	if (b->fast) {	/* only addresses that are no object were hashed */
		free(b->slots);
		b->slots = NULL;
		b->hcap = b->hn = 0;
	} else {
		b->idmap = pha_big_malloc((b->n ? b->n : 1) * sizeof(*b->idmap));
		if (!b->idmap)
			return &pha_enomem;
		for (size_t i = 0; i < b->n; i++)
			b->idmap[i] = PHA_NO_ID;
		sort_keys = b->addr;
		qsort(b->order, ngood, sizeof(*b->order), cmp_by_addr);
		for (size_t id = 0; id < ngood; id++)
			b->idmap[b->order[id]] = (uint32_t)id;
	}
	if (h->bad_objects)
		pha_target_warn(b->t, "%llu addresses referenced as objects could not be read as "
				      "objects and were skipped", (unsigned long long)h->bad_objects);
	h->n = (uint32_t)ngood;
	return NULL;
}

/* The dense index of type address ta (its order of first appearance),
 * added if new; false on OOM. The set maps addresses to dense indices, so
 * growing it moves slots but never changes an index already handed out
 * (issue 9: slot numbers went stale past 511 distinct types). */
static bool type_index_of(struct build *b, uint64_t ta, uint32_t *index_ret)
{
	if ((b->nt + 1) * 2 > b->tcap) {
		size_t cap = b->tcap * 2;
		uint32_t *nset = malloc(cap * sizeof(*nset));
		uint64_t *nlist = realloc(b->tlist, cap / 2 * sizeof(*nlist));
		if (nlist)
			b->tlist = nlist;
		if (!nset || !nlist) {
			free(nset);
			return false;
		}
		memset(nset, 0xff, cap * sizeof(*nset));
		for (size_t k = 0; k < b->nt; k++) {
			size_t j = mix(b->tlist[k]) & (cap - 1);
			while (nset[j] != EMPTY)
				j = (j + 1) & (cap - 1);
			nset[j] = (uint32_t)k;
		}
		free(b->tset);
		b->tset = nset;
		b->tcap = cap;
	}
	size_t j = mix(ta) & (b->tcap - 1);
	while (b->tset[j] != EMPTY && b->tlist[b->tset[j]] != ta)
		j = (j + 1) & (b->tcap - 1);
	if (b->tset[j] == EMPTY) {
		b->tset[j] = (uint32_t)b->nt;
		b->tlist[b->nt++] = ta;
	}
	*index_ret = b->tset[j];
	return true;
}

/* One more object of type ta whose size is tp_basicsize-based although
 * the type has its own __sizeof__; false on OOM. */
static bool count_unmodeled(struct build *b, uint64_t ta)
{
	for (size_t i = 0; i < b->nunmod; i++) {
		if (b->unmod[i].type == ta) {
			b->unmod[i].objects++;
			return true;
		}
	}
	struct unmodeled *u = realloc(b->unmod, (b->nunmod + 1) * sizeof(*u));
	if (!u)
		return false;
	b->unmod = u;
	b->unmod[b->nunmod++] = (struct unmodeled){ta, 1};
	return true;
}

static int cmp_unmodeled(const void *x, const void *y)
{
	const struct unmodeled *a = x, *c = y;
	if (a->objects != c->objects)
		return a->objects > c->objects ? -1 : 1;
	return a->type < c->type ? -1 : a->type > c->type;
}

/* DESIGN "Sizes": never silently tp_basicsize. One warning names the
 * types (most objects first, at most 10) whose sizes may differ from
 * sys.getsizeof. */
static void warn_unmodeled(struct build *b, struct pha_heap *h)
{
	if (!b->nunmod)
		return;
	qsort(b->unmod, b->nunmod, sizeof(*b->unmod), cmp_unmodeled);
	char list[1024];
	size_t pos = 0;
	list[0] = 0;
	for (size_t i = 0; i < b->nunmod && i < 10; i++) {
		uint32_t k = type_index(h, b->unmod[i].type);
		const char *name = k < h->ntypes ? h->types[k].name : "?";
		int n = snprintf(list + pos, sizeof(list) - pos, "%s%s (%llu object%s)", i ? ", " : "",
				 name, (unsigned long long)b->unmod[i].objects,
				 b->unmod[i].objects == 1 ? "" : "s");
		if (n < 0 || (size_t)n >= sizeof(list) - pos)
			break;
		pos += (size_t)n;
	}
	pha_target_warn(b->t, "sizes of %zu type%s with their own __sizeof__ are tp_basicsize-based "
			      "and may differ from sys.getsizeof: %s%s", b->nunmod,
			b->nunmod == 1 ? "" : "s", list, b->nunmod > 10 ? ", ..." : "");
}

/* The type set's first table (type_index_of grows it). */
static bool types_init(struct build *b)
{
	b->tcap = 1024;
	b->tset = malloc(b->tcap * sizeof(*b->tset));
	b->tlist = malloc(b->tcap / 2 * sizeof(*b->tlist));
	if (!b->tset || !b->tlist)
		return false;
	memset(b->tset, 0xff, b->tcap * sizeof(*b->tset));
	return true;
}

#define GATHER(dst, src, n) do { \
	(dst) = pha_big_malloc(((n) ? (n) : 1) * sizeof(*(dst))); \
	if (!(dst)) \
		return &pha_enomem; \
	for (size_t id_ = 0; id_ < (n); id_++) \
		(dst)[id_] = (src)[b->order[id_]]; \
	pha_big_free(src); \
	(src) = NULL; } while (0)

/* A column in id order from one in discovery order (values of 2^32 - 1
 * or more through the side table, ids ascending). */
static struct pha_error *gather_col(struct build *b, struct pha_col *dst, struct pha_col *src,
				    size_t n)
{
	dst->v = pha_big_malloc((n ? n : 1) * sizeof(*dst->v));
	if (!dst->v)
		return &pha_enomem;
	for (size_t id = 0; id < n; id++) {
		uint32_t i = b->order[id];
		if (src->v[i] != PHA_COL_WIDE)
			dst->v[id] = src->v[i];
		else if (!pha_col_set(dst, (uint32_t)id, pha_col_wide_get(src, i)))
			return &pha_enomem;
	}
	pha_big_free(src->v);
	src->v = NULL;
	pha_col_free_wide(src);
	return NULL;
}

/* The attributes discovery recorded, in id order: each array gathered
 * and its discovery-order twin freed before the next (issue 12: one
 * object_info per object, and the two orders never whole side by side). */
static struct pha_error *gather_objects(struct build *b, struct pha_heap *h)
{
	struct pha_error *err;
	size_t n = h->n;
	GATHER(h->addr, b->addr, n);
	GATHER(h->type, b->type, n);
	GATHER(h->flags, b->flags, n);
	GATHER(h->gen, b->gen, n);
	if ((err = gather_col(b, &h->size, &b->size, n)) ||
	    (err = gather_col(b, &h->refcnt, &b->refcnt, n)))
		return err;
	for (size_t id = 0; id < n; id++) {
		h->gc_listed += (h->flags[id] & PHA_OBJ_GC) != 0;
		h->permanent += (h->flags[id] & PHA_OBJ_PERMANENT) != 0;
		h->conservative += (h->flags[id] & PHA_OBJ_CONSERVATIVE) != 0;
	}
	pha_col_sort(&h->size);	/* already in id order: a check */
	pha_col_sort(&h->refcnt);
	return NULL;
}

/* h->types sorted by address, with names and object ids; h->type[] from
 * dense indices (order of first appearance) to indices of that table. */
static struct pha_error *type_table(struct build *b, struct pha_heap *h)
{
	uint32_t *dense_to_index = malloc((b->nt ? b->nt : 1) * sizeof(*dense_to_index));
	h->types = calloc(b->nt ? b->nt : 1, sizeof(*h->types));
	if (!dense_to_index || !h->types) {
		free(dense_to_index);
		return &pha_enomem;
	}
	h->ntypes = (uint32_t)b->nt;
	for (size_t k = 0; k < b->nt; k++)
		h->types[k].addr = b->tlist[k];
	qsort(h->types, h->ntypes, sizeof(*h->types), cmp_u64);	/* addr is the first member */
	for (size_t k = 0; k < b->nt; k++)
		dense_to_index[k] = type_index(h, b->tlist[k]);
	for (size_t id = 0; id < h->n; id++)
		h->type[id] = dense_to_index[h->type[id]];
	free(dense_to_index);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		h->types[i].name = b->l->type_name(b->py, h->types[i].addr);
		h->types[i].kind = b->l->type_kind
			? (uint8_t)b->l->type_kind(b->py, h->types[i].addr)
			: pha_type_kind_by_name(h->types[i].name);
		h->types[i].obj = pha_heap_find(h, h->types[i].addr);
	}
	return NULL;
}

/* Phase 2: the kept edges in id order (CSR); references to no object
 * are counted and dropped. */
static struct pha_error *collect_edges(struct build *b, struct pha_heap *h)
{
	h->first = pha_big_malloc(((size_t)h->n + 1) * sizeof(*h->first));
	b->dst = pha_big_malloc((b->nraw ? b->nraw : 1) * sizeof(*b->dst));
	b->eflags = pha_big_malloc(b->nraw ? b->nraw : 1);
	if (!h->first || !b->dst || !b->eflags)
		return &pha_enomem;
	for (size_t id = 0; id < h->n; id++) {
		if ((id & 0xffff) == 0)
			pha_progress("collecting references", id, h->n);
		h->first[id] = (uint32_t)b->nedges;
		uint32_t i = b->order[id];
		uint64_t end = i + 1 < b->n ? b->efirst[i + 1] : b->nraw;
		for (uint64_t e = b->efirst[i]; e < end; e++) {
			uint32_t t = b->rid[e / EDGE_CHUNK][e % EDGE_CHUNK];
			if (t == PHA_NO_ID) {
				b->unknown_refs++;
				continue;
			}
			b->dst[b->nedges] = t;
			b->eflags[b->nedges++] = b->rflag[e / EDGE_CHUNK][e % EDGE_CHUNK];
		}
	}
	pha_progress_done();
	h->first[h->n] = (uint32_t)b->nedges;
	h->nedges = b->nedges;
	h->dst = b->dst;
	h->eflags = b->eflags;
	b->dst = NULL;
	b->eflags = NULL;
	h->unknown_refs = b->unknown_refs;
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
	if (!hash_grow(&b) || !types_init(&b)) {
		err = &pha_enomem;
		goto out;
	}
	/* The bitmap: 1/64 of the readable memory; without it, the hash set. */
	b.fast = getenv("PHA_HASH_ADDRS") == NULL &&
		 pha_addrset_init(&b.as, &t->mem, UINT64_C(1) << 40);
	if ((err = discover(&b)))
		goto out;
	if ((err = number_objects(&b, h)))
		goto out;
	if ((err = edge_ids(&b)))
		goto out;
	free_lookup(&b);
	if ((err = gather_objects(&b, h)))
		goto out;
	/* b.n stays: collect_edges bounds the last object's edges by it */
	free_discovery(&b);
	if ((err = type_table(&b, h)))
		goto out;
	warn_unmodeled(&b, h);
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
	pha_big_free(h->addr);	/* bigmem.h: malloc'd arrays too (snapshots) */
	pha_big_free(h->type);
	pha_big_free(h->size.v);
	pha_big_free(h->refcnt.v);
	pha_col_free_wide(&h->size);
	pha_col_free_wide(&h->refcnt);
	pha_big_free(h->flags);
	pha_big_free(h->gen);
	pha_big_free(h->first);
	pha_big_free(h->dst);
	pha_big_free(h->eflags);
	free(h->types);
	free(h);
}

/* ---- struct pha_col (graph.h) ------------------------------------------------ */

uint64_t pha_col_wide_get(const struct pha_col *c, uint32_t id)
{
	size_t lo = 0, hi = c->nwide;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->wide[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nwide && c->wide[lo].id == id ? c->wide[lo].v : PHA_COL_WIDE;
}

bool pha_col_set_wide(struct pha_col *c, uint32_t id, uint64_t v)
{
	if (c->nwide == c->capwide) {
		size_t cap = c->capwide ? 2 * c->capwide : 64;
		struct pha_col_wide *w = realloc(c->wide, cap * sizeof(*w));
		if (!w)
			return false;
		c->wide = w;
		c->capwide = cap;
	}
	c->wide[c->nwide++] = (struct pha_col_wide){.id = id, .v = v};
	c->v[id] = PHA_COL_WIDE;
	return true;
}

static int cmp_wide(const void *a, const void *b)
{
	const struct pha_col_wide *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

void pha_col_sort(struct pha_col *c)
{
	for (size_t i = 1; i < c->nwide; i++) {
		if (c->wide[i - 1].id > c->wide[i].id) {
			qsort(c->wide, c->nwide, sizeof(*c->wide), cmp_wide);
			return;
		}
	}
}

void pha_col_free_wide(struct pha_col *c)
{
	free(c->wide);
	c->wide = NULL;
	c->nwide = c->capwide = 0;
}
