/* Warnings aggregate by kind (analyzer/warnings.c): 160,000 warnings of
 * one kind are one line with a count and examples, added in linear time;
 * the same line twice counts once; other lines of the vector are kept. */
#include "../../analyzer/warnings.h"
#include "check.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static void add(struct pha_warnings *w, char ***lines, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct pha_warnings *w, char ***lines, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pha_warnings_vadd(w, lines, n, false, fmt, ap);
	va_end(ap);
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void test_many(void)
{
	CASE_BEGIN("warnings/many-one-line");
	struct pha_warnings w = {0};
	char **lines = NULL;
	size_t n = 0;
	clock_t t0 = clock();
	for (unsigned i = 0; i < 160000; i++)
		add(&w, &lines, &n, "back link of 0x%x is broken", i);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(n == 1);
	CHECKF(n == 1 && strstr(lines[0], "back link of 0x0 is broken (160000 times in all; "
					  "also: back link of 0x1 is broken; back link of 0x2 is "
					  "broken)"), "%s", n ? lines[0] : "(none)");
	CHECKF(secs < 5, "%.1f s", secs);
	free_lines(lines, n);
	pha_warnings_deinit(&w);
	CASE_END();
}

static void test_dedup_and_kinds(void)
{
	CASE_BEGIN("warnings/dedup-kinds");
	struct pha_warnings w = {0};
	char **lines = malloc(sizeof(*lines));
	size_t n = 0;
	lines[n++] = strdup("pushed directly");
	add(&w, &lines, &n, "a %d", 1);
	add(&w, &lines, &n, "a %d", 1);
	add(&w, &lines, &n, "b %s", "x");
	add(&w, &lines, &n, "a %d", 2);
	CHECK(n == 3);
	CHECK(!strcmp(lines[0], "pushed directly"));
	CHECKF(!strcmp(lines[1], "a 1 (2 times in all; also: a 2)"), "%s", lines[1]);
	CHECK(!strcmp(lines[2], "b x"));
	free_lines(lines, n);
	pha_warnings_deinit(&w);
	CASE_END();
}

int main(void)
{
	test_many();
	test_dedup_and_kinds();
	CHECK_EXIT();
}
