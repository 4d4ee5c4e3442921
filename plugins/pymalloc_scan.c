/* pymalloc's file statics in a stripped 3.8 - 3.11 binary. */
#include "alloc.h"
#include "pymalloc_int.h"

#include "../analyzer/target.h"

#include <stdio.h>

struct pha_error *pymalloc_scan(const struct pha_target *t, struct pymalloc_state *s,
				char *how, size_t size)
{
	(void)t;
	s->arenas = 0;
	s->maxarenas = 0;
	snprintf(how, size, "no .symtab and the data scan is not written yet");
	return NULL;
}
