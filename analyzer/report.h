/* The report model: what the writers print, computed from the heap and
 * its source (a core or a snapshot). Sorted and tie-broken
 * deterministically. */
#ifndef PHA_REPORT_H
#define PHA_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "heap.h"
#include "source.h"

#define PHA_REPORT_SCHEMA "pyheap-analyze.report/1"

struct pha_report_type {
	const char *name;
	uint64_t count, bytes;
	uint64_t gc_count;
	uint64_t unreachable, unreachable_bytes;
};

struct pha_report_group {
	char *signature;
	uint64_t instances, objects, bytes;
	bool unreachable;
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

	struct {
		uint64_t objects, gc_objects, bytes, edges;
		uint64_t unreachable_objects, unreachable_bytes;
		uint64_t cycles, cycle_objects, cycle_bytes;
		uint64_t permanent_objects, conservative_objects, unknown_refs;
	} summary;

	struct pha_report_type *types;	/* by bytes desc, then name */
	size_t ntypes;
	struct pha_report_type **unreachable_types;	/* subset, by unreachable bytes desc */
	size_t nunreachable_types;
	struct pha_report_group *ugroups;	/* unreachable objects grouped by SCC signature */
	size_t nugroups;
	struct pha_report_group *cycles;	/* SCC groups (size >= 2 or self-loop) */
	size_t ncycles;
	const struct pha_report_thread *threads;
	size_t nthreads;

	char *const *warnings;
	size_t nwarnings;

	uint8_t *unreachable;	/* per object id: 1 if unreachable (for --dump-objects) */
};

/* May add warnings to the source (the report borrows them from it): the
 * source must outlive the report. */
struct pha_error *pha_report_build(struct pha_source *src, const struct pha_heap *h,
				   struct pha_report **report_ret);
void pha_report_destroy(struct pha_report *r);

#endif
