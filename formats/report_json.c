/* The JSON report (the contract: formats/REPORT.md, report.schema.json):
 * every section of the model in the contract's order, one top-level key
 * (or a few) per section. */
#include "json.h"
#include "report_write.h"

static void groups(struct pha_json *j, const struct pha_report_group *g, size_t n, bool with_flag)
{
	pha_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "signature", g[i].signature);
		pha_kv_uint(j, "instances", g[i].instances);
		pha_kv_uint(j, "objects", g[i].objects);
		pha_kv_uint(j, "bytes", g[i].bytes);
		if (with_flag) {
			pha_kv_bool(j, "unreachable", g[i].unreachable);
			pha_kv_str(j, "kind", g[i].world ? "module-world" : "user");
		}
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

/* "path": [...], "path_elided": N */
static void path(struct pha_json *j, const struct pha_path *p)
{
	pha_json_key(j, "path");
	pha_json_array_begin(j);
	for (size_t i = 0; i < p->n; i++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "label", p->elems[i].label);
		pha_kv_str(j, "type", p->elems[i].type);
		pha_kv_uint(j, "address", p->elems[i].addr);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_kv_uint(j, "path_elided", p->elided);
}

/* "KEY": {"filename", "line", "objects"} (tracemalloc), when known. */
static void alloc_site(struct pha_json *j, const char *key, const char *count_key,
		       const struct pha_alloc_site *a)
{
	if (!a->file)
		return;
	pha_json_key(j, key);
	pha_json_object_begin(j);
	pha_kv_str(j, "filename", a->file);
	pha_kv_uint(j, "line", a->line);
	pha_kv_uint(j, count_key, a->objects);
	pha_json_object_end(j);
}

static void begin(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_object_begin(j);
	pha_kv_str(j, "schema", PHA_REPORT_SCHEMA);
}

static void end(void *ctx, const struct pha_report *r)
{
	pha_json_object_end(ctx);
}

static void process(struct pha_json *j, const struct pha_report *r)
{
	pha_json_key(j, "process");
	pha_json_object_begin(j);
	pha_json_key(j, "pid");
	if (r->pid >= 0)
		pha_json_int(j, r->pid);
	else
		pha_json_null(j);
	pha_json_key(j, "signal");
	if (r->signal)
		pha_json_int(j, r->signal);
	else
		pha_json_null(j);
	pha_kv_str(j, "executable", r->executable);
	pha_json_key(j, "argv");
	if (r->argc) {
		pha_json_array_begin(j);
		for (size_t i = 0; i < r->argc; i++)
			pha_json_string(j, r->argv[i]);
		pha_json_array_end(j);
	} else {
		pha_json_null(j);
	}
	pha_json_object_end(j);
}

/* tool, input, python, process */
static void header(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "tool");
	pha_json_object_begin(j);
	pha_kv_str(j, "name", "pyheap-analyze");
	pha_kv_str(j, "version", PHA_VERSION);
	pha_json_object_end(j);

	pha_json_key(j, "input");
	pha_json_object_begin(j);
	pha_kv_str(j, "path", r->input_path);
	pha_kv_str(j, "kind", r->input_kind);
	pha_kv_uint(j, "bytes", r->input_bytes);
	pha_kv_bool(j, "compressed", r->compressed);
	pha_json_object_end(j);

	pha_json_key(j, "python");
	pha_json_object_begin(j);
	pha_kv_str(j, "version", r->version);
	pha_kv_uint(j, "hexversion", r->hexversion);
	pha_kv_str(j, "layout", r->layout);
	pha_kv_bool(j, "free_threaded", r->free_threaded);
	pha_json_object_end(j);

	process(j, r);
	pha_kv_bool(j, "redacted", r->redacted);
}

static void summary(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "summary");
	pha_json_object_begin(j);
	pha_kv_uint(j, "objects", r->summary.objects);
	pha_kv_uint(j, "gc_objects", r->summary.gc_objects);
	pha_kv_uint(j, "bytes", r->summary.bytes);
	pha_kv_uint(j, "edges", r->summary.edges);
	pha_kv_uint(j, "unreachable_objects", r->summary.unreachable_objects);
	pha_kv_uint(j, "unreachable_bytes", r->summary.unreachable_bytes);
	pha_kv_uint(j, "unreachable_freed_objects", r->summary.unreachable_freed_objects);
	pha_kv_uint(j, "cycles", r->summary.cycles);
	pha_kv_uint(j, "cycle_objects", r->summary.cycle_objects);
	pha_kv_uint(j, "cycle_bytes", r->summary.cycle_bytes);
	pha_kv_uint(j, "user_cycles", r->summary.user_cycles);
	pha_kv_uint(j, "user_cycle_objects", r->summary.user_cycle_objects);
	pha_kv_uint(j, "user_cycle_bytes", r->summary.user_cycle_bytes);
	pha_kv_uint(j, "permanent_objects", r->summary.permanent_objects);
	pha_kv_uint(j, "conservative_objects", r->summary.conservative_objects);
	pha_kv_uint(j, "unknown_refs", r->summary.unknown_refs);
	pha_json_object_end(j);
}

static void types(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct pha_report_type *t = &r->types[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "name", t->name);
		pha_kv_uint(j, "count", t->count);
		pha_kv_uint(j, "bytes", t->bytes);
		pha_kv_uint(j, "gc_count", t->gc_count);
		pha_kv_uint(j, "unreachable", t->unreachable);
		pha_kv_uint(j, "unreachable_bytes", t->unreachable_bytes);
		alloc_site(j, "top_allocation", "count", &t->top_alloc);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

static void unreachable(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "unreachable");
	pha_json_object_begin(j);
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < r->nunreachable_types; i++) {
		const struct pha_report_type *t = r->unreachable_types[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "name", t->name);
		pha_kv_uint(j, "count", t->unreachable);
		pha_kv_uint(j, "bytes", t->unreachable_bytes);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_key(j, "groups");
	groups(j, r->ugroups, r->nugroups, false);
	pha_json_object_end(j);
}

static void cycles(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "cycles");
	groups(j, r->cycles, r->ncycles, true);
}

/* A frame with its locals (loc: NULL when the report has none for it). */
static void frame(struct pha_json *j, const struct pha_report_frame *f,
		  const struct pha_frame_local *loc)
{
	pha_json_object_begin(j);
	pha_kv_str(j, "function", f->function);
	pha_kv_str(j, "filename", f->filename);
	pha_json_key(j, "line");
	if (f->line >= 0)
		pha_json_int(j, f->line);
	else
		pha_json_null(j);
	pha_json_key(j, "locals");
	pha_json_array_begin(j);
	for (size_t q = 0; loc && q < f->nlocals; q++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "name", loc[q].name);
		pha_kv_str(j, "type", loc[q].type);
		pha_json_key(j, "address");
		if (loc[q].addr)
			pha_json_uint(j, loc[q].addr);
		else
			pha_json_null(j);
		pha_kv_str(j, "preview", loc[q].preview);
		pha_kv_uint(j, "retained", loc[q].retained);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void threads(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "threads");
	pha_json_array_begin(j);
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pha_report_thread *t = &r->threads[i];
		pha_json_object_begin(j);
		pha_kv_uint(j, "thread_id", t->thread_id);
		pha_json_key(j, "native_id");
		if (t->native_id)
			pha_json_uint(j, t->native_id);
		else
			pha_json_null(j);
		pha_kv_bool(j, "crashed", t->crashed);
		pha_json_key(j, "frames");
		pha_json_array_begin(j);
		for (size_t k = 0; k < t->nframes; k++)
			frame(j, &t->frames[k],
			      r->why.locals && r->why.locals[i] ? r->why.locals[i][k] : NULL);
		pha_json_array_end(j);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

static void roots(struct pha_json *j, const struct pha_why *w)
{
	pha_json_key(j, "roots");
	pha_json_object_begin(j);
	pha_kv_uint(j, "interpreter", w->interpreter_roots);
	pha_kv_uint(j, "held_from_outside", w->external_roots);
	pha_kv_uint(j, "held_from_outside_bytes", w->external_bytes);
	pha_kv_bool(j, "labelled", w->labelled_roots);
	pha_kv_bool(j, "edge_labels", w->edge_labels);
	pha_json_object_end(j);
}

static void retained(struct pha_json *j, const struct pha_why *w)
{
	pha_json_key(j, "retained");
	pha_json_object_begin(j);
	pha_kv_uint(j, "heap_objects", w->heap_objects);
	pha_kv_uint(j, "heap_bytes", w->heap_bytes);
	pha_kv_uint(j, "top_level_bytes", w->top_level_bytes);
	pha_kv_uint(j, "unrooted_objects", w->unrooted_objects);
	pha_kv_uint(j, "unrooted_bytes", w->unrooted_bytes);
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < w->ntypes; i++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "name", w->types[i].name);
		pha_kv_uint(j, "retained_bytes", w->types[i].retained_bytes);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_key(j, "top");
	pha_json_array_begin(j);
	for (size_t i = 0; i < w->ntop; i++) {
		const struct pha_retainer *t = &w->top[i];
		pha_json_object_begin(j);
		pha_kv_uint(j, "address", t->addr);
		pha_kv_str(j, "type", t->type);
		pha_kv_uint(j, "shallow", t->shallow);
		pha_kv_uint(j, "retained", t->retained);
		pha_kv_uint(j, "retained_native", t->retained_native);
		path(j, &t->path);
		alloc_site(j, "allocated_at", "objects", &t->alloc);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void suspect(struct pha_json *j, const struct pha_suspect *s)
{
	pha_json_object_begin(j);
	pha_kv_str(j, "kind", s->kind == PHA_SUSPECT_UNEXPLAINED ? "unexplained_refs" : "accumulation");
	pha_kv_str(j, "type", s->type);
	pha_json_key(j, "address");
	if (s->addr)
		pha_json_uint(j, s->addr);
	else
		pha_json_null(j);
	pha_kv_uint(j, "objects", s->objects);
	pha_kv_uint(j, "excess_refs", s->excess_refs);
	pha_kv_uint(j, "retained_bytes", s->retained_bytes);
	pha_kv_uint(j, "native_bytes", s->native_bytes);
	pha_json_key(j, "holds");
	if (s->holds_type) {
		pha_json_object_begin(j);
		pha_kv_str(j, "type", s->holds_type);
		pha_kv_uint(j, "count", s->holds_count);
		pha_kv_uint(j, "retained_bytes", s->holds_bytes);
		pha_json_object_end(j);
	} else {
		pha_json_null(j);
	}
	path(j, &s->path);
	alloc_site(j, "allocated_at", "objects", &s->alloc);
	pha_kv_str(j, "sentence", s->sentence);
	pha_json_object_end(j);
}

static void held_by_c(struct pha_json *j, const struct pha_why *w)
{
	pha_json_key(j, "held_by_c");
	pha_json_object_begin(j);
	pha_kv_uint(j, "objects", w->held_by_c_objects);
	pha_kv_uint(j, "bytes", w->held_by_c_bytes);
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < w->nheld_by_c; i++) {
		const struct pha_held_group *g = &w->held_by_c[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "type", g->type);
		pha_kv_uint(j, "objects", g->objects);
		pha_kv_uint(j, "excess_refs", g->excess_refs);
		pha_kv_uint(j, "bytes", g->bytes);
		pha_kv_uint(j, "retained_bytes", g->retained_bytes);
		pha_kv_uint(j, "example", g->example);
		pha_kv_str(j, "reason", g->reason);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void growth_candidates(struct pha_json *j, const struct pha_why *w)
{
	pha_json_key(j, "growth_candidates");
	pha_json_array_begin(j);
	for (size_t i = 0; i < w->ngrowth; i++) {
		const struct pha_growth_candidate *g = &w->growth[i];
		pha_json_object_begin(j);
		pha_kv_uint(j, "address", g->addr);
		pha_kv_str(j, "type", g->type);
		pha_kv_uint(j, "items", g->items);
		pha_kv_uint(j, "retained", g->retained);
		pha_kv_str(j, "path", g->path);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

/* roots, retained, leak_suspects, held_by_c, growth_candidates */
static void why(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	const struct pha_why *w = &r->why;
	roots(j, w);
	retained(j, w);
	pha_json_key(j, "leak_suspects");
	pha_json_array_begin(j);
	for (size_t i = 0; i < w->nsuspects; i++)
		suspect(j, &w->suspects[i]);
	pha_json_array_end(j);
	held_by_c(j, w);
	growth_candidates(j, w);
}

static void duplicates(struct pha_json *j, const char *key, const struct pha_dup_kind *dk)
{
	pha_json_key(j, key);
	pha_json_object_begin(j);
	pha_kv_uint(j, "groups", dk->groups);
	pha_kv_uint(j, "copies", dk->copies);
	pha_kv_uint(j, "wasted_bytes", dk->wasted_bytes);
	pha_json_key(j, "top");
	pha_json_array_begin(j);
	for (size_t i = 0; i < dk->ntop; i++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "preview", dk->top[i].preview);
		pha_kv_uint(j, "copies", dk->top[i].copies);
		pha_kv_uint(j, "wasted_bytes", dk->top[i].wasted_bytes);
		pha_kv_uint(j, "address", dk->top[i].address);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void containers(struct pha_json *j, const char *key, const struct pha_container_waste *cw)
{
	pha_json_key(j, key);
	pha_json_object_begin(j);
	pha_kv_uint(j, "count", cw->count);
	pha_kv_uint(j, "bytes", cw->bytes);
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < cw->ntypes; i++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "name", cw->types[i].name);
		pha_kv_uint(j, "count", cw->types[i].count);
		pha_kv_uint(j, "bytes", cw->types[i].bytes);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void waste(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	const struct pha_waste *ws = &r->why.waste;
	pha_json_key(j, "waste");
	pha_json_object_begin(j);
	pha_kv_bool(j, "available", ws->available);
	if (!ws->available) {
		pha_kv_str(j, "reason", ws->reason ? ws->reason : "");
	} else {
		duplicates(j, "duplicate_str", &ws->dup_str);
		duplicates(j, "duplicate_bytes", &ws->dup_bytes);
		containers(j, "empty_containers", &ws->empty);
		containers(j, "mostly_empty_containers", &ws->mostly_empty);
	}
	pha_json_object_end(j);
}

static void pymalloc(struct pha_json *j, const struct pha_pymalloc *p)
{
	pha_json_key(j, "pymalloc");
	pha_json_object_begin(j);
	pha_kv_bool(j, "found", p->found);
	pha_kv_str(j, "how", p->how);
	if (p->found) {
		pha_kv_uint(j, "arenas", p->narenas);
		pha_kv_uint(j, "arena_size", p->arena_size);
		pha_kv_uint(j, "pool_size", p->pool_size);
		pha_kv_uint(j, "arena_bytes", p->narenas * p->arena_size);
		pha_kv_uint(j, "allocated_bytes", p->allocated_bytes);
		pha_kv_uint(j, "free_bytes", p->free_bytes);
		pha_kv_uint(j, "available_block_bytes", p->available_block_bytes);
		pha_kv_uint(j, "empty_pools", p->empty_pools);
		pha_kv_uint(j, "overhead_bytes", p->overhead_bytes);
		pha_kv_uint(j, "corrupt", p->corrupt);
		pha_kv_uint(j, "arena_table", p->arena_table);
		pha_kv_uint(j, "arena_slots", p->arena_slots);
		pha_json_key(j, "size_classes");
		pha_json_array_begin(j);
		for (uint32_t i = 0; i < p->nclasses && i < PHA_PYMALLOC_MAX_CLASSES; i++) {
			const struct pha_pymalloc_class *c = &p->classes[i];
			if (!c->pools)
				continue;
			pha_json_object_begin(j);
			pha_kv_uint(j, "block_size", c->block_size);
			pha_kv_uint(j, "pools", c->pools);
			pha_kv_uint(j, "used_blocks", c->used_blocks);
			pha_kv_uint(j, "free_blocks", c->free_blocks);
			pha_json_object_end(j);
		}
		pha_json_array_end(j);
	}
	pha_json_object_end(j);
}

static void malloc_section(struct pha_json *j, const struct pha_malloc *m)
{
	pha_json_key(j, "malloc");
	pha_json_object_begin(j);
	pha_kv_str(j, "allocator", m->allocator);
	pha_kv_bool(j, "walked", m->walked);
	pha_kv_str(j, "how", m->how);
	if (m->walked) {
		pha_kv_uint(j, "in_use_bytes", m->in_use_bytes);
		pha_kv_uint(j, "in_use_chunks", m->in_use_chunks);
		pha_kv_uint(j, "free_bytes", m->free_bytes);
		pha_kv_uint(j, "free_chunks", m->free_chunks);
		pha_kv_uint(j, "tcache_bytes", m->tcache_bytes);
		pha_kv_uint(j, "top_bytes", m->top_bytes);
		pha_kv_uint(j, "mmapped_bytes", m->mmapped_bytes);
		pha_kv_uint(j, "mmapped_chunks", m->mmapped_chunks);
		pha_kv_uint(j, "overhead_bytes", m->overhead_bytes);
		pha_kv_uint(j, "corrupt", m->corrupt);
		pha_json_key(j, "arenas");
		pha_json_array_begin(j);
		for (size_t i = 0; i < m->narenas; i++) {
			const struct pha_malloc_arena *a = &m->arenas[i];
			pha_json_object_begin(j);
			pha_kv_uint(j, "address", a->addr);
			pha_kv_bool(j, "main", a->main);
			pha_kv_uint(j, "heaps", a->heaps);
			pha_kv_uint(j, "system_bytes", a->system_mem);
			pha_kv_uint(j, "in_use_bytes", a->in_use_bytes);
			pha_kv_uint(j, "free_bytes", a->free_bytes);
			pha_kv_uint(j, "top_bytes", a->top_bytes);
			pha_json_object_end(j);
		}
		pha_json_array_end(j);
	}
	pha_json_object_end(j);
}

static void memory(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	const struct pha_procmem *m = r->memory;
	pha_json_key(j, "memory");
	pha_json_object_begin(j);
	pha_kv_bool(j, "available", m != NULL);
	if (!m) {
		pha_kv_str(j, "reason", "a snapshot holds the Python heap only, not the process's memory");
		pha_json_object_end(j);
		return;
	}
	pha_kv_uint(j, "total_bytes", m->total_bytes);
	pha_kv_uint(j, "mappings", m->mappings);
	pha_kv_uint(j, "file_mappings", m->file_mappings);
	pha_kv_uint(j, "anonymous_mappings", m->anonymous_mappings);
	pha_kv_uint(j, "stack_mappings", m->stack_mappings);
	pha_json_key(j, "categories");
	pha_json_array_begin(j);
	for (int c = 0; c < PHA_MEM_COUNT; c++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "name", pha_memcat_name(c));
		pha_kv_uint(j, "bytes", m->cat[c]);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_kv_uint(j, "attributed_bytes", m->attributed_bytes);
	pha_kv_uint(j, "unattributed_bytes", m->unattributed_bytes);
	pymalloc(j, &m->pymalloc);
	malloc_section(j, &m->malloc);
	pha_json_key(j, "native_by_type");
	pha_json_array_begin(j);
	for (size_t i = 0; i < m->nnative_types; i++) {
		const struct pha_native_type *t = &m->native_by_type[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "type", t->type);
		pha_kv_uint(j, "objects", t->objects);
		pha_kv_uint(j, "bytes", t->bytes);
		pha_kv_uint(j, "inferred_bytes", t->inferred_bytes);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_key(j, "largest_unattributed");
	pha_json_array_begin(j);
	for (size_t i = 0; i < m->nlargest; i++) {
		pha_json_object_begin(j);
		pha_kv_uint(j, "address", m->largest_unattributed[i].mem);
		pha_kv_uint(j, "bytes", m->largest_unattributed[i].size);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

/* {filename, line} of a traceback's frame. */
static void alloc_frame(struct pha_json *j, const struct pha_allocs *a,
			const struct pha_alloc_frame *f)
{
	pha_kv_str(j, "filename", f->file < a->nfiles ? a->files[f->file] : "<unknown>");
	pha_kv_uint(j, "line", f->line);
}

static void allocations(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	const struct pha_allocs *a = r->allocs;
	pha_json_key(j, "allocations");
	pha_json_object_begin(j);
	pha_kv_bool(j, "tracing", a && a->tracing);
	if (!a || !a->tracing) {
		pha_json_object_end(j);
		return;
	}
	pha_kv_bool(j, "available", a->traces);
	pha_kv_uint(j, "max_frames", a->max_frames);
	if (!a->traces) {
		pha_kv_str(j, "reason", a->reason ? a->reason : "the traces could not be read");
		pha_json_object_end(j);
		return;
	}
	pha_kv_uint(j, "traced_bytes", a->traced_bytes);
	pha_kv_uint(j, "peak_bytes", a->peak_bytes);
	pha_kv_uint(j, "traces", a->ntraces);
	pha_json_key(j, "by_line");
	pha_json_array_begin(j);
	for (size_t i = 0; i < a->nby_line; i++) {
		pha_json_object_begin(j);
		alloc_frame(j, a, &(struct pha_alloc_frame){a->by_line[i].file, a->by_line[i].line});
		pha_kv_uint(j, "bytes", a->by_line[i].bytes);
		pha_kv_uint(j, "count", a->by_line[i].count);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_key(j, "by_traceback");
	pha_json_array_begin(j);
	for (size_t i = 0; i < a->nby_tb; i++) {
		uint32_t t = a->by_tb[i].tb;
		pha_json_object_begin(j);
		pha_json_key(j, "frames");
		pha_json_array_begin(j);
		for (uint32_t f = t < a->ntb ? a->tb_first[t] : 0; t < a->ntb && f < a->tb_first[t + 1];
		     f++) {
			pha_json_object_begin(j);
			alloc_frame(j, a, &a->frames[f]);
			pha_json_object_end(j);
		}
		pha_json_array_end(j);
		pha_kv_uint(j, "bytes", a->by_tb[i].bytes);
		pha_kv_uint(j, "count", a->by_tb[i].count);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_json_object_end(j);
}

static void warnings(void *ctx, const struct pha_report *r)
{
	struct pha_json *j = ctx;
	pha_json_key(j, "warnings");
	pha_json_array_begin(j);
	for (size_t i = 0; i < r->nwarnings; i++)
		pha_json_string(j, r->warnings[i]);
	pha_json_array_end(j);
}

static const struct pha_report_writer json_writer = {
	.name = "json",
	.begin = begin,
	.end = end,
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
	.order = pha_report_sections,
	.norder = PHA_SECTION_COUNT,
};

void pha_report_write_json(const struct pha_report *r, struct pha_out *out)
{
	struct pha_json j;
	pha_json_init(&j, out);
	pha_report_walk(r, &json_writer, &j);
}
