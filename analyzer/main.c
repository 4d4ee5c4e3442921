/* pyheap-analyze: the command line.
 *
 * One table describes every option (names, argument, help text); --help
 * and getopt's tables are generated from it. main() parses the options
 * into struct pha_analyze_options and hands over to pha_analyze()
 * (analyze.c), which does the work.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/output.h"
#include "../plugins/pha_layout.h"
#include "analyze.h"
#include "diff.h"
#include "error.h"

/* Option ids: the short option's character, or a number above any char. */
enum option_id {
	OPT_OUTPUT = 'o', OPT_QUIET = 'q', OPT_VERBOSE = 'v', OPT_HELP = 'h', OPT_VERSION = 'V',
	OPT_FORMAT = 256, OPT_TOP, OPT_DUMP_OBJECTS, OPT_SAVE_SNAPSHOT, OPT_REDACT,
	OPT_THRESHOLD, OPT_DUMP_WHY, OPT_EXECUTABLE, OPT_LIB_PATH, OPT_SYSROOT, OPT_LIST_LAYOUTS,
	OPT_FORCE_LAYOUT, OPT_LOW_MEMORY,
};

struct cli_option {
	const char *section;	/* --help: printed before this row (NULL: nothing) */
	int id;			/* enum option_id; a character id is also the short name */
	const char *name;	/* long name */
	const char *arg;	/* the argument's name; NULL: takes none */
	/* --help text. Lines after the first are indented to HELP_COLUMN; a
	 * leading "\n" starts the text on the line below the option. */
	const char *help;
};

#define HELP_COLUMN 28

static const char help_intro[] =
	"Usage: pyheap-analyze [OPTIONS] CORE|SNAPSHOT|REPORT\n"
	"\n"
	"Rebuild the object heap of a CPython process from its core file (plain or\n"
	"zstd-compressed) without running any Python code, and report:\n"
	"  - objects per type, counts and bytes (sizes as sys.getsizeof gives them);\n"
	"  - what gc.collect() would find unreachable, and every byte it would free;\n"
	"  - reference cycles grouped by shape: the ones the program made, and the\n"
	"    'module world' that modules and classes tie together;\n"
	"  - why things are alive: dominators, retained sizes, the top retainers\n"
	"    with labelled paths from the roots (sys.modules['app'].__dict__['x']);\n"
	"  - leak suspects: objects retaining a large share of the heap, and\n"
	"    references no Python object explains (a C extension's missing\n"
	"    Py_DECREF), apart from what the interpreter and C code hold on purpose;\n"
	"  - waste: duplicate str/bytes values, empty and mostly-empty containers;\n"
	"  - each thread's Python stack with its frames' local variables;\n"
	"  - where the process's memory went (cores): Python objects, the buffers\n"
	"    they own, extension objects' native memory (numpy data, libxml2\n"
	"    documents), pymalloc's and glibc malloc's free-but-kept memory, stacks,\n"
	"    libraries, and what nothing explains;\n"
	"  - where objects were allocated, when tracemalloc was tracing.\n"
	"A heap snapshot (.msgpack or .msgpack.zst, from --save-snapshot or from\n"
	"pyheap_dump.py inside the process) is analyzed the same way. A saved\n"
	"JSON report (.json or .json.zst) is rendered again (-o report.html, .md,\n"
	".txt, .json) exactly as from the core, without it.\n"
	"\n"
	"Prints a summary on standard output and writes the report to\n"
	"INPUT-BASENAME.pyheap.json.zst in the current directory.\n";

static const struct cli_option options[] = {
	{"\nOutput:\n", OPT_OUTPUT, "output", "FILE",
	 "write the report to FILE ('-' = standard output)"},
	{NULL, OPT_FORMAT, "format", "FMT",
	 "json, json.zst, text, md, html or heapsnapshot\n"
	 "(default: from the -o name: .json, .txt -> text,\n"
	 ".md, .html, .heapsnapshot, otherwise json.zst)"},
	{NULL, OPT_TOP, "top", "N", "rows per table in the summary (default 10)"},
	{NULL, OPT_DUMP_OBJECTS, "dump-objects", "FILE",
	 "also write every object as TSV (address, type,\n"
	 "size, refcnt, flags, unreachable) for debugging"},
	{NULL, OPT_SAVE_SNAPSHOT, "save-snapshot", "FILE",
	 "also write the reconstructed heap as a snapshot\n"
	 "(zstd-compressed when FILE ends in .zst), small\n"
	 "enough to attach to a ticket instead of the core"},
	{NULL, OPT_REDACT, "redact", NULL,
	 "leave the command line, string and bytes contents\n"
	 "and dict-key strings out of the report (previews,\n"
	 "path labels) and of the snapshot"},
	{NULL, OPT_THRESHOLD, "suspect-threshold", "P",
	 "report an object retaining at least P percent of\n"
	 "the heap as a leak suspect (default 10)"},
	{NULL, OPT_DUMP_WHY, "dump-why", "FILE",
	 "debugging aid: write the layout's labelled roots,\n"
	 "frame locals with previews and the labelled\n"
	 "references of each local's value as TSV (core only)"},
	{NULL, OPT_QUIET, "quiet", NULL, "no summary, no progress"},
	{NULL, OPT_VERBOSE, "verbose", NULL, "explain what was found and chosen (repeat for more)"},

	{"\nFinding the binaries the process had mapped (needed for symbols and for\n"
	 "memory the core left out):\n",
	 OPT_EXECUTABLE, "executable", "FILE", "the program's executable"},
	{NULL, OPT_LIB_PATH, "lib-search-path", "DIR[:DIR...]",
	 "\nlook for shared libraries by file name here"},
	{NULL, OPT_SYSROOT, "sysroot", "DIR",
	 "prefix for the paths recorded in the core\n"
	 "(cores from containers or other machines)"},

	{"\n", OPT_LIST_LAYOUTS, "list-layouts", NULL, "list the CPython layouts this build knows"},
	{NULL, OPT_FORCE_LAYOUT, "force-layout", "X.Y",
	 "use the layout of CPython X.Y whatever the version\n"
	 "found (pre-releases and unverified versions)"},
	{NULL, OPT_LOW_MEMORY, "low-memory", NULL,
	 "keep the big arrays (heap model, edges, dominator\n"
	 "scratch) in an unlinked temporary file in $TMPDIR,\n"
	 "mapped: slower, but finishes with little free memory"},
	{NULL, OPT_HELP, "help", NULL, "this help"},
	{NULL, OPT_VERSION, "version", NULL, "version"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char help_outro[] =
	"\n"
	"pyheap-analyze diff [OPTIONS] OLD NEW: what grew between two dumps (cores,\n"
	"snapshots or saved reports); 'pyheap-analyze diff --help' for its options.\n"
	"\n"
	"Exit status: 0 done, 1 a diff threshold was exceeded, 2 usage error (also an\n"
	"output that names an input file), 3 input not usable (not a core, truncated\n"
	"beyond use, no CPython found, unsupported version, needed binaries missing,\n"
	"malformed snapshot), 4 internal or resource error (also a write error on\n"
	"standard output or past the file size limit).\n"
	"\n"
	"Environment: TMPDIR for temporary files (--low-memory, .zst inputs);\n"
	"PYHEAP_ANALYZE_THREADS=1 keeps the analysis on one thread (by default two\n"
	"report phases run on a second one; the output is the same).\n";

static bool has_short_name(const struct cli_option *o)
{
	return o->id < OPT_FORMAT;
}

/* "  -o, --output FILE", "      --top N", padded to HELP_COLUMN (at least
 * two spaces), then the help text, one row per line of it. */
static void print_option_help(const struct cli_option *o)
{
	int len = has_short_name(o) ? printf("  -%c, --%s", o->id, o->name)
				    : printf("      --%s", o->name);
	if (o->arg)
		len += printf(" %s", o->arg);
	const char *h = o->help;
	if (h[0] == '\n') {
		len = 0;
		h++;
		putchar('\n');
	}
	printf("%*s", len + 2 > HELP_COLUMN ? 2 : HELP_COLUMN - len, "");
	for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
		printf("%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
	printf("%s\n", h);
}

static void print_help(void)
{
	fputs(help_intro, stdout);
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (options[i].section)
			fputs(options[i].section, stdout);
		print_option_help(&options[i]);
	}
	fputs(help_outro, stdout);
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "pyheap-analyze: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'pyheap-analyze --help' for more information.\n");
	exit(PHA_EXIT_USAGE);
}

/* What main() owns besides the options: --lib-search-path split at ':'. */
struct cli {
	struct pha_analyze_options opts;
	char **search;
};

static enum pha_report_format parse_format(const char *arg)
{
	if (!strcmp(arg, "json"))
		return PHA_FORMAT_JSON;
	if (!strcmp(arg, "json.zst"))
		return PHA_FORMAT_JSON_ZST;
	if (!strcmp(arg, "text"))
		return PHA_FORMAT_TEXT;
	if (!strcmp(arg, "md"))
		return PHA_FORMAT_MD;
	if (!strcmp(arg, "html"))
		return PHA_FORMAT_HTML;
	if (!strcmp(arg, "heapsnapshot"))
		return PHA_FORMAT_HEAPSNAPSHOT;
	die_usage("unknown format '%s' (json, json.zst, text, md, html or heapsnapshot)", arg);
	return PHA_FORMAT_AUTO;
}

static double parse_threshold(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (*end || !(v > 0 && v <= 100))
		die_usage("--suspect-threshold needs a percentage above 0 and at most 100, "
			  "not '%s'", arg);
	return v;
}

static int parse_top(const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || v < 1 || v > 1000000)
		die_usage("--top needs a number from 1 to 1000000, not '%s'", arg);
	return (int)v;
}

static void parse_force_layout(const char *arg, struct pha_target_options *t)
{
	unsigned maj, min;
	char extra;
	if (sscanf(arg, "%u.%u%c", &maj, &min, &extra) != 2 || maj != 3 || min > 255)
		die_usage("--force-layout needs a version 3.Y, not '%s'", arg);
	t->force_minor = min;
	t->force_layout = true;
}

static void list_layouts(void)
{
	for (size_t i = 0; pha_builtin_layouts[i]; i++)
		printf("%-14s %s\n", pha_builtin_layouts[i]->name, pha_builtin_layouts[i]->description);
}

/* One option (in command-line order: a usage error or --help stops at the
 * first that asks). Returns false when the run is over (--help, --version,
 * --list-layouts printed what they print). */
static bool apply_option(struct cli *c, int id, char *arg)
{
	struct pha_analyze_options *o = &c->opts;
	switch (id) {
	case OPT_OUTPUT:
		o->output = arg;
		break;
	case OPT_FORMAT:
		o->format = parse_format(arg);
		break;
	case OPT_EXECUTABLE:
		o->target.modules.executable = arg;
		break;
	case OPT_LIB_PATH:
		pha_free_search_path(c->search);
		c->search = pha_split_search_path(arg);
		o->target.modules.search_path = (const char *const *)c->search;
		break;
	case OPT_SYSROOT:
		o->target.modules.sysroot = arg;
		break;
	case OPT_DUMP_OBJECTS:
		o->dump_objects = arg;
		break;
	case OPT_SAVE_SNAPSHOT:
		o->save_snapshot = arg;
		break;
	case OPT_REDACT:
		o->redact = true;
		break;
	case OPT_DUMP_WHY:
		o->dump_why = arg;
		break;
	case OPT_THRESHOLD:
		o->suspect_threshold = parse_threshold(arg);
		o->suspect_threshold_set = true;
		break;
	case OPT_TOP:
		o->top = parse_top(arg);
		break;
	case OPT_FORCE_LAYOUT:
		parse_force_layout(arg, &o->target);
		break;
	case OPT_LIST_LAYOUTS:
		list_layouts();
		return false;
	case OPT_QUIET:
		o->quiet = true;
		break;
	case OPT_LOW_MEMORY:
		o->low_memory = true;
		break;
	case OPT_VERBOSE:
		o->verbose++;
		break;
	case OPT_HELP:
		print_help();
		return false;
	case OPT_VERSION:
		printf("pyheap-analyze %s\n", PHA_VERSION);
		return false;
	}
	return true;
}

/* Parses argv into c->opts; false when the run is over (see apply_option).
 * Usage errors exit with PHA_EXIT_USAGE. */
static bool parse_args(struct cli *c, int argc, char **argv)
{
	struct option longopts[NOPTIONS + 1];
	char shortopts[2 * NOPTIONS + 2] = ":";	/* ':': a missing argument is reported as ':' */
	size_t ns = 1;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct cli_option *o = &options[i];
		longopts[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					      o->id};
		if (has_short_name(o)) {
			shortopts[ns++] = (char)o->id;
			if (o->arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[NOPTIONS] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = 0;

	opterr = 0;
	int id;
	while ((id = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (id == ':')
			die_usage("option '%s' needs an argument", argv[optind - 1]);
		if (id == '?')
			die_usage("unknown option '%s'", argv[optind - 1]);
		if (!apply_option(c, id, optarg))
			return false;
	}
	if (optind >= argc)
		die_usage("%s", "no core file given");
	if (optind + 1 < argc)
		die_usage("only one core file at a time (extra argument '%s')", argv[optind + 1]);
	c->opts.input = argv[optind];
	c->opts.target.verbose = c->opts.verbose;
	return true;
}

/* pyheap-analyze [OPTIONS] CORE|SNAPSHOT|REPORT */
static int analyze_command(int argc, char **argv)
{
	struct cli c = {
		.opts = {.format = PHA_FORMAT_AUTO, .top = 10, .suspect_threshold = 10.0},
	};
	int code = PHA_EXIT_OK;
	if (parse_args(&c, argc, argv))
		code = pha_analyze(&c.opts);
	pha_free_search_path(c.search);
	return code;
}

int main(int argc, char **argv)
{
	/* A closed pipe or the file size limit is a write error (exit 4 with
	 * a message), not a death by SIGPIPE or SIGXFSZ. */
	pha_output_signals_init();
	/* A fixed mmap threshold (issue 12): glibc's dynamic one rises to the
	 * size of each big array freed (up to 32 MiB), after which the
	 * per-object arrays of one byte or four (10 MB at 10^7 objects) land
	 * in the brk heap, where a freed one stays resident behind a live
	 * one: 37 MiB of the peak at 10^7 objects. Fixed, each such array is
	 * its own mapping and returns to the system when freed. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/* Subcommands are recognized by the first argument, before any option
	 * is parsed, and have their own option tables: `pyheap-analyze diff
	 * OLD NEW` (diffcmd.c, pyheap-analyze.diff/1). A core named "diff" is
	 * analyzed as ./diff. Every other command line is an analysis. */
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return pha_diff_command(argc - 1, argv + 1);
	return analyze_command(argc, argv);
}
