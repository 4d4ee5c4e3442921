#include "warnings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pha_warning_kind *find_kind(struct pha_warnings *w, const char *fmt)
{
	for (size_t i = 0; i < w->nkinds; i++) {
		if (!strcmp(w->kinds[i].fmt, fmt))
			return &w->kinds[i];
	}
	return NULL;
}

/* The line of a kind: its first message, then the count and the other
 * examples. */
static char *kind_line(const struct pha_warning_kind *k)
{
	char *s;
	if (k->count == 1)
		return strdup(k->examples[0]);
	if (k->nexamples == 2) {
		if (asprintf(&s, "%s (%llu times in all; also: %s)", k->examples[0],
			     (unsigned long long)k->count, k->examples[1]) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%s (%llu times in all; also: %s; %s)", k->examples[0],
		     (unsigned long long)k->count, k->examples[1], k->examples[2]) < 0)
		return NULL;
	return s;
}

static struct pha_warning_kind *new_kind(struct pha_warnings *w, char ***lines, size_t *nlines,
					 const char *fmt, char *msg)
{
	if (w->nkinds == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct pha_warning_kind *k = realloc(w->kinds, cap * sizeof(*k));
		if (!k)
			return NULL;
		w->kinds = k;
		w->cap = cap;
	}
	char **nl = realloc(*lines, (*nlines + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	*lines = nl;
	char *line = strdup(msg);
	char *f = strdup(fmt);
	if (!line || !f) {
		free(line);
		free(f);
		return NULL;
	}
	struct pha_warning_kind *k = &w->kinds[w->nkinds++];
	*k = (struct pha_warning_kind){.fmt = f, .line = *nlines, .count = 1, .nexamples = 1};
	k->examples[0] = msg;
	nl[(*nlines)++] = line;
	return k;
}

static _Thread_local bool muted;

void pha_warnings_mute_thread(bool on)
{
	muted = on;
}

void pha_warnings_vadd(struct pha_warnings *w, char ***lines, size_t *nlines, bool verbose,
		       const char *fmt, va_list ap)
{
	if (muted)
		return;
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	struct pha_warning_kind *k = find_kind(w, fmt);
	if (!k) {
		if (!new_kind(w, lines, nlines, fmt, msg)) {
			free(msg);
			return;
		}
		if (verbose)
			fprintf(stderr, "pyheap-analyze: warning: %s\n", msg);
		return;
	}
	/* The same degradation reported twice is one warning. */
	for (size_t i = 0; i < k->nexamples; i++) {
		if (!strcmp(k->examples[i], msg)) {
			free(msg);
			return;
		}
	}
	k->count++;
	/* Past the examples only the count changes; rewriting the line is
	 * linear in its length, not in the number of warnings. */
	if (k->nexamples == PHA_WARNING_EXAMPLES) {
		free(msg);
	} else {
		k->examples[k->nexamples++] = msg;
		if (verbose)
			fprintf(stderr, "pyheap-analyze: warning: %s\n", msg);
	}
	char *line = kind_line(k);
	if (line) {
		free((*lines)[k->line]);
		(*lines)[k->line] = line;
	}
}

void pha_warnings_deinit(struct pha_warnings *w)
{
	for (size_t i = 0; i < w->nkinds; i++) {
		free(w->kinds[i].fmt);
		for (size_t j = 0; j < w->kinds[i].nexamples; j++)
			free(w->kinds[i].examples[j]);
	}
	free(w->kinds);
	memset(w, 0, sizeof(*w));
}
