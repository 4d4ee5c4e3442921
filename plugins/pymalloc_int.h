/* Private to plugins/pymalloc.c and plugins/pymalloc_scan.c. */
#ifndef PHA_PYMALLOC_INT_H
#define PHA_PYMALLOC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"

struct pha_target;

/* Where pymalloc's arena table is. */
struct pymalloc_state {
	uint64_t arenas;	/* value of `arenas`: the arena_object array */
	uint64_t maxarenas;	/* its slots */
	uint64_t narenas;	/* narenas_currently_allocated, UINT64_MAX if unknown */
	uint32_t pool_size, arena_size;
};

/* Whether an arena_object slot whose address is not 0 describes a possible
 * arena (alignment, pool counts, pool_address inside it). */
bool pymalloc_arena_ok(const uint8_t *ao, uint32_t pool_size, uint32_t arena_size);

/* 3.8 - 3.11 without .symtab: find `arenas`, `maxarenas` and
 * `narenas_currently_allocated` in the writable data of the interpreter's
 * module by their shape (pymalloc_scan.c). Fills s (arenas 0 when not
 * found) and how (how it was found, or why not). Only out-of-memory is an
 * error. */
struct pha_error *pymalloc_scan(const struct pha_target *t, struct pymalloc_state *s,
				char *how, size_t size);

#endif
