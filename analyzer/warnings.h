/* Warnings of a run: one line per kind of degradation, however often it
 * happens.
 *
 * A kind is the format string of the warning. A corrupted core can make the
 * same problem appear once per object (160,000 broken GC back links, one
 * unreadable field per object): reporting each one, and comparing each new
 * line with all earlier ones, made runs quadratic and summaries of 100,000
 * lines. Here the first line of a kind is kept as it is, the next distinct
 * ones are counted, and a few of them are kept as examples:
 *
 *   GC generation 0 list: ... at 0x1000 (3 times in all; also: ... 0x2000; ... 0x3000)
 *
 * The same line added twice counts once, as before. Adding is O(kinds).
 */
#ifndef PHA_WARNINGS_H
#define PHA_WARNINGS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHA_WARNING_EXAMPLES 3

struct pha_warning_kind {
	char *fmt;
	size_t line;			/* index into the lines vector */
	uint64_t count;			/* distinct messages of this kind */
	char *examples[PHA_WARNING_EXAMPLES];
	size_t nexamples;
};

struct pha_warnings {
	struct pha_warning_kind *kinds;
	size_t nkinds, cap;
};

/* Add a warning of kind fmt to the vector (*lines, *nlines), which holds
 * one line per kind (other lines in it are left alone). verbose: print new
 * examples on stderr. Out of memory loses the warning, never the run. */
void pha_warnings_vadd(struct pha_warnings *w, char ***lines, size_t *nlines, bool verbose,
		       const char *fmt, va_list ap);
void pha_warnings_deinit(struct pha_warnings *w);
/* While on, this thread's warnings are dropped (report.c: waste reads the
 * core after the source took the core's warnings, as it always did). */
void pha_warnings_mute_thread(bool on);

#endif
