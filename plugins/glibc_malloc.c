/* glibc malloc: main_arena and the thread arenas, their heaps and chunks,
 * the mmapped chunks, the free chunks that look in use (fastbins, tcache);
 * other allocators (jemalloc, tcmalloc, mimalloc) detected and named.
 *
 * Everything is found from the core and libc.so.6's program headers; libc's
 * .symtab is used when present (it rarely is: distributions strip it).
 *
 * struct malloc_state (malloc/malloc.c), x86-64, by glibc version:
 *
 *   2.27 - 2.42   mutex, flags, have_fastchunks, fastbinsY[10] at +16,
 *                 top +96, last_remainder +104, bins[254] +112, binmap[4],
 *                 next +2160, next_free, attached_threads, system_mem +2184,
 *                 max_system_mem: 2200 bytes (checked on bookworm's 2.36)
 *   2.43          the fastbins are gone: top +8, bins +24, next +2072,
 *                 system_mem +2096: 2112 bytes (checked on sid's 2.43)
 *
 * Both are recognised by shape: `next` leads through the thread arenas back
 * to main_arena, every empty bin points at its own header (bin_at), `top`
 * is a chunk whose end is the end of its heap. Everything after `bins`
 * keeps its place relative to `top`, so a layout is the offset of `top`
 * and of the fastbins.
 *
 * Heaps. The main arena's chunks run from mp_.sbrk_base (= top's end -
 * system_mem for the contiguous brk heap) to top. A thread arena's heaps
 * are HEAP_MAX_SIZE (64 MiB) aligned; heap_info {ar_ptr, prev, size,
 * mprotect_size, pagesize (2.35+)} opens each one (32 or 48 bytes; the
 * first heap's malloc_state follows it, which gives the size); the heap of
 * `top` is the newest, `prev` leads to the older ones, which end in a
 * fencepost (a 16-byte chunk and a size-0 header) at heap_info.size.
 *
 * Free chunks that look in use: fastbin chunks (until 2.42) and tcache
 * entries. The tcache (tcache_perthread_struct, an in-use chunk of the
 * arena: char counts[64] before 2.30, uint16_t counts[64] from 2.30,
 * uint16_t num_slots[76] from 2.42) is recognised among the in-use chunks
 * by its entries, which point at in-use chunks of their bin's size. From
 * 2.32 the `next` links of both lists are mangled (safe-linking: stored =
 * (address of the link >> 12) ^ pointer); which convention the core uses
 * is decided from the links themselves.
 *
 * Mmapped chunks live in anonymous mappings of their own: a header with
 * IS_MMAPPED at a page start, prev_size = offset from the mapping start
 * (0 for plain malloc), offset + size page-aligned (2.43: offset + size +
 * 16). They are found by scanning the anonymous memory page by page and
 * checked against mp_.mmapped_mem when mp_ is found (by its sbrk_base).
 */
#include "alloc.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/target.h"

#define PAGE 4096u
#define HEAP_MAX (64ull << 20)		/* HEAP_MAX_SIZE, x86-64 default */
#define MINSIZE 32u
#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define NON_MAIN_ARENA 4u
#define SIZE_BITS 7u
#define NBINS_WORDS 254u
#define MAX_ARENAS 1024u		/* far above glibc's 8 * cores */
#define MAX_HEAPS 4096u			/* heaps per arena (64 MiB each: 256 GiB) */
#define MAX_LIST (1u << 20)		/* fastbin/tcache list length bound */

/* ---- layouts --------------------------------------------------------------- */

struct ms_layout {
	const char *name;
	uint32_t top;		/* offset of top */
	uint32_t fast;		/* offset of fastbinsY (nfast == 0: none) */
	uint32_t nfast;
};

static const struct ms_layout ms_layouts[] = {
	{.name = "glibc 2.27+ layout, with fastbins", .top = 96, .fast = 16, .nfast = 10},
	{.name = "glibc 2.43+ layout, without fastbins", .top = 8},
};

/* Offsets that follow from the offset of top. */
static uint32_t off_bins(const struct ms_layout *l) { return l->top + 16; }
static uint32_t off_next(const struct ms_layout *l) { return off_bins(l) + NBINS_WORDS * 8 + 16; }
static uint32_t off_sysmem(const struct ms_layout *l) { return off_next(l) + 24; }
static uint32_t ms_size(const struct ms_layout *l) { return off_next(l) + 40; }

/* ---- state ------------------------------------------------------------------ */

enum {
	CH_INUSE = 1,		/* next chunk's PREV_INUSE set */
	CH_FAST = 2,		/* on a fastbin list */
	CH_TCACHE = 4,		/* on a tcache list */
	CH_MMAPPED = 8,
};

struct wchunk {
	uint64_t addr;		/* chunk header */
	uint64_t size;		/* extent of the chunk, header included */
	uint32_t arena;		/* index into m->arenas; UINT32_MAX for mmapped */
	uint32_t state;		/* CH_* */
};

struct gm {
	const struct pha_target *t;
	const struct pha_memory *mem;
	struct pha_malloc *m;
	const struct ms_layout *lay;
	uint64_t main_arena;
	uint64_t sbrk_base;		/* main heap start */
	uint32_t heap_info_size;	/* 0 until a thread arena says */
	int mangled;			/* safe-linking: -1 unknown, 0 no, 1 yes */
	struct wchunk *ch;
	size_t nch, capch;
	size_t cap_regions, cap_arenas;
	bool oom;
};

static void gm_warn(struct gm *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gm_warn(struct gm *g, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (g->t->svc.warn)
		g->t->svc.warn(g->t->svc.ctx, "glibc malloc: %s", buf);
}

static bool rd64(const struct gm *g, uint64_t addr, uint64_t *v)
{
	return pha_memory_read(g->mem, addr, v, 8, NULL);
}

static bool push_chunk(struct gm *g, uint64_t addr, uint64_t size, uint32_t arena, uint32_t state)
{
	if (g->nch == g->capch) {
		size_t cap = g->capch ? 2 * g->capch : 4096;
		struct wchunk *c = realloc(g->ch, cap * sizeof(*c));
		if (!c) {
			g->oom = true;
			return false;
		}
		g->ch = c;
		g->capch = cap;
	}
	g->ch[g->nch++] = (struct wchunk){addr, size, arena, state};
	return true;
}

static bool push_region(struct gm *g, uint64_t start, uint64_t end)
{
	struct pha_malloc *m = g->m;
	if (start >= end)
		return true;
	if (m->nregions == g->cap_regions) {
		size_t cap = g->cap_regions ? 2 * g->cap_regions : 64;
		struct pha_range *r = realloc(m->regions, cap * sizeof(*r));
		if (!r) {
			g->oom = true;
			return false;
		}
		m->regions = r;
		g->cap_regions = cap;
	}
	m->regions[m->nregions++] = (struct pha_range){start, end};
	return true;
}

static struct pha_malloc_arena *push_arena(struct gm *g, uint64_t addr)
{
	struct pha_malloc *m = g->m;
	if (m->narenas == g->cap_arenas) {
		size_t cap = g->cap_arenas ? 2 * g->cap_arenas : 8;
		struct pha_malloc_arena *a = realloc(m->arenas, cap * sizeof(*a));
		if (!a) {
			g->oom = true;
			return NULL;
		}
		m->arenas = a;
		g->cap_arenas = cap;
	}
	struct pha_malloc_arena *a = &m->arenas[m->narenas++];
	memset(a, 0, sizeof(*a));
	a->addr = addr;
	return a;
}

/* Index of the walked chunk that starts at addr, or SIZE_MAX (g->ch sorted). */
static size_t chunk_at(const struct gm *g, uint64_t addr)
{
	size_t lo = 0, hi = g->nch;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->ch[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->nch && g->ch[lo].addr == addr ? lo : SIZE_MAX;
}

/* ---- other allocators ---------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* jemalloc, tcmalloc or mimalloc mapped into the process (LD_PRELOAD or
 * linked): then malloc is theirs and glibc's arenas hold next to nothing. */
static bool other_allocator(const struct pha_target *t, struct pha_malloc *m)
{
	static const struct {
		const char *prefix, *name;
	} known[] = {
		{"libjemalloc", "jemalloc"},
		{"libtcmalloc", "tcmalloc"},
		{"libmimalloc", "mimalloc"},
	};
	for (size_t i = 0; i < t->core->nmappings; i++) {
		const char *b = base_name(t->core->mappings[i].path);
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strncmp(b, known[k].prefix, strlen(known[k].prefix)))
				continue;
			snprintf(m->allocator, sizeof(m->allocator), "%s", known[k].name);
			snprintf(m->how, sizeof(m->how), "%s is mapped (%.100s): malloc is %s's, "
				 "whose heap is not walked", known[k].name, b, known[k].name);
			return true;
		}
	}
	return false;
}

static const struct pha_module *find_libc(const struct pha_target *t)
{
	for (size_t i = 0; i < t->mods.nmods; i++) {
		const char *n = t->mods.mods[i].name;
		size_t len = strlen(n);
		if (len >= 9 && !strcmp(n + len - 9, "libc.so.6") &&
		    (len == 9 || n[len - 10] == '/'))
			return &t->mods.mods[i];
	}
	return NULL;
}

/* libc's writable data: from its program headers, or (file missing) the
 * core's writable segments inside or right after its mappings (.bss). */
static size_t libc_data(const struct pha_target *t, const struct pha_module *libc,
			struct pha_range *r, size_t max)
{
	size_t n = pha_module_writable(libc, r, max);
	if (n)
		return n;
	for (size_t i = 0; i < t->core->nloads && n < max; i++) {
		const struct pha_core_load *l = &t->core->loads[i];
		if ((l->flags & PF_W) && l->vaddr >= libc->start && l->vaddr <= libc->end &&
		    l->memsz <= PHA_WRITABLE_MAX)
			r[n++] = (struct pha_range){l->vaddr, l->vaddr + l->memsz};
	}
	return n;
}

/* ---- finding main_arena ---------------------------------------------------------- */

/* A plausible chunk pointer: 16-aligned, readable. */
static bool chunk_ptr_ok(const struct gm *g, uint64_t p)
{
	return p && !(p & 15) && pha_memory_extent(g->mem, p) >= 16;
}

/* Whether the malloc_state image at addr (its bytes in w) has the shape of
 * an arena under layout l: bins empty (pointing at their own header) or
 * holding readable chunks, at least a quarter of them empty, a top chunk,
 * system_mem a page multiple, fastbin heads plausible. */
static bool arena_shape(const struct gm *g, const struct ms_layout *l, uint64_t addr,
			const uint64_t *w)
{
	uint64_t top = w[l->top / 8], sysmem = w[off_sysmem(l) / 8];
	if (!chunk_ptr_ok(g, top) || !sysmem || sysmem % PAGE || sysmem > (1ull << 46))
		return false;
	unsigned empty = 0;
	for (unsigned i = 0; i < NBINS_WORDS / 2; i++) {
		uint64_t self = addr + off_bins(l) + 16 * i - 16;
		uint64_t fd = w[off_bins(l) / 8 + 2 * i], bk = w[off_bins(l) / 8 + 2 * i + 1];
		if (fd == self && bk == self)
			empty++;
		else if (!chunk_ptr_ok(g, fd) || !chunk_ptr_ok(g, bk) || fd == self || bk == self)
			return false;
	}
	if (empty < NBINS_WORDS / 8)
		return false;
	for (unsigned i = 0; i < l->nfast; i++) {
		uint64_t f = w[l->fast / 8 + i];
		if (f && (f & 15))
			return false;
	}
	return true;
}

static bool read_state(const struct gm *g, const struct ms_layout *l, uint64_t addr, uint64_t *w)
{
	return pha_memory_read(g->mem, addr, w, ms_size(l), NULL);
}

/* The arenas of the `next` cycle from main, each with arena_shape, back to
 * main within MAX_ARENAS steps. Fills m->arenas (main first). */
static bool arena_cycle(struct gm *g, const struct ms_layout *l, uint64_t main, uint64_t *w)
{
	g->m->narenas = 0;
	uint64_t a = main;
	for (unsigned n = 0; n < MAX_ARENAS; n++) {
		if (!read_state(g, l, a, w) || !arena_shape(g, l, a, w))
			return false;
		for (size_t i = 0; i < g->m->narenas; i++)
			if (g->m->arenas[i].addr == a)
				return false;
		struct pha_malloc_arena *ar = push_arena(g, a);
		if (!ar)
			return false;
		ar->main = n == 0;
		ar->system_mem = w[off_sysmem(l) / 8];
		a = w[off_next(l) / 8];
		if (a == main)
			return true;
		/* A thread arena sits right after its first heap's heap_info. */
		if ((a & (HEAP_MAX - 1)) != 32 && (a & (HEAP_MAX - 1)) != 48)
			return false;
	}
	return false;
}

/* Try every 8-aligned position of libc's data under every layout. */
static bool find_by_shape(struct gm *g, const struct pha_range *r, size_t nr)
{
	uint64_t w[2200 / 8 + 1];
	for (size_t li = 0; li < sizeof(ms_layouts) / sizeof(ms_layouts[0]); li++) {
		const struct ms_layout *l = &ms_layouts[li];
		for (size_t k = 0; k < nr; k++) {
			for (uint64_t a = (r[k].start + 7) & ~7ull; a + ms_size(l) <= r[k].end; a += 8) {
				uint64_t nx;
				/* cheap filters first: next is the arena itself or a thread arena */
				if (!rd64(g, a + off_next(l), &nx) || !nx || (nx & 7))
					continue;
				if (nx != a && (nx & (HEAP_MAX - 1)) != 32 && (nx & (HEAP_MAX - 1)) != 48)
					continue;
				if (!arena_cycle(g, l, a, w)) {
					if (g->oom)
						return false;
					continue;
				}
				g->lay = l;
				g->main_arena = a;
				return true;
			}
		}
	}
	g->m->narenas = 0;
	return false;
}

static bool find_main_arena(struct gm *g, const struct pha_module *libc)
{
	uint64_t w[2200 / 8 + 1];
	uint64_t sym = pha_module_symbol(libc, "main_arena", NULL);
	if (sym) {
		for (size_t li = 0; li < sizeof(ms_layouts) / sizeof(ms_layouts[0]); li++) {
			if (arena_cycle(g, &ms_layouts[li], sym, w)) {
				g->lay = &ms_layouts[li];
				g->main_arena = sym;
				snprintf(g->m->how, sizeof(g->m->how), "symbol main_arena (%s)", g->lay->name);
				return true;
			}
		}
		g->m->narenas = 0;
	}
	struct pha_range r[8];
	size_t nr = libc_data(g->t, libc, r, 8);
	if (find_by_shape(g, r, nr)) {
		snprintf(g->m->how, sizeof(g->m->how), "by shape in libc.so.6's data (%s)%s",
			 g->lay->name, sym ? "; symbol main_arena did not validate" : "");
		return true;
	}
	return false;
}

/* ---- walking a heap --------------------------------------------------------------- */

struct walk {
	uint64_t start;		/* first chunk */
	uint64_t end;		/* heap end */
	uint64_t top;		/* top chunk if it lies in this heap, else 0 */
	uint32_t arena;
	uint64_t *top_size_ret;	/* size of top found */
};

/* The header at p closes the previous chunk of this walk (index > first):
 * its PREV_INUSE says whether that chunk is in use, and a free one's size
 * must be repeated in prev_size. */
static void settle_prev(struct gm *g, size_t first, const uint64_t hdr[2])
{
	if (g->nch <= first)
		return;
	struct wchunk *c = &g->ch[g->nch - 1];
	if (hdr[1] & PREV_INUSE) {
		c->state |= CH_INUSE;
	} else if (hdr[0] != c->size) {
		g->m->corrupt++;
		gm_warn(g, "free chunk at 0x%llx: size %llu but the next chunk's prev_size is %llu",
			(unsigned long long)c->addr, (unsigned long long)c->size,
			(unsigned long long)hdr[0]);
	}
}

/* Walk chunks from w->start. Ends at top (its size must reach w->end) or,
 * for an older heap, at the fencepost (a 16-byte chunk and a size-0 header
 * in the last 32 bytes). Returns the bytes not in chunks (fenceposts, the
 * rest of a walk cut short by a damaged header) as overhead. */
static uint64_t walk_heap(struct gm *g, const struct walk *w)
{
	uint64_t p = w->start, overhead = 0, hdr[2];
	size_t first = g->nch;
	uint64_t limit = (w->end - w->start) / 16 + 2;
	*w->top_size_ret = 0;
	while (limit-- && p + 16 <= w->end && pha_memory_read(g->mem, p, hdr, 16, NULL)) {
		uint64_t sz = hdr[1] & ~(uint64_t)SIZE_BITS;
		if (w->top && p == w->top) {
			settle_prev(g, first, hdr);
			if (p + sz != w->end) {
				g->m->corrupt++;
				gm_warn(g, "the top chunk at 0x%llx (size %llu) does not end at its heap's "
					   "end 0x%llx", (unsigned long long)p, (unsigned long long)sz,
					(unsigned long long)w->end);
			}
			*w->top_size_ret = w->end - p;
			return overhead;
		}
		if (!w->top && p + 32 >= w->end && (sz == 16 || sz == 0)) {
			settle_prev(g, first, hdr);
			return overhead + (w->end - p);		/* fencepost */
		}
		if (sz < MINSIZE || (sz & 15) || sz > w->end - p || (hdr[1] & IS_MMAPPED) ||
		    (w->top && p < w->top && sz > w->top - p))
			break;
		settle_prev(g, first, hdr);
		if (!push_chunk(g, p, sz, w->arena, 0))
			return overhead;
		p += sz;
	}
	g->m->corrupt++;
	gm_warn(g, "chunk walk stopped at 0x%llx (heap 0x%llx - 0x%llx): a chunk header is damaged "
		   "or unreadable; the rest of that heap is counted as overhead",
		(unsigned long long)p, (unsigned long long)w->start, (unsigned long long)w->end);
	/* The last chunk pushed has no successor to say its state. */
	if (g->nch > first)
		g->ch[g->nch - 1].state |= CH_INUSE;
	uint64_t stop = w->end;
	if (w->top && w->top > p && w->top < w->end) {
		*w->top_size_ret = w->end - w->top;
		stop = w->top;
	}
	return overhead + (stop > p ? stop - p : 0);
}

/* Whether chunks from start reach top exactly (a dry walk: nothing kept). */
static bool walk_reaches(const struct gm *g, uint64_t start, uint64_t top)
{
	uint64_t p = start, limit = top > start ? (top - start) / 16 + 1 : 0;
	while (limit-- && p < top) {
		uint64_t sz;
		if (!rd64(g, p + 8, &sz))
			return false;
		sz &= ~(uint64_t)SIZE_BITS;
		if (sz < MINSIZE || (sz & 15) || sz > top - p)
			return false;
		p += sz;
	}
	return p == top;
}

/* mp_ (struct malloc_par): ..., int n_mmaps, n_mmaps_max, max_n_mmaps,
 * no_dyn_threshold; INTERNAL_SIZE_T mmapped_mem, max_mmapped_mem; char
 * *sbrk_base; ... Found as a word equal to the heap start in libc's data
 * preceded by two page multiples (mmapped_mem <= max_mmapped_mem). The
 * ints end right before mmapped_mem until 2.34; from 2.35 int hp_flags
 * comes first and 4 bytes of padding after (checked on 2.36 and 2.43):
 * n_mmaps_max (default 65536) right after n_mmaps tells which. */
struct mp_info {
	bool found;
	uint64_t addr;		/* &mp_.sbrk_base */
	uint64_t mmapped_mem;
	int64_t n_mmaps;	/* -1 unknown */
};

static bool mp_at(const struct gm *g, uint64_t s, uint64_t base, struct mp_info *mp)
{
	uint64_t v, mm[2];
	if (!rd64(g, s, &v) || v != base || !pha_memory_read(g->mem, s - 16, mm, 16, NULL))
		return false;
	/* page multiples, except that sid's 2.43 keeps mmapped_mem a few
	 * 16-byte units above the page-aligned mappings it describes */
	if (mm[0] % 16 || mm[1] % 16 || mm[0] > mm[1])
		return false;
	mp->found = true;
	mp->addr = s;
	mp->mmapped_mem = mm[0];
	mp->n_mmaps = -1;
	int32_t ints[6];
	if (pha_memory_read(g->mem, s - 40, ints, sizeof(ints), NULL)) {
		/* ints[i] is at s - 40 + 4 i */
		if (ints[2] == 65536 && ints[1] >= 0 && ints[1] <= ints[3])
			mp->n_mmaps = ints[1];
		else if (ints[3] == 65536 && ints[2] >= 0 && ints[2] <= ints[4])
			mp->n_mmaps = ints[2];
	}
	return true;
}

static void find_mp(const struct gm *g, const struct pha_range *r, size_t nr, uint64_t base,
		    struct mp_info *mp)
{
	memset(mp, 0, sizeof(*mp));
	for (size_t k = 0; k < nr; k++)
		for (uint64_t s = ((r[k].start + 7) & ~7ull) + 40; s + 8 <= r[k].end; s += 8)
			if (mp_at(g, s, base, mp))
				return;
}

/* The main arena's heap start: top's end - system_mem (the brk heap is
 * contiguous), else the start of the core segment holding top; the one
 * from which chunks lead exactly to top. 0 if none does. */
static uint64_t main_heap_start(const struct gm *g, uint64_t top, uint64_t top_end, uint64_t sysmem)
{
	uint64_t cand[2] = {top_end - sysmem, 0};
	const struct pha_segment *seg = pha_memory_find(g->mem, top);
	if (seg)
		cand[1] = seg->start;
	for (int i = 0; i < 2; i++) {
		uint64_t first = (cand[i] + 15) & ~15ull;
		if (cand[i] && cand[i] <= top && (first == top || walk_reaches(g, first, top)))
			return cand[i];
	}
	return 0;
}

static bool walk_main(struct gm *g, const uint64_t *w)
{
	struct pha_malloc_arena *a = &g->m->arenas[0];
	uint64_t top = w[g->lay->top / 8], tsz;
	if (!rd64(g, top + 8, &tsz) || (tsz & ~(uint64_t)SIZE_BITS) > (1ull << 46)) {
		g->m->corrupt++;
		gm_warn(g, "main_arena's top chunk 0x%llx is unreadable or damaged", (unsigned long long)top);
		return false;
	}
	uint64_t top_end = top + (tsz & ~(uint64_t)SIZE_BITS);
	uint64_t base = main_heap_start(g, top, top_end, a->system_mem);
	if (!base) {
		g->m->corrupt++;
		gm_warn(g, "no start of the main heap leads to main_arena's top 0x%llx (system_mem %llu): "
			   "the main heap is not walked", (unsigned long long)top,
			(unsigned long long)a->system_mem);
		return false;
	}
	g->sbrk_base = base;
	uint64_t first = (base + 15) & ~15ull;
	struct walk wk = {.start = first, .end = top_end, .top = top, .arena = 0,
			  .top_size_ret = &a->top_bytes};
	g->m->overhead_bytes += first - base + walk_heap(g, &wk);
	a->heaps = 1;
	return push_region(g, base, top_end);
}

/* A thread arena: the heap of top, then the older ones through prev, the
 * last being the one that holds the arena. */
static bool walk_thread_arena(struct gm *g, uint32_t ai, const uint64_t *w)
{
	struct pha_malloc_arena *a = &g->m->arenas[ai];
	uint64_t top = w[g->lay->top / 8];
	uint64_t home = a->addr & ~(HEAP_MAX - 1), h = top & ~(HEAP_MAX - 1), total = 0;
	uint32_t his = (uint32_t)(a->addr - home);
	size_t first_region = g->m->nregions;
	for (unsigned n = 0; h && n < MAX_HEAPS; n++) {
		uint64_t hi[3];		/* ar_ptr, prev, size */
		bool seen = false;
		for (size_t r = first_region; r < g->m->nregions; r++)
			seen |= g->m->regions[r].start == h;
		if (seen || !pha_memory_read(g->mem, h, hi, sizeof(hi), NULL) || hi[0] != a->addr ||
		    hi[2] > HEAP_MAX || hi[2] < his + MINSIZE || (hi[1] & (HEAP_MAX - 1)) ||
		    (h == home && hi[1])) {
			g->m->corrupt++;
			gm_warn(g, "heap_info at 0x%llx of arena 0x%llx is damaged or unreadable; the "
				   "arena's older heaps are not walked",
				(unsigned long long)h, (unsigned long long)a->addr);
			return true;
		}
		uint64_t start = h + his;
		if (h == home)
			start = ((a->addr + ms_size(g->lay) + 16 + 15) & ~15ull) - 16;
		uint64_t end = h + hi[2], tsz = 0;
		struct walk wk = {.start = start, .end = end, .arena = ai, .top_size_ret = &tsz,
				  .top = top >= h && top < end ? top : 0};
		g->m->overhead_bytes += start - h + walk_heap(g, &wk);
		a->top_bytes += tsz;
		a->heaps++;
		total += hi[2];
		if (!push_region(g, h, end))
			return false;
		if (h == home)
			break;
		h = hi[1];
	}
	if (h != home) {
		g->m->corrupt++;
		gm_warn(g, "arena 0x%llx: its heap_info chain does not lead back to the heap that "
			   "holds the arena", (unsigned long long)a->addr);
	}
	if (total != a->system_mem)
		gm_warn(g, "arena 0x%llx: its heaps hold %llu bytes, its system_mem says %llu",
			(unsigned long long)a->addr, (unsigned long long)total,
			(unsigned long long)a->system_mem);
	return true;
}

/* ---- mmapped chunks ------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct pha_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether [s, e) meets one of the sorted, disjoint ranges r. */
static bool meets(const struct pha_range *r, size_t n, uint64_t s, uint64_t e)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].end <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && r[lo].start < e;
}

/* A mmapped chunk whose header is at page p (offset 0: plain malloc);
 * returns the mapping's size, 0 if p holds none. */
static uint64_t mmapped_at(const struct gm *g, uint64_t p, uint64_t seg_end)
{
	uint64_t hdr[2];
	if (!pha_memory_read(g->mem, p, hdr, 16, NULL) || hdr[0] != 0 ||
	    (hdr[1] & SIZE_BITS) != IS_MMAPPED)
		return 0;
	uint64_t sz = hdr[1] & ~(uint64_t)SIZE_BITS;
	/* until 2.42 the size is the whole mapping; 2.43 leaves the header out */
	uint64_t total = sz % PAGE == 0 ? sz : (sz + 16) % PAGE == 0 ? sz + 16 : 0;
	if (total < PAGE || total > seg_end - p)
		return 0;
	return total;
}

static bool scan_mmapped(struct gm *g)
{
	const struct pha_core *c = g->t->core;
	struct pha_range *files = malloc((c->nmappings + 1) * sizeof(*files));
	if (!files)
		return !(g->oom = true);
	for (size_t i = 0; i < c->nmappings; i++)
		files[i] = (struct pha_range){c->mappings[i].start, c->mappings[i].end};
	qsort(files, c->nmappings, sizeof(*files), cmp_range);
	qsort(g->m->regions, g->m->nregions, sizeof(*g->m->regions), cmp_range);
	size_t nheap = g->m->nregions;
	for (size_t i = 0; i < c->nloads; i++) {
		const struct pha_core_load *l = &c->loads[i];
		uint64_t s = (l->vaddr + PAGE - 1) & ~(uint64_t)(PAGE - 1), e = l->vaddr + l->memsz;
		if ((l->flags & (PF_R | PF_W)) != (PF_R | PF_W) || e <= s ||
		    meets(files, c->nmappings, l->vaddr, e))
			continue;
		for (uint64_t p = s; p + PAGE <= e;) {
			uint64_t total = 0;
			if (!meets(g->m->regions, nheap, p, p + PAGE))
				total = mmapped_at(g, p, e);
			if (!total) {
				p += PAGE;
				continue;
			}
			if (meets(g->m->regions, nheap, p, p + total) ||
			    !push_chunk(g, p, total, UINT32_MAX, CH_MMAPPED | CH_INUSE) ||
			    !push_region(g, p, p + total))
				break;
			g->m->mmapped_bytes += total;
			g->m->mmapped_chunks++;
			p += total;
		}
		if (g->oom)
			break;
	}
	free(files);
	return !g->oom;
}

/* ---- fastbins and tcache ---------------------------------------------------------- */

/* The chunk a list link leads to: stored is the word at pos; mem: the link
 * points at chunk + 16 (tcache) rather than at the chunk (fastbin).
 * Decides safe-linking from the first link that only one reading explains.
 * Returns the chunk index, SIZE_MAX at the end of the list, or SIZE_MAX - 1
 * for a link no reading explains. */
static size_t follow(struct gm *g, uint64_t pos, uint64_t stored, bool mem)
{
	uint64_t dec[2] = {stored, (pos >> 12) ^ stored};
	size_t idx[2];
	bool ok[2];
	for (int k = 0; k < 2; k++) {
		idx[k] = SIZE_MAX;
		if (dec[k] && !(dec[k] & 15) && (!mem || dec[k] >= 16))
			idx[k] = chunk_at(g, mem ? dec[k] - 16 : dec[k]);
		ok[k] = dec[k] == 0 || idx[k] != SIZE_MAX;
	}
	if (g->mangled < 0 && ok[0] != ok[1])
		g->mangled = ok[1];
	int k = g->mangled > 0;
	if (!ok[k])
		return SIZE_MAX - 1;
	return dec[k] ? idx[k] : SIZE_MAX;
}

/* Mark the chunks of one list (head: the first chunk's index) with flag.
 * want: their chunk size (0: any). Returns the list length. */
static uint64_t mark_list(struct gm *g, size_t head, uint32_t flag, uint64_t want, uint32_t arena,
			  bool mem)
{
	uint64_t n = 0;
	size_t i = head;
	while (i != SIZE_MAX) {
		struct wchunk *c = i < g->nch ? &g->ch[i] : NULL;
		if (!c || n >= MAX_LIST || (c->state & (CH_FAST | CH_TCACHE)) ||
		    !(c->state & CH_INUSE) || (c->state & CH_MMAPPED) || (want && c->size != want) ||
		    (arena != UINT32_MAX && c->arena != arena)) {
			g->m->corrupt++;
			gm_warn(g, "a %s list breaks after %llu chunks (a damaged, looping or "
				   "misdirected link)", flag == CH_FAST ? "fastbin" : "tcache",
				(unsigned long long)n);
			return n;
		}
		c->state |= flag;
		n++;
		uint64_t stored;
		if (!rd64(g, c->addr + 16, &stored)) {
			g->m->corrupt++;
			return n;
		}
		i = follow(g, c->addr + 16, stored, mem);
	}
	return n;
}

static void mark_fastbins(struct gm *g, uint32_t ai, const uint64_t *w)
{
	for (uint32_t k = 0; k < g->lay->nfast; k++) {
		uint64_t head = w[g->lay->fast / 8 + k];
		if (!head)
			continue;
		size_t i = chunk_at(g, head);
		mark_list(g, i == SIZE_MAX ? SIZE_MAX - 1 : i, CH_FAST, 32 + 16 * k, ai, false);
	}
}

/* tcache_perthread_struct variants by chunk size. */
struct tc_layout {
	uint64_t chunk;		/* chunk size (request2size of the struct) */
	uint32_t nbins;
	uint32_t count_width;	/* 1, 2; 0: num_slots (free slots, not a count) */
};

static const struct tc_layout tc_layouts[] = {
	{.chunk = 0x250, .nbins = 64, .count_width = 1},	/* 2.26 - 2.29 */
	{.chunk = 0x290, .nbins = 64, .count_width = 2},	/* 2.30 - 2.41 */
	{.chunk = 0x300, .nbins = 76, .count_width = 0},	/* 2.42+ */
};

/* Whether entries (nbins) all lead to in-use chunks of their bin's size, at
 * least one of them. */
static bool tcache_shape(const struct gm *g, const uint64_t *e, uint32_t nbins)
{
	unsigned used = 0;
	for (uint32_t b = 0; b < nbins; b++) {
		if (!e[b])
			continue;
		if ((e[b] & 15) || e[b] < 16)
			return false;
		size_t i = chunk_at(g, e[b] - 16);
		if (i == SIZE_MAX || !(g->ch[i].state & CH_INUSE) || (g->ch[i].state & CH_MMAPPED) ||
		    (b < 64 && g->ch[i].size != 32 + 16 * (uint64_t)b) || (b >= 64 && g->ch[i].size < 1040))
			return false;
		used++;
	}
	return used > 0;
}

static void mark_tcaches(struct gm *g)
{
	size_t n = g->nch;
	for (size_t ci = 0; ci < n; ci++) {
		const struct wchunk c = g->ch[ci];
		if (!(c.state & CH_INUSE) || (c.state & (CH_MMAPPED | CH_TCACHE)))
			continue;
		const struct tc_layout *tl = NULL;
		for (size_t k = 0; k < sizeof(tc_layouts) / sizeof(tc_layouts[0]); k++)
			if (c.size == tc_layouts[k].chunk || c.size == tc_layouts[k].chunk + 16)
				tl = &tc_layouts[k];
		uint64_t e[76];
		uint16_t cnt[76];
		if (!tl)
			continue;
		uint32_t cbytes = tl->nbins * (tl->count_width ? tl->count_width : 2);
		if (!pha_memory_read(g->mem, c.addr + 16 + cbytes, e, tl->nbins * 8, NULL) ||
		    !tcache_shape(g, e, tl->nbins))
			continue;
		if (tl->count_width == 1) {
			uint8_t c8[64];
			if (!pha_memory_read(g->mem, c.addr + 16, c8, 64, NULL))
				continue;
			for (int b = 0; b < 64; b++)
				cnt[b] = c8[b];
		} else if (!pha_memory_read(g->mem, c.addr + 16, cnt, tl->nbins * 2, NULL)) {
			continue;
		}
		for (uint32_t b = 0; b < tl->nbins; b++) {
			if (!e[b])
				continue;
			uint64_t len = mark_list(g, chunk_at(g, e[b] - 16), CH_TCACHE,
						 b < 64 ? 32 + 16 * (uint64_t)b : 0, UINT32_MAX, true);
			if (tl->count_width && len != cnt[b]) {
				g->m->corrupt++;
				gm_warn(g, "tcache at 0x%llx: bin %u counts %u chunks, its list has %llu",
					(unsigned long long)c.addr + 16, b, cnt[b], (unsigned long long)len);
			}
		}
	}
}

/* ---- totals and the driver ---------------------------------------------------------- */

static int cmp_wchunk(const void *a, const void *b)
{
	const struct wchunk *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool tally(struct gm *g)
{
	struct pha_malloc *m = g->m;
	size_t nin = 0;
	for (size_t i = 0; i < g->nch; i++)
		nin += (g->ch[i].state & CH_INUSE) && !(g->ch[i].state & (CH_FAST | CH_TCACHE));
	m->chunks = malloc((nin ? nin : 1) * sizeof(*m->chunks));
	if (!m->chunks)
		return false;
	for (size_t i = 0; i < g->nch; i++) {
		const struct wchunk *c = &g->ch[i];
		bool used = (c->state & CH_INUSE) && !(c->state & (CH_FAST | CH_TCACHE));
		if (used)
			m->chunks[m->nchunks++] = (struct pha_malloc_chunk){c->addr + 16, c->size};
		if (c->state & CH_MMAPPED)
			continue;
		struct pha_malloc_arena *a = &m->arenas[c->arena];
		if (used) {
			a->in_use_bytes += c->size;
			m->in_use_chunks++;
		} else {
			a->free_bytes += c->size;
			m->free_chunks++;
			if (c->state & CH_TCACHE)
				m->tcache_bytes += c->size;
		}
	}
	for (size_t i = 0; i < m->narenas; i++) {
		m->in_use_bytes += m->arenas[i].in_use_bytes;
		m->free_bytes += m->arenas[i].free_bytes;
		m->top_bytes += m->arenas[i].top_bytes;
	}
	qsort(m->regions, m->nregions, sizeof(*m->regions), cmp_range);
	return true;
}

static bool walk_arenas(struct gm *g)
{
	uint64_t w[2200 / 8 + 1];
	for (uint32_t ai = 0; ai < g->m->narenas; ai++) {
		if (!read_state(g, g->lay, g->m->arenas[ai].addr, w))
			continue;
		if (ai == 0 ? !walk_main(g, w) : !walk_thread_arena(g, ai, w))
			if (g->oom)
				return false;
	}
	return !g->oom;
}

static void check_mp(struct gm *g, const struct pha_module *libc)
{
	struct pha_range r[8];
	size_t nr = libc_data(g->t, libc, r, 8);
	struct mp_info mp;
	if (!g->sbrk_base)
		return;
	find_mp(g, r, nr, g->sbrk_base, &mp);
	size_t len = strlen(g->m->how);
	if (!mp.found) {
		snprintf(g->m->how + len, sizeof(g->m->how) - len, "; mp_ not found");
		return;
	}
	/* Every mapping is a page multiple: a counter that is not cannot be
	 * their exact sum (sid's 2.43: 48 - 64 bytes over after reallocs), so
	 * only the part up to a page boundary is compared then. */
	uint64_t want = mp.mmapped_mem;
	if (want % PAGE && want - want % PAGE == g->m->mmapped_bytes)
		want = g->m->mmapped_bytes;
	if (want != g->m->mmapped_bytes ||
	    (mp.n_mmaps >= 0 && (uint64_t)mp.n_mmaps != g->m->mmapped_chunks)) {
		g->m->corrupt++;
		gm_warn(g, "mp_ counts %lld mmapped chunks of %llu bytes, the scan of the anonymous "
			   "memory found %llu of %llu bytes", (long long)mp.n_mmaps,
			(unsigned long long)mp.mmapped_mem, (unsigned long long)g->m->mmapped_chunks,
			(unsigned long long)g->m->mmapped_bytes);
	}
	snprintf(g->m->how + len, sizeof(g->m->how) - len, "; mp_ at 0x%llx%s",
		 (unsigned long long)mp.addr, want == g->m->mmapped_bytes ?
		 ", mmapped chunks agree" : "");
}

static struct pha_error *walk_glibc(struct gm *g, const struct pha_module *libc)
{
	uint64_t w[2200 / 8 + 1];
	if (!walk_arenas(g) || !scan_mmapped(g))
		return &pha_enomem;
	qsort(g->ch, g->nch, sizeof(*g->ch), cmp_wchunk);
	for (uint32_t ai = 0; ai < g->m->narenas && g->lay->nfast; ai++)
		if (read_state(g, g->lay, g->m->arenas[ai].addr, w))
			mark_fastbins(g, ai, w);
	mark_tcaches(g);
	if (!tally(g))
		return &pha_enomem;
	check_mp(g, libc);
	return NULL;
}

struct pha_error *pha_malloc_read(const struct pha_target *t, struct pha_malloc *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->allocator, sizeof(m->allocator), "unknown");
	if (other_allocator(t, m))
		return NULL;
	const struct pha_module *libc = find_libc(t);
	if (!libc) {
		snprintf(m->how, sizeof(m->how), "no libc.so.6 is mapped (a static or non-glibc "
			 "program): malloc is not walked");
		return NULL;
	}
	struct gm g = {.t = t, .mem = &t->mem, .m = m, .mangled = -1};
	struct pha_error *err = NULL;
	if (!find_main_arena(&g, libc)) {
		if (g.oom) {
			err = &pha_enomem;
			goto out;
		}
		snprintf(m->how, sizeof(m->how), "main_arena not found in libc.so.6's data (%s): no "
			 "malloc_state there has the shape of a known glibc layout",
			 libc->status == PHA_MODULE_OK ? "file found" : "file missing");
		goto out;
	}
	snprintf(m->allocator, sizeof(m->allocator), "glibc");
	m->walked = true;
	err = walk_glibc(&g, libc);
out:
	free(g.ch);
	if (err) {
		pha_malloc_deinit(m);
		return err;
	}
	if (!m->walked) {
		free(m->arenas);
		m->arenas = NULL;
		m->narenas = 0;
	}
	return NULL;
}

void pha_malloc_deinit(struct pha_malloc *m)
{
	free(m->arenas);
	free(m->regions);
	free(m->chunks);
	memset(m, 0, sizeof(*m));
}

size_t pha_malloc_find(const struct pha_malloc *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pha_malloc_chunk *c = &m->chunks[mid];
		if (addr < c->mem)
			hi = mid;
		else if (addr >= c->mem - 16 + c->size)
			lo = mid + 1;
		else
			return mid;
	}
	return SIZE_MAX;
}
