/* Unit tests of analyzer/source.c that need no interpreter: the command
 * line read from the dumped process's initial stack. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../analyzer/memory.h"
#include "../../analyzer/source.h"
#include "../../analyzer/target.h"
#include "../../analyzer/warnings.h"
#include "check.h"

#define STACK 0x7ffd00000000ULL

static const char *guarded_case;

static void on_alarm(int sig)
{
	static const char a[] = "FAIL ", b[] = ": still searching after 20 s (quadratic?)\n";
	(void)sig;
	if (write(1, a, sizeof(a) - 1) < 0 || write(1, guarded_case, strlen(guarded_case)) < 0 ||
	    write(1, b, sizeof(b) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void test_reads_command_line(void)
{
	CASE_BEGIN("source_argv_from_stack_reads_the_command_line");
	static _Alignas(16) uint8_t st[4096];
	memset(st, 0, sizeof(st));
	/* argc, argv[3], NULL, envp NULL, then the strings area. */
	static const char strings[] = "/usr/bin/python3\0app.py\0--flag=x y\0/usr/bin/python3";
	size_t str = 0x800;
	memcpy(st + str, strings, sizeof(strings));
	put64(st + 0x100, 3);
	put64(st + 0x108, STACK + str);
	put64(st + 0x110, STACK + str + 17);
	put64(st + 0x118, STACK + str + 24);
	struct pha_memory mem;
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, STACK, sizeof(st), st, PHA_SEG_CORE, 6) == NULL);
	CHECK(pha_memory_finish(&mem) == NULL);
	char **argv = NULL;
	size_t argc = 0;
	uint64_t execfn = STACK + str + 35;	/* AT_EXECFN's copy of the path */
	CHECK(pha_argv_from_stack(&mem, execfn, "/usr/bin/python3 app.py --flag=x y", &argv, &argc));
	CHECK(argc == 3 && argv && !strcmp(argv[0], "/usr/bin/python3") &&
	      !strcmp(argv[1], "app.py") && !strcmp(argv[2], "--flag=x y"));
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	/* Not there: another program name, or no stack. */
	CHECK(!pha_argv_from_stack(&mem, execfn, "ruby app.rb", &argv, &argc));
	CHECK(!pha_argv_from_stack(&mem, 0x1234, "/usr/bin/python3 app.py", &argv, &argc));
	pha_memory_deinit(&mem);
	CASE_END();
}

/* A stack segment holding the argv[0] string millions of times made the
 * search scan the whole segment once per occurrence: hours for 8 MiB. */
static void test_hostile_stack(void)
{
	CASE_BEGIN("source_argv_from_stack_linear_on_hostile_stack");
	guarded_case = "source_argv_from_stack_linear_on_hostile_stack";
	size_t len = 8u << 20;
	uint8_t *st = aligned_alloc(16, len);
	CHECK(st != NULL);
	if (st) {
		for (size_t i = 0; i < len; i += 2) {
			st[i] = 0;
			st[i + 1] = 'x';
		}
		struct pha_memory mem;
		pha_memory_init(&mem);
		CHECK(pha_memory_add(&mem, STACK, len, st, PHA_SEG_CORE, 6) == NULL);
		CHECK(pha_memory_finish(&mem) == NULL);
		signal(SIGALRM, on_alarm);
		alarm(20);
		char **argv = NULL;
		size_t argc = 0;
		CHECK(!pha_argv_from_stack(&mem, STACK + 1, "x y", &argv, &argc));
		alarm(0);
		signal(SIGALRM, SIG_DFL);
		pha_memory_deinit(&mem);
		free(st);
	}
	CASE_END();
}

/* The memory section is built beside the report, after the source took
 * the target's warnings (analyze.c): pha_source_update_target_warnings
 * puts the target's lines as they are now where the old ones were, in
 * place and appended, and the source's own kinds still find their lines. */
static void test_target_warnings_updated(void)
{
	CASE_BEGIN("source_target_warnings_updated_in_place");
	struct pha_source s;
	pha_source_init(&s);
	struct pha_target *t = calloc(1, sizeof(*t));
	CHECK(t != NULL);
	if (!t)
		return;
	pha_source_warn(&s, "own %d", 1);
	pha_target_warn(t, "heap %d", 1);
	pha_target_warn(t, "other %s", "x");
	/* pha_source_from_target's copy */
	s.target_at = s.nwarnings;
	for (size_t i = 0; i < t->nwarnings; i++)
		CHECK(pha_strv_push(&s.warnings, &s.nwarnings, strdup(t->warnings[i])));
	s.target_n = t->nwarnings;
	pha_source_warn(&s, "late %d", 1);
	/* the memory section: one more of a kind the heap had, one new kind */
	pha_target_warn(t, "heap %d", 2);
	pha_target_warn(t, "memory %d", 7);
	/* a muted thread's warning never arrives (report.c's waste) */
	pha_warnings_mute_thread(true);
	pha_target_warn(t, "muted %d", 1);
	pha_source_warn(&s, "muted %d", 2);
	pha_warnings_mute_thread(false);
	CHECK(t->nwarnings == 3);
	CHECK(pha_source_update_target_warnings(&s, t) == NULL);
	CHECK(s.nwarnings == 5);
	if (s.nwarnings == 5) {
		CHECKF(!strcmp(s.warnings[0], "own 1"), "%s", s.warnings[0]);
		CHECKF(!strcmp(s.warnings[1], "heap 1 (2 times in all; also: heap 2)"), "%s",
		       s.warnings[1]);
		CHECKF(!strcmp(s.warnings[2], "other x"), "%s", s.warnings[2]);
		CHECKF(!strcmp(s.warnings[3], "memory 7"), "%s", s.warnings[3]);
		CHECKF(!strcmp(s.warnings[4], "late 1"), "%s", s.warnings[4]);
	}
	/* the source's kind moved with its line */
	pha_source_warn(&s, "late %d", 2);
	pha_source_warn(&s, "own %d", 2);
	CHECK(s.nwarnings == 5);
	if (s.nwarnings == 5) {
		CHECKF(!strcmp(s.warnings[3], "memory 7"), "%s", s.warnings[3]);
		CHECKF(!strcmp(s.warnings[4], "late 1 (2 times in all; also: late 2)"), "%s",
		       s.warnings[4]);
		CHECKF(!strcmp(s.warnings[0], "own 1 (2 times in all; also: own 2)"), "%s",
		       s.warnings[0]);
	}
	/* nothing new: the same lines */
	CHECK(pha_source_update_target_warnings(&s, t) == NULL);
	CHECK(s.nwarnings == 5 && !strcmp(s.warnings[3], "memory 7"));
	for (size_t i = 0; i < t->nwarnings; i++)
		free(t->warnings[i]);
	free(t->warnings);
	pha_warnings_deinit(&t->warn_kinds);
	free(t);
	pha_source_deinit(&s);
	CASE_END();
}

int main(void)
{
	test_reads_command_line();
	test_hostile_stack();
	test_target_warnings_updated();
	CHECK_EXIT();
}
