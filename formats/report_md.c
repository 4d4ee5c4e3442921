/* The Markdown summary for a ticket (GitHub, GitLab; Jira's Markdown
 * paste): at most PHA_MD_MAX_BYTES. It opens with the verdict (what fills
 * the memory, the top suspect and its path), then the leak suspects with
 * their paths, the top types, the unreachable groups, the stack of the
 * thread that received the signal, the warnings, and ends with the tool's
 * version and the dumped process's command line.
 *
 * The cap is met by rendering into memory with the most generous limits
 * and, while the result is too big, again with the next, smaller limits
 * (fewer table rows, frames, shorter cells and paths); the last resort
 * cuts at a line end. Each step depends only on the report, so the output
 * is deterministic. Heap text goes through pha_md_escape (markup.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report_common.h"
#include "report_write.h"

struct md_limits {
	size_t rows;		/* rows per table */
	size_t frames;		/* frames of the stack */
	size_t warnings;
	size_t cell;		/* bytes of heap text per cell */
	size_t path_elems;	/* labels per path (0 = all) */
};

static const struct md_limits md_levels[] = {
	{10, 30, 10, 200, 0}, {5, 15, 5, 120, 16}, {3, 8, 3, 80, 8},
	{1, 4, 1, 60, 6},     {0, 2, 0, 40, 4},
};

struct md {
	struct pha_buf *b;
	const struct md_limits *lim;
};

static void esc(const struct md *m, const char *s)
{
	pha_md_escape(m->b, s ? s : "", m->lim->cell);
}

/* For pha_path_join: one label is never long. */
static void esc_label(struct pha_buf *b, const char *s)
{
	pha_md_escape(b, s, 120);
}

static void path(const struct md *m, const struct pha_path *p)
{
	if (!p->n) {
		pha_buf_puts(m->b, "(no path from a root)");
		return;
	}
	pha_path_join(m->b, p, esc_label, m->lim->path_elems);
}

static void more(const struct md *m, size_t n, size_t shown, const char *what)
{
	if (n > shown)
		pha_buf_printf(m->b, "\n… %zu more %s in the full report.\n", n - shown, what);
}

static void verdict_memory(const struct md *m, const struct pha_procmem *mem)
{
	char b[32];
	int order[PHA_MEM_COUNT];
	pha_memcat_by_size(mem, order);
	pha_human_size(b, sizeof(b), pha_mem_in_use(mem));
	pha_buf_printf(m->b, "The process uses **%s**", b);
	int shown = 0;
	for (int i = 0; i < PHA_MEM_COUNT && shown < 3; i++) {
		int c = order[i];
		if (!pha_memcat_in_use(c) || !mem->cat[c])
			continue;
		pha_human_size(b, sizeof(b), mem->cat[c]);
		pha_buf_printf(m->b, "%s %s %s", shown ? "," : ": mostly", b, pha_memcat_text(c));
		shown++;
	}
	pha_buf_puts(m->b, ". ");
}

/* The first lines: what fills the memory, the top suspect and its path. */
static void begin(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	char b[32];
	pha_buf_puts(m->b, "## pyheap-analyze: ");
	esc(m, r->input_path);
	pha_buf_puts(m->b, "\n\n**Verdict:** ");
	if (r->memory && r->memory->available)
		verdict_memory(m, r->memory);
	pha_human_size(b, sizeof(b), r->summary.bytes);
	pha_buf_printf(m->b, "The Python heap holds %" PRIu64 " objects (%s). ", r->summary.objects, b);
	const struct pha_suspect *s = pha_report_top_suspect(r);
	if (s) {
		pha_buf_puts(m->b, "Top suspect: ");
		esc(m, s->sentence);
		pha_buf_puts(m->b, s->path.n ? "\n\n**Path:** " : "\n");
		if (s->path.n) {
			path(m, &s->path);
			pha_buf_puts(m->b, "\n");
		}
	} else if (r->why.ntop) {
		const struct pha_retainer *t = &r->why.top[0];
		pha_human_size(b, sizeof(b), t->retained);
		pha_buf_puts(m->b, "No leak suspect; the largest retainer is a ");
		esc(m, t->type);
		pha_buf_printf(m->b, " retaining %s", b);
		pha_buf_puts(m->b, t->path.n ? ", via " : ".");
		if (t->path.n)
			path(m, &t->path);
		pha_buf_puts(m->b, "\n");
	} else {
		pha_buf_puts(m->b, "No leak suspect.\n");
	}
}

static void header(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	char b[32];
	pha_buf_puts(m->b, "\n- **Input:** ");
	esc(m, r->input_kind);
	pha_buf_puts(m->b, ", Python ");
	esc(m, r->version);
	pha_buf_puts(m->b, " (layout ");
	esc(m, r->layout);
	pha_buf_puts(m->b, ")\n- **Process:** ");
	if (r->pid >= 0)
		pha_buf_printf(m->b, "pid %" PRId64 ", ", (int64_t)r->pid);
	if (r->signal)
		pha_buf_printf(m->b, "signal %d, ", r->signal);
	esc(m, r->executable ? r->executable : "executable unknown");
	pha_human_size(b, sizeof(b), r->summary.unreachable_bytes);
	pha_buf_printf(m->b, "\n- **Unreachable:** %" PRIu64 " GC objects; gc.collect() would free "
			     "%" PRIu64 " objects, %s\n",
		       r->summary.unreachable_objects, r->summary.unreachable_freed_objects, b);
	pha_human_size(b, sizeof(b), r->summary.user_cycle_bytes);
	pha_buf_printf(m->b, "- **Reference cycles:** %" PRIu64 " (%" PRIu64 " objects, %s)\n",
		       r->summary.user_cycles, r->summary.user_cycle_objects, b);
}

static void suspects(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	const struct pha_why *w = &r->why;
	size_t shown = 0;
	char b[32];
	if (!w->nsuspects || !m->lim->rows)
		return;
	pha_buf_puts(m->b, "\n### Leak suspects\n\n| # | kind | retained | suspect | path |\n"
			   "|---|---|---:|---|---|\n");
	for (size_t i = 0; i < w->nsuspects && shown < m->lim->rows; i++) {
		const struct pha_suspect *s = &w->suspects[i];
		pha_human_size(b, sizeof(b), s->retained_bytes);
		pha_buf_printf(m->b, "| %zu | %s | %s | ", ++shown,
			       s->kind == PHA_SUSPECT_ACCUMULATION ? "accumulation" : "unexplained refs",
			       b);
		esc(m, s->sentence);
		pha_buf_puts(m->b, " | ");
		path(m, &s->path);
		pha_buf_puts(m->b, " |\n");
	}
	more(m, w->nsuspects, shown, "suspects");
}

static void types(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	char b[32], u[32];
	if (!r->ntypes || !m->lim->rows)
		return;
	pha_buf_puts(m->b, "\n### Top types by size\n\n| type | count | size | unreachable |\n"
			   "|---|---:|---:|---:|\n");
	size_t i;
	for (i = 0; i < r->ntypes && i < m->lim->rows; i++) {
		const struct pha_report_type *t = &r->types[i];
		pha_human_size(b, sizeof(b), t->bytes);
		pha_human_size(u, sizeof(u), t->unreachable_bytes);
		pha_buf_puts(m->b, "| ");
		esc(m, t->name);
		pha_buf_printf(m->b, " | %" PRIu64 " | %s | %s |\n", t->count, b, u);
	}
	more(m, r->ntypes, i, "types");
}

static void unreachable(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	char b[32];
	if (!r->nugroups || !m->lim->rows)
		return;
	pha_buf_puts(m->b, "\n### Unreachable groups (what gc.collect() would find)\n\n"
			   "| instances | shape | objects | size |\n|---:|---|---:|---:|\n");
	size_t i;
	for (i = 0; i < r->nugroups && i < m->lim->rows; i++) {
		const struct pha_report_group *g = &r->ugroups[i];
		pha_human_size(b, sizeof(b), g->bytes);
		pha_buf_printf(m->b, "| %" PRIu64 " | ", g->instances);
		esc(m, g->signature);
		pha_buf_printf(m->b, " | %" PRIu64 " | %s |\n", g->objects, b);
	}
	more(m, r->nugroups, i, "groups");
}

static void threads(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	const struct pha_report_thread *t = pha_report_main_thread(r, NULL);
	if (!t)
		return;
	pha_buf_printf(m->b, "\n### %s (thread 0x%" PRIx64 ", native id %" PRIu64 ")\n\n",
		       t->crashed ? "Stack of the thread that received the signal"
				  : "Stack of the first thread (none is marked as crashed)",
		       t->thread_id, t->native_id);
	if (!t->nframes)
		pha_buf_puts(m->b, "(no Python frames)\n");
	size_t k;
	for (k = 0; k < t->nframes && k < m->lim->frames; k++) {
		const struct pha_report_frame *f = &t->frames[k];
		pha_buf_printf(m->b, "%zu. ", k + 1);
		esc(m, f->function);
		pha_buf_puts(m->b, " (");
		esc(m, f->filename);
		if (f->line >= 0)
			pha_buf_printf(m->b, ":%d", f->line);
		pha_buf_puts(m->b, ")\n");
	}
	more(m, t->nframes, k, "frames");
	if (r->nthreads > 1)
		pha_buf_printf(m->b, "\n%zu other threads in the full report.\n", r->nthreads - 1);
}

static void warnings(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	if (!r->nwarnings)
		return;
	pha_buf_printf(m->b, "\n### Warnings (%zu)\n\n", r->nwarnings);
	size_t i;
	for (i = 0; i < r->nwarnings && i < m->lim->warnings; i++) {
		pha_buf_puts(m->b, "- ");
		esc(m, r->warnings[i]);
		pha_buf_puts(m->b, "\n");
	}
	more(m, r->nwarnings, i, "warnings");
}

static void end(void *ctx, const struct pha_report *r)
{
	const struct md *m = ctx;
	pha_buf_puts(m->b, "\n---\n_pyheap-analyze " PHA_VERSION " (" PHA_REPORT_SCHEMA ")._");
	if (r->argc) {
		pha_buf_puts(m->b, " Command line of the dumped process:");
		for (size_t i = 0; i < r->argc && i < 32; i++) {
			pha_buf_puts(m->b, " ");
			esc(m, r->argv[i]);
		}
		if (r->argc > 32)
			pha_buf_puts(m->b, " …");
	}
	pha_buf_puts(m->b, "\n");
}

static const enum pha_report_section md_order[] = {
	PHA_SECTION_HEADER, PHA_SECTION_WHY, PHA_SECTION_TYPES, PHA_SECTION_UNREACHABLE,
	PHA_SECTION_THREADS, PHA_SECTION_WARNINGS,
};

static const struct pha_report_writer md_writer = {
	.name = "md",
	.begin = begin,
	.end = end,
	.section = {
		[PHA_SECTION_HEADER] = header,
		[PHA_SECTION_WHY] = suspects,
		[PHA_SECTION_TYPES] = types,
		[PHA_SECTION_UNREACHABLE] = unreachable,
		[PHA_SECTION_THREADS] = threads,
		[PHA_SECTION_WARNINGS] = warnings,
	},
	.order = md_order,
	.norder = sizeof(md_order) / sizeof(md_order[0]),
};

/* The last resort (a report whose fixed lines alone are too long): cut
 * at the last line end that leaves room for the note. */
static void cut(struct pha_buf *b)
{
	static const char note[] = "\n… (cut at 10 KB; see the full report)\n";
	size_t room = PHA_MD_MAX_BYTES - (sizeof(note) - 1);
	size_t k = room;
	while (k > 0 && b->data[k - 1] != '\n')
		k--;
	b->len = k;
	pha_buf_puts(b, note);
}

struct pha_error *pha_report_write_md(const struct pha_report *r, struct pha_out *out)
{
	struct pha_buf b;
	pha_buf_init(&b);
	for (size_t i = 0; i < sizeof(md_levels) / sizeof(md_levels[0]); i++) {
		struct md m = {.b = &b, .lim = &md_levels[i]};
		pha_buf_reset(&b);
		pha_report_walk(r, &md_writer, &m);
		if (b.oom || b.len <= PHA_MD_MAX_BYTES)
			break;
	}
	if (b.oom) {
		pha_buf_deinit(&b);
		return &pha_enomem;
	}
	if (b.len > PHA_MD_MAX_BYTES)
		cut(&b);
	pha_buf_flush(&b, out);
	pha_buf_deinit(&b);
	return NULL;
}
