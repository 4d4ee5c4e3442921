/* The text summary: the same sections as the JSON report, each cut to the
 * first `top` rows, in reading order (the threads, long, near the end). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "report_common.h"
#include "report_write.h"

struct text {
	struct pha_out *out;
	int top;	/* rows per table */
};

/* Everything that comes from the heap or the core (type names,
 * signatures, labels, previews, paths, argv, warnings) goes through the
 * one terminal escaper (formats/json.c): a str in the dumped process can
 * hold escape sequences, and a summary must not act on the terminal. */
static void esc(struct pha_out *out, const char *s)
{
	pha_text_escape(out, s ? s : "");
}

/* esc, then spaces up to width bytes (what "%-Ns" did). */
static void esc_pad(struct pha_out *out, const char *s, size_t width)
{
	esc(out, s);
	for (size_t n = s ? strlen(s) : 0; n < width; n++)
		pha_out_puts(out, " ");
}

static void groups(struct pha_out *out, const struct pha_report_group *g, size_t n, int top,
		   bool flag)
{
	for (size_t i = 0; i < n && (int)i < top; i++) {
		char b[32];
		pha_human_size(b, sizeof(b), g[i].bytes);
		pha_out_printf(out, "  %9" PRIu64 " × ", g[i].instances);
		esc_pad(out, g[i].signature, 60);
		pha_out_printf(out, " %9" PRIu64 " objects %10s%s%s\n", g[i].objects, b,
			       flag && g[i].world ? "  [module world]" : "",
			       flag && g[i].unreachable ? "  [unreachable]" : "");
	}
	if (n > (size_t)top)
		pha_out_printf(out, "  … %zu more (see the report)\n", n - (size_t)top);
}

static void header(void *ctx, const struct pha_report *r)
{
	struct pha_out *out = ((struct text *)ctx)->out;
	pha_out_printf(out, "pyheap-analyze %s — ", PHA_VERSION);
	esc(out, r->input_path);
	pha_out_puts(out, "\nPython ");
	esc(out, r->version);
	pha_out_puts(out, " (layout ");
	esc(out, r->layout);
	pha_out_puts(out, ")\n");
	char pid[32] = "unknown", sig[32] = "unknown";
	if (r->pid >= 0)
		snprintf(pid, sizeof(pid), "%" PRId64, (int64_t)r->pid);
	if (r->signal)
		snprintf(sig, sizeof(sig), "%d", r->signal);
	pha_out_printf(out, "Process: pid %s, signal %s, ", pid, sig);
	esc(out, r->executable ? r->executable : "executable unknown");
	pha_out_puts(out, "\n");
	if (r->argc) {
		pha_out_puts(out, "Command:");
		for (size_t i = 0; i < r->argc; i++) {
			pha_out_puts(out, " ");
			esc(out, r->argv[i]);
		}
		pha_out_puts(out, "\n");
	}
}

static void summary(void *ctx, const struct pha_report *r)
{
	struct pha_out *out = ((struct text *)ctx)->out;
	char b1[32], b2[32];
	pha_human_size(b1, sizeof(b1), r->summary.bytes);
	pha_out_printf(out, "\nObjects: %" PRIu64 " (%s), GC-tracked: %" PRIu64
			    ", references: %" PRIu64 "\n",
		       r->summary.objects, b1, r->summary.gc_objects, r->summary.edges);
	pha_human_size(b2, sizeof(b2), r->summary.unreachable_bytes);
	pha_out_printf(out, "Unreachable (gc.collect() would find): %" PRIu64 " GC objects; "
			    "it would free them and what only they keep alive: %" PRIu64
			    " objects, %s\n",
		       r->summary.unreachable_objects, r->summary.unreachable_freed_objects, b2);
	pha_human_size(b1, sizeof(b1), r->summary.user_cycle_bytes);
	pha_human_size(b2, sizeof(b2), r->summary.cycle_bytes - r->summary.user_cycle_bytes);
	pha_out_printf(out, "Reference cycles: %" PRIu64 " (%" PRIu64 " objects, %s), "
			    "plus %" PRIu64 " module-world objects (%s) in cycles only through "
			    "modules and classes\n",
		       r->summary.user_cycles, r->summary.user_cycle_objects, b1,
		       r->summary.cycle_objects - r->summary.user_cycle_objects, b2);
}

static void types(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	char b1[32];
	pha_out_printf(x->out, "\nTop types by size:\n  %10s %12s  %s\n", "count", "size", "type");
	for (size_t i = 0; i < r->ntypes && (int)i < x->top; i++) {
		pha_human_size(b1, sizeof(b1), r->types[i].bytes);
		pha_out_printf(x->out, "  %10" PRIu64 " %12s  ", r->types[i].count, b1);
		esc(x->out, r->types[i].name);
		pha_out_puts(x->out, "\n");
	}
}

static void unreachable(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	char b1[32];
	if (!r->nunreachable_types)
		return;
	pha_out_printf(x->out, "\nUnreachable objects by type:\n  %10s %12s  %s\n", "count", "size",
		       "type");
	for (size_t i = 0; i < r->nunreachable_types && (int)i < x->top; i++) {
		const struct pha_report_type *t = r->unreachable_types[i];
		pha_human_size(b1, sizeof(b1), t->unreachable_bytes);
		pha_out_printf(x->out, "  %10" PRIu64 " %12s  ", t->unreachable, b1);
		esc(x->out, t->name);
		pha_out_puts(x->out, "\n");
	}
	pha_out_puts(x->out, "\nUnreachable groups (by reference-cycle shape):\n");
	groups(x->out, r->ugroups, r->nugroups, x->top, false);
}

static void cycles(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	if (!r->ncycles)
		return;
	pha_out_puts(x->out, "\nReference cycles (grouped by shape; the module world last):\n");
	groups(x->out, r->cycles, r->ncycles, x->top, true);
}

static void suspects(const struct text *x, const struct pha_why *w)
{
	size_t shown = 0;
	pha_out_puts(x->out, "\nLeak suspects:\n");
	for (size_t i = 0; i < w->nsuspects && (int)shown < x->top; i++) {
		const struct pha_suspect *sp = &w->suspects[i];
		/* Small unexplained groups are noise in a summary. */
		if (sp->kind == PHA_SUSPECT_UNEXPLAINED && sp->excess_refs < 100)
			continue;
		shown++;
		pha_out_printf(x->out, "  - [%s] ",
			       sp->kind == PHA_SUSPECT_UNEXPLAINED ? "unexplained refs" : "accumulation");
		esc(x->out, sp->sentence);
		pha_out_puts(x->out, "\n");
	}
	if (!shown)
		pha_out_puts(x->out, "  (none above the summary's thresholds; see the report)\n");
}

/* The plain table of what C code holds on purpose (not suspects). */
static void held_by_c(const struct text *x, const struct pha_why *w)
{
	char b1[32];
	pha_human_size(b1, sizeof(b1), w->held_by_c_bytes);
	pha_out_printf(x->out, "\nHeld by C code (the interpreter, C modules; not leak suspects): "
			       "%" PRIu64 " objects, %s\n  %9s %12s  %s\n",
		       w->held_by_c_objects, b1, "objects", "bytes", "type: why");
	for (size_t i = 0; i < w->nheld_by_c && (int)i < x->top; i++) {
		const struct pha_held_group *g = &w->held_by_c[i];
		pha_human_size(b1, sizeof(b1), g->bytes);
		pha_out_printf(x->out, "  %9" PRIu64 " %12s  ", g->objects, b1);
		esc(x->out, g->type);
		pha_out_puts(x->out, ": ");
		esc(x->out, g->reason);
		pha_out_puts(x->out, "\n");
	}
}

/* "via sys.modules['app'].__dict__ → …": the labels joined by " → "
 * (none before ".name" and "[key]"); an elided path gets "…" in front of
 * its 33rd element (why.c keeps the first PATH_MAX_ELEMS/2 = 32). */
static void path(struct pha_out *out, const struct pha_path *p)
{
	pha_out_printf(out, "  %12s %12s    via ", "", "");
	for (size_t k = 0; k < p->n; k++) {
		/* NULL only from a hand-made saved report */
		const char *l = p->elems[k].label ? p->elems[k].label : "?";
		if (k && l[0] != '.' && l[0] != '[')
			pha_out_puts(out, " → ");
		if (p->elided && k == 32)
			pha_out_puts(out, "…");
		esc(out, l);
	}
	pha_out_puts(out, "\n");
}

static void top_retainers(const struct text *x, const struct pha_why *w)
{
	char b1[32], b2[32];
	pha_out_printf(x->out, "\nTop retainers:\n  %12s %12s  %s\n", "retained", "shallow",
		       "type, path");
	for (size_t i = 0; i < w->ntop && (int)i < x->top; i++) {
		const struct pha_retainer *t = &w->top[i];
		pha_human_size(b1, sizeof(b1), t->retained);
		pha_human_size(b2, sizeof(b2), t->shallow);
		pha_out_printf(x->out, "  %12s %12s  ", b1, b2);
		esc(x->out, t->type);
		pha_out_printf(x->out, " at 0x%" PRIx64, t->addr);
		if (t->retained_native) {
			pha_human_size(b1, sizeof(b1), t->retained_native);
			pha_out_printf(x->out, " (+ %s native)", b1);
		}
		pha_out_puts(x->out, "\n");
		if (t->path.n)
			path(x->out, &t->path);
	}
}

static void retained_types(const struct text *x, const struct pha_why *w)
{
	char b1[32];
	pha_out_printf(x->out, "\nTop types by retained size:\n  %12s  %s\n", "retained", "type");
	for (size_t i = 0; i < w->ntypes && (int)i < x->top; i++) {
		pha_human_size(b1, sizeof(b1), w->types[i].retained_bytes);
		pha_out_printf(x->out, "  %12s  ", b1);
		esc(x->out, w->types[i].name);
		pha_out_puts(x->out, "\n");
	}
}

/* The heap total, leak suspects, top retainers, types by retained size. */
static void why(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	const struct pha_why *w = &r->why;
	char b1[32], b2[32];
	pha_human_size(b1, sizeof(b1), w->heap_bytes);
	pha_human_size(b2, sizeof(b2), w->unrooted_bytes);
	pha_out_printf(x->out, "\nHeap total (reachable from the roots): %" PRIu64 " objects, %s; "
			       "not reached from any root: %" PRIu64 " objects, %s\n",
		       w->heap_objects, b1, w->unrooted_objects, b2);
	if (w->nsuspects)
		suspects(x, w);
	if (w->nheld_by_c)
		held_by_c(x, w);
	if (w->ntop)
		top_retainers(x, w);
	if (w->ntypes)
		retained_types(x, w);
}

static void waste(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	const struct pha_waste *ws = &r->why.waste;
	char b1[32], b2[32];
	if (!ws->available)
		return;
	pha_out_puts(x->out, "\nWaste:\n");
	for (int kd = 0; kd < 2; kd++) {
		const struct pha_dup_kind *dk = kd ? &ws->dup_bytes : &ws->dup_str;
		pha_human_size(b1, sizeof(b1), dk->wasted_bytes);
		pha_out_printf(x->out, "  duplicate %s: %" PRIu64 " values with %" PRIu64
				       " copies, %s wasted\n",
			       kd ? "bytes" : "str", dk->groups, dk->copies, b1);
		for (size_t i = 0; i < dk->ntop && (int)i < x->top && i < 5; i++) {
			pha_human_size(b1, sizeof(b1), dk->top[i].wasted_bytes);
			pha_out_printf(x->out, "    %12s  %" PRIu64 " × ", b1, dk->top[i].copies);
			esc(x->out, dk->top[i].preview);
			pha_out_puts(x->out, "\n");
		}
	}
	pha_human_size(b1, sizeof(b1), ws->empty.bytes);
	pha_human_size(b2, sizeof(b2), ws->mostly_empty.bytes);
	pha_out_printf(x->out, "  empty containers: %" PRIu64 " (%s); mostly empty "
			       "(≤ 1/8 of ≥ 8 slots used): %" PRIu64 " (%s)\n",
		       ws->empty.count, b1, ws->mostly_empty.count, b2);
}

/* "Allocated at": tracemalloc's statistics('lineno'); nothing when it was
 * not tracing (the text summary of a report without it is unchanged). */
static void allocations(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	const struct pha_allocs *a = r->allocs;
	char b1[32], b2[32];
	if (!a || !a->tracing)
		return;
	pha_out_puts(x->out, "\nAllocated at (tracemalloc):\n");
	if (!a->traces) {
		pha_out_puts(x->out, "  tracing, but the traces are not available: ");
		esc(x->out, a->reason);
		pha_out_puts(x->out, "\n");
		return;
	}
	pha_human_size(b1, sizeof(b1), a->traced_bytes);
	pha_human_size(b2, sizeof(b2), a->peak_bytes);
	pha_out_printf(x->out, "  %s traced in %" PRIu64 " blocks (peak %s), %u frames per "
			       "traceback\n", b1, a->ntraces, b2, a->max_frames);
	for (size_t i = 0; i < a->nby_line && (int)i < x->top; i++) {
		const struct pha_alloc_stat *st = &a->by_line[i];
		pha_human_size(b1, sizeof(b1), st->bytes);
		pha_out_printf(x->out, "  %12s %9" PRIu64 " blocks  ", b1, st->count);
		esc(x->out, st->file < a->nfiles ? a->files[st->file] : "<unknown>");
		pha_out_printf(x->out, ":%u\n", st->line);
	}
}

static void frame(struct pha_out *out, const struct pha_report_frame *f,
		  const struct pha_frame_local *loc)
{
	char b1[32];
	pha_out_puts(out, "    ");
	esc(out, f->function);
	pha_out_puts(out, " (");
	esc(out, f->filename);
	if (f->line >= 0)
		pha_out_printf(out, ":%d", f->line);
	pha_out_puts(out, ")\n");
	for (size_t q = 0; loc && q < f->nlocals; q++) {
		if (!loc[q].type) {
			pha_out_puts(out, "      ");
			esc(out, loc[q].name);
			pha_out_puts(out, " = <unbound>\n");
			continue;
		}
		pha_human_size(b1, sizeof(b1), loc[q].retained);
		pha_out_puts(out, "      ");
		esc(out, loc[q].name);
		pha_out_puts(out, " = ");
		esc(out, loc[q].type);
		if (loc[q].preview && loc[q].preview[0]) {
			pha_out_puts(out, " ");
			esc(out, loc[q].preview);
		}
		pha_out_printf(out, " (retains %s)\n", b1);
	}
}

static void threads(void *ctx, const struct pha_report *r)
{
	struct pha_out *out = ((struct text *)ctx)->out;
	const struct pha_why *w = &r->why;
	pha_out_printf(out, "\nThreads: %zu\n", r->nthreads);
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pha_report_thread *t = &r->threads[i];
		pha_out_printf(out, "  Thread 0x%" PRIx64 " (native id %" PRIu64 ")%s\n",
			       t->thread_id, t->native_id, t->crashed ? " — received the signal" : "");
		if (!t->nframes)
			pha_out_puts(out, "    (no Python frames)\n");
		for (size_t k = 0; k < t->nframes; k++)
			frame(out, &t->frames[k], w->locals && w->locals[i] ? w->locals[i][k] : NULL);
	}
}

static void warnings(void *ctx, const struct pha_report *r)
{
	struct pha_out *out = ((struct text *)ctx)->out;
	if (!r->nwarnings)
		return;
	pha_out_printf(out, "\nWarnings (%zu):\n", r->nwarnings);
	for (size_t i = 0; i < r->nwarnings; i++) {
		pha_out_puts(out, "  - ");
		esc(out, r->warnings[i]);
		pha_out_puts(out, "\n");
	}
}

/* ---- memory (report/3) ---- */

/* The line a person reads first: what fills the memory. File mappings,
 * reservations and untouched pages are not what an OOM is about. */
static void memory_verdict(void *ctx, const struct pha_report *r)
{
	struct pha_out *out = ((struct text *)ctx)->out;
	const struct pha_procmem *m = r->memory;
	if (!m)
		return;
	int order[PHA_MEM_COUNT];
	pha_memcat_by_size(m, order);
	uint64_t used = m->total_bytes - m->cat[PHA_MEM_IMAGES] - m->cat[PHA_MEM_FILES] -
			m->cat[PHA_MEM_RESERVED] - m->cat[PHA_MEM_ANON_ZERO];
	char b[32];
	pha_human_size(b, sizeof(b), used);
	pha_out_printf(out, "Memory in use %s:", b);
	int shown = 0;
	for (int i = 0; i < PHA_MEM_COUNT && shown < 4; i++) {
		int c = order[i];
		if (c == PHA_MEM_IMAGES || c == PHA_MEM_FILES || c == PHA_MEM_RESERVED ||
		    c == PHA_MEM_ANON_ZERO || !m->cat[c])
			continue;
		pha_human_size(b, sizeof(b), m->cat[c]);
		pha_out_printf(out, "%s %s %s", shown ? "," : "", b, pha_memcat_text(c));
		if ((c == PHA_MEM_NATIVE_BUFFERS || c == PHA_MEM_NATIVE_INFERRED) && m->nnative_types) {
			pha_out_printf(out, " (top: %" PRIu64 " ", m->native_by_type[0].objects);
			esc(out, m->native_by_type[0].type);
			pha_out_puts(out, ")");
		}
		shown++;
	}
	pha_out_puts(out, shown ? "\n" : " nothing found\n");
}

static void memory(void *ctx, const struct pha_report *r)
{
	const struct text *x = ctx;
	struct pha_out *out = x->out;
	const struct pha_procmem *m = r->memory;
	if (!m)
		return;
	char b[32];
	pha_human_size(b, sizeof(b), m->total_bytes);
	pha_out_printf(out, "\nMemory of the process (%" PRIu64 " mappings, %s):\n", m->mappings, b);
	int order[PHA_MEM_COUNT];
	pha_memcat_by_size(m, order);
	for (int i = 0; i < PHA_MEM_COUNT; i++) {
		if (!m->cat[order[i]])
			continue;
		pha_human_size(b, sizeof(b), m->cat[order[i]]);
		pha_out_printf(out, "  %12s  %s\n", b, pha_memcat_text(order[i]));
	}
	const struct pha_pymalloc *p = &m->pymalloc;
	const struct pha_malloc *ma = &m->malloc;
	if (p->found) {
		char a[32], f[32];
		pha_human_size(a, sizeof(a), p->allocated_bytes);
		pha_human_size(f, sizeof(f), p->free_bytes + p->overhead_bytes);
		pha_out_printf(out, "  pymalloc: %" PRIu64 " arenas, %s allocated, %s free or overhead\n",
			       p->narenas, a, f);
	} else {
		pha_out_puts(out, "  pymalloc: not walked (");
		esc(out, p->how);
		pha_out_puts(out, ")\n");
	}
	if (ma->walked) {
		char u[32], f[32], t[32], mm[32];
		pha_human_size(u, sizeof(u), ma->in_use_bytes);
		pha_human_size(f, sizeof(f), ma->free_bytes);
		pha_human_size(t, sizeof(t), ma->top_bytes);
		pha_human_size(mm, sizeof(mm), ma->mmapped_bytes);
		pha_out_puts(out, "  malloc (");
		esc(out, ma->allocator);
		pha_out_printf(out, "): %zu arenas, %s in use, %s free, %s top, %s mmapped\n",
			       ma->narenas, u, f, t, mm);
	} else {
		pha_out_puts(out, "  malloc: ");
		esc(out, ma->allocator);
		pha_out_puts(out, ", not walked (");
		esc(out, ma->how);
		pha_out_puts(out, ")\n");
	}
	for (size_t i = 0; i < m->nnative_types && i < (size_t)x->top; i++) {
		const struct pha_native_type *t = &m->native_by_type[i];
		pha_human_size(b, sizeof(b), t->bytes);
		pha_out_printf(out, "  native %12s held by %" PRIu64 " ", b, t->objects);
		esc(out, t->type);
		pha_out_puts(out, t->inferred_bytes ? " (partly inferred)\n" : "\n");
	}
}

static const enum pha_report_section text_order[] = {
	PHA_SECTION_HEADER, PHA_SECTION_SUMMARY, PHA_SECTION_TYPES, PHA_SECTION_UNREACHABLE,
	PHA_SECTION_CYCLES, PHA_SECTION_WHY, PHA_SECTION_WASTE, PHA_SECTION_MEMORY,
	PHA_SECTION_ALLOCATIONS,
	PHA_SECTION_THREADS, PHA_SECTION_WARNINGS,
};

static const struct pha_report_writer text_writer = {
	.name = "text",
	.begin = memory_verdict,
	.section = {
		[PHA_SECTION_HEADER] = header,
		[PHA_SECTION_SUMMARY] = summary,
		[PHA_SECTION_TYPES] = types,
		[PHA_SECTION_UNREACHABLE] = unreachable,
		[PHA_SECTION_CYCLES] = cycles,
		[PHA_SECTION_THREADS] = threads,
		[PHA_SECTION_WHY] = why,
		[PHA_SECTION_WASTE] = waste,
		[PHA_SECTION_MEMORY] = memory,
		[PHA_SECTION_ALLOCATIONS] = allocations,
		[PHA_SECTION_WARNINGS] = warnings,
	},
	.order = text_order,
	.norder = sizeof(text_order) / sizeof(text_order[0]),
};

void pha_report_write_text(const struct pha_report *r, struct pha_out *out, int top)
{
	struct text x = {.out = out, .top = top};
	pha_report_walk(r, &text_writer, &x);
}
