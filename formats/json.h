/* A small streaming JSON writer with deterministic, indented output. */
#ifndef PHA_JSON_H
#define PHA_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"

#define PHA_JSON_MAX_DEPTH 32

struct pha_json {
	struct pha_out *out;
	int depth;
	bool first[PHA_JSON_MAX_DEPTH];	/* no element written yet at this depth */
	bool after_key;
};

void pha_json_init(struct pha_json *j, struct pha_out *out);
void pha_json_object_begin(struct pha_json *j);
void pha_json_object_end(struct pha_json *j);
void pha_json_array_begin(struct pha_json *j);
void pha_json_array_end(struct pha_json *j);
void pha_json_key(struct pha_json *j, const char *key);
void pha_json_string(struct pha_json *j, const char *s);	/* NULL writes null */
void pha_json_uint(struct pha_json *j, uint64_t v);
void pha_json_int(struct pha_json *j, int64_t v);
void pha_json_bool(struct pha_json *j, bool v);
void pha_json_null(struct pha_json *j);

/* Escape s as a JSON string body (without quotes) into out. Invalid UTF-8
 * bytes become U+FFFD so the report is always valid JSON. */
void pha_json_escape(struct pha_out *out, const char *s);

#endif
