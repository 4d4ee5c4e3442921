/* pymalloc (obmalloc): arenas, pools and blocks per size class. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pha_error *pha_pymalloc_read(const struct pha_target *t, struct pha_pymalloc *pm)
{
	(void)t;
	memset(pm, 0, sizeof(*pm));
	snprintf(pm->how, sizeof(pm->how), "pymalloc is not walked yet");
	return NULL;
}

void pha_pymalloc_deinit(struct pha_pymalloc *pm)
{
	free(pm->arenas);
	memset(pm, 0, sizeof(*pm));
}

bool pha_pymalloc_block(const struct pha_pymalloc *pm, const struct pha_memory *mem,
			uint64_t addr, uint64_t *block_ret, uint32_t *size_ret)
{
	(void)pm, (void)mem, (void)addr, (void)block_ret, (void)size_ret;
	return false;
}
