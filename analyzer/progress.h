/* Progress lines on stderr, only when stderr is a terminal and not -q. */
#ifndef PHA_PROGRESS_H
#define PHA_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

void pha_progress_enable(bool on);
/* Show "phase: done/total" (total 0: unknown), rate-limited. */
void pha_progress(const char *phase, uint64_t done, uint64_t total);
/* Clear the progress line. */
void pha_progress_done(void);
/* This thread shows no progress (a helper thread beside the one that does). */
void pha_progress_thread_quiet(void);

#endif
