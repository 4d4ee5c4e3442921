/* Heap snapshots (formats/SNAPSHOT.md): a stream of msgpack values holding
 * the reconstructed heap graph, plain or zstd-compressed.
 *
 * The reader ends at the same heap model as the core path (analyzer/heap.h)
 * plus a source (analyzer/source.h), so the report is built the same way.
 * The writer stores a heap and its source so that reading it back gives
 * the same heap: objects and edges in id order, edge and object flags
 * bit for bit.
 */
#ifndef PHA_SNAPSHOT_H
#define PHA_SNAPSHOT_H

#include <stdbool.h>

#include "../analyzer/error.h"
#include "../analyzer/heap.h"
#include "../analyzer/source.h"

#define PHA_SNAPSHOT_FORMAT "pyheap-snapshot"
/* Written: 2 (adds the allocations record and each object's allocation
 * traceback). Read: 1 and 2. */
#define PHA_SNAPSHOT_VERSION 2

/* True if path ends in .msgpack or .msgpack.zst, or if the file (plain or
 * zstd) starts like a snapshot header. False for anything else, including
 * unreadable files (the core reader then explains). */
bool pha_snapshot_sniff(const char *path);

/* Read a snapshot. src must be initialized (pha_source_init); on success it
 * holds the header, threads, roots and warnings and owns the type names the
 * heap points to. Malformed input is PHA_ERR_INPUT "PATH: ... at byte
 * offset N" (offsets count in the decompressed stream). */
struct pha_error *pha_snapshot_read(const char *path, struct pha_source *src,
				    struct pha_heap **heap_ret);

struct pha_snapshot_write_options {
	bool compress;		/* zstd */
	bool redact;		/* no argv (command lines carry secrets), no previews */
	const char *written_by;	/* e.g. "pyheap-analyze 0.1.0" */
};

struct pha_error *pha_snapshot_write(const char *path, const struct pha_source *src,
				     const struct pha_heap *h,
				     const struct pha_snapshot_write_options *opts);

#endif
