/* The diff for people: text (a terminal, the summary of `pyheap-analyze
 * diff`), Markdown (a ticket or a CI comment) and HTML (one self-contained
 * page, no script, nothing loaded). One walk over the diff model (the
 * verdict, the thresholds, then one table per part) renders through a
 * small document interface whose three forms differ only in markup and in
 * the escaper heap text goes through: text pha_text_escape_buf, Markdown
 * pha_md_escape, HTML pha_html_escape (formats/markup.c). Tables show at
 * most DOC_ROWS rows; the JSON has every row. Deterministic. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../analyzer/diff.h"
#include "markup.h"
#include "report_common.h"

#define DOC_ROWS 25
#define DOC_FLUSH 65536

struct doc {
	enum pha_diff_doc kind;
	struct pha_buf b;
	struct pha_out *out;
	int ncols;
	int col;
	const int *width;	/* text: each column's width (0: as wide as its text) */
};

static void raw(struct doc *d, const char *s)
{
	pha_buf_puts(&d->b, s);
}

__attribute__((format(printf, 2, 3)))
static void rawf(struct doc *d, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	raw(d, buf);
}

/* Heap text (type names, paths, signatures) escaped for the destination. */
static void heap(struct doc *d, const char *s)
{
	s = s ? s : "";
	if (d->kind == PHA_DIFF_MD)
		pha_md_escape(&d->b, s, 0);
	else if (d->kind == PHA_DIFF_HTML)
		pha_html_escape(&d->b, s);
	else
		pha_text_escape_buf(&d->b, s);
}

static void heading(struct doc *d, const char *title)
{
	if (d->kind == PHA_DIFF_MD)
		rawf(d, "\n## %s\n\n", title);
	else if (d->kind == PHA_DIFF_HTML)
		rawf(d, "<h2>%s</h2>\n", title);
	else
		rawf(d, "\n%s\n", title);
	if (d->b.len >= DOC_FLUSH)
		pha_buf_flush(&d->b, d->out);
}

static void para_begin(struct doc *d, const char *cls)
{
	if (d->kind == PHA_DIFF_HTML)
		rawf(d, "<p class=\"%s\">", cls);
}

static void para_end(struct doc *d)
{
	raw(d, d->kind == PHA_DIFF_HTML ? "</p>\n" : "\n");
	if (d->kind == PHA_DIFF_MD)
		raw(d, "\n");
}

/* A table with these column headers (a NULL-terminated list); text
 * columns are width wide. */
static void table_begin(struct doc *d, const char *const *hdr, const int *width)
{
	d->ncols = 0;
	d->width = width;
	if (d->kind == PHA_DIFF_HTML)
		raw(d, "<table><tr>");
	for (const char *const *h = hdr; *h; h++, d->ncols++) {
		if (d->kind == PHA_DIFF_HTML)
			rawf(d, "<th>%s</th>", *h);
		else if (d->kind == PHA_DIFF_MD)
			rawf(d, "| %s ", *h);
		else if (h[1])
			rawf(d, "  %*s", -width[d->ncols], *h);
		else
			rawf(d, "  %s", *h);
	}
	if (d->kind == PHA_DIFF_HTML) {
		raw(d, "</tr>\n");
	} else if (d->kind == PHA_DIFF_MD) {
		raw(d, "|\n");
		for (int i = 0; i < d->ncols; i++)
			raw(d, "|---");
		raw(d, "|\n");
	} else {
		raw(d, "\n");
	}
}

static void row_begin(struct doc *d)
{
	d->col = 0;
	if (d->kind == PHA_DIFF_HTML)
		raw(d, "<tr>");
}

static void row_end(struct doc *d)
{
	raw(d, d->kind == PHA_DIFF_HTML ? "</tr>\n" : d->kind == PHA_DIFF_MD ? "|\n" : "\n");
	if (d->b.len >= DOC_FLUSH)
		pha_buf_flush(&d->b, d->out);
}

static void cell_open(struct doc *d)
{
	raw(d, d->kind == PHA_DIFF_HTML ? "<td>" : d->kind == PHA_DIFF_MD ? "| " : "  ");
}

static void cell_close(struct doc *d, size_t start)
{
	if (d->kind == PHA_DIFF_HTML) {
		raw(d, "</td>");
	} else if (d->kind == PHA_DIFF_MD) {
		raw(d, " ");
	} else if (d->col < d->ncols - 1) {
		/* text: pad to the column's width (bytes; the content is
		 * numbers and ASCII words, heap text comes last) */
		for (size_t w = d->b.len - start; (int)w < d->width[d->col]; w++)
			raw(d, " ");
	}
	d->col++;
}

__attribute__((format(printf, 2, 3)))
static void cellf(struct doc *d, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cell_open(d);
	size_t start = d->b.len;
	raw(d, buf);
	cell_close(d, start);
}

static void cell_heap(struct doc *d, const char *s)
{
	cell_open(d);
	size_t start = d->b.len;
	heap(d, s);
	cell_close(d, start);
}

static void table_end(struct doc *d, size_t shown, size_t total)
{
	if (d->kind == PHA_DIFF_HTML)
		raw(d, "</table>\n");
	if (shown < total)
		rawf(d, "%s… %zu more rows in the JSON diff%s\n",
		     d->kind == PHA_DIFF_HTML ? "<p>" : "  ", total - shown,
		     d->kind == PHA_DIFF_HTML ? "</p>" : "");
}

static void none(struct doc *d, const char *what)
{
	para_begin(d, "none");
	raw(d, what);
	para_end(d);
}

static void sz(char *buf, size_t size, int64_t v)
{
	char b[32];
	pha_human_size(b, sizeof(b), v < 0 ? (uint64_t)-v : (uint64_t)v);
	snprintf(buf, size, "%s%s", v < 0 ? "-" : "+", b);
}

/* ---- the parts ---------------------------------------------------------- */

static void inputs(struct doc *d, const struct pha_diff *x)
{
	const char *name[] = {"old", "new"};
	const char *path[] = {x->old_path, x->new_path};
	const struct pha_report *r[] = {x->old, x->new_};
	for (int i = 0; i < 2; i++) {
		para_begin(d, "input");
		rawf(d, "%s: ", name[i]);
		heap(d, path[i]);
		rawf(d, " (%s, Python ", r[i]->input_kind ? r[i]->input_kind : "?");
		heap(d, r[i]->version);
		if (r[i]->pid >= 0)
			rawf(d, ", pid %" PRId64, r[i]->pid);
		raw(d, ")");
		para_end(d);
	}
	para_begin(d, "input");
	raw(d, x->same_process ? "Both come from the same process (same pid and executable): "
				 "containers are matched by address first, then by path."
			       : "Not the same process: containers are matched by path.");
	para_end(d);
}

static void verdict(struct doc *d, const struct pha_diff *x)
{
	para_begin(d, "verdict");
	if (d->kind == PHA_DIFF_MD)
		raw(d, "**Verdict:** ");
	heap(d, x->verdict);
	para_end(d);
	for (size_t i = 0; i < x->nthresholds; i++) {
		const struct pha_diff_threshold *t = &x->thresholds[i];
		char v[40], l[40];
		para_begin(d, t->exceeded ? "exceeded" : "threshold");
		rawf(d, "%s ", t->exceeded ? "EXCEEDED" : "within");
		if (t->kind == PHA_THRESHOLD_GROWTH) {
			sz(v, sizeof(v), t->value);
			pha_human_size(l, sizeof(l), t->limit);
			rawf(d, "--fail-on-growth: the heap grew %s, limit %s", v, l);
		} else {
			raw(d, "--fail-on-type-growth: ");
			heap(d, t->type);
			rawf(d, " %+" PRId64 " objects, limit %" PRIu64, t->value, t->limit);
		}
		para_end(d);
	}
}

static void summary(struct doc *d, const struct pha_diff_num *v, size_t n, const char *title,
		    bool sizes)
{
	static const char *const hdr[] = {"", "old", "new", "delta", NULL};
	static const int width[] = {26, 14, 14, 14};
	heading(d, title);
	size_t rows = 0;
	for (size_t i = 0; i < n; i++)
		rows += v[i].new_ != v[i].old || !strcmp(v[i].name, "objects") ||
			!strcmp(v[i].name, "bytes");
	if (!rows) {
		none(d, "No change.");
		return;
	}
	table_begin(d, hdr, width);
	for (size_t i = 0; i < n; i++) {
		int64_t dv = (int64_t)v[i].new_ - (int64_t)v[i].old;
		if (!dv && strcmp(v[i].name, "objects") && strcmp(v[i].name, "bytes"))
			continue;
		row_begin(d);
		cellf(d, "%s", v[i].name);
		cellf(d, "%" PRIu64, v[i].old);
		cellf(d, "%" PRIu64, v[i].new_);
		if (sizes || strstr(v[i].name, "bytes")) {
			char b[40];
			sz(b, sizeof(b), dv);
			cellf(d, "%s", b);
		} else {
			cellf(d, "%+" PRId64, dv);
		}
		row_end(d);
	}
	table_end(d, 0, 0);
}

static void types(struct doc *d, const struct pha_diff *x)
{
	static const char *const hdr[] = {"count", "bytes", "retained", "type", NULL};
	static const int width[] = {10, 12, 12, 0};
	heading(d, "Types that changed (by bytes grown)");
	if (!x->ntypes) {
		none(d, "No type changed.");
		return;
	}
	table_begin(d, hdr, width);
	size_t n = x->ntypes < DOC_ROWS ? x->ntypes : DOC_ROWS;
	for (size_t i = 0; i < n; i++) {
		const struct pha_diff_type *t = &x->types[i];
		char b[40], r[40];
		sz(b, sizeof(b), t->bytes_delta);
		sz(r, sizeof(r), t->retained_delta);
		row_begin(d);
		cellf(d, "%+" PRId64, t->count_delta);
		cellf(d, "%s", b);
		cellf(d, "%s", r);
		cell_heap(d, t->name);
		row_end(d);
	}
	table_end(d, n, x->ntypes);
}

static void growth(struct doc *d, const struct pha_diff_growth *g, size_t total,
		   const char *title)
{
	static const char *const hdr[] = {"items", "retained", "matched", "type", "path", NULL};
	static const int width[] = {10, 12, 14, 14, 0};
	heading(d, title);
	if (!total) {
		none(d, "None.");
		return;
	}
	table_begin(d, hdr, width);
	size_t n = total < DOC_ROWS ? total : DOC_ROWS;
	for (size_t i = 0; i < n; i++, g++) {
		char r[40];
		row_begin(d);
		if (g->match == PHA_MATCH_NONE) {
			pha_human_size(r, sizeof(r), g->retained_new);
			cellf(d, "%" PRIu64, g->items_new);
			cellf(d, "%s", r);
			cellf(d, "%s", "-");
		} else {
			sz(r, sizeof(r), g->retained_delta);
			cellf(d, "%+" PRId64, g->items_delta);
			cellf(d, "%s", r);
			cellf(d, "%s", g->same_object ? "same object" : "by path");
		}
		cell_heap(d, g->type);
		cell_heap(d, g->path);
		row_end(d);
	}
	table_end(d, n, total);
}

static void group_rows(struct doc *d, const char *what, const struct pha_diff_group *g,
		       size_t total)
{
	size_t n = total < DOC_ROWS ? total : DOC_ROWS;
	for (size_t i = 0; i < n; i++, g++) {
		char b[40];
		sz(b, sizeof(b), (int64_t)g->bytes_new - (int64_t)g->bytes_old);
		row_begin(d);
		cellf(d, "%s", what);
		cellf(d, "%+" PRId64, (int64_t)g->instances_new - (int64_t)g->instances_old);
		cellf(d, "%s", b);
		cell_heap(d, g->signature);
		row_end(d);
	}
}

static void groups(struct doc *d, const struct pha_diff_groups *g, const char *title)
{
	static const char *const hdr[] = {"", "instances", "bytes", "signature", NULL};
	static const int width[] = {10, 10, 12, 0};
	heading(d, title);
	if (!g->nappeared && !g->nvanished && !g->nchanged) {
		none(d, "No change.");
		return;
	}
	table_begin(d, hdr, width);
	group_rows(d, "new", g->appeared, g->nappeared);
	group_rows(d, "vanished", g->vanished, g->nvanished);
	group_rows(d, "changed", g->changed, g->nchanged);
	table_end(d, 0, 0);
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<link rel=icon href=\"data:,\"><title>pyheap-analyze diff</title><style>"
	"body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:75em;padding:0 1em}"
	"table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;"
	"text-align:left}.verdict{background:#fff6d6;padding:.6em .8em;border-left:4px solid "
	"#e0a800}.exceeded{color:#b00020;font-weight:bold}</style></head><body>\n"
	"<h1>pyheap-analyze diff</h1>\n";

struct pha_error *pha_diff_write_doc(const struct pha_diff *x, enum pha_diff_doc kind,
				     struct pha_out *out)
{
	struct doc d = {.kind = kind, .out = out};
	pha_buf_init(&d.b);
	if (kind == PHA_DIFF_HTML)
		raw(&d, html_head);
	else
		raw(&d, kind == PHA_DIFF_MD ? "# pyheap-analyze diff\n\n" : "pyheap-analyze diff\n");
	inputs(&d, x);
	verdict(&d, x);
	summary(&d, x->summary, x->nsummary, "Summary", false);
	types(&d, x);
	growth(&d, x->growth, x->ngrowth, "Containers that grew (matched between the dumps)");
	growth(&d, x->appeared, x->nappeared,
	       "Containers among the new dump's largest that match none of the old one's");
	groups(&d, &x->unreachable, "Unreachable groups");
	groups(&d, &x->cycles, "Cycle shapes");
	if (x->memory)
		summary(&d, x->mem, x->nmem, "Memory (the memory sections)", true);
	if (kind == PHA_DIFF_HTML)
		rawf(&d, "<p>pyheap-analyze %s, %s</p></body></html>\n", PHA_VERSION,
		     PHA_DIFF_SCHEMA);
	else
		rawf(&d, "\npyheap-analyze %s, %s\n", PHA_VERSION, PHA_DIFF_SCHEMA);
	bool oom = d.b.oom;
	pha_buf_flush(&d.b, out);
	pha_buf_deinit(&d.b);
	return oom ? &pha_enomem : NULL;
}
