/* Second threads (issue 12: wall time on two cores): the report build's
 * (report.c: waste and the memory section beside graph-only phases).
 * The output is the same as on one thread. */
#ifndef PHA_PAR_H
#define PHA_PAR_H

#include <stdbool.h>

/* False when PYHEAP_ANALYZE_THREADS=1 is in the environment: everything
 * on the calling thread (comparisons, machines with one core to spare). */
bool pha_par_allowed(void);

#endif
