/* What grew between two dumps (`pyheap-analyze diff OLD NEW`, schema
 * pyheap-analyze.diff/1, formats/REPORT.md "The diff"): a model computed
 * from two report models, whatever each came from (a core, a snapshot, a
 * saved report), which the diff writers (formats/diff_*.c) print.
 *
 * Every string is borrowed from the two reports, except the verdict; every
 * array is in a fixed order (deterministic output). */
#ifndef PHA_DIFF_H
#define PHA_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "report.h"

#define PHA_DIFF_SCHEMA "pyheap-analyze.diff/1"

/* One type, present in either report, whose count, bytes or retained
 * bytes changed. */
struct pha_diff_type {
	const char *name;
	uint64_t count_old, count_new, bytes_old, bytes_new;
	int64_t count_delta, bytes_delta, retained_delta;
};

enum pha_diff_match {
	PHA_MATCH_NONE,		/* among NEW's candidates only */
	PHA_MATCH_ADDRESS,	/* same process, same address and type: the same object */
	PHA_MATCH_PATH,		/* the same labelled path (unique in both) and type */
};

/* A growth candidate of NEW and, when matched, OLD's. */
struct pha_diff_growth {
	enum pha_diff_match match;
	bool same_object;
	const char *type;
	const char *path;	/* NEW's */
	const char *path_old;	/* OLD's (NULL unmatched) */
	uint64_t addr_old, addr_new;
	uint64_t items_old, items_new, retained_old, retained_new;
	int64_t items_delta, retained_delta;
};

/* A group of unreachable objects or a cycle shape by signature: in one
 * report only (new, vanished) or in both with other counts (changed). */
struct pha_diff_group {
	const char *signature;
	const char *kind;	/* cycles: "user" | "module-world"; unreachable: NULL */
	uint64_t instances_old, instances_new, objects_old, objects_new, bytes_old, bytes_new;
};

struct pha_diff_groups {
	struct pha_diff_group *appeared, *vanished, *changed;
	size_t nappeared, nvanished, nchanged;
};

/* A number of both reports (a summary count, a memory category). */
struct pha_diff_num {
	const char *name;
	uint64_t old, new_;
};

enum pha_threshold_kind { PHA_THRESHOLD_GROWTH = 1, PHA_THRESHOLD_TYPE };

struct pha_diff_threshold {
	enum pha_threshold_kind kind;
	const char *type;	/* PHA_THRESHOLD_TYPE: the type name (the option's) */
	uint64_t limit;
	int64_t value;		/* the heap's bytes delta, or the type's count delta */
	bool exceeded;		/* value > limit */
};

struct pha_diff_options {
	bool fail_on_growth;
	uint64_t growth_limit;	/* bytes */
	const struct pha_diff_threshold *type_limits;	/* kind, type, limit */
	size_t ntype_limits;
};

#define PHA_DIFF_MAX_NUMS 40

struct pha_diff {
	const struct pha_report *old, *new_;
	const char *old_path, *new_path;	/* as given on the command line */
	bool same_process;	/* same pid and executable: addresses compare */

	struct pha_diff_type *types;	/* bytes_delta desc, count_delta desc, name */
	size_t ntypes;
	size_t types_unchanged;
	/* matched candidates that grew (items or retained): items_delta desc,
	 * retained_delta desc, path */
	struct pha_diff_growth *growth;
	size_t ngrowth;
	/* NEW's candidates that match none of OLD's: new containers, or ones
	 * too small to be among OLD's candidates; items desc */
	struct pha_diff_growth *appeared;
	size_t nappeared;
	struct pha_diff_groups unreachable, cycles;

	struct pha_diff_num summary[PHA_DIFF_MAX_NUMS];
	size_t nsummary;
	bool memory;		/* both reports have a memory section */
	struct pha_diff_num mem[PHA_DIFF_MAX_NUMS];
	size_t nmem;

	struct pha_diff_threshold *thresholds;
	size_t nthresholds;
	bool exceeded;		/* some threshold was */
	char *verdict;
};

struct pha_error *pha_diff_build(const struct pha_report *old, const struct pha_report *new_,
				 const struct pha_diff_options *opts, struct pha_diff **diff_ret);
void pha_diff_destroy(struct pha_diff *d);	/* accepts NULL */

/* The command (diffcmd.c): argv[0] is "diff"; returns the exit status. */
int pha_diff_command(int argc, char **argv);

/* The writers (formats/diff_json.c, formats/diff_doc.c). */
struct pha_out;
void pha_diff_write_json(const struct pha_diff *d, struct pha_out *out);
enum pha_diff_doc { PHA_DIFF_TEXT, PHA_DIFF_MD, PHA_DIFF_HTML };
struct pha_error *pha_diff_write_doc(const struct pha_diff *d, enum pha_diff_doc kind,
				     struct pha_out *out);

#endif
