/* The `analyze` command: one core or snapshot in, a report (and the
 * requested debugging files) out. pha_analyze is the driver; each step
 * below does one job, in this order:
 *
 *   choose_output   the report's path and format
 *   read_input      a snapshot: heap and source directly; a core: target,
 *                   heap (heap.c), source, --dump-why
 *   save_snapshot   --save-snapshot
 *   build_report    report.c: reachability, SCCs, why, waste
 *   dump_objects    --dump-objects
 *   write_report    the report file in its format
 *   print_summary   the text summary on stdout (unless -q or -o -)
 *
 * analyzer/README.md maps the phases to files and to the scratch each frees.
 */
#include "analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/output.h"
#include "../formats/report_write.h"
#include "../formats/snapshot.h"
#include "bigmem.h"
#include "dump.h"
#include "error.h"
#include "heap.h"
#include "progress.h"
#include "report.h"
#include "source.h"

struct analysis {
	const struct pha_analyze_options *opts;
	const char *output;		/* resolved: never NULL */
	enum pha_report_format format;	/* resolved: never PHA_FORMAT_AUTO */
	char *default_output;		/* owned; output points to it when -o was not given */

	struct pha_target *t;		/* cores only */
	struct pha_source src;
	struct pha_heap *h;
	struct pha_report *r;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Without -o: INPUT-BASENAME.pyheap.json.zst (or .json, .txt as --format
 * says) in the current directory. Without --format: from the name. False
 * on OOM. */
static bool choose_output(struct analysis *a)
{
	enum pha_report_format fmt = a->opts->format;
	a->output = a->opts->output;
	if (!a->output) {
		const char *b = strrchr(a->opts->input, '/');
		b = b ? b + 1 : a->opts->input;
		if (asprintf(&a->default_output, "%s.pyheap.%s", b,
			     fmt == PHA_FORMAT_TEXT ? "txt" : fmt == PHA_FORMAT_JSON ? "json"
										: "json.zst") < 0) {
			a->default_output = NULL;
			return false;
		}
		a->output = a->default_output;
	}
	if (fmt == PHA_FORMAT_AUTO)
		fmt = ends_with(a->output, ".json") ? PHA_FORMAT_JSON
		      : ends_with(a->output, ".txt") ? PHA_FORMAT_TEXT
		      : !strcmp(a->output, "-") ? PHA_FORMAT_JSON : PHA_FORMAT_JSON_ZST;
	a->format = fmt;
	return true;
}

/* A core: find the interpreter and its layout (target.c), rebuild the heap
 * (heap.c), then describe the process and its threads (source.c, after the
 * heap so that the heap builder's warnings are included). */
/* Before the heap is built (issue 12): the analysis takes about 1.25
 * bytes per byte of the core's memory at its peak (measured by make
 * bench: ~87 bytes an object, ~70 bytes of core an object); say so when
 * that is more than the machine has available. */
static void check_memory(const struct analysis *a)
{
	uint64_t core = 0;
	for (size_t i = 0; i < a->t->mem.nsegs; i++) {
		if (a->t->mem.segs[i].source == PHA_SEG_CORE)
			core += a->t->mem.segs[i].end - a->t->mem.segs[i].start;
	}
	uint64_t need = core / 4 * 5 + (64 << 20), avail = pha_mem_available();
	if (avail && need > avail)
		fprintf(stderr, "pyheap-analyze: this analysis needs about %llu MB of memory and %llu MB "
				"are available%s\n", (unsigned long long)(need >> 20),
			(unsigned long long)(avail >> 20),
			a->opts->low_memory ? "; --low-memory: its big arrays go to a temporary file"
					    : ": --low-memory keeps its big arrays in a temporary file");
}

static struct pha_error *read_core(struct analysis *a)
{
	struct pha_error *err;
	if ((err = pha_target_open(a->opts->input, &a->opts->target, &a->t)))
		return err;
	check_memory(a);
	if ((err = pha_heap_build(a->t, &a->h)))
		return err;
	if ((err = pha_source_from_target(a->t, a->h, &a->src)))
		return err;
	if (a->opts->dump_why)
		return pha_dump_why(a->opts->dump_why, a->t, a->opts->redact);
	return NULL;
}

static struct pha_error *read_input(struct analysis *a)
{
	if (pha_snapshot_sniff(a->opts->input))
		return pha_snapshot_read(a->opts->input, &a->src, &a->h);
	return read_core(a);
}

/* Refuse (exit 2) any output that names an input: `-o CORE CORE` replaced
 * the core with the report, and --save-snapshot or --dump-why on the core
 * truncated the file that was still mapped (SIGBUS). Same inode, whatever
 * the path (formats/output.c). */
static struct pha_error *check_outputs(struct analysis *a)
{
	const struct pha_analyze_options *o = a->opts;
	const char *outs[] = {a->output, o->dump_objects, o->save_snapshot, o->dump_why};
	const char *ins[] = {o->input, o->target.modules.executable};
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		for (size_t j = 0; outs[i] && j < sizeof(ins) / sizeof(ins[0]); j++) {
			struct pha_error *err;
			if (ins[j] && (err = pha_out_check_not_input(outs[i], ins[j])))
				return err;
		}
	}
	return NULL;
}

static struct pha_error *save_snapshot(struct analysis *a)
{
	const char *path = a->opts->save_snapshot;
	if (!path)
		return NULL;
	struct pha_snapshot_write_options so = {
		.compress = ends_with(path, ".zst"),
		.redact = a->opts->redact,
		.written_by = "pyheap-analyze " PHA_VERSION,
	};
	return pha_snapshot_write(path, &a->src, a->h, &so);
}

static struct pha_error *build_report(struct analysis *a)
{
	struct pha_report_options ropts = {
		.suspect_threshold = a->opts->suspect_threshold / 100.0,
		.redact = a->opts->redact,
		.top = 20,
	};
	return pha_report_build(&a->src, a->h, &ropts, &a->r);
}

static struct pha_error *dump_objects(struct analysis *a)
{
	if (!a->opts->dump_objects)
		return NULL;
	return pha_dump_objects(a->opts->dump_objects, a->h, a->r->unreachable);
}

static struct pha_error *write_report(struct analysis *a)
{
	struct pha_out *out;
	struct pha_error *err = pha_out_open(a->output, a->format == PHA_FORMAT_JSON_ZST, 6, &out);
	if (err)
		return err;
	if (a->format == PHA_FORMAT_TEXT)
		pha_report_write_text(a->r, out, a->opts->top);
	else
		pha_report_write_json(a->r, out);
	return pha_out_close(out);
}

/* The summary on stdout, unless -q or the report itself went there. A
 * standard output that cannot be opened is not an error; one that fails
 * while written is. */
static struct pha_error *print_summary(struct analysis *a)
{
	struct pha_out *so;
	if (a->opts->quiet || !strcmp(a->output, "-"))
		return NULL;
	if (pha_out_open("-", false, 0, &so))
		return NULL;
	if (a->format != PHA_FORMAT_TEXT)
		pha_report_write_text(a->r, so, a->opts->top);
	pha_out_printf(so, "\nReport written to %s\n", a->output);
	return pha_out_close(so);
}

static int report_error(struct pha_error *err)
{
	pha_progress_done();
	fprintf(stderr, "pyheap-analyze: %s\n", err->message);
	int code = pha_error_exit_code(err);
	pha_error_destroy(err);
	return code;
}

static void analysis_deinit(struct analysis *a)
{
	pha_report_destroy(a->r);
	pha_heap_destroy(a->h);
	pha_source_deinit(&a->src);
	pha_target_destroy(a->t);
	free(a->default_output);
}

int pha_analyze(const struct pha_analyze_options *opts)
{
	struct analysis a = {.opts = opts};
	if (!choose_output(&a))
		return PHA_EXIT_INTERNAL;
	pha_progress_enable(!opts->quiet);
	pha_source_init(&a.src);
	a.src.verbose = opts->verbose;

	struct pha_error *err = NULL;
	if (opts->low_memory)
		err = pha_bigmem_use_file();
	if (!err && !(err = check_outputs(&a)) && !(err = read_input(&a)) && !(err = save_snapshot(&a)) && !(err = build_report(&a)) &&
	    !(err = dump_objects(&a)) && !(err = write_report(&a)))
		err = print_summary(&a);
	int code = err ? report_error(err) : PHA_EXIT_OK;
	analysis_deinit(&a);
	pha_bigmem_shutdown();
	return code;
}
