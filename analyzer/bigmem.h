/* The analysis's big arrays (heap model, edges, dominator scratch): in
 * ordinary memory, or with --low-memory in an unlinked temporary file in
 * $TMPDIR (default /tmp), mapped shared, so that the kernel can write them
 * out and drop them instead of failing when memory is short (issue 12).
 *
 * pha_big_free and pha_big_realloc accept any pointer of malloc too (a
 * heap read from a snapshot is freed by the same pha_heap_destroy).
 */
#ifndef PHA_BIGMEM_H
#define PHA_BIGMEM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* From now on, big arrays live in a temporary file (created at the first
 * one). */
struct pha_error *pha_bigmem_use_file(void);
void *pha_big_malloc(size_t size);
void *pha_big_calloc(size_t n, size_t size);
void *pha_big_realloc(void *p, size_t size);
void pha_big_free(void *p);
/* Unmap and close everything (end of the run). */
void pha_bigmem_shutdown(void);

/* Bytes of memory available now (MemAvailable of /proc/meminfo), 0 when
 * unknown. */
uint64_t pha_mem_available(void);

#endif
