/* The report reader's tables for the report/2 and report/3 sections: why
 * (roots, retained, leak_suspects, held_by_c), waste, memory and
 * allocations (report_read_map.h explains the tables). */
#include <stdlib.h>
#include <string.h>

#include "../analyzer/report.h"
#include "report_read_map.h"

#define W(m) offsetof(struct pha_report, why.m)

/* ---- roots, retained ------------------------------------------------------ */

static const struct rd_field roots_fields[] = {
	{.key = "interpreter", .kind = RD_U64, .off = W(interpreter_roots)},
	{.key = "held_from_outside", .kind = RD_U64, .off = W(external_roots)},
	{.key = "held_from_outside_bytes", .kind = RD_U64, .off = W(external_bytes)},
	{.key = "labelled", .kind = RD_BOOL, .off = W(labelled_roots)},
	{.key = "edge_labels", .kind = RD_BOOL, .off = W(edge_labels)},
};

bool rd_roots(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(roots_fields), base);
}

static const struct rd_field path_elem_fields[] = {
	{.key = "label", .kind = RD_STR, .off = offsetof(struct pha_path_elem, label)},
	{.key = "type", .kind = RD_STR, .off = offsetof(struct pha_path_elem, type)},
	{.key = "address", .kind = RD_U64, .off = offsetof(struct pha_path_elem, addr)},
};

static bool each_path_elem(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(path_elem_fields), item);
}

/* "path" of a retainer or a suspect; base: its struct pha_path. */
static bool path_of(struct rd *d, const struct pha_jv *v, struct pha_path *p)
{
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*p->elems), SIZE_MAX, each_path_elem, &items, &p->n))
		return false;
	p->elems = items;
	return true;
}

static const struct rd_field site_objects_fields[] = {
	{.key = "filename", .kind = RD_NAME, .off = offsetof(struct pha_alloc_site, file), .required = true},
	{.key = "line", .kind = RD_U32, .off = offsetof(struct pha_alloc_site, line)},
	{.key = "objects", .kind = RD_U64, .off = offsetof(struct pha_alloc_site, objects)},
};

#define TOP(m) offsetof(struct pha_retainer, m)

static bool top_path(struct rd *d, const struct pha_jv *v, void *base)
{
	return path_of(d, v, &((struct pha_retainer *)base)->path);
}

static bool top_site(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(site_objects_fields), &((struct pha_retainer *)base)->alloc);
}

static const struct rd_field top_fields[] = {
	{.key = "address", .kind = RD_U64, .off = TOP(addr)},
	{.key = "type", .kind = RD_STR, .off = TOP(type)},
	{.key = "shallow", .kind = RD_U64, .off = TOP(shallow)},
	{.key = "retained", .kind = RD_U64, .off = TOP(retained)},
	{.key = "retained_native", .kind = RD_U64, .off = TOP(retained_native)},
	{.key = "path", .kind = RD_SUB, .off = 0, .sub = top_path},
	{.key = "path_elided", .kind = RD_U64, .off = TOP(path.elided)},
	{.key = "allocated_at", .kind = RD_SUB, .off = 0, .sub = top_site},
};

static bool each_top(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(top_fields), item);
}

static bool each_retained_type(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "name", .kind = RD_NAME, .off = offsetof(struct pha_retained_type, name), .required = true},
		{.key = "retained_bytes", .kind = RD_U64, .off = offsetof(struct pha_retained_type, retained_bytes)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool retained_types(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_why *w = &((struct pha_report *)base)->why;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*w->types), SIZE_MAX, each_retained_type, &items, &w->ntypes))
		return false;
	w->types = items;
	return true;
}

static bool retained_top(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_why *w = &((struct pha_report *)base)->why;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*w->top), SIZE_MAX, each_top, &items, &w->ntop))
		return false;
	w->top = items;
	return true;
}

static const struct rd_field retained_fields[] = {
	{.key = "heap_objects", .kind = RD_U64, .off = W(heap_objects)},
	{.key = "heap_bytes", .kind = RD_U64, .off = W(heap_bytes)},
	{.key = "top_level_bytes", .kind = RD_U64, .off = W(top_level_bytes)},
	{.key = "unrooted_objects", .kind = RD_U64, .off = W(unrooted_objects)},
	{.key = "unrooted_bytes", .kind = RD_U64, .off = W(unrooted_bytes)},
	{.key = "types", .kind = RD_SUB, .off = 0, .sub = retained_types},
	{.key = "top", .kind = RD_SUB, .off = 0, .sub = retained_top},
};

bool rd_retained(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(retained_fields), base);
}

/* ---- leak_suspects, held_by_c -------------------------------------------- */

#define SP(m) offsetof(struct pha_suspect, m)

static bool suspect_kind(struct rd *d, const struct pha_jv *v, void *base)
{
	const char *s;
	if (!rd_string(d, v, false, &s))
		return false;
	if (!strcmp(s, "unexplained_refs"))
		((struct pha_suspect *)base)->kind = PHA_SUSPECT_UNEXPLAINED;
	else if (!strcmp(s, "accumulation"))
		((struct pha_suspect *)base)->kind = PHA_SUSPECT_ACCUMULATION;
	else
		return rd_fail(d, "expected \"unexplained_refs\" or \"accumulation\"");
	return true;
}

static bool suspect_holds(struct rd *d, const struct pha_jv *v, void *base)
{
	static const struct rd_field fields[] = {
		{.key = "type", .kind = RD_NAME, .off = SP(holds_type), .required = true},
		{.key = "count", .kind = RD_U64, .off = SP(holds_count)},
		{.key = "retained_bytes", .kind = RD_U64, .off = SP(holds_bytes)},
	};
	return v->type == PHA_JV_NULL || rd_object(d, v, RD_FIELDS(fields), base);
}

static bool suspect_path(struct rd *d, const struct pha_jv *v, void *base)
{
	return path_of(d, v, &((struct pha_suspect *)base)->path);
}

static bool suspect_site(struct rd *d, const struct pha_jv *v, void *base)
{
	return rd_object(d, v, RD_FIELDS(site_objects_fields), &((struct pha_suspect *)base)->alloc);
}

static const struct rd_field suspect_fields[] = {
	{.key = "kind", .kind = RD_SUB, .off = 0, .required = true, .sub = suspect_kind},
	{.key = "type", .kind = RD_STR, .off = SP(type)},
	{.key = "address", .kind = RD_U64_NULL, .off = SP(addr)},
	{.key = "objects", .kind = RD_U64, .off = SP(objects)},
	{.key = "excess_refs", .kind = RD_U64, .off = SP(excess_refs)},
	{.key = "retained_bytes", .kind = RD_U64, .off = SP(retained_bytes)},
	{.key = "native_bytes", .kind = RD_U64, .off = SP(native_bytes)},
	{.key = "holds", .kind = RD_SUB, .off = 0, .sub = suspect_holds},
	{.key = "path", .kind = RD_SUB, .off = 0, .sub = suspect_path},
	{.key = "path_elided", .kind = RD_U64, .off = SP(path.elided)},
	{.key = "allocated_at", .kind = RD_SUB, .off = 0, .sub = suspect_site},
	{.key = "sentence", .kind = RD_STR, .off = SP(sentence)},
};

static bool each_suspect(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(suspect_fields), item);
}

bool rd_suspects(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_why *w = &((struct pha_report *)base)->why;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*w->suspects), SIZE_MAX, each_suspect, &items, &w->nsuspects))
		return false;
	w->suspects = items;
	return true;
}

#define HG(m) offsetof(struct pha_held_group, m)
static const struct rd_field held_fields[] = {
	{.key = "type", .kind = RD_NAME, .off = HG(type), .required = true},
	{.key = "objects", .kind = RD_U64, .off = HG(objects)},
	{.key = "excess_refs", .kind = RD_U64, .off = HG(excess_refs)},
	{.key = "bytes", .kind = RD_U64, .off = HG(bytes)},
	{.key = "retained_bytes", .kind = RD_U64, .off = HG(retained_bytes)},
	{.key = "example", .kind = RD_U64, .off = HG(example)},
	{.key = "reason", .kind = RD_NAME, .off = HG(reason), .required = true},
};

static bool each_held(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(held_fields), item);
}

static bool held_types(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_why *w = &((struct pha_report *)base)->why;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*w->held_by_c), SIZE_MAX, each_held, &items, &w->nheld_by_c))
		return false;
	w->held_by_c = items;
	return true;
}

bool rd_held_by_c(struct rd *d, const struct pha_jv *v, void *base)
{
	static const struct rd_field fields[] = {
		{.key = "objects", .kind = RD_U64, .off = W(held_by_c_objects)},
		{.key = "bytes", .kind = RD_U64, .off = W(held_by_c_bytes)},
		{.key = "types", .kind = RD_SUB, .off = 0, .sub = held_types},
	};
	return rd_object(d, v, RD_FIELDS(fields), base);
}

/* ---- growth_candidates (added to report/3 for the diff) -------------------- */

#define GC(m) offsetof(struct pha_growth_candidate, m)
static const struct rd_field growth_fields[] = {
	{.key = "address", .kind = RD_U64, .off = GC(addr)},
	{.key = "type", .kind = RD_NAME, .off = GC(type), .required = true},
	{.key = "items", .kind = RD_U64, .off = GC(items)},
	{.key = "retained", .kind = RD_U64, .off = GC(retained)},
	{.key = "path", .kind = RD_NAME, .off = GC(path), .required = true},
};

static bool each_growth(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(growth_fields), item);
}

bool rd_growth_candidates(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_why *w = &((struct pha_report *)base)->why;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*w->growth), SIZE_MAX, each_growth, &items, &w->ngrowth))
		return false;
	w->growth = items;
	return true;
}

/* ---- waste ---------------------------------------------------------------- */

static bool each_dup(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "preview", .kind = RD_STR, .off = offsetof(struct pha_dup_value, preview)},
		{.key = "copies", .kind = RD_U64, .off = offsetof(struct pha_dup_value, copies)},
		{.key = "wasted_bytes", .kind = RD_U64, .off = offsetof(struct pha_dup_value, wasted_bytes)},
		{.key = "address", .kind = RD_U64, .off = offsetof(struct pha_dup_value, address)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool dup_top(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_dup_kind *dk = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*dk->top), SIZE_MAX, each_dup, &items, &dk->ntop))
		return false;
	dk->top = items;
	return true;
}

static bool dup_kind(struct rd *d, const struct pha_jv *v, struct pha_dup_kind *dk)
{
	static const struct rd_field fields[] = {
		{.key = "groups", .kind = RD_U64, .off = offsetof(struct pha_dup_kind, groups)},
		{.key = "copies", .kind = RD_U64, .off = offsetof(struct pha_dup_kind, copies)},
		{.key = "wasted_bytes", .kind = RD_U64, .off = offsetof(struct pha_dup_kind, wasted_bytes)},
		{.key = "top", .kind = RD_SUB, .off = 0, .sub = dup_top},
	};
	return rd_object(d, v, RD_FIELDS(fields), dk);
}

static bool each_waste_type(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "name", .kind = RD_NAME, .off = offsetof(struct pha_waste_type, name), .required = true},
		{.key = "count", .kind = RD_U64, .off = offsetof(struct pha_waste_type, count)},
		{.key = "bytes", .kind = RD_U64, .off = offsetof(struct pha_waste_type, bytes)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool container_types(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_container_waste *cw = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*cw->types), SIZE_MAX, each_waste_type, &items, &cw->ntypes))
		return false;
	cw->types = items;
	return true;
}

static bool containers(struct rd *d, const struct pha_jv *v, struct pha_container_waste *cw)
{
	static const struct rd_field fields[] = {
		{.key = "count", .kind = RD_U64, .off = offsetof(struct pha_container_waste, count)},
		{.key = "bytes", .kind = RD_U64, .off = offsetof(struct pha_container_waste, bytes)},
		{.key = "types", .kind = RD_SUB, .off = 0, .sub = container_types},
	};
	return rd_object(d, v, RD_FIELDS(fields), cw);
}

#define WS(m) offsetof(struct pha_waste, m)

static bool waste_dup_str(struct rd *d, const struct pha_jv *v, void *base)
{
	return dup_kind(d, v, &((struct pha_waste *)base)->dup_str);
}

static bool waste_dup_bytes(struct rd *d, const struct pha_jv *v, void *base)
{
	return dup_kind(d, v, &((struct pha_waste *)base)->dup_bytes);
}

static bool waste_empty(struct rd *d, const struct pha_jv *v, void *base)
{
	return containers(d, v, &((struct pha_waste *)base)->empty);
}

static bool waste_mostly_empty(struct rd *d, const struct pha_jv *v, void *base)
{
	return containers(d, v, &((struct pha_waste *)base)->mostly_empty);
}

bool rd_waste(struct rd *d, const struct pha_jv *v, void *base)
{
	static const struct rd_field fields[] = {
		{.key = "available", .kind = RD_BOOL, .off = WS(available), .required = true},
		{.key = "reason", .kind = RD_STR, .off = WS(reason)},
		{.key = "duplicate_str", .kind = RD_SUB, .off = 0, .sub = waste_dup_str},
		{.key = "duplicate_bytes", .kind = RD_SUB, .off = 0, .sub = waste_dup_bytes},
		{.key = "empty_containers", .kind = RD_SUB, .off = 0, .sub = waste_empty},
		{.key = "mostly_empty_containers", .kind = RD_SUB, .off = 0, .sub = waste_mostly_empty},
	};
	return rd_object(d, v, RD_FIELDS(fields), &((struct pha_report *)base)->why.waste);
}

/* ---- memory ----------------------------------------------------------------- */

#define PM(m) offsetof(struct pha_procmem, m)
#define PY(m) offsetof(struct pha_procmem, pymalloc.m)
#define MA(m) offsetof(struct pha_procmem, malloc.m)

static bool each_category(struct rd *d, const struct pha_jv *v, void *item)
{
	struct {
		const char *name;
		uint64_t bytes;
	} *c = item;
	static const struct rd_field fields[] = {
		{.key = "name", .kind = RD_NAME, .off = 0, .required = true},
		{.key = "bytes", .kind = RD_U64, .off = sizeof(const char *)},
	};
	return rd_object(d, v, RD_FIELDS(fields), c);
}

/* categories[] by name into cat[]: each known category once. */
static bool categories(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_procmem *m = base;
	struct cat {
		const char *name;
		uint64_t bytes;
	} *cats = NULL;
	size_t n = 0;
	bool seen[PHA_MEM_COUNT] = {0};
	if (!rd_array(d, v, sizeof(*cats), PHA_MEM_COUNT, each_category, (void **)&cats, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		int c;
		for (c = 0; c < PHA_MEM_COUNT && strcmp(pha_memcat_name(c), cats[i].name); c++)
			;
		rd_push_idx(d, i);
		if (c == PHA_MEM_COUNT)
			return rd_fail(d, "unknown memory category");
		if (seen[c])
			return rd_fail(d, "the memory category appears twice");
		rd_pop(d);
		seen[c] = true;
		m->cat[c] = cats[i].bytes;
	}
	return true;
}

static bool each_class(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "block_size", .kind = RD_U32, .off = offsetof(struct pha_pymalloc_class, block_size)},
		{.key = "pools", .kind = RD_U64, .off = offsetof(struct pha_pymalloc_class, pools)},
		{.key = "used_blocks", .kind = RD_U64, .off = offsetof(struct pha_pymalloc_class, used_blocks)},
		{.key = "free_blocks", .kind = RD_U64, .off = offsetof(struct pha_pymalloc_class, free_blocks)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

/* The classes with pools in use, in order; nclasses: as many. */
static bool size_classes(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_procmem *m = base;
	struct pha_pymalloc_class *cl = NULL;
	size_t n = 0;
	if (!rd_array(d, v, sizeof(*cl), PHA_PYMALLOC_MAX_CLASSES, each_class, (void **)&cl, &n))
		return false;
	if (n)
		memcpy(m->pymalloc.classes, cl, n * sizeof(*cl));
	m->pymalloc.nclasses = (uint32_t)n;
	return true;
}

static bool pymalloc(struct rd *d, const struct pha_jv *v, void *base)
{
	static const struct rd_field fields[] = {
		{.key = "found", .kind = RD_BOOL, .off = PY(found), .required = true},
		{.key = "how", .kind = RD_CHARS, .off = PY(how), .size = sizeof(((struct pha_pymalloc *)0)->how)},
		{.key = "arenas", .kind = RD_U64, .off = PY(narenas)},
		{.key = "arena_size", .kind = RD_U32, .off = PY(arena_size)},
		{.key = "pool_size", .kind = RD_U32, .off = PY(pool_size)},
		{.key = "allocated_bytes", .kind = RD_U64, .off = PY(allocated_bytes)},
		{.key = "free_bytes", .kind = RD_U64, .off = PY(free_bytes)},
		{.key = "available_block_bytes", .kind = RD_U64, .off = PY(available_block_bytes)},
		{.key = "empty_pools", .kind = RD_U64, .off = PY(empty_pools)},
		{.key = "overhead_bytes", .kind = RD_U64, .off = PY(overhead_bytes)},
		{.key = "corrupt", .kind = RD_U64, .off = PY(corrupt)},
		{.key = "arena_table", .kind = RD_U64, .off = PY(arena_table)},
		{.key = "arena_slots", .kind = RD_U64, .off = PY(arena_slots)},
		{.key = "size_classes", .kind = RD_SUB, .off = 0, .sub = size_classes},
	};
	return rd_object(d, v, RD_FIELDS(fields), base);
}

static bool each_arena(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "address", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, addr)},
		{.key = "main", .kind = RD_BOOL, .off = offsetof(struct pha_malloc_arena, main)},
		{.key = "heaps", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, heaps)},
		{.key = "system_bytes", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, system_mem)},
		{.key = "in_use_bytes", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, in_use_bytes)},
		{.key = "free_bytes", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, free_bytes)},
		{.key = "top_bytes", .kind = RD_U64, .off = offsetof(struct pha_malloc_arena, top_bytes)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool malloc_arenas(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_malloc *m = &((struct pha_procmem *)base)->malloc;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*m->arenas), SIZE_MAX, each_arena, &items, &m->narenas))
		return false;
	m->arenas = items;
	return true;
}

static bool malloc_section(struct rd *d, const struct pha_jv *v, void *base)
{
	static const struct rd_field fields[] = {
		{.key = "allocator", .kind = RD_CHARS, .off = MA(allocator), .required = true,
		 .size = sizeof(((struct pha_malloc *)0)->allocator)},
		{.key = "walked", .kind = RD_BOOL, .off = MA(walked), .required = true},
		{.key = "how", .kind = RD_CHARS, .off = MA(how), .size = sizeof(((struct pha_malloc *)0)->how)},
		{.key = "in_use_bytes", .kind = RD_U64, .off = MA(in_use_bytes)},
		{.key = "in_use_chunks", .kind = RD_U64, .off = MA(in_use_chunks)},
		{.key = "free_bytes", .kind = RD_U64, .off = MA(free_bytes)},
		{.key = "free_chunks", .kind = RD_U64, .off = MA(free_chunks)},
		{.key = "tcache_bytes", .kind = RD_U64, .off = MA(tcache_bytes)},
		{.key = "top_bytes", .kind = RD_U64, .off = MA(top_bytes)},
		{.key = "mmapped_bytes", .kind = RD_U64, .off = MA(mmapped_bytes)},
		{.key = "mmapped_chunks", .kind = RD_U64, .off = MA(mmapped_chunks)},
		{.key = "overhead_bytes", .kind = RD_U64, .off = MA(overhead_bytes)},
		{.key = "corrupt", .kind = RD_U64, .off = MA(corrupt)},
		{.key = "arenas", .kind = RD_SUB, .off = 0, .sub = malloc_arenas},
	};
	return rd_object(d, v, RD_FIELDS(fields), base);
}

static bool each_native(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "type", .kind = RD_NAME, .off = offsetof(struct pha_native_type, type), .required = true},
		{.key = "objects", .kind = RD_U64, .off = offsetof(struct pha_native_type, objects)},
		{.key = "bytes", .kind = RD_U64, .off = offsetof(struct pha_native_type, bytes)},
		{.key = "inferred_bytes", .kind = RD_U64, .off = offsetof(struct pha_native_type, inferred_bytes)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool native_by_type(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_procmem *m = base;
	void *items = NULL;
	if (!rd_array(d, v, sizeof(*m->native_by_type), SIZE_MAX, each_native, &items,
		      &m->nnative_types))
		return false;
	m->native_by_type = items;
	return true;
}

static bool each_chunk(struct rd *d, const struct pha_jv *v, void *item)
{
	static const struct rd_field fields[] = {
		{.key = "address", .kind = RD_U64, .off = offsetof(struct pha_malloc_chunk, mem)},
		{.key = "bytes", .kind = RD_U64, .off = offsetof(struct pha_malloc_chunk, size)},
	};
	return rd_object(d, v, RD_FIELDS(fields), item);
}

static bool largest(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_procmem *m = base;
	struct pha_malloc_chunk *c = NULL;
	size_t max = sizeof(m->largest_unattributed) / sizeof(m->largest_unattributed[0]);
	if (!rd_array(d, v, sizeof(*c), max, each_chunk, (void **)&c, &m->nlargest))
		return false;
	if (m->nlargest)
		memcpy(m->largest_unattributed, c, m->nlargest * sizeof(*c));
	return true;
}

static const struct rd_field memory_fields[] = {
	{.key = "available", .kind = RD_BOOL, .off = PM(available), .required = true},
	{.key = "total_bytes", .kind = RD_U64, .off = PM(total_bytes)},
	{.key = "mappings", .kind = RD_U64, .off = PM(mappings)},
	{.key = "file_mappings", .kind = RD_U64, .off = PM(file_mappings)},
	{.key = "anonymous_mappings", .kind = RD_U64, .off = PM(anonymous_mappings)},
	{.key = "stack_mappings", .kind = RD_U64, .off = PM(stack_mappings)},
	{.key = "categories", .kind = RD_SUB, .off = 0, .sub = categories},
	{.key = "attributed_bytes", .kind = RD_U64, .off = PM(attributed_bytes)},
	{.key = "unattributed_bytes", .kind = RD_U64, .off = PM(unattributed_bytes)},
	{.key = "pymalloc", .kind = RD_SUB, .off = 0, .sub = pymalloc},
	{.key = "malloc", .kind = RD_SUB, .off = 0, .sub = malloc_section},
	{.key = "native_by_type", .kind = RD_SUB, .off = 0, .sub = native_by_type},
	{.key = "largest_unattributed", .kind = RD_SUB, .off = 0, .sub = largest},
};

/* A procmem holding what the JSON has (no per-object native bytes, no
 * chunk or arena address lists); NULL when not available (a snapshot's
 * report), as the JSON writer reads it. */
bool rd_memory(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_report *r = base;
	struct pha_procmem *m = pha_arena_alloc(d->mem, sizeof(*m));
	if (!m)
		return rd_oom(d);
	if (!rd_object(d, v, RD_FIELDS(memory_fields), m))
		return false;
	r->memory = m->available ? m : NULL;
	return true;
}

/* ---- allocations (tracemalloc) --------------------------------------------- */

/* While mapping, a row's or frame's filename; files[] is built from them
 * at the end (sorted, distinct, as the model has it). */
struct alloc_row {
	struct pha_alloc_stat st;
	const char *file;
	const struct pha_jv *frames;
};

struct alloc_frame {
	const char *file;
	uint32_t line;
};

static const struct rd_field frame_fields[] = {
	{.key = "filename", .kind = RD_NAME, .off = offsetof(struct alloc_frame, file), .required = true},
	{.key = "line", .kind = RD_U32, .off = offsetof(struct alloc_frame, line)},
};

static bool each_alloc_frame(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(frame_fields), item);
}

static bool row_frames(struct rd *d, const struct pha_jv *v, void *base)
{
	if (!rd_expect(d, v, PHA_JV_ARRAY, "an array"))
		return false;
	((struct alloc_row *)base)->frames = v;
	return true;
}

static const struct rd_field row_fields[] = {
	{.key = "filename", .kind = RD_NAME, .off = offsetof(struct alloc_row, file)},
	{.key = "line", .kind = RD_U32, .off = offsetof(struct alloc_row, st.line)},
	{.key = "frames", .kind = RD_SUB, .off = 0, .sub = row_frames},
	{.key = "bytes", .kind = RD_U64, .off = offsetof(struct alloc_row, st.bytes)},
	{.key = "count", .kind = RD_U64, .off = offsetof(struct alloc_row, st.count)},
};

static bool each_row(struct rd *d, const struct pha_jv *v, void *item)
{
	return rd_object(d, v, RD_FIELDS(row_fields), item);
}

struct alloc_map {
	struct pha_allocs *a;
	struct alloc_row *by_line, *by_tb;
	size_t nby_line, nby_tb;
	struct alloc_frame *frames;	/* of every traceback, in order */
	size_t nframes;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint32_t file_index(const struct pha_allocs *a, const char *f)
{
	const char **hit = f ? bsearch(&f, a->files, a->nfiles, sizeof(char *), cmp_str) : NULL;
	return hit ? (uint32_t)(hit - (const char **)a->files) : UINT32_MAX;
}

/* files[]: every filename once, sorted; then the rows' and frames' indices. */
static bool build_files(struct rd *d, struct alloc_map *am)
{
	struct pha_allocs *a = am->a;
	size_t n = 0, total = am->nby_line + am->nframes;
	const char **f = total ? pha_arena_calloc(d->mem, total, sizeof(*f)) : NULL;
	if (total && !f)
		return rd_oom(d);
	for (size_t i = 0; i < am->nby_line; i++)
		f[n++] = am->by_line[i].file ? am->by_line[i].file : "<unknown>";
	for (size_t i = 0; i < am->nframes; i++)
		f[n++] = am->frames[i].file;
	if (n)
		qsort(f, n, sizeof(*f), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || strcmp(f[u - 1], f[i]))
			f[u++] = f[i];
	a->files = (char **)f;
	a->nfiles = (uint32_t)u;
	for (size_t i = 0; i < am->nby_line; i++) {
		a->by_line[i] = am->by_line[i].st;
		a->by_line[i].file = file_index(a, am->by_line[i].file ? am->by_line[i].file : "<unknown>");
	}
	for (size_t i = 0; i < am->nframes; i++) {
		a->frames[i].file = file_index(a, am->frames[i].file);
		a->frames[i].line = am->frames[i].line;
	}
	return true;
}

/* by_traceback[]: traceback i is row i's frames. */
static bool tracebacks(struct rd *d, struct alloc_map *am)
{
	struct pha_allocs *a = am->a;
	size_t nf = 0;
	for (size_t i = 0; i < am->nby_tb; i++)
		nf += am->by_tb[i].frames ? am->by_tb[i].frames->n : 0;
	if (nf > UINT32_MAX || am->nby_tb >= UINT32_MAX)
		return rd_fail(d, "too many traceback frames");
	am->frames = nf ? pha_arena_calloc(d->mem, nf, sizeof(*am->frames)) : NULL;
	a->frames = nf ? pha_arena_calloc(d->mem, nf, sizeof(*a->frames)) : NULL;
	a->tb_first = pha_arena_calloc(d->mem, am->nby_tb + 1, sizeof(*a->tb_first));
	a->by_tb = am->nby_tb ? pha_arena_calloc(d->mem, am->nby_tb, sizeof(*a->by_tb)) : NULL;
	if ((nf && (!am->frames || !a->frames)) || !a->tb_first || (am->nby_tb && !a->by_tb))
		return rd_oom(d);
	rd_push_key(d, "by_traceback");
	for (size_t i = 0; i < am->nby_tb; i++) {
		const struct pha_jv *fv = am->by_tb[i].frames;
		rd_push_idx(d, i);
		rd_push_key(d, "frames");
		for (uint32_t k = 0; fv && k < fv->n; k++) {
			rd_push_idx(d, k);
			if (!each_alloc_frame(d, &fv->kids[k], &am->frames[am->nframes++]))
				return false;
			rd_pop(d);
		}
		d->depth -= 2;
		a->by_tb[i] = am->by_tb[i].st;
		a->by_tb[i].tb = (uint32_t)i;
		a->tb_first[i + 1] = (uint32_t)am->nframes;
	}
	rd_pop(d);
	a->ntb = (uint32_t)am->nby_tb;
	a->nby_tb = am->nby_tb;
	return true;
}

static bool by_line(struct rd *d, const struct pha_jv *v, void *base)
{
	struct alloc_map *am = base;
	return rd_array(d, v, sizeof(*am->by_line), SIZE_MAX, each_row, (void **)&am->by_line,
			&am->nby_line);
}

static bool by_tb(struct rd *d, const struct pha_jv *v, void *base)
{
	struct alloc_map *am = base;
	return rd_array(d, v, sizeof(*am->by_tb), SIZE_MAX, each_row, (void **)&am->by_tb,
			&am->nby_tb);
}

#define AL(m) offsetof(struct pha_allocs, m)
static const struct rd_field alloc_fields[] = {
	{.key = "tracing", .kind = RD_BOOL, .off = AL(tracing), .required = true},
	{.key = "available", .kind = RD_BOOL, .off = AL(traces)},
	{.key = "max_frames", .kind = RD_U32, .off = AL(max_frames)},
	{.key = "reason", .kind = RD_STR, .off = AL(reason)},
	{.key = "traced_bytes", .kind = RD_U64, .off = AL(traced_bytes)},
	{.key = "peak_bytes", .kind = RD_U64, .off = AL(peak_bytes)},
	{.key = "traces", .kind = RD_U64, .off = AL(ntraces)},
};

/* The statistics rows go through struct alloc_map first (their filenames
 * become indices into files[] once every name is known). */
static const struct rd_field alloc_rows[] = {
	{.key = "by_line", .kind = RD_SUB, .off = 0, .sub = by_line},
	{.key = "by_traceback", .kind = RD_SUB, .off = 0, .sub = by_tb},
};

bool rd_allocations(struct rd *d, const struct pha_jv *v, void *base)
{
	struct pha_allocs *a = pha_arena_alloc(d->mem, sizeof(*a));
	struct alloc_map am = {.a = a};
	if (!a)
		return rd_oom(d);
	if (!rd_object(d, v, RD_FIELDS(alloc_fields), a) || !rd_object(d, v, RD_FIELDS(alloc_rows), &am))
		return false;
	a->by_line = am.nby_line ? pha_arena_calloc(d->mem, am.nby_line, sizeof(*a->by_line)) : NULL;
	if (am.nby_line && !a->by_line)
		return rd_oom(d);
	a->nby_line = am.nby_line;
	if (!tracebacks(d, &am) || !build_files(d, &am))
		return false;
	((struct pha_report *)base)->allocs = a;
	return true;
}
