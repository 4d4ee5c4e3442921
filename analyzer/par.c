/* Second threads: whether they may be used (par.h). */
#include "par.h"

#include <stdlib.h>
#include <string.h>

bool pha_par_allowed(void)
{
	const char *e = getenv("PYHEAP_ANALYZE_THREADS");
	return !(e && !strcmp(e, "1"));
}
