/* The analysis of one core or snapshot, from the command line's options to
 * the files written: the `analyze` command (the only one so far; main.c
 * parses the options and calls pha_analyze). */
#ifndef PHA_ANALYZE_H
#define PHA_ANALYZE_H

#include <stdbool.h>

#include "target.h"

enum pha_report_format {
	PHA_FORMAT_AUTO,	/* from the output's name: .json, .txt, .md, else json.zst */
	PHA_FORMAT_JSON,
	PHA_FORMAT_JSON_ZST,
	PHA_FORMAT_TEXT,
	PHA_FORMAT_MD,		/* .md: formats/report_md.c */
	PHA_FORMAT_HTML,	/* .html: formats/report_html.c */
	PHA_FORMAT_HEAPSNAPSHOT,	/* .heapsnapshot: formats/report_heapsnapshot.c */
};

struct pha_analyze_options {
	const char *input;		/* core (plain or .zst), snapshot, or a saved JSON report */
	const char *output;		/* NULL: INPUT-BASENAME.pyheap.<ext> in "."; "-": stdout */
	enum pha_report_format format;
	int top;			/* rows per table of the text summary */
	const char *dump_objects;	/* NULL or a TSV path (dump.h) */
	const char *save_snapshot;	/* NULL or a path; compressed when it ends in .zst */
	const char *dump_why;		/* NULL or a TSV path (dump.h; cores only) */
	bool redact;
	double suspect_threshold;	/* percent of the heap */
	bool suspect_threshold_set;	/* given on the command line */
	bool quiet;			/* no summary on stdout, no progress */
	bool low_memory;		/* big arrays in a temporary file (bigmem.h) */
	int verbose;
	struct pha_target_options target;	/* cores only */
};

/* Runs every phase (analyzer/README.md) and returns the exit status; an
 * error has been printed to stderr as "pyheap-analyze: MESSAGE". */
int pha_analyze(const struct pha_analyze_options *opts);

/* The `diff` command's inputs: one core or snapshot (opts->input) read and
 * analyzed into a report as pha_analyze would, nothing written (the
 * output, dump and snapshot options are ignored). The report lives until
 * pha_loaded_destroy. */
struct pha_loaded;
struct pha_report;
struct pha_error *pha_load_report(const struct pha_analyze_options *opts,
				  struct pha_loaded **loaded_ret, const struct pha_report **report_ret);
void pha_loaded_destroy(struct pha_loaded *l);	/* accepts NULL */

/* "DIR[:DIR...]" (--lib-search-path) as a NULL-terminated array of
 * malloc'd strings, NULL on OOM; freed by pha_free_search_path (NULL ok). */
char **pha_split_search_path(const char *s);
void pha_free_search_path(char **search);

#endif
