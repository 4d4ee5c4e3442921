#include "markup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void pha_buf_init(struct pha_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pha_buf_deinit(struct pha_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void pha_buf_reset(struct pha_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static bool reserve(struct pha_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void pha_buf_write(struct pha_buf *b, const void *p, size_t n)
{
	if (!n || !reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void pha_buf_puts(struct pha_buf *b, const char *s)
{
	pha_buf_write(b, s, strlen(s));
}

void pha_buf_printf(struct pha_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		pha_buf_write(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void pha_buf_flush(struct pha_buf *b, struct pha_out *out)
{
	if (b->len)
		pha_out_write(out, b->data, b->len);
	pha_buf_reset(b);
}

/* Valid characters that are invisible or move text around (the same set
 * as json.c's): bidirectional controls, zero-width characters, line and
 * paragraph separators, the byte order mark. */
static bool invisible(uint32_t c)
{
	return c == 0x061C || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0xFEFF;
}

/* The visible form of a character that must not be written as itself;
 * false for a character that can be. */
static bool visible_escape(struct pha_buf *b, const char *s, size_t n, uint32_t c,
			   const char *backslash)
{
	if (c == PHA_UTF8_BAD) {
		for (size_t i = 0; i < n; i++)
			pha_buf_printf(b, "%sx%02x", backslash, (unsigned char)s[i]);
	} else if (c == '\n') {
		pha_buf_printf(b, "%sn", backslash);
	} else if (c == '\t') {
		pha_buf_printf(b, "%st", backslash);
	} else if (c == '\r') {
		pha_buf_printf(b, "%sr", backslash);
	} else if (c < 0x20 || c == 0x7F) {
		pha_buf_printf(b, "%sx%02x", backslash, (unsigned)c);
	} else if ((c >= 0x80 && c <= 0x9F) || invisible(c)) {
		pha_buf_printf(b, "%su%04x", backslash, (unsigned)c);
	} else {
		return false;
	}
	return true;
}

void pha_md_escape(struct pha_buf *b, const char *s, size_t max)
{
	const char *start = s;
	if (!s)
		return;
	while (*s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (max && (size_t)(s - start) + n > max) {
			pha_buf_puts(b, "…");
			return;
		}
		/* A backslash shown as text is itself escaped: "\\n". */
		if (visible_escape(b, s, n, c, "\\\\")) {
		} else if (c == '&') {
			pha_buf_puts(b, "&amp;");
		} else if (c < 0x80 && strchr("\\`*_[]<>|~#@!{}", (int)c)) {
			char e[2] = {'\\', (char)c};
			pha_buf_write(b, e, 2);
		} else {
			pha_buf_write(b, s, n);
		}
		s += n;
	}
}

void pha_text_escape_buf(struct pha_buf *b, const char *s)
{
	if (!s)
		return;
	while (*s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (!visible_escape(b, s, n, c, "\\"))
			pha_buf_write(b, s, n);
		s += n;
	}
}

void pha_html_escape(struct pha_buf *b, const char *s)
{
	if (!s)
		return;
	while (*s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (visible_escape(b, s, n, c, "\\")) {
		} else if (c == '&') {
			pha_buf_puts(b, "&amp;");
		} else if (c == '<') {
			pha_buf_puts(b, "&lt;");
		} else if (c == '>') {
			pha_buf_puts(b, "&gt;");
		} else if (c == '"') {
			pha_buf_puts(b, "&quot;");
		} else if (c == '\'') {
			pha_buf_puts(b, "&#39;");
		} else {
			pha_buf_write(b, s, n);
		}
		s += n;
	}
}

void pha_json_script_string(struct pha_buf *b, const char *s)
{
	pha_buf_puts(b, "\"");
	while (s && *s) {
		uint32_t c;
		size_t n = pha_utf8_next(s, &c);
		if (c == PHA_UTF8_BAD)
			pha_buf_puts(b, "\\ufffd");
		else if (c == '"' || c == '\\')
			pha_buf_printf(b, "\\%c", (char)c);
		else if (c == '\n')
			pha_buf_puts(b, "\\n");
		else if (c < 0x20 || c == 0x7F || c == '<' || c == '>' || c == '&' || c == 0x2028 ||
			 c == 0x2029)
			pha_buf_printf(b, "\\u%04x", (unsigned)c);
		else
			pha_buf_write(b, s, n);
		s += n;
	}
	pha_buf_puts(b, "\"");
}
