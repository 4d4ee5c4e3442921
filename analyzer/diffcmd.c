/* The `diff` command: pyheap-analyze diff [OPTIONS] OLD NEW.
 *
 *   parse_args      the options (their own table: what `analyze` takes
 *                   for finding binaries, plus the thresholds)
 *   check_args      both inputs exist, no output names an input (before
 *                   anything is analyzed: a typo in NEW is not found after
 *                   minutes spent on OLD)
 *   load_input      OLD, then NEW: a saved report is read, a core or a
 *                   snapshot analyzed (both through analyze.c
 *                   pha_load_report)
 *   pha_diff_build  the model (diff.c)
 *   write_diff      the output in its format; the text on stdout unless
 *                   -q or -o -
 * The exit status: 1 when a threshold was exceeded, else 0; 2, 3, 4 as for
 * `analyze` (error.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/output.h"
#include "analyze.h"
#include "diff.h"
#include "error.h"
#include "progress.h"
#include "report.h"

#define PHA_EXIT_EXCEEDED 1

enum {
	D_OUTPUT = 'o', D_QUIET = 'q', D_VERBOSE = 'v', D_HELP = 'h',
	D_FORMAT = 256, D_GROWTH, D_TYPE_GROWTH, D_EXECUTABLE, D_LIB_PATH, D_SYSROOT, D_REDACT,
};

static const char diff_help[] =
	"Usage: pyheap-analyze diff [OPTIONS] OLD NEW\n"
	"\n"
	"What grew between two dumps. OLD and NEW are each a core (plain or .zst), a\n"
	"heap snapshot or a saved report (.json, .json.zst), in any mix. Prints the\n"
	"types whose counts and sizes changed, the containers that grew (by their\n"
	"labelled path from a root; by address too when both dumps come from one\n"
	"process: \"the same dict grew\"), new and vanished unreachable groups and\n"
	"cycle shapes, the memory sections' changes and a verdict.\n"
	"\n"
	"  -o, --output FILE         write the diff to FILE ('-' = standard output);\n"
	"                            default: the text on standard output\n"
	"      --format FMT          json, json.zst, text, md or html (default: from\n"
	"                            the -o name: .json, .txt, .md, .html, else json.zst)\n"
	"      --fail-on-growth SIZE exit 1 when the heap (the sum of the objects'\n"
	"                            sizes) grew by more than SIZE (50MiB, 200MB, 1G)\n"
	"      --fail-on-type-growth NAME:COUNT\n"
	"                            exit 1 when type NAME gained more than COUNT\n"
	"                            objects (repeatable)\n"
	"      --executable FILE     the program's executable (cores)\n"
	"      --lib-search-path DIR[:DIR...]  where to look for shared libraries\n"
	"      --sysroot DIR         prefix for the paths recorded in the cores\n"
	"      --redact              analyze cores and snapshots as --redact does\n"
	"  -q, --quiet               no text on standard output, no progress\n"
	"  -v, --verbose             explain what was found and chosen\n"
	"  -h, --help                this help\n"
	"\n"
	"Exit status: 0 done, no threshold exceeded; 1 a threshold was exceeded;\n"
	"2 usage error (also an input that does not exist, an output that names an\n"
	"input); 3 input not usable; 4 internal or resource error.\n";

static const struct option longopts[] = {
	{"output", required_argument, NULL, D_OUTPUT},
	{"format", required_argument, NULL, D_FORMAT},
	{"fail-on-growth", required_argument, NULL, D_GROWTH},
	{"fail-on-type-growth", required_argument, NULL, D_TYPE_GROWTH},
	{"executable", required_argument, NULL, D_EXECUTABLE},
	{"lib-search-path", required_argument, NULL, D_LIB_PATH},
	{"sysroot", required_argument, NULL, D_SYSROOT},
	{"redact", no_argument, NULL, D_REDACT},
	{"quiet", no_argument, NULL, D_QUIET},
	{"verbose", no_argument, NULL, D_VERBOSE},
	{"help", no_argument, NULL, D_HELP},
	{NULL, 0, NULL, 0},
};

struct diffcmd {
	const char *input[2];
	const char *output;	/* NULL: text on stdout */
	enum pha_report_format format;
	bool quiet;
	struct pha_analyze_options aopts;	/* for cores and snapshots */
	char **search;
	struct pha_diff_options dopts;
	struct pha_diff_threshold *type_limits;

	struct pha_loaded *loaded[2];
	const struct pha_report *r[2];
	struct pha_diff *d;
};

static struct pha_error *usage(const char *fmt, const char *arg)
{
	struct pha_error *err = pha_error_create(PHA_ERR_USAGE, fmt, arg);
	return err;
}

/* "50MiB", "200MB", "1G", "4096": bytes. B, KB/MB/GB/TB (powers of 1000),
 * K/M/G/T and KiB/MiB/GiB/TiB (powers of 1024). */
static bool parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{"", 1}, {"B", 1},
		{"K", 1ull << 10}, {"KiB", 1ull << 10}, {"KB", 1000ull}, {"k", 1ull << 10},
		{"M", 1ull << 20}, {"MiB", 1ull << 20}, {"MB", 1000000ull},
		{"G", 1ull << 30}, {"GiB", 1ull << 30}, {"GB", 1000000000ull},
		{"T", 1ull << 40}, {"TiB", 1ull << 40}, {"TB", 1000000000000ull},
	};
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].suffix)) {
			double b = v * (double)units[i].mult;
			if (b >= 9.0e18)
				return false;
			*ret = (uint64_t)b;
			return true;
		}
	}
	return false;
}

/* NAME:COUNT (the last ':' splits: a type name holds none, but be lenient). */
static struct pha_error *add_type_limit(struct diffcmd *c, char *arg)
{
	char *colon = strrchr(arg, ':'), *end;
	if (!colon || colon == arg || !colon[1] || colon[1] < '0' || colon[1] > '9')
		return usage("--fail-on-type-growth needs NAME:COUNT, not '%s'", arg);
	errno = 0;
	unsigned long long n = strtoull(colon + 1, &end, 10);
	if (*end || errno)
		return usage("--fail-on-type-growth needs NAME:COUNT, not '%s'", arg);
	struct pha_diff_threshold *v = realloc(c->type_limits,
					       (c->dopts.ntype_limits + 1) * sizeof(*v));
	if (!v)
		return &pha_enomem;
	*colon = 0;
	v[c->dopts.ntype_limits++] = (struct pha_diff_threshold){
		.kind = PHA_THRESHOLD_TYPE, .type = arg, .limit = n};
	c->type_limits = v;
	c->dopts.type_limits = v;
	return NULL;
}

static struct pha_error *parse_format(struct diffcmd *c, const char *arg)
{
	static const struct {
		const char *name;
		enum pha_report_format f;
	} f[] = {{"json", PHA_FORMAT_JSON}, {"json.zst", PHA_FORMAT_JSON_ZST},
		 {"text", PHA_FORMAT_TEXT}, {"md", PHA_FORMAT_MD}, {"html", PHA_FORMAT_HTML}};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!strcmp(arg, f[i].name)) {
			c->format = f[i].f;
			return NULL;
		}
	}
	return usage("unknown diff format '%s' (json, json.zst, text, md or html)", arg);
}

/* One option; *done set for --help. */
static struct pha_error *apply(struct diffcmd *c, int id, char *arg, bool *done)
{
	switch (id) {
	case D_OUTPUT:
		c->output = arg;
		return NULL;
	case D_FORMAT:
		return parse_format(c, arg);
	case D_GROWTH:
		if (!parse_size(arg, &c->dopts.growth_limit))
			return usage("--fail-on-growth needs a size such as 50MiB, 200MB or 1048576, "
				     "not '%s'", arg);
		c->dopts.fail_on_growth = true;
		return NULL;
	case D_TYPE_GROWTH:
		return add_type_limit(c, arg);
	case D_EXECUTABLE:
		c->aopts.target.modules.executable = arg;
		return NULL;
	case D_LIB_PATH:
		pha_free_search_path(c->search);
		if (!(c->search = pha_split_search_path(arg)))
			return &pha_enomem;
		c->aopts.target.modules.search_path = (const char *const *)c->search;
		return NULL;
	case D_SYSROOT:
		c->aopts.target.modules.sysroot = arg;
		return NULL;
	case D_REDACT:
		c->aopts.redact = true;
		return NULL;
	case D_QUIET:
		c->quiet = c->aopts.quiet = true;
		return NULL;
	case D_VERBOSE:
		c->aopts.verbose++;
		c->aopts.target.verbose = c->aopts.verbose;
		return NULL;
	case D_HELP:
		fputs(diff_help, stdout);
		*done = true;
		return NULL;
	}
	return NULL;
}

static struct pha_error *parse_args(struct diffcmd *c, int argc, char **argv, bool *done)
{
	int id;
	optind = 1;
	opterr = 0;
	while ((id = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
		if (id == ':')
			return usage("option '%s' needs an argument", argv[optind - 1]);
		if (id == '?')
			return usage("unknown diff option '%s'", argv[optind - 1]);
		struct pha_error *err = apply(c, id, optarg, done);
		if (err || *done)
			return err;
	}
	if (argc - optind != 2)
		return usage(argc - optind < 2 ? "diff needs two inputs, OLD and NEW%s"
					       : "diff takes two inputs, OLD and NEW (extra: '%s')",
			     argc - optind < 2 ? "" : argv[optind + 2]);
	c->input[0] = argv[optind];
	c->input[1] = argv[optind + 1];
	return NULL;
}

static struct pha_error *check_args(const struct diffcmd *c)
{
	struct stat st;
	for (int i = 0; i < 2; i++) {
		if (stat(c->input[i], &st) != 0)
			return pha_error_errno(PHA_ERR_USAGE, errno, "diff: %s %s",
					       i ? "NEW" : "OLD", c->input[i]);
	}
	const char *ins[] = {c->input[0], c->input[1], c->aopts.target.modules.executable};
	for (size_t j = 0; c->output && j < sizeof(ins) / sizeof(ins[0]); j++) {
		struct pha_error *err;
		if (ins[j] && (err = pha_out_check_not_input(c->output, ins[j])))
			return err;
	}
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static struct pha_error *load_input(struct diffcmd *c, int i)
{
	/* a saved report is read (formats/report_read.c), a core or a
	 * snapshot analyzed */
	struct pha_analyze_options o = c->aopts;
	o.input = c->input[i];
	struct pha_error *err = pha_load_report(&o, &c->loaded[i], &c->r[i]);
	return err ? pha_error_prefix(err, "%s", i ? "NEW" : "OLD") : NULL;
}

static enum pha_report_format output_format(const struct diffcmd *c)
{
	if (c->format != PHA_FORMAT_AUTO)
		return c->format;
	if (!c->output)
		return PHA_FORMAT_TEXT;
	if (!strcmp(c->output, "-") || ends_with(c->output, ".json"))
		return PHA_FORMAT_JSON;
	if (ends_with(c->output, ".txt"))
		return PHA_FORMAT_TEXT;
	if (ends_with(c->output, ".md"))
		return PHA_FORMAT_MD;
	if (ends_with(c->output, ".html"))
		return PHA_FORMAT_HTML;
	return PHA_FORMAT_JSON_ZST;
}

static struct pha_error *write_to(const struct pha_diff *d, const char *path,
				  enum pha_report_format f)
{
	struct pha_out *out;
	struct pha_error *err = pha_out_open(path, f == PHA_FORMAT_JSON_ZST, 6, &out);
	if (err)
		return err;
	if (f == PHA_FORMAT_JSON || f == PHA_FORMAT_JSON_ZST)
		pha_diff_write_json(d, out);
	else
		err = pha_diff_write_doc(d, f == PHA_FORMAT_MD ? PHA_DIFF_MD :
					 f == PHA_FORMAT_HTML ? PHA_DIFF_HTML : PHA_DIFF_TEXT, out);
	if (err) {
		pha_out_discard(out);
		return err;
	}
	return pha_out_close(out);
}

/* The diff in its format, then the text on stdout unless -q, or the
 * output already went there. */
static struct pha_error *write_diff(struct diffcmd *c)
{
	enum pha_report_format f = output_format(c);
	struct pha_error *err;
	if (c->output && (err = write_to(c->d, c->output, f)))
		return err;
	if (c->quiet || (c->output && !strcmp(c->output, "-")))
		return NULL;
	if (!c->output || f != PHA_FORMAT_TEXT)
		return write_to(c->d, "-", PHA_FORMAT_TEXT);
	return NULL;
}

static void diffcmd_deinit(struct diffcmd *c)
{
	pha_diff_destroy(c->d);
	for (int i = 0; i < 2; i++) {
		pha_loaded_destroy(c->loaded[i]);
	}
	free(c->type_limits);
	pha_free_search_path(c->search);
}

int pha_diff_command(int argc, char **argv)
{
	struct diffcmd c = {
		.format = PHA_FORMAT_AUTO,
		.aopts = {.format = PHA_FORMAT_AUTO, .top = 10, .suspect_threshold = 10.0},
	};
	bool done = false;
	struct pha_error *err = parse_args(&c, argc, argv, &done);
	if (!err && !done) {
		pha_progress_enable(!c.quiet);
		if (!(err = check_args(&c)) && !(err = load_input(&c, 0)) &&
		    !(err = load_input(&c, 1))) {
			err = pha_diff_build(c.r[0], c.r[1], &c.dopts, &c.d);
			if (!err) {
				c.d->old_path = c.input[0];
				c.d->new_path = c.input[1];
				err = write_diff(&c);
			}
		}
	}
	int code = PHA_EXIT_OK;
	if (err) {
		pha_progress_done();
		fprintf(stderr, "pyheap-analyze: %s\n", err->message);
		if (err->kind == PHA_ERR_USAGE)
			fprintf(stderr, "Try 'pyheap-analyze diff --help' for more information.\n");
		code = pha_error_exit_code(err);
		pha_error_destroy(err);
	} else if (!done && c.d->exceeded) {
		code = PHA_EXIT_EXCEEDED;
	}
	diffcmd_deinit(&c);
	return code;
}
