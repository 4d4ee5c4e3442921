/* str and bytes: where the text of a str object lives, its UTF-8 decoding,
 * its sys.getsizeof, and repr()-style quoting for previews and labels.
 *
 * What it knows (PyASCIIObject / PyCompactUnicodeObject / PyUnicodeObject,
 * Include/cpython/unicodeobject.h): the length at +16, the state bits at
 * +32 (kind 2-4, compact 5, ascii 6); the characters follow the
 * PyASCIIObject header (compact ASCII), the PyCompactUnicodeObject header
 * (other compact strings) or sit behind ->data (legacy strings: instances
 * of str subclasses made by str.__new__ of a subclass); an optional UTF-8
 * cache (utf8, utf8_length). Bytes objects keep their bytes at +32.
 *
 * Versions: <= 3.11 str objects carry the wstr cache (wstr, wstr_length),
 * removed by PEP 623 in 3.12, which shrinks both headers (48/72 -> 40/56
 * bytes: str_ascii_size, str_compact_size in layouts.c; flag
 * str_has_wstr). The state bits and the length did not move in 3.8 - 3.15.
 */
#include "cpython_int.h"

#include <stdio.h>
#include <string.h>

/* One code point as UTF-8 into out; returns the byte count. */
static size_t utf8_encode(uint32_t c, char out[4])
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Decode a str object into UTF-8 (truncated to size-1 bytes). */
bool cpy_read_str(struct pha_py *py, uint64_t addr, char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	uint32_t state;
	int64_t len;
	if (!addr || size == 0 || !rd(py, addr + 32, &state, 4) || !rd(py, addr + 16, &len, 8) ||
	    len < 0)
		return false;
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	uint64_t data;
	if (compact && ascii)
		data = addr + o->str_ascii_size;
	else if (compact)
		data = addr + o->str_compact_size;
	else
		data = u64_or0(py, addr + o->str_data);
	if (!data || (kind != 1 && kind != 2 && kind != 4))
		return false;
	size_t out = 0;
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = 0;
		if (!rd(py, data + (uint64_t)i * kind, &c, kind))
			return false;
		char tmp[4];
		size_t n = utf8_encode(c, tmp);
		if (out + n >= size)
			break;
		memcpy(buf + out, tmp, n);
		out += n;
	}
	buf[out] = 0;
	return true;
}

uint64_t cpy_str_size(struct pha_py *py, uint64_t a)
{
	const struct pha_py_offsets *o = py->o;
	uint32_t state = u32_or0(py, a + 32);
	uint64_t n = (uint64_t)i64_or0(py, a + 16);
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	uint64_t size, data;
	if (compact && ascii) {
		size = o->str_ascii_size + n + 1;
		data = a + o->str_ascii_size;
	} else if (compact) {
		size = o->str_compact_size + (n + 1) * kind;
		data = a + o->str_compact_size;
	} else {
		/* Legacy (non-compact) strings: str subclass instances. */
		size = o->str_compact_size + 8;	/* sizeof(PyUnicodeObject) */
		data = u64_or0(py, a + o->str_data);
		if (data)
			size += (n + 1) * kind;
	}
	if (o->str_has_wstr) {
		uint64_t wstr = u64_or0(py, a + o->str_wstr);
		if (wstr && wstr != data)
			size += (compact && ascii ? n : (uint64_t)i64_or0(py, a + o->str_wstr_length)) * 4 + 4;
	}
	if (!(compact && ascii)) {
		uint64_t utf8 = u64_or0(py, a + o->str_utf8);
		if (utf8 && utf8 != data)
			size += (uint64_t)i64_or0(py, a + o->str_utf8_length) + 1;
	}
	return size;
}

/* The first max code points of a str (all when it is shorter) into cp,
 * their count in *n_ret, the str's length in *len_ret. */
bool cpy_str_codepoints(struct pha_py *py, uint64_t addr, uint32_t *cp, size_t max,
			size_t *n_ret, int64_t *len_ret)
{
	const struct pha_py_offsets *o = py->o;
	uint32_t state;
	int64_t len;
	if (!addr || !rd(py, addr + 32, &state, 4) || !rd(py, addr + 16, &len, 8) || len < 0)
		return false;
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	uint64_t data = compact && ascii ? addr + o->str_ascii_size
		      : compact		 ? addr + o->str_compact_size
					 : u64_or0(py, addr + o->str_data);
	if (!data || (kind != 1 && kind != 2 && kind != 4))
		return false;
	size_t n = (uint64_t)len < max ? (size_t)len : max;
	for (size_t i = 0; i < n; i++) {
		cp[i] = 0;
		if (!rd(py, data + i * kind, &cp[i], kind))
			return false;
	}
	*n_ret = n;
	*len_ret = len;
	return true;
}

/* Append n bytes of s to buf at *pos, as many as fit; buf stays
 * NUL-terminated. */
void cpy_put(char *buf, size_t size, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *pos + 1 < size; i++)
		buf[(*pos)++] = s[i];
	buf[*pos < size ? *pos : size - 1] = 0;
}

static void put_utf8(char *buf, size_t size, size_t *pos, uint32_t c)
{
	char t[4];
	size_t n = utf8_encode(c, t);
	if (*pos + n < size)
		cpy_put(buf, size, pos, t, n);
}

/* repr()-style quoting of code points (or bytes): ' unless the text has '
 * and no ". Control characters, DEL and C1 controls are escaped; other
 * non-ASCII characters are kept (UTF-8). */
void cpy_put_quoted(char *buf, size_t size, size_t *pos, const uint32_t *cp, size_t n,
		    bool bytes)
{
	bool sq = false, dq = false;
	for (size_t i = 0; i < n; i++) {
		sq |= cp[i] == '\'';
		dq |= cp[i] == '"';
	}
	char q = sq && !dq ? '"' : '\'';
	if (bytes)
		cpy_put(buf, size, pos, "b", 1);
	cpy_put(buf, size, pos, &q, 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cp[i];
		char e[16];
		if (c == (uint32_t)q || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			cpy_put(buf, size, pos, e, 2);
		} else if (c == '\n') {
			cpy_put(buf, size, pos, "\\n", 2);
		} else if (c == '\r') {
			cpy_put(buf, size, pos, "\\r", 2);
		} else if (c == '\t') {
			cpy_put(buf, size, pos, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f || (c >= 0x80 && (bytes || c < 0xa0))) {
			snprintf(e, sizeof(e), "\\x%02x", c);
			cpy_put(buf, size, pos, e, 4);
		} else {
			put_utf8(buf, size, pos, c);
		}
	}
	cpy_put(buf, size, pos, &q, 1);
}

bool pha_cpython_value_bytes(struct pha_py *py, uint64_t addr, uint64_t *data_ret,
			     uint64_t *len_ret, unsigned *unit_ret)
{
	const struct pha_py_offsets *o = py->o;
	struct tinfo *ti = cpy_type_of(py, u64_or0(py, addr + 8));
	if (!ti)
		return false;
	int64_t len;
	if (!rd(py, addr + 16, &len, 8) || len < 0 || (uint64_t)len > MAX_CONTAINER * 64)
		return false;
	if (ti->kind == K_BYTES) {
		*data_ret = addr + 32;
		*len_ret = (uint64_t)len;
		*unit_ret = 0;
		return true;
	}
	if (ti->kind != K_STR)
		return false;
	uint32_t state;
	if (!rd(py, addr + 32, &state, 4))
		return false;
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	uint64_t data;
	if (compact && ascii)
		data = addr + o->str_ascii_size;
	else if (compact)
		data = addr + o->str_compact_size;
	else
		data = u64_or0(py, addr + o->str_data);
	if (!data || (kind != 1 && kind != 2 && kind != 4))
		return false;
	*data_ret = data;
	*len_ret = (uint64_t)len * kind;
	*unit_ret = kind;
	return true;
}
