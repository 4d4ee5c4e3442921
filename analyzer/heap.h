/* The heap model: every object found in the dump, with dense uint32_t ids
 * in address order, attributes in parallel arrays, and forward edges in
 * CSR form. Both the core path and (later) the snapshot path end here. */
#ifndef PHA_HEAP_H
#define PHA_HEAP_H

#include <stdint.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "target.h"

#define PHA_NO_ID UINT32_MAX

struct pha_heap_type {
	uint64_t addr;		/* address of the type object */
	const char *name;	/* report name (owned by the layout) */
	uint32_t obj;		/* id of the type object, PHA_NO_ID if not in the heap */
	uint8_t kind;		/* enum pha_type_kind: what its instances are */
};

/* The kind of a type known only by its report name (no type_kind from
 * the layout, a snapshot without kinds): `type` and `module` themselves;
 * metaclasses and module subclasses are then not recognised. */
static inline uint8_t pha_type_kind_by_name(const char *name)
{
	if (!strcmp(name, "type"))
		return PHA_TYPE_KIND_TYPE;
	if (!strcmp(name, "module"))
		return PHA_TYPE_KIND_MODULE;
	return PHA_TYPE_KIND_OTHER;
}

struct pha_heap {
	uint32_t n;
	uint64_t *addr;		/* sorted ascending */
	uint32_t *type;		/* index into types[] */
	struct pha_col size;	/* shallow size (sys.getsizeof): pha_heap_size */
	struct pha_col refcnt;	/* pha_heap_refcnt */
	uint8_t *flags;		/* PHA_OBJ_* */
	uint8_t *gen;		/* GC generation 0..2, 3 permanent, 255 not on a GC list */

	uint32_t *first;	/* n+1 */
	uint32_t *dst;
	uint8_t *eflags;	/* PHA_EDGE_* */
	uint64_t nedges;

	struct pha_heap_type *types;
	uint32_t ntypes;

	uint64_t gc_listed;		/* objects on the GC lists (gens 0..2) */
	uint64_t permanent;		/* objects on the permanent generation */
	uint64_t unknown_refs;		/* references to addresses that are not objects */
	uint64_t bad_objects;		/* listed/referenced addresses dropped as unreadable */
	uint64_t conservative;		/* objects whose referents were scanned for */
};

struct pha_error *pha_heap_build(struct pha_target *t, struct pha_heap **heap_ret);
void pha_heap_destroy(struct pha_heap *heap);

/* Id of the object at addr, PHA_NO_ID if none. */
uint32_t pha_heap_find(const struct pha_heap *heap, uint64_t addr);

static inline uint64_t pha_heap_size(const struct pha_heap *h, uint32_t v)
{
	return pha_col_get(&h->size, v);
}

static inline uint64_t pha_heap_refcnt(const struct pha_heap *h, uint32_t v)
{
	return pha_col_get(&h->refcnt, v);
}

static inline struct pha_graph pha_heap_graph(const struct pha_heap *h)
{
	return (struct pha_graph){
		.n = h->n, .first = h->first, .dst = h->dst, .eflags = h->eflags,
	};
}

#endif
