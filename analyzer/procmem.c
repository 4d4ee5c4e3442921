/* The memory section (procmem.h): mappings, allocators, attribution. */
#include "procmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"
#include "progress.h"
#include "target.h"

#define PAGE 4096u
/* The conservative walk accepts a word pointing at most this far into a
 * chunk's memory (allocators that put a size word before the pointer they
 * hand out: sqlite3's). */
#define INTERIOR_MAX 16u
/* chunk_cat flag: the owner's sys.getsizeof counts the chunk already. */
#define CAT_IN_SIZEOF 0x80u

static const char *const cat_names[PHA_MEM_COUNT] = {
	[PHA_MEM_PYTHON_OBJECTS] = "python_objects",
	[PHA_MEM_PYTHON_BUFFERS] = "python_buffers",
	[PHA_MEM_NATIVE_BUFFERS] = "native_buffers",
	[PHA_MEM_NATIVE_INFERRED] = "native_inferred",
	[PHA_MEM_PYMALLOC_UNATTRIBUTED] = "pymalloc_unattributed",
	[PHA_MEM_PYMALLOC_FREE] = "pymalloc_free",
	[PHA_MEM_MALLOC_UNATTRIBUTED] = "malloc_unattributed",
	[PHA_MEM_MALLOC_FREE] = "malloc_free",
	[PHA_MEM_STACKS] = "thread_stacks",
	[PHA_MEM_IMAGES] = "executable_and_libraries",
	[PHA_MEM_FILES] = "other_file_mappings",
	[PHA_MEM_ANON_OTHER] = "other_anonymous",
	[PHA_MEM_ANON_ZERO] = "untouched_anonymous",
	[PHA_MEM_RESERVED] = "reserved_no_access",
	[PHA_MEM_NOT_IN_CORE] = "not_in_core",
	[PHA_MEM_UNWALKED_ALLOCATOR] = "unwalked_allocator",
};

const char *pha_memcat_name(enum pha_memcat c)
{
	return (unsigned)c < PHA_MEM_COUNT ? cat_names[c] : "?";
}

/* ---- ranges ------------------------------------------------------------ */

struct ranges {
	struct pha_range *r;
	size_t n, cap;
};

static bool ranges_push(struct ranges *v, uint64_t start, uint64_t end)
{
	if (start >= end)
		return true;
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		struct pha_range *r = realloc(v->r, cap * sizeof(*r));
		if (!r)
			return false;
		v->r = r;
		v->cap = cap;
	}
	v->r[v->n++] = (struct pha_range){start, end};
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pha_range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Sort and merge overlapping or touching ranges. */
static void ranges_normalize(struct ranges *v)
{
	if (!v->n)
		return;
	qsort(v->r, v->n, sizeof(*v->r), cmp_range);
	size_t k = 0;
	for (size_t i = 1; i < v->n; i++) {
		if (v->r[i].start <= v->r[k].end) {
			if (v->r[i].end > v->r[k].end)
				v->r[k].end = v->r[i].end;
		} else {
			v->r[++k] = v->r[i];
		}
	}
	v->n = k + 1;
}

/* Bytes of [start, end) covered by the normalized ranges v. */
static uint64_t ranges_overlap(const struct ranges *v, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->r[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t n = 0;
	for (size_t i = lo; i < v->n && v->r[i].start < end; i++) {
		uint64_t s = v->r[i].start > start ? v->r[i].start : start;
		uint64_t e = v->r[i].end < end ? v->r[i].end : end;
		if (e > s)
			n += e - s;
	}
	return n;
}

/* ---- step 1: mappings ----------------------------------------------------- */

struct build {
	struct pha_target *t;
	const struct pha_heap *h;
	struct pha_procmem *pm;
	struct ranges files;		/* NT_FILE ranges */
	struct ranges images;		/* NT_FILE ranges of ELF modules + their writable data */
	struct ranges anon;		/* readable anonymous memory (not stack/image) */
	/* Mappings holding a stack pointer: the kernel merges an adjacent
	 * anonymous mapping of the same rights (a mmapped malloc chunk) into
	 * one, so what the allocators' regions cover of them is theirs. */
	struct ranges stacks;
	struct ranges allocs;		/* allocator regions */
	/* attribution */
	uint32_t *chunk_owner;		/* per malloc chunk: object id + 1, 0 = none */
	uint8_t *chunk_cat;		/* enum pha_memcat of a claimed chunk, | CAT_IN_SIZEOF */
	/* pymalloc buffer blocks claimed: one bit per 8 bytes of the arenas
	 * (arena i's bits from i * arena_size / 8; calloc'd at the first
	 * claim), else (PHA_HASH_CLAIMS=1, a block not 8-aligned in its
	 * arena) a set of block addresses (open addressing) */
	uint64_t *claimed_bits;
	size_t claimed_arena;		/* arena of the last claim */
	int claimed_how;		/* 0: not decided, 1: bits, 2: the hash only */
	uint64_t *claimed_blocks;
	size_t claimed_cap, nclaimed;
	uint32_t cur;			/* object being attributed */
	struct pha_pymalloc_cache pcache;	/* pools looked at */
	uint64_t pymalloc_claimed;
	uint32_t *stack;		/* conservative walk: chunk indices */
	size_t nstack, stack_cap;
};

static bool is_image(const struct pha_target *t, const char *path)
{
	for (size_t i = 0; i < t->mods.nmods; i++) {
		const struct pha_module *m = &t->mods.mods[i];
		if (m->status != PHA_MODULE_NOT_ELF && !strcmp(m->name, path))
			return true;
	}
	return false;
}

static bool collect_files(struct build *b)
{
	const struct pha_target *t = b->t;
	const struct pha_core *c = t->core;
	for (size_t i = 0; i < c->nmappings; i++) {
		const struct pha_core_mapping *m = &c->mappings[i];
		if (!ranges_push(&b->files, m->start, m->end))
			return false;
		if (is_image(t, m->path) && !ranges_push(&b->images, m->start, m->end))
			return false;
	}
	for (size_t i = 0; i < t->mods.nmods; i++) {
		struct pha_range w[8];
		size_t n = pha_module_writable(&t->mods.mods[i], w, 8);
		for (size_t j = 0; j < n; j++)
			if (!ranges_push(&b->images, w[j].start, w[j].end))
				return false;
	}
	ranges_normalize(&b->files);
	ranges_normalize(&b->images);
	return true;
}

static bool holds_stack_pointer(const struct pha_core *c, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].rsp >= start && c->threads[i].rsp < end)
			return true;
	return false;
}

/* Readable bytes of [start, end) in the memory (segments not MISSING). */
static uint64_t readable_in(const struct pha_memory *mem, uint64_t start, uint64_t end,
			    struct ranges *out, bool *oom)
{
	uint64_t n = 0;
	size_t lo = 0, hi = mem->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->segs[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < mem->nsegs && mem->segs[i].start < end; i++) {
		const struct pha_segment *s = &mem->segs[i];
		if (s->source == PHA_SEG_MISSING)
			continue;
		uint64_t a = s->start > start ? s->start : start, e = s->end < end ? s->end : end;
		if (e <= a)
			continue;
		n += e - a;
		if (out && !ranges_push(out, a, e))
			*oom = true;
	}
	return n;
}

static bool classify_mappings(struct build *b)
{
	struct pha_procmem *pm = b->pm;
	const struct pha_core *c = b->t->core;
	bool oom = false;
	for (size_t i = 0; i < c->nloads; i++) {
		const struct pha_core_load *l = &c->loads[i];
		uint64_t s = l->vaddr, e = l->vaddr + l->memsz;
		if (e <= s)
			continue;
		pm->mappings++;
		pm->total_bytes += e - s;
		uint64_t file = ranges_overlap(&b->files, s, e);
		if (!(l->flags & 7)) {
			pm->cat[PHA_MEM_RESERVED] += e - s;
		} else if (file) {
			pm->file_mappings++;
			uint64_t img = ranges_overlap(&b->images, s, e);
			pm->cat[PHA_MEM_IMAGES] += img;
			pm->cat[PHA_MEM_FILES] += e - s - img;
		} else if (holds_stack_pointer(c, s, e)) {
			pm->stack_mappings++;
			if (!ranges_push(&b->stacks, s, e))
				oom = true;
		} else {
			uint64_t img = ranges_overlap(&b->images, s, e);
			pm->cat[PHA_MEM_IMAGES] += img;
			if (img == e - s)
				continue;
			pm->anonymous_mappings++;
			/* .bss past a module's file mapping is the module's (the
			 * kernel may merge it with the anonymous mapping after
			 * it: a malloc heap, a pymalloc arena); the rest is
			 * anonymous. */
			uint64_t p = s;
			for (size_t k = 0; p < e; k++) {
				uint64_t q = e, next = e;
				for (; k < b->images.n && b->images.r[k].end <= p; k++)
					;
				if (k < b->images.n && b->images.r[k].start < e) {
					q = b->images.r[k].start > p ? b->images.r[k].start : p;
					next = b->images.r[k].end < e ? b->images.r[k].end : e;
				}
				uint64_t rd = readable_in(&b->t->mem, p, q, &b->anon, &oom);
				pm->cat[PHA_MEM_NOT_IN_CORE] += q - p - rd;
				p = next;
			}
		}
	}
	ranges_normalize(&b->anon);
	ranges_normalize(&b->stacks);
	return !oom;
}

/* ---- step 2: allocators ----------------------------------------------------- */

static bool page_is_zero(const struct pha_memory *mem, uint64_t addr)
{
	const uint64_t *p = pha_memory_ptr(mem, addr, PAGE);
	uint64_t buf[PAGE / 8];
	if (!p) {
		if (!pha_memory_read(mem, addr, buf, PAGE, NULL))
			return false;
		p = buf;
	}
	uint64_t acc = 0;
	for (size_t i = 0; i < PAGE / 8; i++)
		acc |= p[i];
	return acc == 0;
}

/* [s, stop) into cat, its all-zero pages into untouched_anonymous. */
static void count_touched(struct build *b, uint64_t s, uint64_t stop, enum pha_memcat cat)
{
	for (uint64_t p = s; p < stop;) {
		uint64_t next = (p | (PAGE - 1)) + 1;
		if (next > stop)
			next = stop;
		if (!(p & (PAGE - 1)) && next - p == PAGE && page_is_zero(&b->t->mem, p))
			b->pm->cat[PHA_MEM_ANON_ZERO] += PAGE;
		else
			b->pm->cat[cat] += next - p;
		p = next;
	}
}

static void count_anonymous(struct build *b, uint64_t s, uint64_t stop)
{
	count_touched(b, s, stop, PHA_MEM_ANON_OTHER);
}

/* A stack mapping: what the core lacks of it is not in the core. */
static void count_stack(struct build *b, uint64_t s, uint64_t stop)
{
	struct ranges parts = {0};
	bool oom = false;
	uint64_t rd = readable_in(&b->t->mem, s, stop, &parts, &oom);
	b->pm->cat[PHA_MEM_NOT_IN_CORE] += stop - s - rd;
	uint64_t seen = 0;
	for (size_t i = 0; i < parts.n; i++) {
		count_touched(b, parts.r[i].start, parts.r[i].end, PHA_MEM_STACKS);
		seen += parts.r[i].end - parts.r[i].start;
	}
	/* No room for every part (out of memory): the rest counts whole. */
	b->pm->cat[PHA_MEM_STACKS] += rd - seen;
	free(parts.r);
	(void)oom;
}

/* fn over the parts of the normalized ranges v outside the allocators'
 * regions. */
static void outside_allocators(struct build *b, const struct ranges *v,
			       void (*fn)(struct build *b, uint64_t s, uint64_t e))
{
	size_t j = 0;
	for (size_t i = 0; i < v->n; i++) {
		uint64_t s = v->r[i].start, e = v->r[i].end;
		while (s < e) {
			while (j < b->allocs.n && b->allocs.r[j].end <= s)
				j++;
			uint64_t stop = e;
			if (j < b->allocs.n && b->allocs.r[j].start <= s) {
				s = b->allocs.r[j].end < e ? b->allocs.r[j].end : e;
				continue;
			}
			if (j < b->allocs.n && b->allocs.r[j].start < e)
				stop = b->allocs.r[j].start;
			fn(b, s, stop);
			s = stop;
		}
	}
}

static bool collect_allocator_regions(struct build *b)
{
	const struct pha_pymalloc *py = &b->pm->pymalloc;
	const struct pha_malloc *m = &b->pm->malloc;
	for (size_t i = 0; i < py->narena_addrs; i++)
		if (!ranges_push(&b->allocs, py->arenas[i], py->arenas[i] + py->arena_size))
			return false;
	for (size_t i = 0; i < m->nregions; i++)
		if (!ranges_push(&b->allocs, m->regions[i].start, m->regions[i].end))
			return false;
	ranges_normalize(&b->allocs);
	return true;
}

/* The allocators' own accounts: what they hold but nothing uses. Regions
 * outside the anonymous memory (a damaged walk) are taken out of the free
 * parts so that the categories still add up, with a warning. */
static void allocator_totals(struct build *b)
{
	struct pha_procmem *pm = b->pm;
	const struct pha_pymalloc *py = &pm->pymalloc;
	const struct pha_malloc *m = &pm->malloc;
	uint64_t region_bytes = 0, inside = 0;
	for (size_t i = 0; i < b->allocs.n; i++) {
		region_bytes += b->allocs.r[i].end - b->allocs.r[i].start;
		inside += ranges_overlap(&b->anon, b->allocs.r[i].start, b->allocs.r[i].end);
		inside += ranges_overlap(&b->stacks, b->allocs.r[i].start, b->allocs.r[i].end);
	}
	pm->cat[PHA_MEM_PYMALLOC_FREE] = py->free_bytes + py->overhead_bytes;
	pm->cat[PHA_MEM_MALLOC_FREE] = m->free_bytes + m->top_bytes + m->overhead_bytes;
	uint64_t in_use = py->allocated_bytes + m->in_use_bytes + m->mmapped_bytes;
	uint64_t accounted = in_use + pm->cat[PHA_MEM_PYMALLOC_FREE] + pm->cat[PHA_MEM_MALLOC_FREE];
	if (accounted != inside)
		pha_target_warn(b->t,
				"memory: the allocators account for %llu bytes but their regions cover "
				"%llu bytes of anonymous memory (%llu in all); the difference is "
				"counted as allocator free memory",
				(unsigned long long)accounted, (unsigned long long)inside,
				(unsigned long long)region_bytes);
	if (accounted > inside) {
		uint64_t d = accounted - inside;
		for (int c = PHA_MEM_MALLOC_FREE; d && c >= PHA_MEM_PYMALLOC_FREE;
		     c -= PHA_MEM_MALLOC_FREE - PHA_MEM_PYMALLOC_FREE) {
			uint64_t take = d < pm->cat[c] ? d : pm->cat[c];
			pm->cat[c] -= take;
			d -= take;
		}
	} else {
		pm->cat[PHA_MEM_MALLOC_FREE] += inside - accounted;
	}
}

/* ---- step 3: attribution ----------------------------------------------------- */

/* The bit of a pymalloc block in claimed_bits, or SIZE_MAX (no bitmap, or
 * a block the bitmap cannot hold: the hash set takes it). */
static size_t claimed_bit(struct build *b, uint64_t block, bool *oom)
{
	const struct pha_pymalloc *pp = &b->pm->pymalloc;
	if (!b->claimed_how) {
		const char *e = getenv("PHA_HASH_CLAIMS");
		b->claimed_how = (e && *e == '1') || !pp->narena_addrs ? 2 : 1;
		if (b->claimed_how == 1) {
			size_t words = (pp->narena_addrs * (size_t)pp->arena_size / 8 + 63) / 64;
			b->claimed_bits = calloc(words ? words : 1, sizeof(*b->claimed_bits));
			if (!b->claimed_bits) {
				*oom = true;
				return SIZE_MAX;
			}
		}
	}
	if (b->claimed_how != 1)
		return SIZE_MAX;
	size_t i = b->claimed_arena;
	if (block < pp->arenas[i] || block - pp->arenas[i] >= pp->arena_size) {
		size_t lo = 0, hi = pp->narena_addrs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (pp->arenas[mid] <= block)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || block - pp->arenas[lo - 1] >= pp->arena_size)
			return SIZE_MAX;
		b->claimed_arena = i = lo - 1;
	}
	uint64_t off = block - pp->arenas[i];
	if (off & 7)
		return SIZE_MAX;
	return i * (size_t)(pp->arena_size / 8) + (size_t)(off / 8);
}

/* A pymalloc block claimed as a buffer (a set of block addresses): dict keys
 * shared by mistake, or a damaged pointer, are counted once. */
static bool claim_block(struct build *b, uint64_t block, bool *oom)
{
	size_t bit = claimed_bit(b, block, oom);
	if (*oom)
		return false;
	if (bit != SIZE_MAX) {
		uint64_t m = 1ULL << (bit & 63);
		if (b->claimed_bits[bit / 64] & m)
			return false;
		b->claimed_bits[bit / 64] |= m;
		return true;
	}
	if (2 * (b->nclaimed + 1) > b->claimed_cap) {
		size_t cap = b->claimed_cap ? 2 * b->claimed_cap : 1024;
		uint64_t *n = calloc(cap, sizeof(*n));
		if (!n) {
			*oom = true;
			return false;
		}
		for (size_t i = 0; i < b->claimed_cap; i++) {
			uint64_t v = b->claimed_blocks[i];
			if (!v)
				continue;
			size_t k = (size_t)((v >> 4) * 0x9E3779B97F4A7C15ULL) & (cap - 1);
			while (n[k])
				k = (k + 1) & (cap - 1);
			n[k] = v;
		}
		free(b->claimed_blocks);
	free(b->claimed_bits);
		b->claimed_blocks = n;
		b->claimed_cap = cap;
	}
	size_t k = (size_t)((block >> 4) * 0x9E3779B97F4A7C15ULL) & (b->claimed_cap - 1);
	while (b->claimed_blocks[k]) {
		if (b->claimed_blocks[k] == block)
			return false;
		k = (k + 1) & (b->claimed_cap - 1);
	}
	b->claimed_blocks[k] = block;
	b->nclaimed++;
	return true;
}

static bool stack_push(struct build *b, uint32_t idx)
{
	if (b->nstack == b->stack_cap) {
		size_t cap = b->stack_cap ? 2 * b->stack_cap : 256;
		uint32_t *n = realloc(b->stack, cap * sizeof(*n));
		if (!n)
			return false;
		b->stack = n;
		b->stack_cap = cap;
	}
	b->stack[b->nstack++] = idx;
	return true;
}

struct attr_ctx {
	struct build *b;
	bool oom;
	bool lookup;		/* only find the object's own block, claim nothing */
	uint64_t own_block, own_size;
};

static enum pha_memcat block_cat(unsigned kind)
{
	switch (kind & 0xff) {
	case PHA_BLOCK_OBJECT:
		return PHA_MEM_PYTHON_OBJECTS;
	case PHA_BLOCK_NATIVE:
		return PHA_MEM_NATIVE_BUFFERS;
	default:
		return PHA_MEM_PYTHON_BUFFERS;
	}
}

static void on_block(void *arg, uint64_t ptr, unsigned kind)
{
	struct attr_ctx *c = arg;
	struct build *b = c->b;
	struct pha_procmem *pm = b->pm;
	enum pha_memcat cat = block_cat(kind);
	uint64_t start;
	uint32_t size;
	if (c->lookup && cat != PHA_MEM_PYTHON_OBJECTS)
		return;
	if (pm->pymalloc.found &&
	    pha_pymalloc_block_cached(&pm->pymalloc, &b->t->mem, &b->pcache, ptr, &start, &size)) {
		if (!size || start != ptr)
			return;
		if (c->lookup) {
			c->own_block = start;
			c->own_size = size;
			return;
		}
		if (cat != PHA_MEM_PYTHON_OBJECTS && !claim_block(b, start, &c->oom))
			return;
		pm->cat[cat] += size;
		b->pymalloc_claimed += size;
		if (cat == PHA_MEM_PYTHON_OBJECTS) {
			c->own_block = start;
			c->own_size = size;
		}
		return;
	}
	size_t i = pha_malloc_find(&pm->malloc, ptr);
	if (i == SIZE_MAX || pm->malloc.chunks[i].mem != ptr)
		return;
	if (c->lookup) {
		c->own_block = ptr;
		c->own_size = pm->malloc.chunks[i].size - 16;
		return;
	}
	if (b->chunk_owner[i])
		return;
	b->chunk_owner[i] = b->cur + 1;
	b->chunk_cat[i] = (uint8_t)(cat | (kind & PHA_BLOCK_IN_SIZEOF ? CAT_IN_SIZEOF : 0));
	if (cat == PHA_MEM_PYTHON_OBJECTS) {
		c->own_block = ptr;
		c->own_size = pm->malloc.chunks[i].size - 16;
	}
}

/* The unclaimed in-use chunk whose memory starts at most INTERIOR_MAX
 * bytes before v, or SIZE_MAX. */
static size_t unclaimed_chunk_at(const struct build *b, uint64_t v)
{
	const struct pha_malloc *m = &b->pm->malloc;
	if (!m->nchunks || v < m->chunks[0].mem || (v & 7))
		return SIZE_MAX;
	size_t i = pha_malloc_find(m, v);
	if (i == SIZE_MAX || v - m->chunks[i].mem > INTERIOR_MAX || b->chunk_owner[i])
		return SIZE_MAX;
	return i;
}

/* Claim for b->cur every unclaimed chunk whose start [addr, addr+len)
 * holds, and those they hold, transitively. Each chunk is claimed once, so
 * the walk reads at most the in-use memory once. */
static bool scan_from(struct build *b, uint64_t addr, uint64_t len)
{
	const struct pha_malloc *m = &b->pm->malloc;
	uint64_t lo = m->chunks[0].mem, hi = m->chunks[m->nchunks - 1].mem + m->chunks[m->nchunks - 1].size;
	b->nstack = 0;
	for (;;) {
		for (uint64_t off = 0; off + 8 <= len; off += 8) {
			uint64_t v;
			if (!pha_memory_read_u64(&b->t->mem, addr + off, &v))
				break;
			if (v < lo || v >= hi)
				continue;
			size_t i = unclaimed_chunk_at(b, v);
			if (i == SIZE_MAX)
				continue;
			b->chunk_owner[i] = b->cur + 1;
			b->chunk_cat[i] = PHA_MEM_NATIVE_INFERRED;
			if (!stack_push(b, (uint32_t)i))
				return false;
		}
		if (!b->nstack)
			return true;
		const struct pha_malloc_chunk *ch = &m->chunks[b->stack[--b->nstack]];
		addr = ch->mem;
		len = ch->size - 16;
	}
}

static bool attribute_objects(struct build *b)
{
	const struct pha_heap *h = b->h;
	const struct pha_layout *lay = b->t->layout;
	struct pha_procmem *pm = b->pm;
	if (!lay || !lay->owned_blocks)
		return true;
	if (pm->malloc.nchunks) {
		b->chunk_owner = calloc(pm->malloc.nchunks, sizeof(*b->chunk_owner));
		b->chunk_cat = calloc(pm->malloc.nchunks, 1);
		if (!b->chunk_owner || !b->chunk_cat)
			return false;
	}
	/* What the layout knows first, so that no conservative guess takes a
	 * block an object owns by its layout. */
	for (uint32_t id = 0; id < h->n; id++) {
		struct attr_ctx c = {.b = b};
		b->cur = id;
		lay->owned_blocks(b->t->py, h->addr[id], on_block, &c);
		if (c.oom)
			return false;
	}
	if (!pm->malloc.nchunks)
		return true;
	/* Objects of types the layout does not model may own native memory
	 * it cannot see: scan them (their block, or the object when no
	 * allocator holds it). */
	for (uint32_t id = 0; id < h->n; id++) {
		if (!(h->flags[id] & PHA_OBJ_CONSERVATIVE))
			continue;
		struct attr_ctx c = {.b = b, .lookup = true};
		b->cur = id;
		lay->owned_blocks(b->t->py, h->addr[id], on_block, &c);
		if (!c.own_block) {
			c.own_block = h->addr[id];
			c.own_size = pha_heap_size(h, id);
		}
		if (!scan_from(b, c.own_block, c.own_size > 65536 ? 65536 : c.own_size))
			return false;
	}
	return true;
}

/* ---- totals ----------------------------------------------------------------- */

static int cmp_native_type(const void *a, const void *b)
{
	const struct pha_native_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->type, y->type);
}

static void keep_largest(struct pha_procmem *pm, const struct pha_malloc_chunk *ch)
{
	size_t n = pm->nlargest, max = sizeof(pm->largest_unattributed) / sizeof(pm->largest_unattributed[0]);
	if (n == max && ch->size <= pm->largest_unattributed[n - 1].size)
		return;
	size_t i = n < max ? n++ : n - 1;
	while (i > 0 && pm->largest_unattributed[i - 1].size < ch->size) {
		pm->largest_unattributed[i] = pm->largest_unattributed[i - 1];
		i--;
	}
	pm->largest_unattributed[i] = *ch;
	pm->nlargest = n;
}

struct owned {
	uint32_t id;
	uint64_t bytes;
	uint64_t extra;		/* the part sys.getsizeof does not count */
};

static int cmp_owned(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Native bytes per type, and per object the part sys.getsizeof does not
 * count (sparse, ids ascending, for retained_native), from the native
 * chunks' owners: at most one entry per native chunk, never one per
 * object. */
static bool native_per_object(struct build *b, const struct owned *own, size_t n)
{
	struct pha_procmem *pm = b->pm;
	const struct pha_heap *h = b->h;
	pm->native_ids = malloc(n * sizeof(*pm->native_ids));
	pm->native_bytes = malloc(n * sizeof(*pm->native_bytes));
	struct pha_native_type *bytype = calloc(h->ntypes ? h->ntypes : 1, sizeof(*bytype));
	if (!pm->native_ids || !pm->native_bytes || !bytype) {
		free(bytype);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct pha_native_type *nt = &bytype[h->type[own[i].id]];
		if (!i || own[i - 1].id != own[i].id) {
			nt->objects++;
			pm->native_objects++;
		}
		nt->type = h->types[h->type[own[i].id]].name;
		nt->bytes += own[i].bytes;
		if (!own[i].extra)
			continue;
		if (!pm->nnative || pm->native_ids[pm->nnative - 1] != own[i].id) {
			pm->native_ids[pm->nnative] = own[i].id;
			pm->native_bytes[pm->nnative++] = 0;
		}
		pm->native_bytes[pm->nnative - 1] += own[i].extra;
	}
	const struct pha_malloc *m = &pm->malloc;
	for (size_t i = 0; i < m->nchunks; i++) {
		if (b->chunk_owner && b->chunk_owner[i] && b->chunk_cat[i] == PHA_MEM_NATIVE_INFERRED)
			bytype[h->type[b->chunk_owner[i] - 1]].inferred_bytes += m->chunks[i].size;
	}
	size_t k = 0;
	for (uint32_t t = 0; t < h->ntypes; t++)
		if (bytype[t].objects)
			bytype[k++] = bytype[t];
	qsort(bytype, k, sizeof(*bytype), cmp_native_type);
	pm->native_by_type = bytype;
	pm->nnative_types = k;
	return true;
}

/* Chunk owners into categories, native bytes per object and per type. */
static bool sum_chunks(struct build *b)
{
	struct pha_procmem *pm = b->pm;
	const struct pha_malloc *m = &pm->malloc;
	uint64_t claimed = 0;
	struct owned *own = NULL;
	size_t nown = 0;
	for (size_t i = 0; i < m->nchunks; i++) {
		if (!b->chunk_owner || !b->chunk_owner[i]) {
			keep_largest(pm, &m->chunks[i]);
			continue;
		}
		enum pha_memcat c = b->chunk_cat[i] & ~CAT_IN_SIZEOF;
		pm->cat[c] += m->chunks[i].size;
		claimed += m->chunks[i].size;
		if (c == PHA_MEM_NATIVE_BUFFERS || c == PHA_MEM_NATIVE_INFERRED) {
			if (!own && !(own = malloc(m->nchunks * sizeof(*own))))
				return false;
			own[nown++] = (struct owned){b->chunk_owner[i] - 1, m->chunks[i].size,
						     b->chunk_cat[i] & CAT_IN_SIZEOF ? 0 : m->chunks[i].size};
		}
	}
	uint64_t in_use = m->in_use_bytes + m->mmapped_bytes;
	pm->cat[PHA_MEM_MALLOC_UNATTRIBUTED] = in_use > claimed ? in_use - claimed : 0;
	uint64_t pyalloc = pm->pymalloc.allocated_bytes;
	pm->cat[PHA_MEM_PYMALLOC_UNATTRIBUTED] = pyalloc > b->pymalloc_claimed ? pyalloc - b->pymalloc_claimed : 0;
	bool ok = true;
	if (nown) {
		qsort(own, nown, sizeof(*own), cmp_owned);
		ok = native_per_object(b, own, nown);
	}
	free(own);
	return ok;
}

/* The categories sum to total_bytes by construction; a damaged allocator
 * account could still break it: then other_anonymous absorbs the
 * difference, with a warning. */
static void reconcile(struct build *b)
{
	struct pha_procmem *pm = b->pm;
	uint64_t sum = 0;
	for (int c = 0; c < PHA_MEM_COUNT; c++)
		sum += pm->cat[c];
	if (sum != pm->total_bytes) {
		pha_target_warn(b->t, "memory: categories sum to %llu bytes, not the %llu of the "
				      "mappings; other_anonymous was adjusted",
				(unsigned long long)sum, (unsigned long long)pm->total_bytes);
		if (sum < pm->total_bytes) {
			pm->cat[PHA_MEM_ANON_OTHER] += pm->total_bytes - sum;
		} else {
			uint64_t d = sum - pm->total_bytes;
			static const enum pha_memcat order[] = {
				PHA_MEM_ANON_OTHER, PHA_MEM_ANON_ZERO, PHA_MEM_MALLOC_UNATTRIBUTED,
				PHA_MEM_PYMALLOC_UNATTRIBUTED, PHA_MEM_MALLOC_FREE, PHA_MEM_PYMALLOC_FREE,
			};
			for (size_t i = 0; d && i < sizeof(order) / sizeof(order[0]); i++) {
				uint64_t take = d < pm->cat[order[i]] ? d : pm->cat[order[i]];
				pm->cat[order[i]] -= take;
				d -= take;
			}
		}
	}
	pm->attributed_bytes = pm->cat[PHA_MEM_PYTHON_OBJECTS] + pm->cat[PHA_MEM_PYTHON_BUFFERS] +
			       pm->cat[PHA_MEM_NATIVE_BUFFERS] + pm->cat[PHA_MEM_NATIVE_INFERRED];
	pm->unattributed_bytes = pm->cat[PHA_MEM_PYMALLOC_UNATTRIBUTED] +
				 pm->cat[PHA_MEM_MALLOC_UNATTRIBUTED] + pm->cat[PHA_MEM_ANON_OTHER] +
				 pm->cat[PHA_MEM_UNWALKED_ALLOCATOR];
}

/* ---- driver ----------------------------------------------------------------- */

static void build_deinit(struct build *b)
{
	free(b->files.r);
	free(b->images.r);
	free(b->anon.r);
	free(b->stacks.r);
	free(b->allocs.r);
	free(b->chunk_owner);
	free(b->chunk_cat);
	free(b->claimed_blocks);
	free(b->claimed_bits);
	free(b->stack);
}

struct pha_error *pha_procmem_build(struct pha_target *t, const struct pha_heap *h,
				    struct pha_procmem **pm_ret)
{
	*pm_ret = NULL;
	struct pha_procmem *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return &pha_enomem;
	struct build b = {.t = t, .h = h, .pm = pm};
	struct pha_error *err = NULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pha_progress("memory", 0, 0);
	pm->available = true;
	if (!collect_files(&b) || !classify_mappings(&b))
		goto oom;
	if ((err = pha_pymalloc_read(t, &pm->pymalloc)) || (err = pha_malloc_read(t, &pm->malloc)))
		goto fail;
	if (!collect_allocator_regions(&b))
		goto oom;
	outside_allocators(&b, &b.anon, count_anonymous);
	outside_allocators(&b, &b.stacks, count_stack);
	if (!pm->malloc.walked) {
		/* The C allocator's heap is somewhere in there: say so. */
		pm->cat[PHA_MEM_UNWALKED_ALLOCATOR] = pm->cat[PHA_MEM_ANON_OTHER];
		pm->cat[PHA_MEM_ANON_OTHER] = 0;
	}
	allocator_totals(&b);
	if (!attribute_objects(&b) || !sum_chunks(&b))
		goto oom;
	reconcile(&b);
	build_deinit(&b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t->verbose)
		fprintf(stderr, "pyheap-analyze: memory: %llu bytes in %llu mappings, %zu malloc chunks, "
				"%llu attributed, %.3f s\n",
			(unsigned long long)pm->total_bytes, (unsigned long long)pm->mappings,
			pm->malloc.nchunks, (unsigned long long)pm->attributed_bytes,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	*pm_ret = pm;
	return NULL;
oom:
	err = &pha_enomem;
fail:
	build_deinit(&b);
	pha_procmem_destroy(pm);
	return err;
}

void pha_procmem_destroy(struct pha_procmem *pm)
{
	if (!pm)
		return;
	pha_pymalloc_deinit(&pm->pymalloc);
	pha_malloc_deinit(&pm->malloc);
	free(pm->native_by_type);
	free(pm->native_ids);
	free(pm->native_bytes);
	free(pm);
}

uint64_t pha_procmem_native_of(const struct pha_procmem *pm, uint32_t id)
{
	size_t lo = 0, hi = pm ? pm->nnative : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pm->native_ids[mid] < id)
			lo = mid + 1;
		else if (pm->native_ids[mid] > id)
			hi = mid;
		else
			return pm->native_bytes[mid];
	}
	return 0;
}
