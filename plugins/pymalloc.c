/* pymalloc (obmalloc): arenas, pools and blocks per size class, counted as
 * sys._debugmallocstats() counts them.
 *
 * What it knows (Objects/obmalloc.c, Include/internal/pycore_obmalloc.h;
 * 64-bit default builds of 3.8 - 3.15):
 *   - blocks are multiples of 16 bytes: size class i holds (i + 1) * 16
 *     bytes, 32 classes up to 512;
 *   - POOL_SIZE/ARENA_SIZE: 4 KiB/256 KiB in 3.8 - 3.9, 16 KiB/1 MiB from
 *     3.10 (table members pool_size, arena_size);
 *   - struct arena_object (48 bytes, every version): address +0,
 *     pool_address +8 (the next pool never carved), nfreepools +16,
 *     ntotalpools +20; a slot with address 0 is unused. An arena whose
 *     address is not pool-aligned loses its first partial pool;
 *   - struct pool_header (48 bytes, every version): ref.count +0,
 *     freeblock +8 (singly linked free blocks), arenaindex +32, szidx +36,
 *     nextoffset +40 (blocks from there on never handed out),
 *     maxnextoffset +44 (POOL_SIZE - block size);
 *   - where the state is: 3.8 - 3.11 file statics of obmalloc.c (`arenas`,
 *     `maxarenas`, `narenas_currently_allocated`; local symbols, so in
 *     .symtab only), found in the data of a stripped binary by their shape
 *     (pymalloc_scan.c); 3.12 struct _obmalloc_state inside
 *     PyInterpreterState (is_obmalloc); 3.13+ a pointer to it there
 *     (obmalloc_ptr). The main interpreter's state is walked.
 *
 * Every walk is bounded: the arena slots by what the memory after `arenas`
 * holds, pools by the arena size, a free list by the pool's capacity (a
 * cycle or a pointer out of the pool is an inconsistency). An inconsistent
 * arena or pool is skipped and counted (`corrupt`), one warning per kind.
 */
#include "alloc.h"
#include "cpython_int.h"
#include "pymalloc_int.h"

#include "../analyzer/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	AO_SIZE = 48, AO_ADDRESS = 0, AO_POOL_ADDRESS = 8, AO_NFREEPOOLS = 16,
	AO_NTOTALPOOLS = 20,
	PH_SIZE = 48, PH_COUNT = 0, PH_FREEBLOCK = 8, PH_ARENAINDEX = 32, PH_SZIDX = 36,
	PH_NEXTOFFSET = 40, PH_MAXNEXTOFFSET = 44,
	NCLASSES = 32, ALIGNMENT = 16,
};

/* More arena slots than this is not a heap (2^24 arenas of 256 KiB are
 * 4 TiB). */
#define MAX_ARENA_SLOTS (1u << 24)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* ---- inconsistencies: counted, one warning per kind ------------------------ */

enum bad {
	BAD_ARENA, BAD_POOL_UNREADABLE, BAD_POOL_HEADER, BAD_FREE_LIST, BAD_NFREEPOOLS,
	BAD_OVERLAP, BAD_COUNT
};

static const char *const bad_what[BAD_COUNT] = {
	[BAD_ARENA] = "arena slots with an impossible address, pool_address or pool count",
	[BAD_POOL_UNREADABLE] = "pools not in the core's memory",
	[BAD_POOL_HEADER] = "pool headers with an impossible size class, count, arena "
			    "index or offsets",
	[BAD_FREE_LIST] = "pools whose free list leaves the pool, loops or disagrees "
			  "with the block count",
	[BAD_NFREEPOOLS] = "arenas whose nfreepools disagrees with their pools",
	[BAD_OVERLAP] = "arenas overlapping another one (two slots, one arena)",
};

struct walk {
	const struct pha_target *t;
	struct pha_pymalloc *pm;
	uint8_t *pool;		/* POOL_SIZE scratch for a pool split across segments */
	uint64_t bad[BAD_COUNT];
	uint64_t bad_example[BAD_COUNT];
	uint64_t empty_pools;
};

static void bad(struct walk *w, enum bad kind, uint64_t addr)
{
	if (!w->bad[kind]++)
		w->bad_example[kind] = addr;
	if (kind != BAD_NFREEPOOLS)
		w->pm->corrupt++;
}

static void bad_warnings(struct walk *w)
{
	for (int k = 0; k < BAD_COUNT; k++) {
		if (!w->bad[k])
			continue;
		w->t->svc.warn(w->t->svc.ctx,
			       "pymalloc: %llu %s (first at 0x%llx); %s",
			       (unsigned long long)w->bad[k], bad_what[k],
			       (unsigned long long)w->bad_example[k],
			       k == BAD_NFREEPOOLS ? "the pools' own count is used"
			       : k == BAD_OVERLAP  ? "the totals count such memory twice"
			       : k == BAD_ARENA	   ? "they are left out"
						   : "their memory is counted as overhead");
	}
}

/* ---- one pool ---------------------------------------------------------------- */

static uint32_t nblocks(uint32_t pool_size, uint32_t szidx)
{
	return (pool_size - PH_SIZE) / ((szidx + 1) * ALIGNMENT);
}

/* The free list of a pool in use: every link a carved block of the pool,
 * at most the carved blocks long (a longer list loops), and together with
 * the blocks in use exactly the carved blocks. */
static bool free_list_ok(const uint8_t *pool, uint64_t addr, uint32_t pool_size, uint32_t size,
			 uint32_t count, uint32_t nextoffset)
{
	uint32_t carved = (nextoffset - PH_SIZE) / size;
	uint32_t n = 0;
	for (uint64_t b = le64(pool + PH_FREEBLOCK); b; n++) {
		if (n >= carved || b < addr + PH_SIZE || b >= addr + nextoffset ||
		    (b - addr - PH_SIZE) % size)
			return false;
		b = le64(pool + (b - addr));
	}
	(void)pool_size;
	return count + n == carved;
}

/* Count one carved pool of arena slot `index`. False: inconsistent (the
 * caller counts its bytes as overhead). */
static bool walk_pool(struct walk *w, uint64_t addr, uint32_t index)
{
	struct pha_pymalloc *pm = w->pm;
	uint32_t ps = pm->pool_size;
	const uint8_t *pool = pha_memory_ptr(&w->t->mem, addr, ps);
	if (!pool) {
		if (!pha_memory_read(&w->t->mem, addr, w->pool, ps, NULL)) {
			bad(w, BAD_POOL_UNREADABLE, addr);
			return false;
		}
		pool = w->pool;
	}
	uint32_t count = le32(pool + PH_COUNT);
	if (!count) {
		w->empty_pools++;
		return true;
	}
	uint32_t szidx = le32(pool + PH_SZIDX);
	uint32_t size = (szidx + 1) * ALIGNMENT;
	uint32_t nextoffset = le32(pool + PH_NEXTOFFSET);
	if (szidx >= NCLASSES || count > nblocks(ps, szidx) ||
	    le32(pool + PH_ARENAINDEX) != index || le32(pool + PH_MAXNEXTOFFSET) != ps - size ||
	    nextoffset < PH_SIZE + size || nextoffset > ps || (nextoffset - PH_SIZE) % size) {
		bad(w, BAD_POOL_HEADER, addr);
		return false;
	}
	if (!free_list_ok(pool, addr, ps, size, count, nextoffset)) {
		bad(w, BAD_FREE_LIST, addr);
		return false;
	}
	struct pha_pymalloc_class *c = &pm->classes[szidx];
	c->pools++;
	c->used_blocks += count;
	c->free_blocks += nblocks(ps, szidx) - count;
	return true;
}

/* ---- arenas -------------------------------------------------------------------- */

/* Whether an arena_object slot in use describes a possible arena. */
bool pymalloc_arena_ok(const uint8_t *ao, uint32_t pool_size, uint32_t arena_size)
{
	uint64_t address = le64(ao + AO_ADDRESS), pool_address = le64(ao + AO_POOL_ADDRESS);
	uint32_t nfree = le32(ao + AO_NFREEPOOLS), ntotal = le32(ao + AO_NTOTALPOOLS);
	if (!address || address > UINT64_MAX - 2 * (uint64_t)arena_size || address % ALIGNMENT)
		return false;
	uint64_t first = (address + pool_size - 1) & ~(uint64_t)(pool_size - 1);
	uint32_t expect = arena_size / pool_size - (first != address);
	uint64_t end = first + (uint64_t)expect * pool_size;
	return ntotal == expect && nfree <= ntotal && pool_address >= first && pool_address <= end &&
	       !((pool_address - first) % pool_size);
}

static void walk_arena(struct walk *w, const uint8_t *ao, uint32_t index)
{
	struct pha_pymalloc *pm = w->pm;
	uint32_t ps = pm->pool_size;
	uint64_t address = le64(ao + AO_ADDRESS), pool_address = le64(ao + AO_POOL_ADDRESS);
	uint64_t first = (address + ps - 1) & ~(uint64_t)(ps - 1);
	uint64_t end = first + (uint64_t)le32(ao + AO_NTOTALPOOLS) * ps;
	uint64_t before = w->empty_pools;
	for (uint64_t p = first; p < pool_address; p += ps)
		walk_pool(w, p, index);
	w->empty_pools += (end - pool_address) / ps;
	if (w->empty_pools - before != le32(ao + AO_NFREEPOOLS))
		bad(w, BAD_NFREEPOOLS, address);
	pm->arenas[pm->narena_addrs++] = address;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void totals(struct walk *w)
{
	struct pha_pymalloc *pm = w->pm;
	uint64_t avail = 0;
	pm->nclasses = NCLASSES;
	for (uint32_t i = 0; i < NCLASSES; i++) {
		struct pha_pymalloc_class *c = &pm->classes[i];
		c->block_size = (i + 1) * ALIGNMENT;
		pm->allocated_bytes += c->used_blocks * c->block_size;
		avail += c->free_blocks * c->block_size;
	}
	pm->narenas = pm->narena_addrs;
	pm->empty_pools = w->empty_pools;
	pm->available_block_bytes = avail;
	pm->free_bytes = avail + w->empty_pools * pm->pool_size;
	/* Pool headers, quantization, arena alignment, and the pools skipped
	 * as inconsistent: what is left of the arenas. */
	pm->overhead_bytes = pm->narenas * pm->arena_size - pm->allocated_bytes - pm->free_bytes;
}

/* Walk the arena_object array `arenas` of `maxarenas` slots. */
static struct pha_error *walk_arenas(const struct pha_target *t, const struct pymalloc_state *s,
				     struct pha_pymalloc *pm)
{
	uint64_t slots = s->maxarenas;
	uint64_t room = pha_memory_extent(&t->mem, s->arenas) / AO_SIZE;
	if (slots > room || slots > MAX_ARENA_SLOTS) {
		t->svc.warn(t->svc.ctx,
			    "pymalloc: maxarenas is %llu but the memory at arenas (0x%llx) holds "
			    "%llu slots: only those are walked",
			    (unsigned long long)slots, (unsigned long long)s->arenas,
			    (unsigned long long)room);
		pm->corrupt++;
		slots = room < MAX_ARENA_SLOTS ? room : MAX_ARENA_SLOTS;
	}
	struct walk w = {.t = t, .pm = pm};
	pm->arena_table = s->arenas;
	pm->arena_slots = s->maxarenas;
	pm->pool_size = s->pool_size;
	pm->arena_size = s->arena_size;
	w.pool = malloc(s->pool_size);
	pm->arenas = malloc((slots ? slots : 1) * sizeof(*pm->arenas));
	if (!w.pool || !pm->arenas) {
		free(w.pool);
		return &pha_enomem;
	}
	/* Slots that all describe the same (readable) arena would make the
	 * walk read it again and again: the arenas walked cannot hold more
	 * than the process's readable memory. */
	uint64_t budget = t->mem.nsegs ? pha_memory_readable_bytes(&t->mem) / pm->arena_size + 1 : 0;
	for (uint64_t i = 0; i < slots; i++) {
		uint8_t ao[AO_SIZE];
		if (pm->narena_addrs >= budget) {
			t->svc.warn(t->svc.ctx,
				    "pymalloc: more arenas than the core's memory can hold (%llu); "
				    "the arena table is not walked past slot %llu",
				    (unsigned long long)budget, (unsigned long long)i);
			pm->corrupt++;
			break;
		}
		if (!pha_memory_read(&t->mem, s->arenas + i * AO_SIZE, ao, sizeof(ao), NULL)) {
			bad(&w, BAD_ARENA, s->arenas + i * AO_SIZE);
			break;
		}
		if (!le64(ao + AO_ADDRESS))
			continue;
		if (!pymalloc_arena_ok(ao, pm->pool_size, pm->arena_size)) {
			bad(&w, BAD_ARENA, s->arenas + i * AO_SIZE);
			continue;
		}
		walk_arena(&w, ao, (uint32_t)i);
	}
	free(w.pool);
	qsort(pm->arenas, pm->narena_addrs, sizeof(*pm->arenas), cmp_u64);
	for (size_t i = 1; i < pm->narena_addrs; i++)
		if (pm->arenas[i] - pm->arenas[i - 1] < pm->arena_size)
			bad(&w, BAD_OVERLAP, pm->arenas[i]);
	totals(&w);
	bad_warnings(&w);
	/* Slots skipped as impossible explain a difference. */
	if (s->narenas != UINT64_MAX && s->narenas != pm->narenas + w.bad[BAD_ARENA])
		t->svc.warn(t->svc.ctx,
			    "pymalloc: narenas_currently_allocated is %llu but %llu arenas were "
			    "walked",
			    (unsigned long long)s->narenas, (unsigned long long)pm->narenas);
	return NULL;
}

/* ---- where the state is ------------------------------------------------------- */

static bool rd_u64(const struct pha_target *t, uint64_t addr, uint64_t *v)
{
	return pha_memory_read(&t->mem, addr, v, 8, NULL);
}

/* 3.12+: struct _obmalloc_state of the main interpreter (the last of the
 * list: interpreters are prepended). */
static bool locate_interp(const struct pha_target *t, const struct pha_py *py,
			  struct pymalloc_state *s, char *how, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t interp = py->interps[py->ninterps - 1];
	uint64_t state = interp + o->is_obmalloc;
	if (o->obmalloc_ptr && (!rd_u64(t, interp + o->is_obmalloc, &state) || !state)) {
		snprintf(how, size, "PyInterpreterState.obmalloc (0x%llx) is NULL or not in the core",
			 (unsigned long long)(interp + o->is_obmalloc));
		return false;
	}
	uint32_t max;
	if (!rd_u64(t, state + o->obs_arenas, &s->arenas) ||
	    !pha_memory_read(&t->mem, state + o->obs_maxarenas, &max, 4, NULL) ||
	    !rd_u64(t, state + o->obs_narenas, &s->narenas)) {
		snprintf(how, size, "the obmalloc state at 0x%llx is not in the core",
			 (unsigned long long)state);
		return false;
	}
	s->maxarenas = max;
	snprintf(how, size, o->obmalloc_ptr ? "obmalloc_state pointer" : "interpreter state");
	return true;
}

/* 3.8 - 3.11 with .symtab: the file statics by name (each checked for the
 * size of its type: another object's static of the same name is not it). */
static bool locate_symbols(const struct pha_target *t, struct pymalloc_state *s)
{
	uint64_t sz_a = 0, sz_m = 0, sz_n = 0;
	uint64_t a = pha_module_symbol(t->pymod, "arenas", &sz_a);
	uint64_t m = pha_module_symbol(t->pymod, "maxarenas", &sz_m);
	uint64_t n = pha_module_symbol(t->pymod, "narenas_currently_allocated", &sz_n);
	uint32_t max;
	if (!a || !m || sz_a != 8 || sz_m != 4 || !rd_u64(t, a, &s->arenas) ||
	    !pha_memory_read(&t->mem, m, &max, 4, NULL))
		return false;
	s->maxarenas = max;
	s->narenas = UINT64_MAX;
	if (n && sz_n == 8 && !rd_u64(t, n, &s->narenas))
		s->narenas = UINT64_MAX;
	return true;
}

/* An empty state: pymalloc never allocated an arena, so it is not the
 * object allocator. */
static void why_empty(const struct pha_target *t, struct pha_pymalloc *pm)
{
	uint64_t objalloc = t->pymod ? pha_module_symbol(t->pymod, "_PyObject", NULL) : 0;
	uint64_t raw = t->pymod ? pha_module_symbol(t->pymod, "_PyMem_RawMalloc", NULL) : 0;
	uint64_t fn;
	if (objalloc && raw && rd_u64(t, objalloc + 8, &fn) && fn == raw) {
		snprintf(pm->how, sizeof(pm->how),
			 "pymalloc holds no arena: the object allocator is malloc "
			 "(PYTHONMALLOC=malloc)");
		return;
	}
	snprintf(pm->how, sizeof(pm->how),
		 "pymalloc holds no arena: it is not the object allocator (PYTHONMALLOC=malloc "
		 "or another allocator)");
}

struct pha_error *pha_pymalloc_read(const struct pha_target *t, struct pha_pymalloc *pm)
{
	memset(pm, 0, sizeof(*pm));
	if (!t->py || !t->layout || t->layout->open != pha_cpython_open) {
		snprintf(pm->how, sizeof(pm->how), "no CPython layout: pymalloc is not located");
		return NULL;
	}
	const struct pha_py *py = t->py;
	const struct pha_py_offsets *o = py->o;
	struct pymalloc_state s = {.pool_size = o->pool_size, .arena_size = o->arena_size};
	if (!o->pool_size || !o->arena_size || o->arena_size % o->pool_size) {
		snprintf(pm->how, sizeof(pm->how),
			 "the layout %s does not describe pymalloc", t->layout->name);
		return NULL;
	}
	char how[sizeof(pm->how)];
	if (o->is_obmalloc) {
		if (!py->ninterps || !locate_interp(t, py, &s, how, sizeof(how))) {
			snprintf(pm->how, sizeof(pm->how), "%s", py->ninterps ? how : "no interpreter");
			return NULL;
		}
	} else if (!t->pymod) {
		snprintf(pm->how, sizeof(pm->how),
			 "the interpreter's binary is not known: pymalloc's statics cannot be found");
		return NULL;
	} else if (locate_symbols(t, &s)) {
		snprintf(how, sizeof(how), "symbols");
	} else {
		struct pha_error *err = pymalloc_scan(t, &s, how, sizeof(how));
		if (err)
			return err;
		if (!s.arenas && !s.maxarenas) {
			snprintf(pm->how, sizeof(pm->how), "%s", how);
			return NULL;
		}
	}
	if (!s.arenas || !s.maxarenas) {
		why_empty(t, pm);
		return NULL;
	}
	struct pha_error *err = walk_arenas(t, &s, pm);
	if (err) {
		pha_pymalloc_deinit(pm);
		return err;
	}
	pm->found = true;
	snprintf(pm->how, sizeof(pm->how), "%s", how);
	return NULL;
}

void pha_pymalloc_deinit(struct pha_pymalloc *pm)
{
	free(pm->arenas);
	memset(pm, 0, sizeof(*pm));
}

/* The pool holding addr, read into *c (c->pool = 0 when addr is in no
 * arena or not readable: no cache). */
static bool pool_of(const struct pha_pymalloc *pm, const struct pha_memory *mem, uint64_t addr,
		    struct pha_pymalloc_pool *c)
{
	c->pool = 0;
	if (!pm->found || !pm->narena_addrs)
		return false;
	size_t lo = 0, hi = pm->narena_addrs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pm->arenas[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - pm->arenas[lo - 1] >= pm->arena_size)
		return false;
	uint32_t ps = pm->pool_size;
	uint64_t pool = addr & ~(uint64_t)(ps - 1);
	uint8_t h[PH_SIZE];
	c->size = 0;
	c->first = c->end = 0;
	if (pool < pm->arenas[lo - 1] || !pha_memory_read(mem, pool, h, sizeof(h), NULL))
		return true;
	c->pool = pool;
	uint32_t count = le32(h + PH_COUNT), szidx = le32(h + PH_SZIDX);
	if (!count || szidx >= NCLASSES)
		return true;
	uint32_t size = (szidx + 1) * ALIGNMENT;
	/* The tail that does not make a whole block, and blocks never
	 * handed out, are not blocks. */
	uint64_t n = nblocks(ps, szidx), next = le32(h + PH_NEXTOFFSET);
	uint64_t handed = next > PH_SIZE ? (next - PH_SIZE + size - 1) / size : 0;
	c->size = size;
	c->first = pool + PH_SIZE;
	c->end = pool + PH_SIZE + (handed < n ? handed : n) * size;
	return true;
}

bool pha_pymalloc_block_cached(const struct pha_pymalloc *pm, const struct pha_memory *mem,
			       struct pha_pymalloc_cache *cache, uint64_t addr,
			       uint64_t *block_ret, uint32_t *size_ret)
{
	uint32_t ps = pm->pool_size;
	uint64_t pool = addr & ~(uint64_t)(ps - 1);
	/* No 64-bit division per block (issue 12: it was half of this
	 * function's time): pool sizes are powers of two, and a block's
	 * offset in its pool fits 32 bits. */
	uint64_t slot = ps && !(ps & (ps - 1)) ? pool >> __builtin_ctz(ps) : pool / (ps ? ps : 1);
	struct pha_pymalloc_pool *c = &cache->e[slot & 63];
	if (!c->pool || pool != c->pool) {
		if (!pool_of(pm, mem, addr, c))
			return false;
	}
	*block_ret = 0;
	*size_ret = 0;
	if (!c->size || addr < c->first || addr >= c->end)
		return true;
	/* addr - first < end - first <= the pool size: 32 bits */
	*block_ret = c->first + (uint32_t)(addr - c->first) / c->size * c->size;
	*size_ret = c->size;
	return true;
}

bool pha_pymalloc_block(const struct pha_pymalloc *pm, const struct pha_memory *mem,
			uint64_t addr, uint64_t *block_ret, uint32_t *size_ret)
{
	struct pha_pymalloc_cache c;
	memset(&c, 0, sizeof(c));
	return pha_pymalloc_block_cached(pm, mem, &c, addr, block_ret, size_ret);
}
