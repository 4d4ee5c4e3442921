/* Where memory was allocated: tracemalloc's traces as the report shows
 * them (the `allocations` section, per-object allocation sites).
 *
 * Filled from a core (pha_allocs_from_target: the layout's tm_* operations)
 * or by the snapshot reader (formats/snapshot_allocs.c); part of struct
 * pha_source, which owns it.
 */
#ifndef PHA_ALLOCATIONS_H
#define PHA_ALLOCATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PHA_NO_TB UINT32_MAX
/* Rows kept (and written) of statistics('lineno') and ('traceback'). */
#define PHA_ALLOC_BY_LINE_MAX 50
#define PHA_ALLOC_BY_TB_MAX 20

struct pha_alloc_frame {
	uint32_t file;		/* index into files[] */
	uint32_t line;
};

/* One row of by_line (file, line) or by_traceback (tb). */
struct pha_alloc_stat {
	uint32_t file, line;	/* by_line */
	uint32_t tb;		/* by_traceback */
	uint64_t bytes, count;
};

struct pha_allocs {
	bool tracing;		/* tracemalloc was tracing */
	bool traces;		/* and its traces were read: the keys below mean something */
	const char *reason;	/* tracing, but why the traces are not available: static,
				   or own_reason */
	char *own_reason;	/* a snapshot's reason (owned) */
	uint32_t max_frames;
	uint64_t traced_bytes, peak_bytes, ntraces;
	char **files;		/* sorted bytewise, distinct */
	uint32_t nfiles;
	/* Traceback t: frames[tb_first[t] .. tb_first[t + 1]), most recent first. */
	uint32_t *tb_first;
	struct pha_alloc_frame *frames;
	uint32_t ntb;
	struct pha_alloc_stat *by_line, *by_tb;	/* tracemalloc's order, top rows */
	size_t nby_line, nby_tb;
	/* Per object id of the heap: its traceback (PHA_NO_TB: none); NULL
	 * when no object has one. */
	uint32_t *obj_tb;
	uint32_t nobj;
};

/* The commonest allocation site (first frame) among some objects. */
struct pha_alloc_site {
	const char *file;	/* NULL: none known; borrowed from the allocs */
	uint32_t line;
	uint64_t objects;	/* how many of them were allocated there */
};

void pha_allocs_deinit(struct pha_allocs *a);

struct pha_source;
struct pha_heap;
/* tracemalloc's state and traces of a core, through the layout. */
struct pha_error *pha_allocs_from_target(struct pha_source *s, const struct pha_heap *h);

/* Sort and cut the statistics rows as tracemalloc does (bytes desc, count
 * desc, then the traceback desc); the snapshot reader uses it too. */
void pha_allocs_sort_stats(struct pha_allocs *a);

/* The commonest first frame among the objects ids[0..n) (ties: the
 * smallest file name, then line); file NULL when none has a site.
 * scratch: room for n uint64_t. */
struct pha_alloc_site pha_allocs_commonest(const struct pha_allocs *a, const uint32_t *ids,
					   size_t n, uint64_t *scratch);

/* Per report type (group_of: heap type -> report type, ngroups of them):
 * the commonest first frame of its objects, into sites[ngroups]. */
struct pha_error *pha_allocs_type_sites(const struct pha_allocs *a, const struct pha_heap *h,
					const uint32_t *group_of, size_t ngroups,
					struct pha_alloc_site *sites);

#endif
