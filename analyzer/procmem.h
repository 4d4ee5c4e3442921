/* Where the process's memory went (report/3 `memory`): every byte of the
 * core's mappings in one category, the allocators' own accounts
 * (plugins/alloc.h) and the attribution of their chunks and blocks to the
 * heap's objects. Cores only; a snapshot has no memory section.
 *
 * Steps (procmem.c):
 *   1. mappings: each PT_LOAD is file-backed (NT_FILE: the executable and
 *      libraries, or other files), a thread stack (holds a thread's stack
 *      pointer), reserved (no access), or anonymous; what the core lacks of
 *      an anonymous mapping is `not_in_core`;
 *   2. allocators: pymalloc's arenas and glibc malloc's heaps and mmapped
 *      chunks inside the anonymous memory; the rest of it is other
 *      anonymous memory, its all-zero pages counted apart (never touched);
 *   3. attribution: each object's own block and the buffers it owns (the
 *      layout's owned_blocks), then a bounded conservative walk from the
 *      objects the layout cannot see into: in-use malloc chunks whose start
 *      their memory holds, transitively (marked inferred).
 * The categories sum exactly to total_bytes.
 */
#ifndef PHA_PROCMEM_H
#define PHA_PROCMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "../plugins/alloc.h"
#include "error.h"

struct pha_target;
struct pha_heap;

enum pha_memcat {
	PHA_MEM_PYTHON_OBJECTS,		/* blocks holding Python objects */
	PHA_MEM_PYTHON_BUFFERS,		/* buffers of the interpreter's types (list items, dict keys…) */
	PHA_MEM_NATIVE_BUFFERS,		/* extension buffers known by layout (numpy data) */
	PHA_MEM_NATIVE_INFERRED,	/* chunks reached from opaque objects by the conservative walk */
	PHA_MEM_PYMALLOC_UNATTRIBUTED,	/* allocated pymalloc blocks no object claims */
	PHA_MEM_PYMALLOC_FREE,		/* free blocks, empty pools, headers, alignment */
	PHA_MEM_MALLOC_UNATTRIBUTED,	/* in-use malloc chunks no object claims */
	PHA_MEM_MALLOC_FREE,		/* free chunks, thread caches, top, heap headers */
	PHA_MEM_STACKS,			/* mappings holding a thread's stack pointer */
	PHA_MEM_IMAGES,			/* the executable and libraries (with their .bss) */
	PHA_MEM_FILES,			/* other file mappings */
	PHA_MEM_ANON_OTHER,		/* other anonymous memory (touched) */
	PHA_MEM_ANON_ZERO,		/* other anonymous and stack pages that are all zero */
	PHA_MEM_RESERVED,		/* mappings without access (guard pages, reserves) */
	PHA_MEM_NOT_IN_CORE,		/* anonymous memory the core does not hold */
	/* What other_anonymous would be when the C allocator was not walked
	 * (jemalloc, tcmalloc, a glibc whose arena was not found): its heap
	 * is in there, named by memory.malloc.allocator. */
	PHA_MEM_UNWALKED_ALLOCATOR,
	PHA_MEM_COUNT
};

/* The report's name of a category ("python_objects"). */
const char *pha_memcat_name(enum pha_memcat c);

struct pha_native_type {
	const char *type;		/* report name (borrowed from the heap) */
	uint64_t objects;		/* objects of the type that own native memory */
	uint64_t bytes;			/* native_buffers + native_inferred they own */
	uint64_t inferred_bytes;	/* the native_inferred part */
};

struct pha_procmem {
	bool available;
	char reason[160];		/* when !available */
	uint64_t total_bytes;
	uint64_t cat[PHA_MEM_COUNT];
	uint64_t mappings, file_mappings, anonymous_mappings, stack_mappings;
	struct pha_pymalloc pymalloc;
	struct pha_malloc malloc;
	uint64_t attributed_bytes;	/* python objects + buffers + native */
	uint64_t unattributed_bytes;	/* unclaimed allocator memory + other anonymous */
	struct pha_native_type *native_by_type;	/* bytes desc, then name */
	size_t nnative_types;
	uint64_t native_objects;	/* objects owning native memory */
	/* The largest in-use malloc chunks no object claims, size desc. */
	struct pha_malloc_chunk largest_unattributed[10];
	size_t nlargest;
	/* Per object, the native bytes (native_buffers + native_inferred)
	 * that its sys.getsizeof does not count (numpy's counts its data),
	 * sparse: ids ascending (heap ids), for retained_native and the
	 * suspects' native_bytes. */
	uint32_t *native_ids;
	uint64_t *native_bytes;
	size_t nnative;
};

/* Build the memory section of a core. Warnings go to the target. */
struct pha_error *pha_procmem_build(struct pha_target *t, const struct pha_heap *h,
				    struct pha_procmem **pm_ret);
void pha_procmem_destroy(struct pha_procmem *pm);
/* Native bytes an object owns beyond its sys.getsizeof (0 when none). */
uint64_t pha_procmem_native_of(const struct pha_procmem *pm, uint32_t id);

#endif
