/* The `analyze` command: one core or snapshot in, a report (and the
 * requested debugging files) out. pha_analyze is the driver; each step
 * below does one job, in this order:
 *
 *   choose_output   the report's path and format
 *   read_input      a snapshot: heap and source directly; a core: target,
 *                   heap (heap.c), source, --dump-why; a saved JSON report
 *                   (formats/report_read.c): the report itself, and every
 *                   step that needs the heap is skipped (or refused)
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
#include "../formats/report_read.h"
#include "../formats/report_write.h"
#include "../formats/snapshot.h"
#include "bigmem.h"
#include "dump.h"
#include "error.h"
#include "heap.h"
#include "procmem.h"
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
	bool from_report;		/* r was read from a saved report (report_read.h) */
	struct pha_procmem *pm;		/* memory_side's, until memory_done */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The formats by file name ending; the first is the default name's. */
static const struct {
	enum pha_report_format format;
	const char *ext;
} format_exts[] = {
	{PHA_FORMAT_JSON, "json"}, {PHA_FORMAT_TEXT, "txt"}, {PHA_FORMAT_MD, "md"},
	{PHA_FORMAT_HTML, "html"}, {PHA_FORMAT_HEAPSNAPSHOT, "heapsnapshot"},
	{PHA_FORMAT_JSON_ZST, "json.zst"},
};

static const char *format_ext(enum pha_report_format fmt)
{
	for (size_t i = 0; i < sizeof(format_exts) / sizeof(format_exts[0]); i++)
		if (format_exts[i].format == fmt)
			return format_exts[i].ext;
	return "json.zst";
}

static enum pha_report_format format_of(const char *path)
{
	if (!strcmp(path, "-"))
		return PHA_FORMAT_JSON;
	for (size_t i = 0; i < sizeof(format_exts) / sizeof(format_exts[0]); i++) {
		char dot[16];
		snprintf(dot, sizeof(dot), ".%s", format_exts[i].ext);
		if (ends_with(path, dot))
			return format_exts[i].format;
	}
	return PHA_FORMAT_JSON_ZST;
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
			     format_ext(fmt)) < 0) {
			a->default_output = NULL;
			return false;
		}
		a->output = a->default_output;
	}
	if (fmt == PHA_FORMAT_AUTO)
		fmt = format_of(a->output);
	a->format = fmt;
	return true;
}

/* A core: find the interpreter and its layout (target.c), rebuild the heap
 * (heap.c), then describe the process and its threads (source.c, after the
 * heap so that the heap builder's warnings are included). The memory
 * section (procmem.c) is built beside the report's cycle search
 * (build_report), or here when a snapshot is saved before the report. */
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

/* A core's memory section is built beside the report (build_report)
 * unless a snapshot is saved first (it carries the section's warnings):
 * then in read_core. */
static bool memory_beside_report(const struct analysis *a)
{
	return a->t && !a->opts->save_snapshot;
}

static struct pha_error *read_core(struct analysis *a)
{
	struct pha_error *err;
	if ((err = pha_target_open(a->opts->input, &a->opts->target, &a->t)))
		return err;
	check_memory(a);
	if ((err = pha_heap_build(a->t, &a->h)))
		return err;
	struct pha_procmem *pm = NULL;
	if (!memory_beside_report(a) && (err = pha_procmem_build(a->t, a->h, &pm)))
		return err;
	if ((err = pha_source_from_target(a->t, a->h, &a->src))) {
		pha_procmem_destroy(pm);
		return err;
	}
	a->src.memory = pm;
	if (a->opts->dump_why)
		return pha_dump_why(a->opts->dump_why, a->t, a->opts->redact);
	return NULL;
}

/* What needs the heap graph cannot come from a saved report: refused
 * (exit 2) before it is read, naming why. */
static struct pha_error *check_report_options(const struct analysis *a)
{
	const struct pha_analyze_options *o = a->opts;
	const char *what = a->format == PHA_FORMAT_HEAPSNAPSHOT ? "a .heapsnapshot (the heap graph)"
			   : o->save_snapshot ? "--save-snapshot (the heap graph)"
			   : o->dump_objects ? "--dump-objects (every object)"
			   : o->dump_why ? "--dump-why (the roots and edges of the core)"
			   : o->suspect_threshold_set ? "--suspect-threshold (suspects computed anew)"
			   : NULL;
	if (!what)
		return NULL;
	return pha_error_create(PHA_ERR_USAGE, "%s is a saved report, which does not hold the heap: "
				"%s needs the core or snapshot the report was made from", o->input, what);
}

/* A report written without --redact cannot be redacted afterwards: the
 * lengths of the values its previews cut are gone (exit 2). */
static struct pha_error *read_report(struct analysis *a)
{
	struct pha_error *err = check_report_options(a);
	if (err || (err = pha_report_read(a->opts->input, &a->r)))
		return err;
	if (a->opts->redact && !a->r->redacted)
		return pha_error_create(PHA_ERR_USAGE, "%s was written without --redact; a saved report "
					"cannot be redacted afterwards: run --redact on the core or "
					"snapshot it was made from", a->opts->input);
	return NULL;
}

static struct pha_error *read_input(struct analysis *a)
{
	if (pha_snapshot_sniff(a->opts->input))
		return pha_snapshot_read(a->opts->input, &a->src, &a->h);
	if (pha_report_sniff(a->opts->input)) {
		a->from_report = true;
		return read_report(a);
	}
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

/* The memory section on the report's second thread (report.h: it reads
 * the core and writes the target's warnings, nothing of the source)... */
static struct pha_error *memory_side(void *arg)
{
	struct analysis *a = arg;
	return pha_procmem_build(a->t, a->h, &a->pm);
}

/* ...then, on this thread, into the source, with the target's warnings
 * it added, where pha_source_from_target put the target's. */
static struct pha_error *memory_done(void *arg)
{
	struct analysis *a = arg;
	a->src.memory = a->pm;
	a->pm = NULL;
	return pha_source_update_target_warnings(&a->src, a->t);
}

static struct pha_error *build_report(struct analysis *a)
{
	if (a->from_report)
		return NULL;
	struct pha_report_options ropts = {
		.suspect_threshold = a->opts->suspect_threshold / 100.0,
		.redact = a->opts->redact,
		.top = 20,
	};
	if (memory_beside_report(a)) {
		ropts.side = memory_side;
		ropts.side_done = memory_done;
		ropts.side_arg = a;
	}
	struct pha_error *err = pha_report_build(&a->src, a->h, &ropts, &a->r);
	pha_procmem_destroy(a->pm);	/* when memory_done did not run */
	a->pm = NULL;
	return err;
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
	switch (a->format) {
	case PHA_FORMAT_TEXT:
		pha_report_write_text(a->r, out, a->opts->top);
		break;
	case PHA_FORMAT_MD:
		err = pha_report_write_md(a->r, out);
		break;
	case PHA_FORMAT_HTML:
		err = pha_report_write_html(a->r, out);
		break;
	case PHA_FORMAT_HEAPSNAPSHOT:
		err = pha_report_write_heapsnapshot(a->h, &a->src, out);
		break;
	default:
		pha_report_write_json(a->r, out);
		break;
	}
	if (err) {
		pha_out_discard(out);
		return err;
	}
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
	if (a->from_report)
		pha_report_read_destroy(a->r);
	else
		pha_report_destroy(a->r);
	pha_heap_destroy(a->h);
	pha_source_deinit(&a->src);
	pha_target_destroy(a->t);
	free(a->default_output);
}

/* The diff command's inputs (diffcmd.c): read_input and build_report of
 * the analysis above, nothing written. The heap is freed once the report
 * is built (the report borrows names from the target and the source, not
 * from the heap). */
struct pha_loaded {
	struct analysis a;
	struct pha_analyze_options opts;
};

struct pha_error *pha_load_report(const struct pha_analyze_options *opts,
				  struct pha_loaded **loaded_ret, const struct pha_report **report_ret)
{
	struct pha_loaded *l = calloc(1, sizeof(*l));
	if (!l)
		return &pha_enomem;
	l->opts = *opts;
	l->a.opts = &l->opts;
	pha_source_init(&l->a.src);
	l->a.src.verbose = opts->verbose;
	struct pha_error *err;
	if ((err = read_input(&l->a)) || (err = build_report(&l->a))) {
		pha_loaded_destroy(l);
		return err;
	}
	pha_heap_destroy(l->a.h);
	l->a.h = NULL;
	*loaded_ret = l;
	*report_ret = l->a.r;
	return NULL;
}

void pha_loaded_destroy(struct pha_loaded *l)
{
	if (!l)
		return;
	analysis_deinit(&l->a);
	free(l);
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

/* --lib-search-path DIR[:DIR...] as a NULL-terminated array (NULL on OOM). */
char **pha_split_search_path(const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ':';
	char **v = calloc(n + 1, sizeof(*v));
	char *copy = strdup(s);
	if (!v || !copy) {
		free(v);
		free(copy);
		return NULL;
	}
	size_t k = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		v[k++] = strdup(tok);
	free(copy);
	return v;
}

void pha_free_search_path(char **search)
{
	if (!search)
		return;
	for (size_t i = 0; search[i]; i++)
		free(search[i]);
	free(search);
}
