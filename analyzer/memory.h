/* The dumped process's address space: a sorted array of non-overlapping
 * segments behind one read function.
 *
 * A segment is backed by bytes of the core file (mmapped), by bytes of an
 * ELF file on disk (for what the core left out: p_filesz < p_memsz, or
 * file-backed pages the kernel filtered such as .rodata), or by nothing.
 * Memory the core does not hold is a fault carrying its address, never
 * zeros: a zero would be silently taken for a NULL pointer or an empty
 * container, and the analysis would be wrong without saying so.
 */
#ifndef PHA_MEMORY_H
#define PHA_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum pha_segment_source {
	PHA_SEG_CORE = 1,	/* bytes of the core file */
	PHA_SEG_FILE,		/* bytes of a mapped ELF file on disk */
	PHA_SEG_MISSING,	/* known to exist in the process, bytes unavailable */
};

struct pha_segment {
	uint64_t start;
	uint64_t end;			/* exclusive */
	const uint8_t *data;		/* NULL for PHA_SEG_MISSING */
	enum pha_segment_source source;
	uint32_t prot;			/* PF_R/PF_W/PF_X of the core's PT_LOAD */
};

struct pha_memory {
	struct pha_segment *segs;	/* sorted by start once pha_memory_finish ran */
	size_t nsegs;
	size_t cap;
	uint64_t missing_bytes;		/* total size of PHA_SEG_MISSING segments */
	/* The segments of the last two lookups, tried first (reads cluster:
	 * a walk of the heap alternates between the heap and the static
	 * types of the interpreter's data). A cache only: no function's
	 * result depends on it. Not for concurrent readers. */
	size_t hint[2];
};

void pha_memory_init(struct pha_memory *mem);
void pha_memory_deinit(struct pha_memory *mem);

/* Add [start, start+size). Segments added later must not overlap earlier
 * ones; use pha_memory_fill to put file bytes into a MISSING hole. */
struct pha_error *pha_memory_add(struct pha_memory *mem, uint64_t start, uint64_t size,
				 const void *data, enum pha_segment_source source,
				 uint32_t prot);
/* Sort segments and check that none overlap. */
struct pha_error *pha_memory_finish(struct pha_memory *mem);
/* Replace the part of MISSING segments inside [start, start+size) with
 * bytes from data (which describes exactly [start, start+size)); splits
 * segments as needed. Returns the number of bytes filled in *filled_ret.
 * Costs a pass over the whole table: for many ranges use
 * pha_memory_fill_many. */
struct pha_error *pha_memory_fill(struct pha_memory *mem, uint64_t start, uint64_t size,
				  const void *data, uint64_t *filled_ret);

struct pha_fill {
	uint64_t start, size;
	const void *data;	/* bytes for [start, start+size) */
};
/* pha_memory_fill for n ranges at once, in O((segments + n) log n): one
 * sort of the ranges and one sweep over the table (never a sort per
 * range). Where ranges overlap, the one with the lower start (then the
 * earlier in fills) provides the bytes. mem stays sorted. */
struct pha_error *pha_memory_fill_many(struct pha_memory *mem, const struct pha_fill *fills,
				       size_t n, uint64_t *filled_ret);

/* Copy len bytes at addr into buf. Returns false on a fault (any byte not
 * available); *fault_ret (if non-NULL) gets the first unreadable address. */
bool pha_memory_read(const struct pha_memory *mem, uint64_t addr, void *buf, size_t len,
		     uint64_t *fault_ret);
/* Pointer to len contiguous readable bytes at addr inside one segment, or
 * NULL (not readable, or crosses a segment boundary). Zero-copy fast path.
 * The pointer is congruent to addr modulo 8, so an 8-aligned addr gives
 * an 8-aligned pointer: a segment whose bytes sit at an odd place of their
 * file (a damaged p_offset, gdb's NT_FILE page size 1) is never handed out
 * this way and must be read with pha_memory_read. Callers must still not
 * load a uint64_t through the pointer of a misaligned addr. */
const void *pha_memory_ptr(const struct pha_memory *mem, uint64_t addr, size_t len);
/* Bytes readable from addr on, across adjacent segments, up to the first
 * gap; 0 if addr is not readable. */
uint64_t pha_memory_extent(const struct pha_memory *mem, uint64_t addr);
/* Total readable bytes (segments that are not MISSING). */
uint64_t pha_memory_readable_bytes(const struct pha_memory *mem);
/* Index of the first segment (sorted) that ends after addr: the one
 * containing addr, or the next one; nsegs if none. */
size_t pha_memory_first_after(const struct pha_memory *mem, uint64_t addr);
/* Segment containing addr, or NULL. */
const struct pha_segment *pha_memory_find(const struct pha_memory *mem, uint64_t addr);

static inline bool pha_memory_read_u64(const struct pha_memory *mem, uint64_t addr, uint64_t *v)
{
	return pha_memory_read(mem, addr, v, 8, NULL);
}

#endif
