/* A small, strict, bounded JSON parser (RFC 8259) into a tree of values,
 * for reading reports back (report_read.c). The writer is json.c.
 *
 * Strict: exactly one value with only whitespace around it; no comments,
 * no trailing commas, no leading zeros, no NaN; strings are valid UTF-8
 * (Unicode table 3-7: no overlong forms, no encoded surrogates, nothing
 * above U+10FFFF), control characters only escaped, \uXXXX surrogates only
 * in pairs, and no \u0000 (the model's strings are C strings).
 * Bounded: nesting depth, number of values and input size are limited
 * (struct pha_json_limits); nesting is followed with a depth-limited
 * recursion, every other loop is linear in the input. Whatever the bytes,
 * the result is a tree or an error (PHA_ERR_INPUT) "PATH: not valid JSON
 * at byte offset N (line L, column C): WHAT" -- never a crash or a hang.
 */
#ifndef PHA_JSON_PARSE_H
#define PHA_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"

/* Bump allocation in chunks, freed all at once: the parse tree and the
 * strings of a report read back. Allocations are 8-byte aligned and
 * zeroed; NULL on OOM. */
struct pha_arena_chunk;
struct pha_arena {
	struct pha_arena_chunk *head;
	size_t used, cap;	/* of head */
	uint64_t total;		/* bytes allocated from the system */
};

void pha_arena_init(struct pha_arena *a);
void pha_arena_deinit(struct pha_arena *a);
void *pha_arena_alloc(struct pha_arena *a, size_t size);
/* n * size, NULL on overflow or OOM. */
void *pha_arena_calloc(struct pha_arena *a, size_t n, size_t size);
char *pha_arena_strdup(struct pha_arena *a, const char *s);

enum pha_jv_type {
	PHA_JV_NULL,
	PHA_JV_FALSE,
	PHA_JV_TRUE,
	PHA_JV_NUMBER,
	PHA_JV_STRING,
	PHA_JV_ARRAY,
	PHA_JV_OBJECT,
};

/* What a number is: an integer that fits uint64_t, a negative integer
 * that fits int64_t, or anything else (a fraction, an exponent, too big):
 * kept only as "other" (the report holds integers only). */
enum pha_jnum { PHA_JNUM_UINT, PHA_JNUM_NEG, PHA_JNUM_OTHER };

struct pha_jv {
	uint8_t type;		/* enum pha_jv_type */
	uint8_t num;		/* enum pha_jnum, for PHA_JV_NUMBER */
	uint32_t n;		/* string: bytes; array: elements; object: members */
	union {
		uint64_t u;		/* PHA_JNUM_UINT */
		int64_t i;		/* PHA_JNUM_NEG */
		char *s;		/* NUL-terminated, valid UTF-8, no NUL inside */
		struct pha_jv *kids;	/* array: n values; object: 2n (key, value) */
	};
};

struct pha_json_limits {
	unsigned max_depth;	/* arrays and objects nested */
	uint64_t max_values;	/* every value, keys included */
	uint64_t max_bytes;	/* of the text */
};

/* Parse text[0..len) (need not be NUL-terminated). Values go to the arena
 * tree, strings (keys included) to strings; either may be the same arena.
 * path names the input in messages. On success *root_ret is the value. */
struct pha_error *pha_json_parse(const char *text, size_t len, const char *path,
				 const struct pha_json_limits *lim, struct pha_arena *tree,
				 struct pha_arena *strings, const struct pha_jv **root_ret);

/* The value of key in object o (the first one), or NULL. */
const struct pha_jv *pha_jv_get(const struct pha_jv *o, const char *key);

#endif
