/* Internal to the report reader (report_read.c, report_read_why.c): the
 * parsed JSON mapped onto the report model's structs by tables of fields.
 *
 * Each JSON object of the report is described by a table of its keys:
 * the kind of value, where it goes (an offset into the struct being
 * filled) and whether it must be there. rd_object walks the object's
 * members once: an unknown key is skipped (later versions may add keys,
 * REPORT.md), a known key twice is an error, a value of the wrong kind is
 * an error naming the file and the JSON path ("$.why.top[3].retained:
 * expected an unsigned integer"), a missing key that is not required
 * keeps its zero value (report/2 files lack the report/3 keys). */
#ifndef PHA_REPORT_READ_MAP_H
#define PHA_REPORT_READ_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"
#include "json_parse.h"

#define RD_MAX_TRAIL 16

struct rd {
	const char *file;
	struct pha_arena *mem;		/* the report's: arrays and structs */
	struct {
		const char *key;	/* NULL: an array index */
		size_t idx;
	} trail[RD_MAX_TRAIL];
	unsigned depth;
	int schema;			/* 2 or 3 */
	struct pha_error *err;
};

enum rd_kind {
	RD_U64,		/* unsigned integer */
	RD_U32,		/* unsigned integer below 2^32 */
	RD_U64_NULL,	/* unsigned integer, or null: 0 */
	RD_INT_NULL,	/* non-negative integer, or null: .dflt; .size 4 (int) or 8 (int64_t) */
	RD_BOOL,
	RD_STR,		/* string or null (NULL): a const char * */
	RD_NAME,	/* string, never null */
	RD_CHARS,	/* string into a char[.size] */
	RD_SUB,		/* .sub(d, value, base) */
};

struct rd;
typedef bool (*rd_fn)(struct rd *d, const struct pha_jv *v, void *base);

struct rd_field {
	const char *key;
	enum rd_kind kind;
	size_t off;
	bool required;
	size_t size;		/* RD_CHARS, RD_INT_NULL */
	int64_t dflt;		/* RD_INT_NULL */
	rd_fn sub;		/* RD_SUB */
};

#define RD_FIELDS(t) (t), (sizeof(t) / sizeof((t)[0]))

__attribute__((format(printf, 2, 3)))
bool rd_fail(struct rd *d, const char *fmt, ...);
bool rd_oom(struct rd *d);
void rd_push_key(struct rd *d, const char *key);
void rd_push_idx(struct rd *d, size_t idx);
void rd_pop(struct rd *d);

/* Fill base from object v by the table (see above). */
bool rd_object(struct rd *d, const struct pha_jv *v, const struct rd_field *f, size_t nf,
	       void *base);
/* An array of at most max values into a new zeroed array of n items of
 * elem bytes (NULL when empty), each filled by each(d, value, item). */
bool rd_array(struct rd *d, const struct pha_jv *v, size_t elem, size_t max, rd_fn each,
	      void **items_ret, size_t *n_ret);
/* Type checks for values read by hand. */
bool rd_expect(struct rd *d, const struct pha_jv *v, enum pha_jv_type t, const char *what);
bool rd_string(struct rd *d, const struct pha_jv *v, bool nullable, const char **s_ret);

/* Sections of report_read_why.c, each an RD_SUB of the top-level table
 * (base: the struct pha_report): roots, retained, leak_suspects,
 * held_by_c, waste, memory, allocations. */
bool rd_roots(struct rd *d, const struct pha_jv *v, void *base);
bool rd_retained(struct rd *d, const struct pha_jv *v, void *base);
bool rd_suspects(struct rd *d, const struct pha_jv *v, void *base);
bool rd_held_by_c(struct rd *d, const struct pha_jv *v, void *base);
bool rd_growth_candidates(struct rd *d, const struct pha_jv *v, void *base);
bool rd_waste(struct rd *d, const struct pha_jv *v, void *base);
bool rd_memory(struct rd *d, const struct pha_jv *v, void *base);
bool rd_allocations(struct rd *d, const struct pha_jv *v, void *base);

#endif
