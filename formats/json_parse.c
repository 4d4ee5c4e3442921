/* The strict, bounded JSON parser (json_parse.h). One pass over the text:
 * values under construction sit on one growable stack and are copied into
 * the tree arena when their array or object closes, so every value is
 * copied at most once. */
#include "json_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------- */

struct pha_arena_chunk {
	struct pha_arena_chunk *next;
	size_t cap;
	_Alignas(8) unsigned char data[];
};

#define ARENA_CHUNK (64 * 1024)

void pha_arena_init(struct pha_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void pha_arena_deinit(struct pha_arena *a)
{
	struct pha_arena_chunk *c = a->head;
	while (c) {
		struct pha_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	pha_arena_init(a);
}

void *pha_arena_alloc(struct pha_arena *a, size_t size)
{
	if (size > SIZE_MAX - 16)
		return NULL;
	size = (size + 7) & ~(size_t)7;
	if (!a->head || size > a->cap - a->used) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		struct pha_arena_chunk *c = calloc(1, sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->cap = cap;
		a->total += cap;
	}
	void *p = a->head->data + a->used;
	a->used += size;
	return p;
}

void *pha_arena_calloc(struct pha_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return pha_arena_alloc(a, n && size ? n * size : 1);
}

char *pha_arena_strdup(struct pha_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pha_arena_alloc(a, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* ---- parser -------------------------------------------------------------- */

struct jp {
	const unsigned char *start, *p, *end;
	const char *path;
	const struct pha_json_limits *lim;
	struct pha_arena *tree, *strings;
	uint64_t values;
	struct pha_jv *stack;	/* values of the open arrays and objects */
	size_t n, cap;
	struct pha_error *err;
};

__attribute__((format(printf, 3, 4)))
static bool fail(struct jp *j, const unsigned char *at, const char *fmt, ...)
{
	if (j->err)
		return false;
	size_t off = (size_t)(at - j->start);
	uint64_t line = 1;
	const unsigned char *bol = j->start;
	for (const unsigned char *q = j->start; q < at; q++) {
		if (*q == '\n') {
			line++;
			bol = q + 1;
		}
	}
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	j->err = pha_error_create(PHA_ERR_INPUT,
				  "%s: not valid JSON at byte offset %zu (line %llu, column %zu): %s",
				  j->path, off, (unsigned long long)line, (size_t)(at - bol) + 1, what);
	return false;
}

static bool oom(struct jp *j)
{
	if (!j->err)
		j->err = &pha_enomem;
	return false;
}

/* A byte for a message: 'x' when printable ASCII, else \xNN. */
static const char *show(unsigned char c, char buf[8])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", c);
	return buf;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool push(struct jp *j, const struct pha_jv *v)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 256;
		struct pha_jv *s = realloc(j->stack, cap * sizeof(*s));
		if (!s)
			return oom(j);
		j->stack = s;
		j->cap = cap;
	}
	j->stack[j->n++] = *v;
	return true;
}

static bool count_value(struct jp *j)
{
	if (++j->values > j->lim->max_values)
		return fail(j, j->p, "more than %llu values (the limit)",
			    (unsigned long long)j->lim->max_values);
	return true;
}

static int hex4(const unsigned char *p)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		int c = p[k], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xC0 | cp >> 6);
		d[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xE0 | cp >> 12);
		d[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		d[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	d[0] = (unsigned char)(0xF0 | cp >> 18);
	d[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	d[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	d[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Length of the well-formed UTF-8 sequence at p (before end), 0 if it is
 * ill-formed (Unicode table 3-7). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (!n || (size_t)(end - p) < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		unsigned lo = 0x80, hi = 0xBF, b = p[k];
		if (k == 1 && c == 0xE0)
			lo = 0xA0;
		if (k == 1 && c == 0xED)
			hi = 0x9F;
		if (k == 1 && c == 0xF0)
			lo = 0x90;
		if (k == 1 && c == 0xF4)
			hi = 0x8F;
		if (b < lo || b > hi)
			return 0;
	}
	return n;
}

/* \uXXXX at p (p[0] == 'u'), a surrogate pair included; q: the closing
 * quote. Sets *cp and returns the bytes read after the backslash, 0 on error. */
static size_t unicode_escape(struct jp *j, const unsigned char *p, const unsigned char *q,
			     uint32_t *cp)
{
	int v = q - p > 4 ? hex4(p + 1) : -1;
	if (v < 0)
		return fail(j, p - 1, "\\u must be followed by 4 hex digits"), 0;
	if (v >= 0xDC00 && v <= 0xDFFF)
		return fail(j, p - 1, "lone low surrogate \\u%04X", v), 0;
	if (v >= 0xD800 && v <= 0xDBFF) {
		int lo = q - p > 10 && p[5] == '\\' && p[6] == 'u' ? hex4(p + 7) : -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(j, p - 1, "lone high surrogate \\u%04X (not followed by a low one)", v), 0;
		*cp = 0x10000 + (((uint32_t)v - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
		return 11;
	}
	if (v == 0)
		return fail(j, p - 1, "\\u0000 (a NUL character) in a string"), 0;
	*cp = (uint32_t)v;
	return 5;
}

static bool parse_string(struct jp *j, struct pha_jv *v)
{
	const unsigned char *open = j->p, *q = j->p + 1;
	while (q < j->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= j->end)
		return fail(j, open, "unterminated string");
	size_t raw = (size_t)(q - open - 1);
	if (raw > UINT32_MAX)
		return fail(j, open, "string longer than 4 GiB");
	unsigned char *d = pha_arena_alloc(j->strings, raw + 1), *out = d;
	if (!d)
		return oom(j);
	for (const unsigned char *p = open + 1; p < q;) {
		unsigned c = *p;
		char b[8];
		if (c < 0x20)
			return fail(j, p, "control character %s in a string (must be escaped)",
				    show((unsigned char)c, b));
		if (c >= 0x80) {
			size_t n = utf8_len(p, q);
			if (!n)
				return fail(j, p, "invalid UTF-8 (byte %s)", show((unsigned char)c, b));
			memcpy(out, p, n);
			out += n;
			p += n;
			continue;
		}
		if (c != '\\') {
			*out++ = (unsigned char)c;
			p++;
			continue;
		}
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = p[1] ? strchr(from, p[1]) : NULL;
		if (k) {
			*out++ = (unsigned char)to[k - from];
			p += 2;
		} else if (p[1] == 'u') {
			uint32_t cp;
			size_t used = unicode_escape(j, p + 1, q, &cp);
			if (!used)
				return false;
			out += put_utf8(out, cp);
			p += 1 + used;
		} else {
			return fail(j, p, "invalid escape \\%s", show(p[1], b));
		}
	}
	*out = 0;
	v->type = PHA_JV_STRING;
	v->n = (uint32_t)(out - d);
	v->s = (char *)d;
	j->p = q + 1;
	return true;
}

static bool is_digit(const struct jp *j, const unsigned char *p)
{
	return p < j->end && *p >= '0' && *p <= '9';
}

static bool parse_number(struct jp *j, struct pha_jv *v)
{
	const unsigned char *p = j->p;
	bool neg = *p == '-', other = false;
	uint64_t mag = 0;
	if (neg)
		p++;
	if (!is_digit(j, p))
		return fail(j, j->p, "invalid number");
	if (*p == '0' && is_digit(j, p + 1))
		return fail(j, j->p, "invalid number (leading zero)");
	for (; is_digit(j, p); p++) {
		unsigned d = *p - '0';
		if (mag > (UINT64_MAX - d) / 10)
			other = true;
		else
			mag = mag * 10 + d;
	}
	if (p < j->end && *p == '.') {
		if (!is_digit(j, ++p))
			return fail(j, p, "invalid number (no digit after '.')");
		while (is_digit(j, p))
			p++;
		other = true;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(j, p))
			return fail(j, p, "invalid number (no digit in the exponent)");
		while (is_digit(j, p))
			p++;
		other = true;
	}
	v->type = PHA_JV_NUMBER;
	if (other || (neg && mag > (uint64_t)INT64_MAX + 1)) {
		v->num = PHA_JNUM_OTHER;
	} else if (neg) {
		v->num = PHA_JNUM_NEG;
		v->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		v->num = PHA_JNUM_UINT;
		v->u = mag;
	}
	j->p = p;
	return true;
}

static bool literal(struct jp *j, const char *word, enum pha_jv_type t, struct pha_jv *v)
{
	size_t n = strlen(word);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n)) {
		char b[8];
		return fail(j, j->p, "unexpected character %s", show(*j->p, b));
	}
	j->p += n;
	v->type = (uint8_t)t;
	return true;
}

static bool parse_value(struct jp *j, unsigned depth, struct pha_jv *v);

/* The elements (or key, value pairs) of an array or object: from the
 * stack above mark into the tree. */
static bool close_container(struct jp *j, size_t mark, enum pha_jv_type t, struct pha_jv *v)
{
	size_t n = j->n - mark;
	v->type = (uint8_t)t;
	v->n = (uint32_t)(t == PHA_JV_OBJECT ? n / 2 : n);
	v->kids = NULL;
	if (n) {
		v->kids = pha_arena_calloc(j->tree, n, sizeof(*v->kids));
		if (!v->kids)
			return oom(j);
		memcpy(v->kids, j->stack + mark, n * sizeof(*v->kids));
	}
	j->n = mark;
	j->p++;
	return true;
}

static bool parse_container(struct jp *j, unsigned depth, struct pha_jv *v)
{
	bool object = *j->p == '{';
	char close = object ? '}' : ']', b[8];
	size_t mark = j->n;
	if (depth >= j->lim->max_depth)
		return fail(j, j->p, "nested deeper than %u levels (the limit)", j->lim->max_depth);
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close)
		return close_container(j, mark, object ? PHA_JV_OBJECT : PHA_JV_ARRAY, v);
	for (;;) {
		struct pha_jv kid = {0};
		skip_ws(j);
		if (object) {
			if (j->p >= j->end || *j->p != '"')
				return j->p >= j->end
					       ? fail(j, j->p, "unexpected end of input")
					       : fail(j, j->p, "expected a string key, not %s", show(*j->p, b));
			if (!count_value(j) || !parse_string(j, &kid) || !push(j, &kid))
				return false;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return fail(j, j->p, "expected ':' after a key");
			j->p++;
		}
		if (!parse_value(j, depth + 1, &kid) || !push(j, &kid))
			return false;
		if ((j->n - mark) / (object ? 2 : 1) > UINT32_MAX)
			return fail(j, j->p, "more than 2^32 elements");
		skip_ws(j);
		if (j->p >= j->end)
			return fail(j, j->p, "unexpected end of input (an unclosed %s)",
				    object ? "object" : "array");
		if (*j->p == close)
			return close_container(j, mark, object ? PHA_JV_OBJECT : PHA_JV_ARRAY, v);
		if (*j->p != ',')
			return fail(j, j->p, "expected ',' or '%c', not %s", close, show(*j->p, b));
		j->p++;
	}
}

static bool parse_value(struct jp *j, unsigned depth, struct pha_jv *v)
{
	char b[8];
	skip_ws(j);
	if (j->p >= j->end)
		return fail(j, j->p, "unexpected end of input");
	if (!count_value(j))
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		return parse_container(j, depth, v);
	case '"':
		return parse_string(j, v);
	case 't':
		return literal(j, "true", PHA_JV_TRUE, v);
	case 'f':
		return literal(j, "false", PHA_JV_FALSE, v);
	case 'n':
		return literal(j, "null", PHA_JV_NULL, v);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return parse_number(j, v);
		return fail(j, j->p, "unexpected character %s", show(*j->p, b));
	}
}

struct pha_error *pha_json_parse(const char *text, size_t len, const char *path,
				 const struct pha_json_limits *lim, struct pha_arena *tree,
				 struct pha_arena *strings, const struct pha_jv **root_ret)
{
	struct jp j = {
		.start = (const unsigned char *)text,
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.path = path,
		.lim = lim,
		.tree = tree,
		.strings = strings,
	};
	if (len > lim->max_bytes)
		return pha_error_create(PHA_ERR_INPUT, "%s: %zu bytes of JSON, more than the %llu a report "
					"may have", path, len, (unsigned long long)lim->max_bytes);
	struct pha_jv *root = pha_arena_alloc(tree, sizeof(*root));
	if (!root)
		return &pha_enomem;
	if (parse_value(&j, 0, root)) {
		skip_ws(&j);
		if (j.p < j.end)
			fail(&j, j.p, "data after the JSON value");
	}
	free(j.stack);
	if (j.err)
		return j.err;
	*root_ret = root;
	return NULL;
}

const struct pha_jv *pha_jv_get(const struct pha_jv *o, const char *key)
{
	if (!o || o->type != PHA_JV_OBJECT)
		return NULL;
	for (uint32_t i = 0; i < o->n; i++)
		if (!strcmp(o->kids[2 * i].s, key))
			return &o->kids[2 * i + 1];
	return NULL;
}
