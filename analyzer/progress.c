#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static bool enabled;
static _Thread_local bool quiet;	/* a helper thread's (report.c) */
static bool shown;
static struct timespec last;

void pha_progress_enable(bool on)
{
	enabled = on && isatty(STDERR_FILENO);
}

void pha_progress_thread_quiet(void)
{
	quiet = true;
}

void pha_progress(const char *phase, uint64_t done, uint64_t total)
{
	if (!enabled || quiet)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
	if (shown && ms < 200)
		return;
	last = now;
	shown = true;
	if (total)
		fprintf(stderr, "\r\033[K%s: %llu/%llu (%.0f%%)", phase, (unsigned long long)done,
			(unsigned long long)total, 100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r\033[K%s: %llu", phase, (unsigned long long)done);
	fflush(stderr);
}

void pha_progress_done(void)
{
	if (enabled && !quiet && shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	shown = false;
}
