/* A bounds-checked cursor over msgpack bytes in memory (a mapped snapshot).
 *
 * Every read checks the bytes that remain before it trusts a length, so a
 * truncated file or a hostile length ("array of 4 billion elements" in five
 * bytes) is an error naming the byte offset, never an allocation or a read
 * past the end. msgpack-c's unpacker is not used for reading for exactly
 * that reason: it allocates an array's storage from the declared length
 * before it has seen the elements. (The writer uses msgpack-c's packer.)
 *
 * The error is sticky: after the first failure every call returns false
 * and the first error is kept in mp->err with the offset of the value that
 * was being read.
 */
#ifndef PHA_MPCURSOR_H
#define PHA_MPCURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"

struct pha_mp {
	const uint8_t *buf;
	size_t len, off;
	const char *path;	/* for messages */
	struct pha_error *err;	/* first error, NULL while all is well */
};

void pha_mp_init(struct pha_mp *mp, const void *buf, size_t len, const char *path);

/* Fail at byte offset `at`: "PATH: <message> at byte offset N". Returns false. */
__attribute__((format(printf, 3, 4)))
bool pha_mp_fail_at(struct pha_mp *mp, size_t at, const char *fmt, ...);

bool pha_mp_at_end(const struct pha_mp *mp);
/* True (and consumed) if the next value is nil. */
bool pha_mp_nil(struct pha_mp *mp);
bool pha_mp_array(struct pha_mp *mp, uint32_t *n_ret);
bool pha_mp_map(struct pha_mp *mp, uint32_t *n_ret);
bool pha_mp_uint(struct pha_mp *mp, uint64_t *v_ret);
bool pha_mp_int(struct pha_mp *mp, int64_t *v_ret);
bool pha_mp_bool(struct pha_mp *mp, bool *v_ret);
/* Zero-copy view of a str (not NUL-terminated). */
bool pha_mp_str(struct pha_mp *mp, const char **s_ret, uint32_t *len_ret);
bool pha_mp_bin(struct pha_mp *mp, const uint8_t **b_ret, uint32_t *len_ret);
/* str -> malloc'd NUL-terminated copy (NUL bytes inside are an error). */
bool pha_mp_strdup(struct pha_mp *mp, char **s_ret);
/* Skip one value of any type (iteratively, whatever its nesting). */
bool pha_mp_skip(struct pha_mp *mp);

#endif
