#include "mpcursor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pha_mp_init(struct pha_mp *mp, const void *buf, size_t len, const char *path)
{
	*mp = (struct pha_mp){.buf = buf, .len = len, .path = path};
}

bool pha_mp_fail_at(struct pha_mp *mp, size_t at, const char *fmt, ...)
{
	if (mp->err)
		return false;
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		mp->err = &pha_enomem;
		return false;
	}
	mp->err = pha_error_create(PHA_ERR_INPUT, "%s: %s at byte offset %zu", mp->path, msg, at);
	free(msg);
	return false;
}

bool pha_mp_at_end(const struct pha_mp *mp)
{
	return mp->off >= mp->len;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Need n bytes after the current offset (the start of a value at `at`). */
static bool need(struct pha_mp *mp, size_t at, size_t n)
{
	if (mp->err)
		return false;
	if (n > mp->len - mp->off)
		return pha_mp_fail_at(mp, at, "truncated value (needs %zu more bytes, %zu left)",
				      n, mp->len - mp->off);
	return true;
}

static const char *type_name(uint8_t b)
{
	if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
		return "unsigned integer";
	if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
		return "integer";
	if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf)
		return "map";
	if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)
		return "array";
	if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb))
		return "string";
	if (b >= 0xc4 && b <= 0xc6)
		return "bin";
	if (b == 0xc0)
		return "nil";
	if (b == 0xc2 || b == 0xc3)
		return "boolean";
	if (b == 0xca || b == 0xcb)
		return "float";
	if (b == 0xc1)
		return "never-used byte 0xc1";
	return "extension";
}

static bool wrong(struct pha_mp *mp, size_t at, const char *want)
{
	return pha_mp_fail_at(mp, at, "expected %s, found %s", want, type_name(mp->buf[at]));
}

bool pha_mp_nil(struct pha_mp *mp)
{
	if (mp->err || mp->off >= mp->len || mp->buf[mp->off] != 0xc0)
		return false;
	mp->off++;
	return true;
}

/* Length of a container or string-like header; kind: 0 array, 1 map, 2 str, 3 bin. */
static bool header(struct pha_mp *mp, int kind, uint32_t *n_ret)
{
	static const char *const names[] = {"array", "map", "string", "bin"};
	size_t at = mp->off;
	if (!need(mp, at, 1))
		return false;
	uint8_t b = mp->buf[mp->off];
	unsigned extra;
	uint64_t n;
	if (kind == 0 && (b & 0xf0) == 0x90) {
		n = b & 0x0f, extra = 0;
	} else if (kind == 1 && (b & 0xf0) == 0x80) {
		n = b & 0x0f, extra = 0;
	} else if (kind == 2 && (b & 0xe0) == 0xa0) {
		n = b & 0x1f, extra = 0;
	} else if ((kind == 0 && b == 0xdc) || (kind == 1 && b == 0xde)) {
		extra = 2;
	} else if ((kind == 0 && b == 0xdd) || (kind == 1 && b == 0xdf)) {
		extra = 4;
	} else if ((kind == 2 && b == 0xd9) || (kind == 3 && b == 0xc4)) {
		extra = 1;
	} else if ((kind == 2 && b == 0xda) || (kind == 3 && b == 0xc5)) {
		extra = 2;
	} else if ((kind == 2 && b == 0xdb) || (kind == 3 && b == 0xc6)) {
		extra = 4;
	} else {
		return wrong(mp, at, names[kind]);
	}
	mp->off++;
	if (extra) {
		if (!need(mp, at, extra))
			return false;
		n = be(mp->buf + mp->off, extra);
		mp->off += extra;
	}
	/* Every element takes at least one byte (two for a map entry); a
	 * string's bytes are all there. */
	uint64_t min = kind == 1 ? 2 * n : n;
	if (min > mp->len - mp->off)
		return pha_mp_fail_at(mp, at, "%s of length %llu does not fit in the %zu bytes left",
				      names[kind], (unsigned long long)n, mp->len - mp->off);
	*n_ret = (uint32_t)n;
	return true;
}

bool pha_mp_array(struct pha_mp *mp, uint32_t *n_ret)
{
	return header(mp, 0, n_ret);
}

bool pha_mp_map(struct pha_mp *mp, uint32_t *n_ret)
{
	return header(mp, 1, n_ret);
}

bool pha_mp_str(struct pha_mp *mp, const char **s_ret, uint32_t *len_ret)
{
	uint32_t n;
	if (!header(mp, 2, &n))
		return false;
	*s_ret = (const char *)mp->buf + mp->off;
	*len_ret = n;
	mp->off += n;
	return true;
}

bool pha_mp_bin(struct pha_mp *mp, const uint8_t **b_ret, uint32_t *len_ret)
{
	uint32_t n;
	if (!header(mp, 3, &n))
		return false;
	*b_ret = mp->buf + mp->off;
	*len_ret = n;
	mp->off += n;
	return true;
}

bool pha_mp_strdup(struct pha_mp *mp, char **s_ret)
{
	size_t at = mp->off;
	const char *s;
	uint32_t n;
	if (!pha_mp_str(mp, &s, &n))
		return false;
	if (memchr(s, 0, n))
		return pha_mp_fail_at(mp, at, "string contains a NUL byte");
	char *c = malloc((size_t)n + 1);
	if (!c) {
		mp->err = &pha_enomem;
		return false;
	}
	memcpy(c, s, n);
	c[n] = 0;
	*s_ret = c;
	return true;
}

static bool integer(struct pha_mp *mp, bool *neg, uint64_t *mag)
{
	size_t at = mp->off;
	if (!need(mp, at, 1))
		return false;
	uint8_t b = mp->buf[mp->off++];
	*neg = false;
	if (b <= 0x7f) {
		*mag = b;
		return true;
	}
	if (b >= 0xe0) {
		*neg = true;
		*mag = (uint64_t)(-(int64_t)(int8_t)b);
		return true;
	}
	unsigned n;
	bool sign;
	switch (b) {
	case 0xcc: n = 1, sign = false; break;
	case 0xcd: n = 2, sign = false; break;
	case 0xce: n = 4, sign = false; break;
	case 0xcf: n = 8, sign = false; break;
	case 0xd0: n = 1, sign = true; break;
	case 0xd1: n = 2, sign = true; break;
	case 0xd2: n = 4, sign = true; break;
	case 0xd3: n = 8, sign = true; break;
	default:
		mp->off = at;
		return wrong(mp, at, "integer");
	}
	if (!need(mp, at, n))
		return false;
	uint64_t v = be(mp->buf + mp->off, n);
	mp->off += n;
	if (sign && (v >> (8 * n - 1)) & 1) {
		/* two's complement magnitude */
		uint64_t ext = n == 8 ? v : v | (~0ULL << (8 * n));
		*neg = true;
		*mag = ~ext + 1;
	} else {
		*mag = v;
	}
	return true;
}

bool pha_mp_uint(struct pha_mp *mp, uint64_t *v_ret)
{
	size_t at = mp->off;
	bool neg;
	uint64_t mag;
	if (!integer(mp, &neg, &mag))
		return false;
	if (neg)
		return pha_mp_fail_at(mp, at, "expected an unsigned integer, found a negative one");
	*v_ret = mag;
	return true;
}

bool pha_mp_int(struct pha_mp *mp, int64_t *v_ret)
{
	size_t at = mp->off;
	bool neg;
	uint64_t mag;
	if (!integer(mp, &neg, &mag))
		return false;
	if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return pha_mp_fail_at(mp, at, "integer out of range");
	*v_ret = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return true;
}

bool pha_mp_bool(struct pha_mp *mp, bool *v_ret)
{
	size_t at = mp->off;
	if (!need(mp, at, 1))
		return false;
	uint8_t b = mp->buf[at];
	if (b != 0xc2 && b != 0xc3)
		return wrong(mp, at, "boolean");
	mp->off++;
	*v_ret = b == 0xc3;
	return true;
}

bool pha_mp_skip(struct pha_mp *mp)
{
	uint64_t pending = 1;
	while (pending) {
		size_t at = mp->off;
		if (!need(mp, at, 1))
			return false;
		uint8_t b = mp->buf[at];
		uint32_t n;
		pending--;
		if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
			if (!pha_mp_array(mp, &n))
				return false;
			pending += n;
		} else if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
			if (!pha_mp_map(mp, &n))
				return false;
			pending += 2 * (uint64_t)n;
		} else if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
			const char *s;
			if (!pha_mp_str(mp, &s, &n))
				return false;
		} else if (b >= 0xc4 && b <= 0xc6) {
			const uint8_t *p;
			if (!pha_mp_bin(mp, &p, &n))
				return false;
		} else if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			mp->off++;
		} else if ((b >= 0xcc && b <= 0xcf) || (b >= 0xd0 && b <= 0xd3)) {
			uint64_t ign;
			bool neg;
			if (!integer(mp, &neg, &ign))
				return false;
		} else if (b == 0xca || b == 0xcb) {
			if (!need(mp, at, b == 0xca ? 5 : 9))
				return false;
			mp->off += b == 0xca ? 5 : 9;
		} else if (b >= 0xd4 && b <= 0xd8) {	/* fixext 1,2,4,8,16 */
			size_t len = 2 + ((size_t)1 << (b - 0xd4));
			if (!need(mp, at, len))
				return false;
			mp->off += len;
		} else if (b >= 0xc7 && b <= 0xc9) {	/* ext 8/16/32 */
			unsigned ln = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;
			if (!need(mp, at, 1 + ln + 1))
				return false;
			uint64_t len = be(mp->buf + at + 1, ln);
			if (!need(mp, at, 1 + ln + 1 + len))
				return false;
			mp->off += 1 + ln + 1 + len;
		} else {
			return wrong(mp, at, "a msgpack value");
		}
	}
	return !mp->err;
}
