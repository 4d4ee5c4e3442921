/* Minimal unit-test protocol shared by the unit tests in tests/unit.
 *
 * Each test program prints one line per test case:
 *   PASS <name>
 *   FAIL <name>: <why>
 *   SKIP <name>: <why>
 * and exits 1 if any case failed (0 otherwise). tests/run.sh counts the
 * lines and prints the one summary line of `make check`.
 */
#ifndef PHA_CHECK_H
#define PHA_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_case_failed;
static const char *check_case_name;

#define CASE_BEGIN(name) do { check_case_name = (name); check_case_failed = 0; } while (0)
#define CASE_END() do { \
	if (!check_case_failed) printf("PASS %s\n", check_case_name); \
	else check_failures++; \
	fflush(stdout); } while (0)
#define CHECK(cond) do { if (!(cond) && !check_case_failed) { \
	printf("FAIL %s: %s:%d: %s\n", check_case_name, __FILE__, __LINE__, #cond); \
	check_case_failed = 1; } } while (0)
#define CHECKF(cond, ...) do { if (!(cond) && !check_case_failed) { \
	printf("FAIL %s: %s:%d: ", check_case_name, __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); check_case_failed = 1; } } while (0)
#define SKIP_CASE(name, why) do { printf("SKIP %s: %s\n", (name), (why)); fflush(stdout); } while (0)
#define CHECK_EXIT() return check_failures ? 1 : 0

#endif
