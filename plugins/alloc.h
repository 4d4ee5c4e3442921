/* Allocator knowledge: what the dumped process's allocators hold, found
 * from its memory and mapped binaries alone (DESIGN "Round 2").
 *
 *   plugins/pymalloc.c      CPython's small-object allocator: arenas,
 *                           pools, blocks per size class
 *   plugins/glibc_malloc.c  glibc malloc: main_arena and the thread
 *                           arenas, their chunks, mmapped chunks; other
 *                           allocators detected and named
 *
 * Like the layout plugins they answer questions about addresses; they never
 * see the heap model. analyzer/procmem.c turns their answers and the core's
 * mappings into the report's `memory` section and attributes chunks and
 * blocks to objects.
 *
 * Every walk is bounded by what the memory can hold; an inconsistency stops
 * that walk, is counted (`corrupt`) and warned through svc->warn, never a
 * crash or a hang.
 */
#ifndef PHA_ALLOC_H
#define PHA_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"
#include "../analyzer/memory.h"
#include "../formats/elffile.h"

struct pha_target;

/* ---- pymalloc ---------------------------------------------------------- */

#define PHA_PYMALLOC_MAX_CLASSES 64

struct pha_pymalloc_class {
	uint32_t block_size;	/* bytes */
	uint64_t pools;		/* pools of this class in use (ref.count > 0) */
	uint64_t used_blocks;	/* blocks handed out */
	uint64_t free_blocks;	/* in those pools: freed or never carved */
};

struct pha_pymalloc {
	bool found;
	/* How the state was found ("symbols", "interpreter state",
	 * "obmalloc_state pointer", "scan") or, when !found, why not. */
	char how[160];
	uint32_t pool_size, arena_size;	/* 4 KiB/256 KiB before 3.10, 16 KiB/1 MiB after */
	uint32_t nclasses;
	uint64_t narenas;		/* arenas currently allocated */
	/* The four parts of narenas * arena_size, as sys._debugmallocstats()
	 * counts them:
	 *   allocated_bytes  Σ used_blocks × block_size ("bytes in allocated blocks")
	 *   free_bytes       Σ free_blocks × block_size ("bytes in available blocks")
	 *                    + empty pools and pools never carved ("unused pools")
	 *   overhead_bytes   pool headers, quantization, arena alignment
	 * allocated_bytes + free_bytes + overhead_bytes == narenas * arena_size. */
	uint64_t allocated_bytes, free_bytes, overhead_bytes;
	uint64_t available_block_bytes;	/* the blocks part of free_bytes */
	uint64_t empty_pools;		/* pools with no block in use (incl. not carved) */
	struct pha_pymalloc_class classes[PHA_PYMALLOC_MAX_CLASSES];
	/* Arena base addresses (arena_object.address), sorted: arena i covers
	 * [arenas[i], arenas[i] + arena_size). */
	uint64_t *arenas;
	size_t narena_addrs;
	uint64_t corrupt;		/* arenas/pools skipped as inconsistent */
	/* The arena_object array (the value of `arenas`) and its slots
	 * (`maxarenas`), as found. */
	uint64_t arena_table, arena_slots;
};

/* Find and walk pymalloc's state. Not finding it is not an error: found is
 * false and how says why (free-threaded build, PYTHONMALLOC=malloc, a
 * stripped 3.8-3.11 binary without a validated match, …). Only
 * out-of-memory is an error. */
struct pha_error *pha_pymalloc_read(const struct pha_target *t, struct pha_pymalloc *pm);
void pha_pymalloc_deinit(struct pha_pymalloc *pm);
/* Whether addr lies in one of the arenas; if so the block that contains it
 * (start and size; 0 when addr is in a pool header or an empty pool). */
bool pha_pymalloc_block(const struct pha_pymalloc *pm, const struct pha_memory *mem,
			uint64_t addr, uint64_t *block_ret, uint32_t *size_ret);
/* The pool of the last pha_pymalloc_block_cached answer: addresses asked
 * in address order mostly fall into it, and are answered without reading
 * the core again. Zero-initialise before the first call. */
struct pha_pymalloc_pool {
	uint64_t pool;		/* 0: nothing cached */
	uint64_t first, end;	/* blocks handed out: [first, end) */
	uint32_t size;		/* block size; 0: the pool holds no block */
};
/* Pools looked at, direct-mapped by pool number (zeroed: empty). */
struct pha_pymalloc_cache {
	struct pha_pymalloc_pool e[64];
};
bool pha_pymalloc_block_cached(const struct pha_pymalloc *pm, const struct pha_memory *mem,
			       struct pha_pymalloc_cache *cache, uint64_t addr,
			       uint64_t *block_ret, uint32_t *size_ret);

/* ---- the C allocator (glibc malloc) -------------------------------------- */

struct pha_malloc_chunk {
	uint64_t mem;		/* the pointer malloc returned (chunk + 16) */
	uint64_t size;		/* chunk size, header included */
};

struct pha_malloc_arena {
	uint64_t addr;		/* struct malloc_state */
	bool main;		/* main_arena (brk heap) */
	uint64_t system_mem;	/* as the arena records it */
	uint64_t in_use_bytes, free_bytes, top_bytes;
	uint64_t heaps;		/* heap_info segments (thread arenas); 1 for main */
};

struct pha_malloc {
	/* "glibc" when walked; else the allocator detected ("jemalloc",
	 * "tcmalloc", "mimalloc") or "unknown". */
	char allocator[32];
	bool walked;
	/* How main_arena was found ("symbol main_arena", "by shape in
	 * libc.so.6's data") or, when !walked, why not. */
	char how[160];
	/* Chunks of the arenas, as mallinfo2() counts them:
	 *   in_use_bytes   in-use chunks, tcache entries excluded
	 *   tcache_bytes   free chunks parked in the thread caches (they look
	 *                  in use; mallinfo2's uordblks counts them as used)
	 *   free_bytes     free chunks in bins and fastbins (fordblks - top) plus
	 *                  tcache_bytes
	 *   top_bytes      the top chunks
	 *   mmapped_bytes  mmapped chunks (hblkhd)
	 *   overhead_bytes heap_info and malloc_state headers, alignment gaps
	 * uordblks + hblkhd == in_use_bytes + tcache_bytes + mmapped_bytes. */
	uint64_t in_use_bytes, tcache_bytes, free_bytes, top_bytes, mmapped_bytes;
	uint64_t overhead_bytes;
	uint64_t in_use_chunks, free_chunks, mmapped_chunks;
	struct pha_malloc_arena *arenas;	/* main first, then the `next` order */
	size_t narenas;
	/* The address ranges the walk accounted for (the brk heap up to the end
	 * of its top chunk, each thread heap, each mmapped chunk), sorted and
	 * disjoint: their bytes are in_use + free + top + mmapped + overhead
	 * (free_bytes includes tcache_bytes). */
	struct pha_range *regions;
	size_t nregions;
	/* In-use chunks (mmapped ones included, tcache entries not), sorted by
	 * address. */
	struct pha_malloc_chunk *chunks;
	size_t nchunks;
	uint64_t corrupt;		/* chunks/lists found inconsistent */
};

/* Find the C allocator and walk it. Not finding it is not an error (walked
 * false, how says why); only out-of-memory is. */
struct pha_error *pha_malloc_read(const struct pha_target *t, struct pha_malloc *m);
void pha_malloc_deinit(struct pha_malloc *m);
/* Index of the in-use chunk whose memory [mem, chunk end) contains addr, or
 * SIZE_MAX. O(log n). */
size_t pha_malloc_find(const struct pha_malloc *m, uint64_t addr);

#endif
