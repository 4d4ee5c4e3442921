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

void pha_json_escape(struct pha_out *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			pha_out_write(out, e, 2);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': pha_out_puts(out, "\\n"); break;
			case '\t': pha_out_puts(out, "\\t"); break;
			case '\r': pha_out_puts(out, "\\r"); break;
			default: pha_out_printf(out, "\\u%04x", c); break;
			}
			p++;
		} else if (c < 0x80) {
			pha_out_write(out, p, 1);
			p++;
		} else {
			/* Validate one UTF-8 sequence. */
			size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
			bool ok = n > 0;
			for (size_t i = 1; ok && i < n; i++)
				ok = (p[i] & 0xC0) == 0x80;
			if (ok) {
				pha_out_write(out, p, n);
				p += n;
			} else {
				pha_out_puts(out, "\\ufffd");
				p++;
			}
		}
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
