/* The report model: what the writers print, computed from the heap and
 * the target. Sorted and tie-broken deterministically. */
#ifndef PHA_REPORT_H
#define PHA_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "heap.h"
#include "target.h"

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

struct pha_report_frame {
	char *function, *filename;
	int line;
};

struct pha_report_thread {
	uint64_t thread_id, native_id;
	bool crashed;		/* the thread whose signal ended the process */
	struct pha_report_frame *frames;
	size_t nframes;
};

struct pha_report {
	/* input */
	const char *input_path;
	const char *input_kind;	/* "core" */
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
	char *executable;	/* NULL unknown */
	char **argv;
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
	struct pha_report_thread *threads;
	size_t nthreads;

	char **warnings;	/* borrowed from the target */
	size_t nwarnings;

	uint8_t *unreachable;	/* per object id: 1 if unreachable (for --dump-objects) */
};

struct pha_error *pha_report_build(struct pha_target *t, const struct pha_heap *h,
				   struct pha_report **report_ret);
void pha_report_destroy(struct pha_report *r);

#endif
