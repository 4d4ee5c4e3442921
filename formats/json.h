/* A small streaming JSON writer with deterministic, indented output. */
#ifndef PHA_JSON_H
#define PHA_JSON_H

#include <stdbool.h>
#include <stddef.h>
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

/* Escape s as a JSON string body (without quotes) into out. The result is
 * always valid JSON in valid UTF-8, whatever bytes the heap held:
 *   - ill-formed UTF-8 (bytes C0, C1, F5..FF, stray continuation bytes,
 *     overlong forms, UTF-8-encoded surrogates D800..DFFF -- which is how a
 *     str with lone surrogates comes out of the layout's encoder --, code
 *     points above U+10FFFF, cut sequences) is REPLACED by U+FFFD, written
 *     \ufffd, one per maximal ill-formed subpart (what Python's
 *     bytes.decode("utf-8", "replace") gives). Lone surrogates are never
 *     written as \udXXX escapes: many JSON parsers reject them;
 *   - '"', '\' and control characters are escaped (\n \t \r, else
 *     \u00XX), and so are DEL, the C1 controls U+0080..U+009F and the
 *     invisible or reordering characters (bidi controls, zero-width
 *     characters, U+2028/U+2029, BOM): the value is unchanged, only its
 *     spelling, so that `cat report.json` is safe on a terminal too. */
void pha_json_escape(struct pha_out *out, const char *s);

/* ---- Text for terminals (and the text/Markdown writers) ----------------- */

/* Write s so that nothing in it can act on a terminal: no control
 * character or escape sequence reaches it raw. Printable text and valid
 * UTF-8 pass unchanged; \n \t \r are written as those two characters;
 * other C0 controls and DEL as \xNN; C1 controls and the invisible or
 * reordering characters as \uNNNN; each byte of ill-formed UTF-8 as \xNN
 * (the bytes stay visible for debugging). Writers of other formats add their
 * own quoting (Markdown's '|', '`') on top. */
void pha_text_escape(struct pha_out *out, const char *s);

/* One UTF-8 sequence at the start of the NUL-terminated s: returns its
 * length and the code point in *cp, or, for ill-formed UTF-8, the length of
 * the maximal subpart (1..3 bytes, to be replaced by one U+FFFD) and
 * PHA_UTF8_BAD in *cp. s must not be empty. */
#define PHA_UTF8_BAD UINT32_MAX
size_t pha_utf8_next(const char *s, uint32_t *cp);

/* A key and its value, the pairs every JSON writer is made of. */
static inline void pha_kv_str(struct pha_json *j, const char *k, const char *v)
{
	pha_json_key(j, k);
	pha_json_string(j, v);
}

static inline void pha_kv_uint(struct pha_json *j, const char *k, uint64_t v)
{
	pha_json_key(j, k);
	pha_json_uint(j, v);
}

static inline void pha_kv_int(struct pha_json *j, const char *k, int64_t v)
{
	pha_json_key(j, k);
	pha_json_int(j, v);
}

static inline void pha_kv_bool(struct pha_json *j, const char *k, bool v)
{
	pha_json_key(j, k);
	pha_json_bool(j, v);
}

#endif
