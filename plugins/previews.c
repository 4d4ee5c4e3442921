/* Previews: a short, safe text for an object's value, as the why-is-it-
 * alive paths show it next to an object (and as dict keys in edge labels).
 *
 * What it knows: int digits (30-bit, little-endian after the size word;
 * 3.12+ the size and sign sit in lv_tag, gh-101291: flag long_lv_tag),
 * bool (3.12+: lv_tag's sign bits say zero for False), float (a double at
 * +16, printed as float.__repr__ does), None, str and bytes (repr of the
 * first 80 code points or bytes; strings.c does the quoting), and the
 * length words of list, tuple, deque, dict and set. Nothing here changed
 * between 3.8 and 3.11; 3.12 changed int and bool.
 */
#include "cpython_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal of a CPython int (30-bit digits, little-endian). */
static void int_preview(struct pha_py *py, uint64_t a, char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t nd;
	bool neg;
	if (o->long_lv_tag) {
		uint64_t tag = u64_or0(py, a + 16);
		nd = tag >> 3;
		neg = (tag & 3) == 2;
	} else {
		int64_t s = i64_or0(py, a + 16);
		neg = s < 0;
		/* Negated in unsigned arithmetic: -INT64_MIN overflows. */
		nd = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
	}
	if (nd > 2000) {
		/* Exact conversion is quadratic: estimate (30 bits per digit). */
		snprintf(buf, size, "int with about %llu digits",
			 (unsigned long long)((double)nd * 9.030899869919435));
		return;
	}
	uint32_t *d = malloc((nd ? nd : 1) * sizeof(*d));
	/* base 10^9 output limbs */
	size_t cap = nd * 30 / 29 + 2, nl = 0;
	uint32_t *out = malloc(cap * sizeof(*out));
	if (!d || !out || (nd && !rd(py, a + 24, d, nd * 4))) {
		free(d);
		free(out);
		buf[0] = 0;
		return;
	}
	for (uint64_t i = nd; i-- > 0;) {
		/* out = out * 2^30 + d[i] */
		uint64_t carry = d[i] & 0x3fffffff;
		for (size_t j = 0; j < nl; j++) {
			uint64_t v = ((uint64_t)out[j] << 30) + carry;
			out[j] = (uint32_t)(v % 1000000000u);
			carry = v / 1000000000u;
		}
		while (carry && nl < cap) {
			out[nl++] = (uint32_t)(carry % 1000000000u);
			carry /= 1000000000u;
		}
	}
	free(d);
	size_t digits = 1;
	if (nl) {
		uint32_t top = out[nl - 1];
		size_t td = 1;
		while (top >= 10) {
			top /= 10;
			td++;
		}
		digits = (nl - 1) * 9 + td;
	}
	if (digits > 40) {
		snprintf(buf, size, "int with %zu digits", digits);
	} else if (!nl) {
		snprintf(buf, size, "0");
	} else {
		size_t pos = 0;
		char t[16];
		if (neg)
			cpy_put(buf, size, &pos, "-", 1);
		int n = snprintf(t, sizeof(t), "%u", out[nl - 1]);
		cpy_put(buf, size, &pos, t, (size_t)n);
		for (size_t j = nl - 1; j-- > 0;) {
			n = snprintf(t, sizeof(t), "%09u", out[j]);
			cpy_put(buf, size, &pos, t, (size_t)n);
		}
	}
	free(out);
}

/* float.__repr__: the shortest round-tripping digits, exponent form when
 * the decimal exponent is < -4 or >= 16. */
static void float_preview(double v, char *buf, size_t size)
{
	if (v != v) {
		snprintf(buf, size, "nan");
		return;
	}
	if (v == __builtin_inf() || v == -__builtin_inf()) {
		snprintf(buf, size, v > 0 ? "inf" : "-inf");
		return;
	}
	char e[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e = [-]D[.DDD]e[+-]XX */
	char digits[32];
	size_t nd = 0;
	bool neg = e[0] == '-';
	const char *s = e + neg;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[nd++] = *s;
	int exp = atoi(s + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	size_t pos = 0;
	if (neg)
		cpy_put(buf, size, &pos, "-", 1);
	if (exp < -4 || exp >= 16) {
		cpy_put(buf, size, &pos, digits, 1);
		if (nd > 1) {
			cpy_put(buf, size, &pos, ".", 1);
			cpy_put(buf, size, &pos, digits + 1, nd - 1);
		}
		char t[16];
		int n = snprintf(t, sizeof(t), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		cpy_put(buf, size, &pos, t, (size_t)n);
	} else if (exp < 0) {
		cpy_put(buf, size, &pos, "0.", 2);
		for (int i = 0; i < -exp - 1; i++)
			cpy_put(buf, size, &pos, "0", 1);
		cpy_put(buf, size, &pos, digits, nd);
	} else {
		for (int i = 0; i <= exp; i++)
			cpy_put(buf, size, &pos, (size_t)i < nd ? &digits[i] : "0", 1);
		cpy_put(buf, size, &pos, ".", 1);
		if ((size_t)exp + 1 < nd)
			cpy_put(buf, size, &pos, digits + exp + 1, nd - (size_t)exp - 1);
		else
			cpy_put(buf, size, &pos, "0", 1);
	}
}

bool pha_cpython_preview(struct pha_py *py, uint64_t addr, bool redact, char *buf, size_t size)
{
	if (!size)
		return false;
	buf[0] = 0;
	uint64_t type = u64_or0(py, addr + 8);
	struct tinfo *ti = cpy_type_of(py, type);
	if (!ti)
		return false;
	const char *tn = (ti->flags & TPF_HEAPTYPE) ? "" : pha_cpython_type_name(py, type);
	switch (ti->kind) {
	case K_INT:
		if (!strcmp(tn, "bool")) {
			snprintf(buf, size, "%s", u64_or0(py, addr + 16) ? "True" : "False");
			if (py->o->long_lv_tag)
				snprintf(buf, size, "%s", (u64_or0(py, addr + 16) & 3) == 1 ? "False" : "True");
		} else {
			int_preview(py, addr, buf, size);
		}
		return true;
	case K_NOREFS:
		if (!strcmp(tn, "float")) {
			double v;
			if (rd(py, addr + 16, &v, 8))
				float_preview(v, buf, size);
		} else if (!strcmp(tn, "NoneType")) {
			snprintf(buf, size, "None");
		}
		return true;
	case K_STR: {
		uint32_t cp[80];
		size_t n, pos = 0;
		int64_t len;
		if (!cpy_str_codepoints(py, addr, cp, 80, &n, &len))
			return false;
		if (redact)
			snprintf(buf, size, "<str len=%lld>", (long long)len);
		else
			cpy_put_quoted(buf, size, &pos, cp, n, false);
		return true;
	}
	case K_BYTES: {
		int64_t len = i64_or0(py, addr + 16);
		if (len < 0)
			return false;
		if (redact) {
			snprintf(buf, size, "<bytes len=%lld>", (long long)len);
			return true;
		}
		uint8_t b[80];
		uint32_t cp[80];
		size_t n = (uint64_t)len < 80 ? (size_t)len : 80, pos = 0;
		if (!rd(py, addr + 32, b, n))
			return false;
		for (size_t i = 0; i < n; i++)
			cp[i] = b[i];
		cpy_put_quoted(buf, size, &pos, cp, n, true);
		return true;
	}
	case K_LIST:
	case K_TUPLE:
	case K_DEQUE:
		snprintf(buf, size, "len=%lld", (long long)i64_or0(py, addr + 16));
		return true;
	case K_DICT:
	case K_DEFAULTDICT:
	case K_ODICT:
		snprintf(buf, size, "len=%lld", (long long)i64_or0(py, addr + 16));
		return true;
	case K_SET:
		snprintf(buf, size, "len=%lld", (long long)i64_or0(py, addr + 24));
		return true;
	default:
		return true;
	}
}
