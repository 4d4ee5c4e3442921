/* Debugging dumps (TSV), written next to the report on request:
 * --dump-objects (the heap model, one line per object) and --dump-why (what
 * the layout says about roots, frame locals and their references, read
 * straight from the core for the layout's tests). */
#ifndef PHA_DUMP_H
#define PHA_DUMP_H

#include <stdint.h>

#include "error.h"
#include "heap.h"
#include "target.h"

/* address, type, size, refcnt, flags, unreachable (unreachable[v]: 0 or 1,
 * per object id, as in struct pha_report). */
struct pha_error *pha_dump_objects(const char *path, const struct pha_heap *h,
				   const uint8_t *unreachable);

/* Cores only; PHA_ERR_INPUT if the layout lacks labelled roots, edge labels
 * or previews. */
struct pha_error *pha_dump_why(const char *path, const struct pha_target *t, bool redact);

#endif
