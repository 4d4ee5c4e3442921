/* The HTML report: one self-contained page for a ticket. No network: the
 * style, the script and the charts (SVG) are inline, nothing is loaded
 * from anywhere, so it works from file:// and as an attachment. It shows,
 * in this order: the verdict (what fills the memory, the top suspect and
 * its path), the input and process, the memory breakdown with a bar
 * chart, the leak suspects with their labelled paths, the top retainers
 * (expandable), the types by count, size and retained size (sortable by a
 * small script) with a chart, unreachable objects and their groups, the
 * cycles, the threads with frames and locals, waste, warnings.
 *
 * The page holds the report, not the heap: its size follows the number of
 * types (at most HTML_MAX_TYPES rows) and threads, not of objects.
 * Every string from the heap goes through pha_html_escape; the type table
 * the sorting script reads is embedded as JSON (pha_json_script_string:
 * no "</script>" can appear) and the script writes it back with
 * textContent only. Deterministic for a given report. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_common.h"
#include "report_write.h"

#define HTML_MAX_TYPES 2000
#define HTML_FLUSH 65536

struct html {
	struct pha_buf b;
	struct pha_out *out;
};

static void put(struct html *x, const char *s)
{
	pha_buf_puts(&x->b, s);
}

static void esc(struct html *x, const char *s)
{
	pha_html_escape(&x->b, s ? s : "");
}

static void size(struct html *x, uint64_t bytes)
{
	char b[32];
	pha_human_size(b, sizeof(b), bytes);
	pha_buf_printf(&x->b, "<span title=\"%" PRIu64 " bytes\">%s</span>", bytes, b);
}

static void maybe_flush(struct html *x)
{
	if (x->b.len >= HTML_FLUSH)
		pha_buf_flush(&x->b, x->out);
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:75em;padding:0 1em;"
	"color:#222}h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ccc;"
	"margin-top:1.6em}.verdict{font-size:1.1em;background:#fff6d6;padding:.6em .8em;"
	"border-left:4px solid #e0a800}table{border-collapse:collapse;margin:.4em 0}"
	"td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th.sort{cursor:pointer;"
	"text-decoration:underline dotted}.path{font-family:monospace;word-break:break-all}"
	".muted{color:#777}code,.mono{font-family:monospace}details{margin:.2em 0}"
	"summary{cursor:pointer}svg text{font:11px sans-serif}";

/* Sorts the types table from the embedded JSON; writes cells with
 * textContent only. Marks the body data-ready="1" when set up (the tests
 * see that the script ran). */
static const char script[] =
	"(function(){var d=JSON.parse(document.getElementById('types-data').textContent);"
	"var tb=document.getElementById('types-body');var dir={};"
	"document.querySelectorAll('#types th.sort').forEach(function(th){"
	"th.addEventListener('click',function(){var k=+th.dataset.k;dir[k]=!dir[k];"
	"d.sort(function(a,b){var x=a[k],y=b[k];var c=x<y?-1:x>y?1:0;"
	"return (dir[k]?-c:c)||(a[0]<b[0]?-1:a[0]>b[0]?1:0);});"
	"while(tb.firstChild)tb.removeChild(tb.firstChild);d.forEach(function(r){"
	"var tr=document.createElement('tr');r.forEach(function(v,i){var td="
	"document.createElement('td');if(i)td.className='n';td.textContent=i?v.toLocaleString():v;"
	"tr.appendChild(td);});tb.appendChild(tr);});});});"
	"document.body.setAttribute('data-ready','1');})();";

static void begin(void *ctx, const struct pha_report *r);

static void header(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	put(x, "<h2 id=\"input\">Input and process</h2><table>");
	put(x, "<tr><th>input</th><td class=\"mono\">");
	esc(x, r->input_path);
	put(x, " (");
	esc(x, r->input_kind);
	put(x, ")</td></tr><tr><th>Python</th><td>");
	esc(x, r->version);
	put(x, " (layout ");
	esc(x, r->layout);
	put(x, ")</td></tr><tr><th>process</th><td>");
	if (r->pid >= 0)
		pha_buf_printf(&x->b, "pid %" PRId64 ", ", (int64_t)r->pid);
	if (r->signal)
		pha_buf_printf(&x->b, "signal %d, ", r->signal);
	esc(x, r->executable ? r->executable : "executable unknown");
	put(x, "</td></tr><tr><th>command line</th><td class=\"mono\">");
	for (size_t i = 0; i < r->argc; i++) {
		if (i)
			put(x, " ");
		esc(x, r->argv[i]);
	}
	if (!r->argc)
		put(x, "<span class=\"muted\">unknown</span>");
	pha_buf_printf(&x->b, "</td></tr><tr><th>objects</th><td>%" PRIu64 " (", r->summary.objects);
	size(x, r->summary.bytes);
	pha_buf_printf(&x->b, "), %" PRIu64 " GC-tracked, %" PRIu64 " references</td></tr></table>\n",
		       r->summary.gc_objects, r->summary.edges);
}

/* A horizontal bar of n parts; width in percent of the largest. */
static void bar_chart(struct html *x, const char *const *labels, const uint64_t *values, size_t n)
{
	uint64_t max = 1;
	for (size_t i = 0; i < n; i++)
		if (values[i] > max)
			max = values[i];
	pha_buf_printf(&x->b, "<svg role=\"img\" width=\"640\" height=\"%zu\" viewBox=\"0 0 640 %zu\">",
		       n * 18 + 4, n * 18 + 4);
	for (size_t i = 0; i < n; i++) {
		char b[32];
		double w = 380.0 * (double)values[i] / (double)max;
		pha_human_size(b, sizeof(b), values[i]);
		pha_buf_printf(&x->b, "<rect x=\"250\" y=\"%zu\" width=\"%.1f\" height=\"14\" "
				      "fill=\"#4a7bd0\"></rect><text x=\"245\" y=\"%zu\" "
				      "text-anchor=\"end\">",
			       i * 18 + 2, w < 1 ? 1 : w, i * 18 + 13);
		esc(x, labels[i]);
		pha_buf_printf(&x->b, " (%s)</text>", b);
	}
	put(x, "</svg>\n");
}

static void memory(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	const struct pha_procmem *m = r->memory;
	if (!m || !m->available)
		return;
	int order[PHA_MEM_COUNT];
	const char *labels[PHA_MEM_COUNT];
	uint64_t values[PHA_MEM_COUNT];
	size_t n = 0;
	pha_memcat_by_size(m, order);
	put(x, "<h2 id=\"memory\">Memory of the process</h2><p>");
	size(x, m->total_bytes);
	pha_buf_printf(&x->b, " in %" PRIu64 " mappings; in use (without file mappings, "
			      "reservations and untouched pages): ", m->mappings);
	size(x, pha_mem_in_use(m));
	put(x, "</p>");
	for (int i = 0; i < PHA_MEM_COUNT; i++) {
		if (!m->cat[order[i]])
			continue;
		labels[n] = pha_memcat_text(order[i]);
		values[n++] = m->cat[order[i]];
	}
	bar_chart(x, labels, values, n);
	if (m->nnative_types) {
		put(x, "<table><tr><th>native memory held by</th><th class=\"n\">objects</th>"
		       "<th class=\"n\">bytes</th></tr>");
		for (size_t i = 0; i < m->nnative_types && i < 20; i++) {
			put(x, "<tr><td>");
			esc(x, m->native_by_type[i].type);
			pha_buf_printf(&x->b, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">",
				       m->native_by_type[i].objects);
			size(x, m->native_by_type[i].bytes);
			put(x, "</td></tr>");
		}
		put(x, "</table>\n");
	}
}

static void esc_cb(struct pha_buf *b, const char *s)
{
	pha_html_escape(b, s);
}

/* A labelled path: each step's label and the type it leads to. */
static void path(struct html *x, const struct pha_path *p)
{
	if (!p->n) {
		put(x, "<div class=\"muted\">no path from a root</div>");
		return;
	}
	put(x, "<div class=\"path\">");
	pha_path_join(&x->b, p, esc_cb, 0);
	put(x, "</div><ol class=\"steps muted\">");
	for (size_t k = 0; k < p->n; k++) {
		put(x, "<li><span class=\"mono\">");
		esc(x, p->elems[k].label);
		put(x, "</span> → ");
		esc(x, p->elems[k].type);
		pha_buf_printf(&x->b, " <span class=\"mono\">0x%" PRIx64 "</span></li>", p->elems[k].addr);
	}
	put(x, "</ol>");
}

static void suspects(struct html *x, const struct pha_why *w)
{
	put(x, "<h2 id=\"suspects\">Leak suspects</h2>");
	if (!w->nsuspects) {
		put(x, "<p>None above the threshold.</p>\n");
		return;
	}
	put(x, "<ol>");
	for (size_t i = 0; i < w->nsuspects; i++) {
		const struct pha_suspect *s = &w->suspects[i];
		pha_buf_printf(&x->b, "<li class=\"suspect\"><b>%s</b>: ",
			       s->kind == PHA_SUSPECT_ACCUMULATION ? "accumulation" : "unexplained references");
		esc(x, s->sentence);
		path(x, &s->path);
		put(x, "</li>");
		maybe_flush(x);
	}
	put(x, "</ol>\n");
}

static void retainers(struct html *x, const struct pha_why *w)
{
	put(x, "<h2 id=\"retainers\">Top retainers (dominator tree)</h2>");
	put(x, "<p>Heap reachable from the roots: ");
	size(x, w->heap_bytes);
	pha_buf_printf(&x->b, " in %" PRIu64 " objects; not reached from any root: %" PRIu64
			      " objects, ", w->heap_objects, w->unrooted_objects);
	size(x, w->unrooted_bytes);
	put(x, ".</p>");
	for (size_t i = 0; i < w->ntop; i++) {
		const struct pha_retainer *t = &w->top[i];
		put(x, "<details><summary>");
		size(x, t->retained);
		put(x, " retained by ");
		esc(x, t->type);
		pha_buf_printf(&x->b, " <span class=\"mono\">0x%" PRIx64 "</span> (shallow ", t->addr);
		size(x, t->shallow);
		put(x, ")</summary>");
		path(x, &t->path);
		put(x, "</details>");
		maybe_flush(x);
	}
}

static void why(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	suspects(x, &r->why);
	retainers(x, &r->why);
}

/* Retained size of a type by name (why.types is sorted by size). */
static int cmp_retained(const void *a, const void *b)
{
	return strcmp(((const struct pha_retained_type *)a)->name,
		      ((const struct pha_retained_type *)b)->name);
}

static uint64_t retained_of(const struct pha_retained_type *sorted, size_t n, const char *name)
{
	struct pha_retained_type key = {.name = name};
	const struct pha_retained_type *f = n ? bsearch(&key, sorted, n, sizeof(key), cmp_retained) : NULL;
	return f ? f->retained_bytes : 0;
}

static void types_chart(struct html *x, const struct pha_report *r)
{
	const char *labels[10];
	uint64_t values[10];
	size_t n = 0;
	for (; n < r->ntypes && n < 10; n++) {
		labels[n] = r->types[n].name;
		values[n] = r->types[n].bytes;
	}
	bar_chart(x, labels, values, n);
}

static void types(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	size_t nr = r->why.ntypes;
	struct pha_retained_type *sorted = nr ? malloc(nr * sizeof(*sorted)) : NULL;
	if (sorted) {
		memcpy(sorted, r->why.types, nr * sizeof(*sorted));
		qsort(sorted, nr, sizeof(*sorted), cmp_retained);
	} else {
		nr = 0;
	}
	size_t shown = r->ntypes < HTML_MAX_TYPES ? r->ntypes : HTML_MAX_TYPES;
	pha_buf_printf(&x->b, "<h2 id=\"types-h\">Types (%zu)</h2>", r->ntypes);
	types_chart(x, r);
	put(x, "<table id=\"types\"><thead><tr><th class=\"sort\" data-k=\"0\">type</th>"
	       "<th class=\"sort n\" data-k=\"1\">count</th><th class=\"sort n\" data-k=\"2\">bytes</th>"
	       "<th class=\"sort n\" data-k=\"3\">retained</th><th class=\"sort n\" data-k=\"4\">"
	       "unreachable</th></tr></thead><tbody id=\"types-body\">");
	for (size_t i = 0; i < shown; i++) {
		const struct pha_report_type *t = &r->types[i];
		put(x, "<tr><td>");
		esc(x, t->name);
		pha_buf_printf(&x->b, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
				      "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td></tr>",
			       t->count, t->bytes, retained_of(sorted, nr, t->name), t->unreachable);
		maybe_flush(x);
	}
	put(x, "</tbody></table>");
	if (shown < r->ntypes)
		pha_buf_printf(&x->b, "<p class=\"muted\">%zu more types in the JSON report.</p>",
			       r->ntypes - shown);
	put(x, "<script type=\"application/json\" id=\"types-data\">[");
	for (size_t i = 0; i < shown; i++) {
		const struct pha_report_type *t = &r->types[i];
		put(x, i ? ",[" : "[");
		pha_json_script_string(&x->b, t->name);
		pha_buf_printf(&x->b, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", t->count,
			       t->bytes, retained_of(sorted, nr, t->name), t->unreachable);
		maybe_flush(x);
	}
	put(x, "]</script>\n");
	free(sorted);
}

static void groups_table(struct html *x, const struct pha_report_group *g, size_t n, bool flags)
{
	put(x, "<table><tr><th class=\"n\">instances</th><th>shape</th><th class=\"n\">objects</th>"
	       "<th class=\"n\">bytes</th>");
	put(x, flags ? "<th>kind</th></tr>" : "</tr>");
	for (size_t i = 0; i < n && i < 200; i++) {
		pha_buf_printf(&x->b, "<tr><td class=\"n\">%" PRIu64 "</td><td>", g[i].instances);
		esc(x, g[i].signature);
		pha_buf_printf(&x->b, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">", g[i].objects);
		size(x, g[i].bytes);
		if (flags)
			pha_buf_printf(&x->b, "</td><td>%s%s", g[i].world ? "module world" : "user",
				       g[i].unreachable ? ", unreachable" : "");
		put(x, "</td></tr>");
		maybe_flush(x);
	}
	put(x, "</table>");
	if (n > 200)
		pha_buf_printf(&x->b, "<p class=\"muted\">%zu more rows in the JSON report.</p>", n - 200);
	put(x, "\n");
}

static void unreachable(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	put(x, "<h2 id=\"unreachable\">Unreachable objects (what gc.collect() would find)</h2>");
	pha_buf_printf(&x->b, "<p>%" PRIu64 " GC objects; collecting them frees %" PRIu64 " objects, ",
		       r->summary.unreachable_objects, r->summary.unreachable_freed_objects);
	size(x, r->summary.unreachable_bytes);
	put(x, ".</p>");
	if (r->nunreachable_types) {
		put(x, "<table><tr><th>type</th><th class=\"n\">count</th><th class=\"n\">bytes</th></tr>");
		for (size_t i = 0; i < r->nunreachable_types && i < 200; i++) {
			const struct pha_report_type *t = r->unreachable_types[i];
			put(x, "<tr><td>");
			esc(x, t->name);
			pha_buf_printf(&x->b, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">",
				       t->unreachable);
			size(x, t->unreachable_bytes);
			put(x, "</td></tr>");
		}
		put(x, "</table><h3>Unreachable groups</h3>");
		groups_table(x, r->ugroups, r->nugroups, false);
	}
}

static void cycles(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	if (!r->ncycles)
		return;
	pha_buf_printf(&x->b, "<h2 id=\"cycles\">Reference cycles (%" PRIu64 " user cycles)</h2>",
		       r->summary.user_cycles);
	groups_table(x, r->cycles, r->ncycles, true);
}

static void frame(struct html *x, const struct pha_report_frame *f, const struct pha_frame_local *loc)
{
	put(x, "<li><span class=\"mono\">");
	esc(x, f->function);
	put(x, "</span> <span class=\"muted\">");
	esc(x, f->filename);
	if (f->line >= 0)
		pha_buf_printf(&x->b, ":%d", f->line);
	put(x, "</span>");
	if (loc && f->nlocals) {
		put(x, "<ul class=\"locals\">");
		for (size_t q = 0; q < f->nlocals; q++) {
			put(x, "<li><span class=\"mono\">");
			esc(x, loc[q].name);
			put(x, "</span> = ");
			if (!loc[q].type) {
				put(x, "<span class=\"muted\">unbound</span></li>");
				continue;
			}
			esc(x, loc[q].type);
			if (loc[q].preview && loc[q].preview[0]) {
				put(x, " <span class=\"mono\">");
				esc(x, loc[q].preview);
				put(x, "</span>");
			}
			put(x, " <span class=\"muted\">retains ");
			size(x, loc[q].retained);
			put(x, "</span></li>");
		}
		put(x, "</ul>");
	}
	put(x, "</li>");
}

static void threads(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	const struct pha_why *w = &r->why;
	pha_buf_printf(&x->b, "<h2 id=\"threads\">Threads (%zu)</h2>", r->nthreads);
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pha_report_thread *t = &r->threads[i];
		pha_buf_printf(&x->b, "<details class=\"thread\"%s><summary>Thread 0x%" PRIx64
				      " (native id %" PRIu64 ")%s, %zu frames</summary><ol>",
			       t->crashed || i == 0 ? " open" : "", t->thread_id, t->native_id,
			       t->crashed ? " — received the signal" : "", t->nframes);
		for (size_t k = 0; k < t->nframes; k++)
			frame(x, &t->frames[k], w->locals && w->locals[i] ? w->locals[i][k] : NULL);
		put(x, "</ol></details>\n");
		maybe_flush(x);
	}
}

static void waste(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	const struct pha_waste *ws = &r->why.waste;
	if (!ws->available)
		return;
	put(x, "<h2 id=\"waste\">Waste</h2>");
	for (int kd = 0; kd < 2; kd++) {
		const struct pha_dup_kind *dk = kd ? &ws->dup_bytes : &ws->dup_str;
		pha_buf_printf(&x->b, "<p>Duplicate %s: %" PRIu64 " values with %" PRIu64 " copies, ",
			       kd ? "bytes" : "str", dk->groups, dk->copies);
		size(x, dk->wasted_bytes);
		put(x, " wasted.</p><table>");
		for (size_t i = 0; i < dk->ntop && i < 20; i++) {
			pha_buf_printf(&x->b, "<tr><td class=\"n\">%" PRIu64 " ×</td><td class=\"mono\">",
				       dk->top[i].copies);
			esc(x, dk->top[i].preview);
			put(x, "</td><td class=\"n\">");
			size(x, dk->top[i].wasted_bytes);
			put(x, "</td></tr>");
		}
		put(x, "</table>");
	}
	pha_buf_printf(&x->b, "<p>Empty containers: %" PRIu64 " (", ws->empty.count);
	size(x, ws->empty.bytes);
	pha_buf_printf(&x->b, "); mostly empty: %" PRIu64 " (", ws->mostly_empty.count);
	size(x, ws->mostly_empty.bytes);
	put(x, ").</p>\n");
}

static void warnings(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	pha_buf_printf(&x->b, "<h2 id=\"warnings\">Warnings (%zu)</h2><ul>", r->nwarnings);
	for (size_t i = 0; i < r->nwarnings; i++) {
		put(x, "<li>");
		esc(x, r->warnings[i]);
		put(x, "</li>");
	}
	put(x, "</ul>\n");
}

static void end(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	put(x, "<hr><p class=\"muted\" id=\"tool\">pyheap-analyze " PHA_VERSION " — "
	       PHA_REPORT_SCHEMA "</p>\n<script>");
	put(x, script);
	put(x, "</script>\n</body></html>\n");
}

static const enum pha_report_section html_order[] = {
	PHA_SECTION_HEADER, PHA_SECTION_MEMORY, PHA_SECTION_WHY, PHA_SECTION_TYPES,
	PHA_SECTION_UNREACHABLE, PHA_SECTION_CYCLES, PHA_SECTION_THREADS, PHA_SECTION_WASTE,
	PHA_SECTION_WARNINGS,
};

static const struct pha_report_writer html_writer = {
	.name = "html",
	.begin = begin,
	.end = end,
	.section = {
		[PHA_SECTION_HEADER] = header,
		[PHA_SECTION_MEMORY] = memory,
		[PHA_SECTION_WHY] = why,
		[PHA_SECTION_TYPES] = types,
		[PHA_SECTION_UNREACHABLE] = unreachable,
		[PHA_SECTION_CYCLES] = cycles,
		[PHA_SECTION_THREADS] = threads,
		[PHA_SECTION_WASTE] = waste,
		[PHA_SECTION_WARNINGS] = warnings,
	},
	.order = html_order,
	.norder = sizeof(html_order) / sizeof(html_order[0]),
};

/* The document's head and the verdict: what fills the memory, the top
 * suspect and its path. */
static void begin(void *ctx, const struct pha_report *r)
{
	struct html *x = ctx;
	put(x, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width\"><link rel=\"icon\" "
	       "href=\"data:,\"><title>pyheap-analyze: ");
	esc(x, r->input_path);
	put(x, "</title><style>");
	put(x, css);
	put(x, "</style></head><body>\n<h1>pyheap-analyze report: <span class=\"mono\">");
	esc(x, r->input_path);
	put(x, "</span></h1>\n<p class=\"verdict\" id=\"verdict\">");
	if (r->memory && r->memory->available) {
		int order[PHA_MEM_COUNT], shown = 0;
		pha_memcat_by_size(r->memory, order);
		put(x, "The process uses ");
		size(x, pha_mem_in_use(r->memory));
		for (int i = 0; i < PHA_MEM_COUNT && shown < 3; i++) {
			int c = order[i];
			if (!pha_memcat_in_use(c) || !r->memory->cat[c])
				continue;
			put(x, shown++ ? ", " : ": mostly ");
			size(x, r->memory->cat[c]);
			put(x, " ");
			put(x, pha_memcat_text(c));
		}
		put(x, ". ");
	}
	pha_buf_printf(&x->b, "The Python heap holds %" PRIu64 " objects (", r->summary.objects);
	size(x, r->summary.bytes);
	put(x, "). ");
	const struct pha_suspect *s = pha_report_top_suspect(r);
	if (s) {
		put(x, "<b>Top suspect:</b> ");
		esc(x, s->sentence);
		if (s->path.n) {
			put(x, " <span class=\"path\">");
			pha_path_join(&x->b, &s->path, esc_cb, 0);
			put(x, "</span>");
		}
	} else {
		put(x, "No leak suspect.");
	}
	put(x, "</p>\n");
}

struct pha_error *pha_report_write_html(const struct pha_report *r, struct pha_out *out)
{
	struct html x = {.out = out};
	pha_buf_init(&x.b);
	pha_report_walk(r, &html_writer, &x);
	bool oom = x.b.oom;
	pha_buf_flush(&x.b, out);
	pha_buf_deinit(&x.b);
	return oom ? &pha_enomem : NULL;
}
