#include "json.h"
#include "report_write.h"

static void kv_str(struct pha_json *j, const char *k, const char *v)
{
	pha_json_key(j, k);
	pha_json_string(j, v);
}

static void kv_uint(struct pha_json *j, const char *k, uint64_t v)
{
	pha_json_key(j, k);
	pha_json_uint(j, v);
}

static void groups(struct pha_json *j, const struct pha_report_group *g, size_t n, bool with_flag)
{
	pha_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		pha_json_object_begin(j);
		kv_str(j, "signature", g[i].signature);
		kv_uint(j, "instances", g[i].instances);
		kv_uint(j, "objects", g[i].objects);
		kv_uint(j, "bytes", g[i].bytes);
		if (with_flag) {
			pha_json_key(j, "unreachable");
			pha_json_bool(j, g[i].unreachable);
		}
		pha_json_object_end(j);
	}
	pha_json_array_end(j);
}

void pha_report_write_json(const struct pha_report *r, struct pha_out *out)
{
	struct pha_json j;
	pha_json_init(&j, out);
	pha_json_object_begin(&j);
	kv_str(&j, "schema", PHA_REPORT_SCHEMA);

	pha_json_key(&j, "tool");
	pha_json_object_begin(&j);
	kv_str(&j, "name", "pyheap-analyze");
	kv_str(&j, "version", PHA_VERSION);
	pha_json_object_end(&j);

	pha_json_key(&j, "input");
	pha_json_object_begin(&j);
	kv_str(&j, "path", r->input_path);
	kv_str(&j, "kind", r->input_kind);
	kv_uint(&j, "bytes", r->input_bytes);
	pha_json_key(&j, "compressed");
	pha_json_bool(&j, r->compressed);
	pha_json_object_end(&j);

	pha_json_key(&j, "python");
	pha_json_object_begin(&j);
	kv_str(&j, "version", r->version);
	kv_uint(&j, "hexversion", r->hexversion);
	kv_str(&j, "layout", r->layout);
	pha_json_key(&j, "free_threaded");
	pha_json_bool(&j, r->free_threaded);
	pha_json_object_end(&j);

	pha_json_key(&j, "process");
	pha_json_object_begin(&j);
	pha_json_key(&j, "pid");
	if (r->pid >= 0)
		pha_json_int(&j, r->pid);
	else
		pha_json_null(&j);
	pha_json_key(&j, "signal");
	if (r->signal)
		pha_json_int(&j, r->signal);
	else
		pha_json_null(&j);
	kv_str(&j, "executable", r->executable);
	pha_json_key(&j, "argv");
	if (r->argc) {
		pha_json_array_begin(&j);
		for (size_t i = 0; i < r->argc; i++)
			pha_json_string(&j, r->argv[i]);
		pha_json_array_end(&j);
	} else {
		pha_json_null(&j);
	}
	pha_json_object_end(&j);

	pha_json_key(&j, "summary");
	pha_json_object_begin(&j);
	kv_uint(&j, "objects", r->summary.objects);
	kv_uint(&j, "gc_objects", r->summary.gc_objects);
	kv_uint(&j, "bytes", r->summary.bytes);
	kv_uint(&j, "edges", r->summary.edges);
	kv_uint(&j, "unreachable_objects", r->summary.unreachable_objects);
	kv_uint(&j, "unreachable_bytes", r->summary.unreachable_bytes);
	kv_uint(&j, "cycles", r->summary.cycles);
	kv_uint(&j, "cycle_objects", r->summary.cycle_objects);
	kv_uint(&j, "cycle_bytes", r->summary.cycle_bytes);
	kv_uint(&j, "permanent_objects", r->summary.permanent_objects);
	kv_uint(&j, "conservative_objects", r->summary.conservative_objects);
	kv_uint(&j, "unknown_refs", r->summary.unknown_refs);
	pha_json_object_end(&j);

	pha_json_key(&j, "types");
	pha_json_array_begin(&j);
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct pha_report_type *t = &r->types[i];
		pha_json_object_begin(&j);
		kv_str(&j, "name", t->name);
		kv_uint(&j, "count", t->count);
		kv_uint(&j, "bytes", t->bytes);
		kv_uint(&j, "gc_count", t->gc_count);
		kv_uint(&j, "unreachable", t->unreachable);
		kv_uint(&j, "unreachable_bytes", t->unreachable_bytes);
		pha_json_object_end(&j);
	}
	pha_json_array_end(&j);

	pha_json_key(&j, "unreachable");
	pha_json_object_begin(&j);
	pha_json_key(&j, "types");
	pha_json_array_begin(&j);
	for (size_t i = 0; i < r->nunreachable_types; i++) {
		const struct pha_report_type *t = r->unreachable_types[i];
		pha_json_object_begin(&j);
		kv_str(&j, "name", t->name);
		kv_uint(&j, "count", t->unreachable);
		kv_uint(&j, "bytes", t->unreachable_bytes);
		pha_json_object_end(&j);
	}
	pha_json_array_end(&j);
	pha_json_key(&j, "groups");
	groups(&j, r->ugroups, r->nugroups, false);
	pha_json_object_end(&j);

	pha_json_key(&j, "cycles");
	groups(&j, r->cycles, r->ncycles, true);

	pha_json_key(&j, "threads");
	pha_json_array_begin(&j);
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pha_report_thread *t = &r->threads[i];
		pha_json_object_begin(&j);
		kv_uint(&j, "thread_id", t->thread_id);
		pha_json_key(&j, "native_id");
		if (t->native_id)
			pha_json_uint(&j, t->native_id);
		else
			pha_json_null(&j);
		pha_json_key(&j, "crashed");
		pha_json_bool(&j, t->crashed);
		pha_json_key(&j, "frames");
		pha_json_array_begin(&j);
		for (size_t k = 0; k < t->nframes; k++) {
			pha_json_object_begin(&j);
			kv_str(&j, "function", t->frames[k].function);
			kv_str(&j, "filename", t->frames[k].filename);
			pha_json_key(&j, "line");
			if (t->frames[k].line >= 0)
				pha_json_int(&j, t->frames[k].line);
			else
				pha_json_null(&j);
			pha_json_object_end(&j);
		}
		pha_json_array_end(&j);
		pha_json_object_end(&j);
	}
	pha_json_array_end(&j);

	pha_json_key(&j, "warnings");
	pha_json_array_begin(&j);
	for (size_t i = 0; i < r->nwarnings; i++)
		pha_json_string(&j, r->warnings[i]);
	pha_json_array_end(&j);

	pha_json_object_end(&j);
}
