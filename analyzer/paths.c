/* Text of the report model for sentences: a labelled path joined into one
 * line, sizes and counts for people. Shared by why.c (the suspects'
 * sentences), growth.c (growth candidates are matched by their path's
 * text) and diff.c (the verdict). */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char PATH_SEP[] = " → ";
static const char PATH_ELIDED[] = "…";

char *pha_path_text(const struct pha_path *p)
{
	/* Worst case: a separator before every label, plus the ellipsis. The
	 * separator is 5 bytes in UTF-8 (the arrow is 3): counting it with
	 * sizeof keeps the two in step. */
	size_t len = sizeof(PATH_ELIDED);
	for (size_t i = 0; i < p->n; i++)
		len += strlen(p->elems[i].label) + sizeof(PATH_SEP) - 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->elided && i == PHA_PATH_MAX_ELEMS / 2) {
			memcpy(s + o, PATH_ELIDED, sizeof(PATH_ELIDED) - 1);
			o += sizeof(PATH_ELIDED) - 1;
		}
		const char *l = p->elems[i].label;
		if (i && l[0] != '.' && l[0] != '[') {
			memcpy(s + o, PATH_SEP, sizeof(PATH_SEP) - 1);
			o += sizeof(PATH_SEP) - 1;
		}
		size_t ll = strlen(l);
		memcpy(s + o, l, ll);
		o += ll;
	}
	s[o] = 0;
	return s;
}

void pha_path_free(struct pha_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->elems[i].label);
	free(p->elems);
	memset(p, 0, sizeof(*p));
}

void pha_size_text(uint64_t b, char *buf, size_t size)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, size, "%" PRIu64 " B", b);
	else
		snprintf(buf, size, "%.1f %s", v, u[i]);
}

void pha_count_text(uint64_t v, char *buf, size_t size)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	size_t len = strlen(tmp), o = 0;
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
}
