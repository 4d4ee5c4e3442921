#include "json.h"

#include <inttypes.h>
#include <string.h>

void pha_json_init(struct pha_json *j, struct pha_out *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

static void indent(struct pha_json *j)
{
	pha_out_puts(j->out, "\n");
	for (int i = 0; i < j->depth; i++)
		pha_out_puts(j->out, "  ");
}

/* Separator and indentation before a value or key. */
static void before_value(struct pha_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth])
			pha_out_puts(j->out, ",");
		indent(j);
	}
	j->first[j->depth] = false;
}

static void open_(struct pha_json *j, const char *c)
{
	before_value(j);
	pha_out_puts(j->out, c);
	if (j->depth < PHA_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct pha_json *j, const char *c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	pha_out_puts(j->out, c);
	if (j->depth == 0)
		pha_out_puts(j->out, "\n");
}

void pha_json_object_begin(struct pha_json *j) { open_(j, "{"); }
void pha_json_object_end(struct pha_json *j) { close_(j, "}"); }
void pha_json_array_begin(struct pha_json *j) { open_(j, "["); }
void pha_json_array_end(struct pha_json *j) { close_(j, "]"); }

/* ---- UTF-8 ---------------------------------------------------------------- */

size_t pha_utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* Well-formed sequences (Unicode 15, table 3-7): the lead byte gives
	 * the length and the range of the second byte, which excludes
	 * overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
	 * code points above U+10FFFF (F4 90..BF); C0, C1 and F5..FF never
	 * start a sequence. */
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else {
		*cp = PHA_UTF8_BAD;
		return 1;
	}
	uint32_t v = c & (0xFF >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		unsigned char b = p[i];	/* the NUL ends the string: never a continuation */
		if (b < lo || b > hi) {
			/* The maximal subpart so far is one U+FFFD. */
			*cp = PHA_UTF8_BAD;
			return i;
		}
		lo = 0x80, hi = 0xBF;
		v = v << 6 | (b & 0x3F);
	}
	*cp = v;
	return len;
}

/* Valid characters that are invisible or move text around: bidirectional
 * controls (the "Trojan Source" ones), zero-width characters, line and
 * paragraph separators, the byte order mark. */
static bool invisible(uint32_t c)
{
	return c == 0x061C || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0xFEFF;
}

void pha_json_escape(struct pha_out *out, const char *s)
{
	while (*s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (c == PHA_UTF8_BAD) {
			pha_out_puts(out, "\\ufffd");
		} else if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			pha_out_write(out, e, 2);
		} else if (c == '\n') {
			pha_out_puts(out, "\\n");
		} else if (c == '\t') {
			pha_out_puts(out, "\\t");
		} else if (c == '\r') {
			pha_out_puts(out, "\\r");
		} else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || invisible(c)) {
			/* Valid JSON either way; escaped, the report is also safe to cat. */
			pha_out_printf(out, "\\u%04x", (unsigned)c);
		} else {
			pha_out_write(out, s, n);
		}
		s += n;
	}
}

void pha_text_escape(struct pha_out *out, const char *s)
{
	while (*s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (c == PHA_UTF8_BAD) {
			for (size_t i = 0; i < n; i++)
				pha_out_printf(out, "\\x%02x", (unsigned char)s[i]);
		} else if (c == '\n') {
			pha_out_puts(out, "\\n");
		} else if (c == '\t') {
			pha_out_puts(out, "\\t");
		} else if (c == '\r') {
			pha_out_puts(out, "\\r");
		} else if (c < 0x20 || c == 0x7F) {
			pha_out_printf(out, "\\x%02x", (unsigned)c);
		} else if ((c >= 0x80 && c <= 0x9F) || invisible(c)) {
			pha_out_printf(out, "\\u%04x", (unsigned)c);
		} else {
			pha_out_write(out, s, n);
		}
		s += n;
	}
}

void pha_json_key(struct pha_json *j, const char *key)
{
	before_value(j);
	pha_out_puts(j->out, "\"");
	pha_json_escape(j->out, key);
	pha_out_puts(j->out, "\": ");
	j->after_key = true;
}

void pha_json_string(struct pha_json *j, const char *s)
{
	if (!s) {
		pha_json_null(j);
		return;
	}
	before_value(j);
	pha_out_puts(j->out, "\"");
	pha_json_escape(j->out, s);
	pha_out_puts(j->out, "\"");
}

void pha_json_uint(struct pha_json *j, uint64_t v)
{
	before_value(j);
	pha_out_printf(j->out, "%" PRIu64, v);
}

void pha_json_int(struct pha_json *j, int64_t v)
{
	before_value(j);
	pha_out_printf(j->out, "%" PRId64, v);
}

void pha_json_bool(struct pha_json *j, bool v)
{
	before_value(j);
	pha_out_puts(j->out, v ? "true" : "false");
}

void pha_json_null(struct pha_json *j)
{
	before_value(j);
	pha_out_puts(j->out, "null");
}
