/* Where a heap came from: what the report says about its input, the Python
 * and the process, apart from the heap itself.
 *
 * Filled either from a core (pha_source_from_target, after the heap was
 * built) or by the snapshot reader (formats/snapshot.h). The report is
 * built from a source and a heap only, so both inputs share the whole
 * analysis and every writer. A source owns all its strings.
 */
#ifndef PHA_SOURCE_H
#define PHA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocations.h"
#include "error.h"
#include "warnings.h"

struct pha_target;
struct pha_layout;
struct pha_py;
struct pha_services;

struct pha_report_local {
	char *name;
	uint64_t addr;
};

struct pha_report_frame {
	char *function, *filename;
	int line;			/* -1 unknown */
	struct pha_report_local *locals;	/* snapshots only, NULL otherwise */
	size_t nlocals;
};

struct pha_report_thread {
	uint64_t thread_id, native_id;
	bool crashed;		/* the thread whose signal ended the process */
	struct pha_report_frame *frames;
	size_t nframes;
};

struct pha_source {
	/* input */
	char *input_path;
	const char *input_kind;	/* "core" | "snapshot" */
	uint64_t input_bytes;
	bool compressed;
	/* python */
	char version[32];
	uint32_t hexversion;
	char *layout;
	bool free_threaded;
	/* process */
	int64_t pid;		/* -1 unknown */
	int signal;		/* 0 unknown */
	char *executable;	/* NULL unknown */
	char **argv;
	size_t argc;
	/* snapshot header only (NULL for cores) */
	char *origin;		/* what the snapshot was made from: "core" | "in-process" */
	char *written_by;
	int64_t time;		/* unix seconds the snapshot was taken, -1 unknown */

	struct pha_report_thread *threads;
	size_t nthreads;
	uint64_t *roots;	/* addresses the interpreter holds directly */
	size_t nroots;
	/* Parallel to roots (NULL when nothing is known): what holds each
	 * root ("sys.modules", "<local 'x' in f() at a.py:3>"; NULL entries
	 * are unlabelled) and its enum pha_root_kind (0 unknown). */
	char **root_labels;
	uint8_t *root_kinds;

	/* Cores only (NULL for snapshots): the layout and runtime the heap was
	 * read with, for edge labels and previews of the few objects shown.
	 * Borrowed from the target, which must outlive the report build. */
	const struct pha_layout *lay;
	struct pha_py *py;
	const struct pha_services *svc;	/* the core's memory, for waste */
	/* Cores only: the memory section (owned; NULL for snapshots). */
	struct pha_procmem *memory;

	char **warnings;		/* one line per kind (warnings.h) */
	size_t nwarnings;
	struct pha_warnings warn_kinds;	/* of pha_source_warn */
	/* The target's lines among them: warnings[target_at ...], target_n */
	size_t target_at, target_n;
	int verbose;

	/* tracemalloc's traces and each object's allocation traceback. */
	struct pha_allocs allocs;

	/* Strings the heap's type table points to (snapshot path). */
	char **names;
	size_t nnames;
};

void pha_source_init(struct pha_source *s);
void pha_source_deinit(struct pha_source *s);

__attribute__((format(printf, 2, 3)))
void pha_source_warn(struct pha_source *s, const char *fmt, ...);

/* Process, Python, thread stacks, roots and warnings of a core; call it
 * after pha_heap_build so that the heap builder's warnings are included. */
struct pha_heap;
/* Roots: the layout's, then the C globals (words of the mapped ELF images'
 * writable data holding the address of an object of h, kind
 * PHA_ROOT_C_GLOBAL; only when the layout labels its roots). */
struct pha_error *pha_source_from_target(struct pha_target *t, const struct pha_heap *h,
					 struct pha_source *s);
/* The target's lines among the source's warnings made again from the
 * target's (analyze.c: the memory section, built beside the report, adds
 * and updates lines of the target after pha_source_from_target took
 * them); the source's own lines keep their places. */
struct pha_error *pha_source_update_target_warnings(struct pha_source *s,
						    const struct pha_target *t);

/* Append one string to a growable array; false on OOM (the string is then
 * freed). */
bool pha_strv_push(char ***v, size_t *n, char *s);

struct pha_memory;
/* The size of NT_PRPSINFO's pr_psargs with its NUL (struct pha_core.psargs). */
#define PHA_PSARGS_SIZE 81
/* The whole command line from the process's initial stack: psargs (the
 * kernel's first 80 bytes of it) gives argv[0]; the stack segment holding
 * execfn (AT_EXECFN) is searched for that string and for the argv array
 * pointing at it (argc before, NULL after). Linear in the segment's size
 * whatever it holds (at most 64 places of the string are tried). On
 * success *argv_ret and *argc_ret get a malloc'd array of malloc'd strings. */
bool pha_argv_from_stack(const struct pha_memory *mem, uint64_t execfn, const char *psargs,
			 char ***argv_ret, size_t *argc_ret);

#endif
