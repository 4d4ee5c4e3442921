/* zstd input: recognizing a compressed core and decompressing it once to
 * an unlinked temporary file, so that the rest of the program can mmap it
 * like an uncompressed core (random access, no memory cost for its size).
 */
#ifndef PHA_ZSTDIO_H
#define PHA_ZSTDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"

/* True if buf starts with the zstd frame magic (28 B5 2F FD). */
bool pha_zstd_is_frame(const void *buf, size_t len);

/* Decompress all of in_fd (read from offset 0 with pread, whatever its file
 * position) into a temporary file in $TMPDIR (or /tmp) that is unlinked at
 * once, so it vanishes when closed even if we crash. On success *fd_ret is
 * that file (O_CLOEXEC, read-write, caller closes) and *size_ret its size.
 * Errors: corrupt or truncated zstd data and read errors are PHA_ERR_INPUT
 * naming path_for_messages; temporary-file problems (no space, ...) are
 * PHA_ERR_INTERNAL naming the directory. */
struct pha_error *pha_zstd_decompress_to_tmpfile(int in_fd, const char *path_for_messages,
						 int *fd_ret, uint64_t *size_ret);

#endif
