/* The report model: what the writers print, computed from the heap and
 * its source (a core or a snapshot). Sorted and tie-broken
 * deterministically. */
#ifndef PHA_REPORT_H
#define PHA_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "allocations.h"
#include "error.h"
#include "heap.h"
#include "procmem.h"
#include "source.h"

#define PHA_REPORT_SCHEMA "pyheap-analyze.report/3"

/* One step of a path from a root: the root itself (label = what holds
 * it), then one element per reference (label = how it is read). */
struct pha_path_elem {
	char *label;
	const char *type;
	uint64_t addr;
};

/* A path longer than this keeps its first and last PHA_PATH_MAX_ELEMS/2
 * elements. */
#define PHA_PATH_MAX_ELEMS 64

struct pha_path {
	struct pha_path_elem *elems;
	size_t n;
	uint64_t elided;	/* elements left out in the middle of a long path */
};

/* paths.c: "sys.modules['app'].__dict__['_CACHE']": labels joined (the
 * root's label first, " → " between labels that do not start with '.' or
 * '['), "…" where elements were left out; "" for an empty path; NULL on
 * ENOMEM. */
char *pha_path_text(const struct pha_path *p);
void pha_path_free(struct pha_path *p);
/* "512 B", "1.5 MiB"; "30,000" */
void pha_size_text(uint64_t bytes, char *buf, size_t size);
void pha_count_text(uint64_t v, char *buf, size_t size);

struct pha_retained_type {
	const char *name;
	uint64_t retained_bytes;
};

struct pha_retainer {
	uint64_t addr;
	const char *type;
	uint64_t shallow, retained;
	/* report/3: native memory (memory section) the objects it retains
	 * own; 0 without a memory section */
	uint64_t retained_native;
	struct pha_path path;
	struct pha_alloc_site alloc;	/* commonest site of what it holds (tracemalloc) */
};

enum pha_suspect_kind { PHA_SUSPECT_UNEXPLAINED = 1, PHA_SUSPECT_ACCUMULATION };

struct pha_suspect {
	enum pha_suspect_kind kind;
	const char *type;
	uint64_t addr;		/* accumulation: the object; unexplained: 0 */
	uint64_t objects;	/* unexplained: objects of the type; accumulation: objects it retains */
	uint64_t excess_refs;	/* unexplained: sum of refcount - references found */
	uint64_t retained_bytes;
	uint64_t native_bytes;	/* report/3: native memory the retained objects own */
	const char *holds_type;	/* accumulation: the commonest type among what it holds */
	uint64_t holds_count, holds_bytes;
	struct pha_path path;	/* accumulation; unexplained: one example's path (often empty) */
	struct pha_alloc_site alloc;	/* commonest allocation site of its objects (tracemalloc) */
	char *sentence;
};

/* Objects held from outside Python that are not leak suspects: what the
 * interpreter and C modules keep on purpose (types, module definitions,
 * module state, caches), one row per report type. */
struct pha_held_group {
	const char *type;
	const char *reason;	/* static text: why this is not a suspect */
	uint64_t objects, excess_refs, bytes, retained_bytes;
	uint64_t example;	/* address of one of them */
};

struct pha_frame_local {
	const char *name;	/* borrowed from the source */
	const char *type;	/* NULL: not an object of the heap */
	uint64_t addr;
	char *preview;		/* NULL unknown */
	uint64_t retained;
};

/* Duplicate str or bytes values (see REPORT.md, `waste`). */
struct pha_dup_value {
	char *preview;
	uint64_t copies, wasted_bytes, address;	/* address: the kept (lowest) copy */
};

struct pha_dup_kind {
	uint64_t groups, copies, wasted_bytes;
	struct pha_dup_value *top;
	size_t ntop;
};

struct pha_waste_type {
	const char *name;	/* owned by the layout */
	uint64_t count, bytes;
};

struct pha_container_waste {
	uint64_t count, bytes;
	struct pha_waste_type *types;	/* bytes desc, then name */
	size_t ntypes;
};

struct pha_waste {
	bool available;
	const char *reason;	/* static; set when !available */
	struct pha_dup_kind dup_str, dup_bytes;
	struct pha_container_waste empty, mostly_empty;
};

/* What a later diff needs (report/3, growth.c): a container that may grow,
 * named by its labelled path and by its address. */
struct pha_growth_candidate {
	uint64_t addr;
	const char *type;
	uint64_t items;		/* container_len's used items, else strong references */
	uint64_t retained;
	char *path;		/* pha_path_text of its shortest path from a root */
};

struct pha_why {
	/* heap total: objects reachable from the super-root */
	uint64_t heap_objects, heap_bytes;
	uint64_t top_level_bytes;	/* sum of the retained sizes of the super-root's children */
	uint64_t unrooted_objects, unrooted_bytes;	/* no root reaches them */
	uint64_t interpreter_roots, external_roots;	/* objects */
	uint64_t external_bytes;	/* retained by "held from outside Python" roots */
	bool labelled_roots, edge_labels, previews;
	double suspect_threshold;
	struct pha_retained_type *types;	/* retained desc, then name */
	size_t ntypes;
	struct pha_retainer *top;
	size_t ntop;
	struct pha_suspect *suspects;
	size_t nsuspects;
	struct pha_held_group *held_by_c;	/* objects desc, then type name */
	size_t nheld_by_c;
	uint64_t held_by_c_objects, held_by_c_bytes;	/* every row, static objects excluded */
	/* locals[t][f] parallel to the source's threads/frames */
	struct pha_frame_local ***locals;
	struct pha_waste waste;
	/* by items desc, then retained desc, then address */
	struct pha_growth_candidate *growth;
	size_t ngrowth;
};

struct pha_report_options {
	double suspect_threshold;	/* fraction of the heap total; default 0.10 */
	bool redact;
	size_t top;			/* retained.top entries; default 20 */
	/* Optional work for a second thread while the cycles are found (the
	 * memory section of a core: analyze.c). Meanwhile the build does
	 * graph work only (no layout call, no read of the core), so side may
	 * read the core and write the target, but not the source or the
	 * heap. side_done(side_arg) then runs on the calling thread, before
	 * the why phase (which reads src->memory). A side error ends the
	 * build after the cycles (the cycles' own error first). */
	struct pha_error *(*side)(void *side_arg);
	struct pha_error *(*side_done)(void *side_arg);
	void *side_arg;
};

struct pha_report_type {
	const char *name;
	uint64_t count, bytes;
	uint64_t gc_count;
	uint64_t unreachable, unreachable_bytes;
	struct pha_alloc_site top_alloc;	/* tracemalloc: commonest site of its objects */
};

struct pha_report_group {
	char *signature;
	uint64_t instances, objects, bytes;
	bool unreachable;
	bool world;	/* cycles: a module-world row (kind "module-world"), else "user" */
};

struct pha_report {
	/* input; every string below is borrowed from the source */
	const char *input_path;
	const char *input_kind;	/* "core" | "snapshot" */
	uint64_t input_bytes;
	bool compressed;
	/* python */
	char version[32];
	uint32_t hexversion;
	const char *layout;
	bool free_threaded;
	/* process */
	int64_t pid;		/* -1 unknown */
	int signal;		/* 0 unknown */
	const char *executable;	/* NULL unknown */
	char *const *argv;
	size_t argc;
	/* --redact: argv, str/bytes contents and dict-key strings left out
	 * (JSON `redacted`; a saved report is rendered redacted only if it is) */
	bool redacted;

	struct {
		uint64_t objects, gc_objects, bytes, edges;
		uint64_t unreachable_objects;	/* GC objects in the collector's unreachable set */
		/* What gc.collect() frees: those and every object only they keep
		 * alive (unreachable_freed_objects objects, unreachable_bytes). */
		uint64_t unreachable_bytes, unreachable_freed_objects;
		uint64_t cycles, cycle_objects, cycle_bytes;	/* every row of cycles */
		uint64_t user_cycles, user_cycle_objects, user_cycle_bytes;	/* its user rows */
		uint64_t permanent_objects, conservative_objects, unknown_refs;
	} summary;

	struct pha_report_type *types;	/* by bytes desc, then name */
	size_t ntypes;
	struct pha_report_type **unreachable_types;	/* subset, by unreachable bytes desc */
	size_t nunreachable_types;
	struct pha_report_group *ugroups;	/* unreachable objects grouped by row signature */
	size_t nugroups;
	/* rows of pha_cycle_rows (graph.h) that are cycles, grouped: user rows
	 * first, then module-world rows, each by bytes desc */
	struct pha_report_group *cycles;
	size_t ncycles;
	const struct pha_report_thread *threads;
	size_t nthreads;

	char *const *warnings;
	size_t nwarnings;

	struct pha_why why;
	const struct pha_allocs *allocs;	/* borrowed from the source */

	/* report/3: where the process's memory went (cores; NULL for
	 * snapshots). Borrowed from the source. */
	const struct pha_procmem *memory;

	uint8_t *unreachable;	/* per object id: 1 if unreachable (for --dump-objects) */
};

/* The sections of the report, the unit the writers walk (MAT's
 * outputters over one result model): each covers these members of struct
 * pha_report.
 *   HEADER       input_path .. redacted (input, Python, process)
 *   SUMMARY      summary
 *   TYPES        types
 *   UNREACHABLE  unreachable_types, ugroups
 *   CYCLES       cycles
 *   THREADS      threads, with why.locals parallel to their frames
 *   WHY          why: roots, retained sizes, top retainers, leak suspects
 *   WASTE        why.waste
 *   MEMORY       memory
 *   ALLOCATIONS  allocs (tracemalloc)
 *   WARNINGS     warnings
 * The enum order is the report contract's (formats/REPORT.md, the JSON
 * writer's key order); a writer may present them in another order. */
enum pha_report_section {
	PHA_SECTION_HEADER,
	PHA_SECTION_SUMMARY,
	PHA_SECTION_TYPES,
	PHA_SECTION_UNREACHABLE,
	PHA_SECTION_CYCLES,
	PHA_SECTION_THREADS,
	PHA_SECTION_WHY,
	PHA_SECTION_WASTE,
	PHA_SECTION_MEMORY,
	PHA_SECTION_ALLOCATIONS,
	PHA_SECTION_WARNINGS,
	PHA_SECTION_COUNT
};

/* Every section in the contract's order. */
extern const enum pha_report_section pha_report_sections[PHA_SECTION_COUNT];

/* A writer (formats/report_*.c): one function per section it shows, and
 * the order it shows them in. A new output format is a new writer; the
 * others do not change. */
struct pha_report_writer {
	const char *name;	/* "json", "text" */
	/* Optional: before the first section, after the last. */
	void (*begin)(void *ctx, const struct pha_report *r);
	void (*end)(void *ctx, const struct pha_report *r);
	/* NULL: the writer leaves that section out. */
	void (*section[PHA_SECTION_COUNT])(void *ctx, const struct pha_report *r);
	const enum pha_report_section *order;
	size_t norder;
};

/* begin, each section of w->order that w writes, end; ctx is the writer's
 * own state (its output stream, options). */
void pha_report_walk(const struct pha_report *r, const struct pha_report_writer *w, void *ctx);

/* May add warnings to the source (the report borrows them from it): the
 * source must outlive the report. */
struct pha_error *pha_report_build(struct pha_source *src, const struct pha_heap *h,
				   const struct pha_report_options *opts,
				   struct pha_report **report_ret);

/* why.c: roots, dominators, retained sizes, paths, suspects, locals
 * (report/2). group_of maps heap type index to report type index (r->types
 * not yet sorted). inref: pha_strong_inrefs' counts (graph.h), freed
 * here, whatever happens. */
struct pha_error *pha_why_build(struct pha_source *src, const struct pha_heap *h,
				const struct pha_report_options *opts, const uint32_t *group_of,
				uint32_t *inref, struct pha_report *r);
void pha_why_deinit(struct pha_report *r);

/* growth.c: what why.c knows that the growth candidates need (the phase
 * runs inside pha_why_build, before its scratch is freed). */
struct pha_growth_view {
	const struct pha_source *src;
	const struct pha_heap *h;
	const uint64_t *retained;	/* per id; 0: no root reaches it */
	/* the shortest labelled path from a root to v */
	struct pha_error *(*path)(const void *ctx, uint32_t v, struct pha_path *p);
	const void *ctx;
};
struct pha_error *pha_growth_build(const struct pha_growth_view *v, struct pha_why *w);
void pha_growth_deinit(struct pha_why *w);
struct pha_error *pha_waste_build(struct pha_source *src, const struct pha_heap *h,
				  const struct pha_report_options *opts, struct pha_waste *w);
void pha_waste_deinit(struct pha_waste *w);
void pha_report_destroy(struct pha_report *r);

#endif
