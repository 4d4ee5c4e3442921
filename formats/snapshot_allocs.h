/* The `allocations` record of a heap snapshot (formats/SNAPSHOT.md,
 * version 2): tracemalloc's totals and statistics and the tracebacks that
 * objects' field 9 (their allocation site) index. Private to the snapshot
 * reader and writer.
 */
#ifndef PHA_SNAPSHOT_ALLOCS_H
#define PHA_SNAPSHOT_ALLOCS_H

#include <msgpack.h>
#include <stdint.h>

#include "../analyzer/allocations.h"
#include "mpcursor.h"

/* ---- writing ---- */

/* The tracebacks a snapshot keeps (those an object or a by_traceback row
 * uses), numbered in order: *map_ret[t] is traceback t's index in the
 * record, PHA_NO_TB when left out. *map_ret is NULL when there are none. */
struct pha_error *pha_snap_allocs_map(const struct pha_allocs *a, uint32_t **map_ret,
				      uint32_t *nused_ret);

/* The record, with the tracebacks map keeps. */
/* A str, or nil for NULL (the snapshot writers' strings). */
void pha_mp_put_str(msgpack_packer *pk, const char *s);
void pha_snap_allocs_write(msgpack_packer *pk, const struct pha_allocs *a, const uint32_t *map,
			   uint32_t nused);

/* ---- reading ---- */

struct pha_snap_allocs {
	struct pha_allocs *a;	/* the source's: filled as the record is read */
	size_t at;		/* the record's byte offset (for errors found at the end) */
	bool seen;
	size_t files_cap, frames_cap, tb_cap, line_cap, row_cap;
};

/* One key of an allocations record, its value at the cursor. */
bool pha_snap_allocs_key(struct pha_mp *mp, struct pha_snap_allocs *sa, const char *k,
			 uint32_t kl);

/* After the last record: indexes checked, file names sorted and made
 * distinct (the order the statistics sort by), rows sorted as tracemalloc
 * sorts them. False with mp's error for an index out of range. */
bool pha_snap_allocs_finish(struct pha_mp *mp, struct pha_snap_allocs *sa);

#endif
