/* glibc malloc: arenas, heaps, chunks; other allocators detected. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pha_error *pha_malloc_read(const struct pha_target *t, struct pha_malloc *m)
{
	(void)t;
	memset(m, 0, sizeof(*m));
	snprintf(m->allocator, sizeof(m->allocator), "unknown");
	snprintf(m->how, sizeof(m->how), "malloc is not walked yet");
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
