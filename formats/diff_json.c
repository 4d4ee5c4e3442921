/* The diff as JSON (the contract: formats/REPORT.md "The diff",
 * diff.schema.json), the model's parts in the document's order. */
#include "../analyzer/diff.h"
#include <string.h>

#include "json.h"

/* One input: what it is and which process it came from. */
static void side(struct pha_json *j, const char *key, const char *path,
		 const struct pha_report *r)
{
	pha_json_key(j, key);
	pha_json_object_begin(j);
	pha_kv_str(j, "path", path);
	pha_kv_str(j, "kind", r->input_kind);
	pha_kv_str(j, "python", r->version);
	pha_json_key(j, "pid");
	if (r->pid >= 0)
		pha_json_int(j, r->pid);
	else
		pha_json_null(j);
	pha_kv_str(j, "executable", r->executable);
	pha_json_object_end(j);
}

static void nums(struct pha_json *j, const struct pha_diff_num *v, size_t n)
{
	pha_json_object_begin(j);
	for (size_t i = 0; i < n; i++) {
		pha_json_key(j, v[i].name);
		pha_json_object_begin(j);
		pha_kv_uint(j, "old", v[i].old);
		pha_kv_uint(j, "new", v[i].new_);
		pha_kv_int(j, "delta", (int64_t)v[i].new_ - (int64_t)v[i].old);
		pha_json_object_end(j);
	}
	pha_json_object_end(j);
}

static void types(struct pha_json *j, const struct pha_diff *d)
{
	pha_json_key(j, "types");
	pha_json_array_begin(j);
	for (size_t i = 0; i < d->ntypes; i++) {
		const struct pha_diff_type *t = &d->types[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "name", t->name);
		pha_kv_uint(j, "count_old", t->count_old);
		pha_kv_uint(j, "count_new", t->count_new);
		pha_kv_int(j, "count_delta", t->count_delta);
		pha_kv_uint(j, "bytes_old", t->bytes_old);
		pha_kv_uint(j, "bytes_new", t->bytes_new);
		pha_kv_int(j, "bytes_delta", t->bytes_delta);
		pha_kv_int(j, "retained_delta", t->retained_delta);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_kv_uint(j, "types_unchanged", d->types_unchanged);
}

static const char *match_name(enum pha_diff_match m)
{
	return m == PHA_MATCH_ADDRESS ? "address" : m == PHA_MATCH_PATH ? "path" : NULL;
}

static void growth(struct pha_json *j, const char *key, const struct pha_diff_growth *g,
		   size_t n)
{
	pha_json_key(j, key);
	pha_json_array_begin(j);
	for (size_t i = 0; i < n; i++, g++) {
		bool m = g->match != PHA_MATCH_NONE;
		pha_json_object_begin(j);
		pha_kv_str(j, "path", g->path);
		pha_kv_str(j, "type", g->type);
		pha_kv_str(j, "matched_by", match_name(g->match));
		pha_kv_bool(j, "same_object", g->same_object);
		if (m && g->path_old && g->match == PHA_MATCH_ADDRESS && g->path && g->path_old &&
		    strcmp(g->path, g->path_old))
			pha_kv_str(j, "path_old", g->path_old);
		pha_json_key(j, "address_old");
		m ? pha_json_uint(j, g->addr_old) : pha_json_null(j);
		pha_kv_uint(j, "address_new", g->addr_new);
		pha_json_key(j, "items_old");
		m ? pha_json_uint(j, g->items_old) : pha_json_null(j);
		pha_kv_uint(j, "items_new", g->items_new);
		if (m)
			pha_kv_int(j, "items_delta", g->items_delta);
		pha_json_key(j, "retained_old");
		m ? pha_json_uint(j, g->retained_old) : pha_json_null(j);
		pha_kv_uint(j, "retained_new", g->retained_new);
		if (m)
			pha_kv_int(j, "retained_delta", g->retained_delta);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

static void group_list(struct pha_json *j, const char *key, const struct pha_diff_group *g,
		       size_t n)
{
	pha_json_key(j, key);
	pha_json_array_begin(j);
	for (size_t i = 0; i < n; i++, g++) {
		pha_json_object_begin(j);
		pha_kv_str(j, "signature", g->signature);
		if (g->kind)
			pha_kv_str(j, "kind", g->kind);
		pha_kv_uint(j, "instances_old", g->instances_old);
		pha_kv_uint(j, "instances_new", g->instances_new);
		pha_kv_uint(j, "objects_old", g->objects_old);
		pha_kv_uint(j, "objects_new", g->objects_new);
		pha_kv_uint(j, "bytes_old", g->bytes_old);
		pha_kv_uint(j, "bytes_new", g->bytes_new);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

static void groups(struct pha_json *j, const char *key, const struct pha_diff_groups *g)
{
	pha_json_key(j, key);
	pha_json_object_begin(j);
	group_list(j, "new", g->appeared, g->nappeared);
	group_list(j, "vanished", g->vanished, g->nvanished);
	group_list(j, "changed", g->changed, g->nchanged);
	pha_json_object_end(j);
}

static void thresholds(struct pha_json *j, const struct pha_diff *d)
{
	pha_json_key(j, "thresholds");
	pha_json_array_begin(j);
	for (size_t i = 0; i < d->nthresholds; i++) {
		const struct pha_diff_threshold *t = &d->thresholds[i];
		pha_json_object_begin(j);
		pha_kv_str(j, "kind", t->kind == PHA_THRESHOLD_GROWTH ? "growth" : "type_growth");
		if (t->type)
			pha_kv_str(j, "type", t->type);
		pha_kv_uint(j, "limit", t->limit);
		pha_kv_int(j, "value", t->value);
		pha_kv_bool(j, "exceeded", t->exceeded);
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
	pha_kv_bool(j, "exceeded", d->exceeded);
}

void pha_diff_write_json(const struct pha_diff *d, struct pha_out *out)
{
	struct pha_json j;
	pha_json_init(&j, out);
	pha_json_object_begin(&j);
	pha_kv_str(&j, "schema", PHA_DIFF_SCHEMA);
	pha_json_key(&j, "tool");
	pha_json_object_begin(&j);
	pha_kv_str(&j, "name", "pyheap-analyze");
	pha_kv_str(&j, "version", PHA_VERSION);
	pha_json_object_end(&j);
	side(&j, "old", d->old_path, d->old);
	side(&j, "new", d->new_path, d->new_);
	pha_kv_bool(&j, "same_process", d->same_process);
	pha_kv_str(&j, "verdict", d->verdict);
	pha_json_key(&j, "summary");
	nums(&j, d->summary, d->nsummary);
	types(&j, d);
	growth(&j, "growth", d->growth, d->ngrowth);
	growth(&j, "appeared", d->appeared, d->nappeared);
	groups(&j, "unreachable_groups", &d->unreachable);
	groups(&j, "cycles", &d->cycles);
	pha_json_key(&j, "memory");
	if (d->memory)
		nums(&j, d->mem, d->nmem);
	else
		pha_json_null(&j);
	thresholds(&j, d);
	pha_json_object_end(&j);
	pha_out_puts(out, "\n");
}
