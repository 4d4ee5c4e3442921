/* Reading a saved JSON report back into the report model (report_read.h).
 *
 *   load        the file (plain, or zstd through zstdio.c with its caps)
 *               into memory, at most READ_MAX_BYTES
 *   parse       json_parse.c: the tree, strings into the report's arena
 *   schema      report/3, or report/2 (the report/3-only keys stay empty)
 *   map         the top-level table below, then `unreachable` (it points
 *               into `types`); report_read_why.c maps the why, waste,
 *               memory and allocations sections
 *
 * The report and everything it points to live in one arena (struct
 * read_report), freed by pha_report_read_destroy. The tree is freed when
 * the mapping ends; its strings are the report's. */
#include "report_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_parse.h"
#include "report_read_map.h"
#include "zstdio.h"

/* A report is a few MiB (its size follows the types and threads, not the
 * objects); these bound what a hostile file can cost. */
#define READ_MAX_BYTES (256ull << 20)
static const struct pha_json_limits read_limits = {
	.max_depth = 64,	/* the writer nests at most 8 */
	.max_values = 16u << 20,
	.max_bytes = READ_MAX_BYTES,
};

struct read_report {
	struct pha_report r;	/* first: pha_report_read_destroy gets &r */
	struct pha_arena mem;
};

/* ---- the field tables' machinery (report_read_map.h) ---------------------- */

bool rd_fail(struct rd *d, const char *fmt, ...)
{
	if (d->err)
		return false;
	char where[256] = "$", what[256];
	size_t n = 1;
	for (unsigned i = 0; i < d->depth && i < RD_MAX_TRAIL && n < sizeof(where); i++) {
		if (d->trail[i].key)
			n += (size_t)snprintf(where + n, sizeof(where) - n, ".%s", d->trail[i].key);
		else
			n += (size_t)snprintf(where + n, sizeof(where) - n, "[%zu]", d->trail[i].idx);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	d->err = pha_error_create(PHA_ERR_INPUT, "%s: not a valid pyheap-analyze report: %s: %s",
				  d->file, where, what);
	return false;
}

bool rd_oom(struct rd *d)
{
	if (!d->err)
		d->err = &pha_enomem;
	return false;
}

/* Keys come from the tables (static strings), never from the input. */
void rd_push_key(struct rd *d, const char *key)
{
	if (d->depth < RD_MAX_TRAIL)
		d->trail[d->depth].key = key;
	d->depth++;
}

void rd_push_idx(struct rd *d, size_t idx)
{
	if (d->depth < RD_MAX_TRAIL) {
		d->trail[d->depth].key = NULL;
		d->trail[d->depth].idx = idx;
	}
	d->depth++;
}

void rd_pop(struct rd *d)
{
	d->depth--;
}

static const char *const type_names[] = {
	[PHA_JV_NULL] = "null", [PHA_JV_FALSE] = "false", [PHA_JV_TRUE] = "true",
	[PHA_JV_NUMBER] = "a number", [PHA_JV_STRING] = "a string", [PHA_JV_ARRAY] = "an array",
	[PHA_JV_OBJECT] = "an object",
};

bool rd_expect(struct rd *d, const struct pha_jv *v, enum pha_jv_type t, const char *what)
{
	if (v->type == t)
		return true;
	return rd_fail(d, "expected %s, found %s", what, type_names[v->type]);
}

bool rd_string(struct rd *d, const struct pha_jv *v, bool nullable, const char **s_ret)
{
	if (nullable && v->type == PHA_JV_NULL) {
		*s_ret = NULL;
		return true;
	}
	if (!rd_expect(d, v, PHA_JV_STRING, nullable ? "a string or null" : "a string"))
		return false;
	*s_ret = v->s;
	return true;
}

static bool rd_uint(struct rd *d, const struct pha_jv *v, uint64_t max, uint64_t *u_ret)
{
	if (v->type != PHA_JV_NUMBER)
		return rd_fail(d, "expected an unsigned integer, found %s", type_names[v->type]);
	if (v->num != PHA_JNUM_UINT || v->u > max)
		return rd_fail(d, "expected an unsigned integer up to %llu, found %s", (unsigned long long)max,
			       v->num == PHA_JNUM_NEG ? "a negative number"
						      : "a fraction or a number out of range");
	*u_ret = v->u;
	return true;
}

static bool rd_value(struct rd *d, const struct pha_jv *v, const struct rd_field *f, void *base)
{
	char *at = (char *)base + f->off;
	uint64_t u = 0;
	const char *s;
	switch (f->kind) {
	case RD_U64:
		return rd_uint(d, v, UINT64_MAX, (uint64_t *)at);
	case RD_U32:
		if (!rd_uint(d, v, UINT32_MAX, &u))
			return false;
		*(uint32_t *)at = (uint32_t)u;
		return true;
	case RD_U64_NULL:
		*(uint64_t *)at = 0;
		return v->type == PHA_JV_NULL || rd_uint(d, v, UINT64_MAX, (uint64_t *)at);
	case RD_INT_NULL:
		if (v->type == PHA_JV_NULL)
			u = (uint64_t)f->dflt;
		else if (!rd_uint(d, v, f->size == 4 ? INT32_MAX : INT64_MAX, &u))
			return false;
		if (f->size == 4)
			*(int *)at = (int)(int64_t)u;
		else
			*(int64_t *)at = (int64_t)u;
		return true;
	case RD_BOOL:
		if (v->type != PHA_JV_TRUE && v->type != PHA_JV_FALSE)
			return rd_fail(d, "expected true or false, found %s", type_names[v->type]);
		*(bool *)at = v->type == PHA_JV_TRUE;
		return true;
	case RD_STR:
	case RD_NAME:
		return rd_string(d, v, f->kind == RD_STR, (const char **)at);
	case RD_CHARS:
		if (!rd_string(d, v, false, &s))
			return false;
		if (strlen(s) >= f->size)
			return rd_fail(d, "a string of at most %zu bytes expected", f->size - 1);
		memcpy(at, s, strlen(s) + 1);
		return true;
	case RD_SUB:
		return f->sub(d, v, base);
	}
	return rd_fail(d, "internal: unknown field kind");
}

bool rd_object(struct rd *d, const struct pha_jv *v, const struct rd_field *f, size_t nf,
	       void *base)
{
	uint64_t seen = 0;	/* tables have at most 64 keys */
	if (!rd_expect(d, v, PHA_JV_OBJECT, "an object"))
		return false;
	for (uint32_t m = 0; m < v->n; m++) {
		const char *key = v->kids[2 * m].s;
		size_t k;
		for (k = 0; k < nf && strcmp(f[k].key, key); k++)
			;
		if (k == nf)
			continue;	/* a key of a later version */
		rd_push_key(d, f[k].key);
		if (seen & (1ull << k))
			return rd_fail(d, "the key appears twice");
		seen |= 1ull << k;
		if (!rd_value(d, &v->kids[2 * m + 1], &f[k], base))
			return false;
		rd_pop(d);
	}
	for (size_t k = 0; k < nf; k++)
		if (f[k].required && !(seen & (1ull << k)))
			return rd_fail(d, "the key \"%s\" is missing", f[k].key);
	return true;
}

bool rd_array(struct rd *d, const struct pha_jv *v, size_t elem, size_t max, rd_fn each,
	      void **items_ret, size_t *n_ret)
{
	if (!rd_expect(d, v, PHA_JV_ARRAY, "an array"))
		return false;
	if (v->n > max)
		return rd_fail(d, "more than %zu elements", max);
	char *items = NULL;
	if (v->n && !(items = pha_arena_calloc(d->mem, v->n, elem)))
		return rd_oom(d);
	for (uint32_t i = 0; i < v->n; i++) {
		rd_push_idx(d, i);
		if (!each(d, &v->kids[i], items + (size_t)i * elem))
			return false;
		rd_pop(d);
	}
	*items_ret = items;
	*n_ret = v->n;
	return true;
}

/* ---- header: input, python, process -------------------------------------- */

#define R(m) offsetof(struct pha_report, m)

static const struct rd_field input_fields[] = {
	{.key = "path", .kind = RD_STR, .off = R(input_path)},
	{.key = "kind", .kind = RD_STR, .off = R(input_kind)},
	{.key = "bytes", .kind = RD_U64, .off = R(input_bytes)},
	{.key = "compressed", .kind = RD_BOOL, .off = R(compressed)},
};

static const struct rd_field python_fields[] = {
	{.key = "version", .kind = RD_CHARS, .off = R(version),
	 .size = sizeof(((struct pha_report *)0)->version)},
	{.key = "hexversion", .kind = RD_U32, .off = R(hexversion)},
	{.key = "layout", .kind = RD_STR, .off = R(layout)},
	{.key = "free_threaded", .kind = RD_BOOL, .off = R(free_threaded)},
};

static bool each_string(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_string(d, v, false, (const char **)item);
}

static bool sub_argv(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	void *items = NULL;
	if (v->type == PHA_JV_NULL)
		return true;
	if (!rd_array(d, v, sizeof(char *), SIZE_MAX, each_string, &items, &r->argc))
		return false;
	r->argv = items;
	return true;
}

static const struct rd_field process_fields[] = {
	{.key = "pid", .kind = RD_INT_NULL, .off = R(pid), .size = 8, .dflt = -1},
	{.key = "signal", .kind = RD_INT_NULL, .off = R(signal), .size = sizeof(int), .dflt = 0},
	{.key = "executable", .kind = RD_STR, .off = R(executable)},
	{.key = "argv", .kind = RD_SUB, .off = R(argv), .sub = sub_argv},
};

static bool sub_input(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(input_fields), base);
}

static bool sub_python(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(python_fields), base);
}

static bool sub_process(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	r->pid = -1;
	return rd_object(d, v, RD_FIELDS(process_fields), base);
}

/* ---- summary, types, unreachable, cycles ---------------------------------- */

#define S(m) {.key = #m, .kind = RD_U64, .off = R(summary.m)}
static const struct rd_field summary_fields[] = {
	S(objects), S(gc_objects), S(bytes), S(edges), S(unreachable_objects),
	S(unreachable_bytes), S(unreachable_freed_objects), S(cycles), S(cycle_objects),
	S(cycle_bytes), S(user_cycles), S(user_cycle_objects), S(user_cycle_bytes),
	S(permanent_objects), S(conservative_objects), S(unknown_refs),
};
#undef S

static bool sub_summary(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(summary_fields), base);
}

#define T(m) offsetof(struct pha_report_type, m)
static const struct rd_field site_count_fields[] = {
	{.key = "filename", .kind = RD_NAME, .off = offsetof(struct pha_alloc_site, file), .required = true},
	{.key = "line", .kind = RD_U32, .off = offsetof(struct pha_alloc_site, line)},
	{.key = "count", .kind = RD_U64, .off = offsetof(struct pha_alloc_site, objects)},
};

static bool sub_top_allocation(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(site_count_fields), &((struct pha_report_type *)base)->top_alloc);
}

static const struct rd_field type_fields[] = {
	{.key = "name", .kind = RD_NAME, .off = T(name), .required = true},
	{.key = "count", .kind = RD_U64, .off = T(count)},
	{.key = "bytes", .kind = RD_U64, .off = T(bytes)},
	{.key = "gc_count", .kind = RD_U64, .off = T(gc_count)},
	{.key = "unreachable", .kind = RD_U64, .off = T(unreachable)},
	{.key = "unreachable_bytes", .kind = RD_U64, .off = T(unreachable_bytes)},
	{.key = "top_allocation", .kind = RD_SUB, .off = 0, .sub = sub_top_allocation},
};

static bool each_type(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(type_fields), item);
}

static bool sub_types(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*r->types), SIZE_MAX, each_type, &items, &r->ntypes))
		return false;
	r->types = items;
	return true;
}

static bool sub_group_kind(struct rd *d, const struct pha_jv *v, void *base)
{
	const char *s;
	if (!rd_string(d, v, false, &s))
		return false;
	if (strcmp(s, "user") && strcmp(s, "module-world"))
		return rd_fail(d, "expected \"user\" or \"module-world\"");
	((struct pha_report_group *)base)->world = !strcmp(s, "module-world");
	return true;
}

#define G(m) offsetof(struct pha_report_group, m)
/* Cycles; the unreachable groups have neither `unreachable` nor `kind`. */
static const struct rd_field group_fields[] = {
	{.key = "signature", .kind = RD_NAME, .off = G(signature), .required = true},
	{.key = "instances", .kind = RD_U64, .off = G(instances)},
	{.key = "objects", .kind = RD_U64, .off = G(objects)},
	{.key = "bytes", .kind = RD_U64, .off = G(bytes)},
	{.key = "unreachable", .kind = RD_BOOL, .off = G(unreachable)},
	{.key = "kind", .kind = RD_SUB, .off = 0, .sub = sub_group_kind},
};

static bool each_group(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(group_fields), item);
}

static bool sub_cycles(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*r->cycles), SIZE_MAX, each_group, &items, &r->ncycles))
		return false;
	r->cycles = items;
	return true;
}

/* unreachable.types[] are pointers into types[] by name; a name types[]
 * lacks gets a type of its own (then its row shows the counts read). */
struct unreach_ctx {
	struct pha_report *r;
	struct pha_report_type **byname;	/* types[] sorted by name */
};

static int cmp_type_name(const void *a, const void *b)
{
	return strcmp((*(struct pha_report_type *const *)a)->name,
		      (*(struct pha_report_type *const *)b)->name);
}

static bool unreachable_type(struct rd *d, const struct pha_jv *v, struct unreach_ctx *u,
			     struct pha_report_type **slot)
{
	struct pha_report_type t = {0};
	static const struct rd_field fields[] = {
		{.key = "name", .kind = RD_NAME, .off = T(name), .required = true},
		{.key = "count", .kind = RD_U64, .off = T(unreachable)},
		{.key = "bytes", .kind = RD_U64, .off = T(unreachable_bytes)},
	};
	if (!rd_object(d, v, RD_FIELDS(fields), &t))
		return false;
	struct pha_report_type *key = &t, **f = NULL;
	if (u->r->ntypes)
		f = bsearch(&key, u->byname, u->r->ntypes, sizeof(*u->byname), cmp_type_name);
	if (f) {
		*slot = *f;
		return true;
	}
	if (!(*slot = pha_arena_alloc(d->mem, sizeof(t))))
		return rd_oom(d);
	**slot = t;
	return true;
}

static bool map_unreachable(struct rd *d, const struct pha_jv *v, struct pha_report *r)
{
	struct unreach_ctx u = {.r = r};
	const struct pha_jv *types = pha_jv_get(v, "types"), *groups = pha_jv_get(v, "groups");
	void *items = NULL;
	rd_push_key(d, "unreachable");
	if (!rd_expect(d, v, PHA_JV_OBJECT, "an object"))
		return false;
	if (groups) {
		rd_push_key(d, "groups");
		if (!rd_array(d, groups, sizeof(*r->ugroups), SIZE_MAX, each_group, &items, &r->nugroups))
			return false;
		r->ugroups = items;
		rd_pop(d);
	}
	if (!types)
		return rd_pop(d), true;
	rd_push_key(d, "types");
	if (!rd_expect(d, types, PHA_JV_ARRAY, "an array"))
		return false;
	if (r->ntypes && !(u.byname = pha_arena_calloc(d->mem, r->ntypes, sizeof(*u.byname))))
		return rd_oom(d);
	for (size_t i = 0; i < r->ntypes; i++)
		u.byname[i] = &r->types[i];
	if (r->ntypes)
		qsort(u.byname, r->ntypes, sizeof(*u.byname), cmp_type_name);
	if (types->n && !(r->unreachable_types = pha_arena_calloc(d->mem, types->n, sizeof(void *))))
		return rd_oom(d);
	for (uint32_t i = 0; i < types->n; i++) {
		rd_push_idx(d, i);
		if (!unreachable_type(d, &types->kids[i], &u, &r->unreachable_types[i]))
			return false;
		rd_pop(d);
	}
	r->nunreachable_types = types->n;
	d->depth -= 2;
	return true;
}

/* ---- threads, frames and their locals (why.locals) ------------------------ */

#define L(m) offsetof(struct pha_frame_local, m)
static const struct rd_field local_fields[] = {
	{.key = "name", .kind = RD_STR, .off = L(name)},
	{.key = "type", .kind = RD_STR, .off = L(type)},
	{.key = "address", .kind = RD_U64_NULL, .off = L(addr)},
	{.key = "preview", .kind = RD_STR, .off = L(preview)},
	{.key = "retained", .kind = RD_U64, .off = L(retained)},
};

static bool each_local(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(local_fields), item);
}

static const struct rd_field frame_fields[] = {
	{.key = "function", .kind = RD_STR, .off = offsetof(struct pha_report_frame, function)},
	{.key = "filename", .kind = RD_STR, .off = offsetof(struct pha_report_frame, filename)},
	{.key = "line", .kind = RD_INT_NULL, .off = offsetof(struct pha_report_frame, line),
	 .size = sizeof(int), .dflt = -1},
};

static bool map_frame(struct rd *d, const struct pha_jv *v, struct pha_report_frame *f,
		      struct pha_frame_local **locals)
{
	const struct pha_jv *lv = pha_jv_get(v, "locals");
	void *items = NULL;
	f->line = -1;
	if (!rd_object(d, v, RD_FIELDS(frame_fields), f))
		return false;
	if (!lv)
		return true;
	rd_push_key(d, "locals");
	if (!rd_array(d, lv, sizeof(**locals), SIZE_MAX, each_local, &items, &f->nlocals))
		return false;
	rd_pop(d);
	*locals = items;
	return true;
}

static const struct rd_field thread_fields[] = {
	{.key = "thread_id", .kind = RD_U64, .off = offsetof(struct pha_report_thread, thread_id)},
	{.key = "native_id", .kind = RD_U64_NULL, .off = offsetof(struct pha_report_thread, native_id)},
	{.key = "crashed", .kind = RD_BOOL, .off = offsetof(struct pha_report_thread, crashed)},
};

static bool map_thread(struct rd *d, const struct pha_jv *v, struct pha_report_thread *t,
		       struct pha_frame_local ***locals_ret)
{
	const struct pha_jv *fv = pha_jv_get(v, "frames");
	struct pha_frame_local **locals = NULL;
	if (!rd_object(d, v, RD_FIELDS(thread_fields), t))
		return false;
	if (!fv)
		return true;
	rd_push_key(d, "frames");
	if (!rd_expect(d, fv, PHA_JV_ARRAY, "an array"))
		return false;
	if (fv->n && (!(t->frames = pha_arena_calloc(d->mem, fv->n, sizeof(*t->frames))) ||
		      !(locals = pha_arena_calloc(d->mem, fv->n, sizeof(*locals)))))
		return rd_oom(d);
	for (uint32_t k = 0; k < fv->n; k++) {
		rd_push_idx(d, k);
		if (!map_frame(d, &fv->kids[k], &t->frames[k], &locals[k]))
			return false;
		rd_pop(d);
	}
	t->nframes = fv->n;
	*locals_ret = locals;
	rd_pop(d);
	return true;
}

static bool sub_threads(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	struct pha_report_thread *threads = NULL;
	if (!rd_expect(d, v, PHA_JV_ARRAY, "an array"))
		return false;
	if (v->n && (!(threads = pha_arena_calloc(d->mem, v->n, sizeof(*threads))) ||
		     !(r->why.locals = pha_arena_calloc(d->mem, v->n, sizeof(*r->why.locals)))))
		return rd_oom(d);
	for (uint32_t i = 0; i < v->n; i++) {
		rd_push_idx(d, i);
		if (!map_thread(d, &v->kids[i], &threads[i], &r->why.locals[i]))
			return false;
		rd_pop(d);
	}
	r->threads = threads;
	r->nthreads = v->n;
	return true;
}

static bool sub_warnings(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(char *), SIZE_MAX, each_string, &items, &r->nwarnings))
		return false;
	r->warnings = items;
	return true;
}

/* `unreachable` is mapped after the rest: it points into `types`. */
static bool sub_later(struct rd *d, const struct pha_jv *v, void *base)
{
	return true;
}

/* The top level. Required: what report/1 already had; the rest may be
 * missing (report/2; a section later versions dropped) and stays empty. */
static const struct rd_field top_fields[] = {
	{.key = "schema", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_later},
	{.key = "input", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_input},
	{.key = "python", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_python},
	{.key = "process", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_process},
	{.key = "redacted", .kind = RD_BOOL, .off = R(redacted)},
	{.key = "summary", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_summary},
	{.key = "types", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_types},
	{.key = "unreachable", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_later},
	{.key = "cycles", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_cycles},
	{.key = "threads", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_threads},
	{.key = "roots", .kind = RD_SUB, .off = 0, .sub = rd_roots},
	{.key = "retained", .kind = RD_SUB, .off = 0, .sub = rd_retained},
	{.key = "leak_suspects", .kind = RD_SUB, .off = 0, .sub = rd_suspects},
	{.key = "held_by_c", .kind = RD_SUB, .off = 0, .sub = rd_held_by_c},
	{.key = "growth_candidates", .kind = RD_SUB, .off = 0, .sub = rd_growth_candidates},
	{.key = "waste", .kind = RD_SUB, .off = 0, .sub = rd_waste},
	{.key = "memory", .kind = RD_SUB, .off = 0, .sub = rd_memory},
	{.key = "allocations", .kind = RD_SUB, .off = 0, .sub = rd_allocations},
	{.key = "warnings", .kind = RD_SUB, .off = 0, .required = true, .sub = sub_warnings},
};

/* The schema string in a message: printable ASCII, at most 64 bytes. */
static void sanitize(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	for (; s[n] && n + 4 < size && n < 64; n++)
		buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	snprintf(buf + n, size - n, "%s", s[n] ? "..." : "");
}

static struct pha_error *check_schema(const char *path, const struct pha_jv *doc, int *version)
{
	const struct pha_jv *s = pha_jv_get(doc, "schema");
	char shown[80];
	if (doc->type != PHA_JV_OBJECT)
		return pha_error_create(PHA_ERR_INPUT, "%s: not a pyheap-analyze report (the JSON is "
					"%s, not an object)", path, type_names[doc->type]);
	if (!s || s->type != PHA_JV_STRING)
		return pha_error_create(PHA_ERR_INPUT, "%s: not a pyheap-analyze report (no \"schema\" "
					"string)", path);
	if (!strcmp(s->s, PHA_REPORT_SCHEMA) || !strcmp(s->s, "pyheap-analyze.report/2")) {
		*version = s->s[strlen(s->s) - 1] - '0';
		return NULL;
	}
	sanitize(s->s, shown, sizeof(shown));
	return pha_error_create(PHA_ERR_INPUT, "%s: unknown report schema \"%s\": this version "
				"(%s) reads " PHA_REPORT_SCHEMA " and pyheap-analyze.report/2",
				path, shown, PHA_VERSION);
}

/* ---- the file ------------------------------------------------------------ */

static bool json_head_ok(const uint8_t *head, size_t len)
{
	size_t i = 0;
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	return i == len || head[i] == '{' || head[i] == '[';
}

static const struct pha_zstd_expect report_expect = {
	.what = "report",
	.head_ok = json_head_ok,
	.head_len = 64,
	.mismatch = "not a JSON report (its zstd-decompressed data does not start with '{')",
	.max_bytes = READ_MAX_BYTES,
};

bool pha_report_sniff(const char *path)
{
	uint8_t head[64], plain[64];
	const uint8_t *p = head;
	size_t have = 0;
	int fd;
	struct pha_error *err = pha_input_open(path, "report", &fd, NULL);
	if (err) {
		pha_error_destroy(err);
		return false;
	}
	ssize_t n = pread(fd, head, sizeof(head), 0);
	if (n > 0 && pha_zstd_is_frame(head, (size_t)n)) {
		have = pha_zstd_head(fd, plain, sizeof(plain));
		p = plain;
	} else if (n > 0) {
		have = (size_t)n;
	}
	close(fd);
	size_t i = 0;
	while (i < have && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i < have && (p[i] == '{' || p[i] == '[');
}

/* All of fd (from offset 0) into a malloc'd buffer of *len_ret bytes. */
static struct pha_error *read_all(int fd, const char *path, char **buf_ret, size_t *len_ret)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return &pha_enomem;
	for (;;) {
		if (len == cap) {
			if (cap > READ_MAX_BYTES) {
				free(buf);
				return pha_error_create(PHA_ERR_INPUT, "%s: more than the %llu bytes a "
							"report may have", path, READ_MAX_BYTES);
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return &pha_enomem;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return pha_error_errno(PHA_ERR_INPUT, errno, "%s: read error", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*buf_ret = buf;
	*len_ret = len;
	return NULL;
}

static struct pha_error *load(const char *path, char **buf_ret, size_t *len_ret)
{
	int fd, plain;
	uint8_t head[8];
	uint64_t size;
	struct pha_error *err = pha_input_open(path, "report", &fd, NULL);
	if (err)
		return err;
	ssize_t n = pread(fd, head, sizeof(head), 0);
	if (n > 0 && pha_zstd_is_frame(head, (size_t)n)) {
		err = pha_zstd_decompress_to_tmpfile(fd, path, &report_expect, &plain, &size);
		close(fd);
		if (err)
			return err;
		fd = plain;
	}
	err = read_all(fd, path, buf_ret, len_ret);
	close(fd);
	return err;
}

static struct pha_error *map(const char *path, const struct pha_jv *doc, struct read_report *rr)
{
	struct rd d = {.file = path, .mem = &rr->mem};
	struct pha_error *err = check_schema(path, doc, &d.schema);
	if (err)
		return err;
	rr->r.pid = -1;
	if (rd_object(&d, doc, RD_FIELDS(top_fields), &rr->r))
		map_unreachable(&d, pha_jv_get(doc, "unreachable"), &rr->r);
	return d.err;
}

struct pha_error *pha_report_read(const char *path, struct pha_report **report_ret)
{
	char *text = NULL;
	size_t len = 0;
	struct pha_error *err = load(path, &text, &len);
	if (err)
		return err;
	struct read_report *rr = calloc(1, sizeof(*rr));
	struct pha_arena tree;
	const struct pha_jv *doc;
	pha_arena_init(&tree);
	if (!rr) {
		free(text);
		return &pha_enomem;
	}
	pha_arena_init(&rr->mem);
	err = pha_json_parse(text, len, path, &read_limits, &tree, &rr->mem, &doc);
	free(text);
	if (!err)
		err = map(path, doc, rr);
	pha_arena_deinit(&tree);
	if (err) {
		pha_report_read_destroy(&rr->r);
		return err;
	}
	*report_ret = &rr->r;
	return NULL;
}

void pha_report_read_destroy(struct pha_report *r)
{
	if (!r)
		return;
	struct read_report *rr = (struct read_report *)r;
	pha_arena_deinit(&rr->mem);
	free(rr);
}
