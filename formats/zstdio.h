/* Input files: opening them without blocking or side effects, recognizing
 * zstd compression and decompressing once to an unlinked temporary file,
 * so that the rest of the program can mmap it like an uncompressed input
 * (random access, no memory cost for its size).
 */
#ifndef PHA_ZSTDIO_H
#define PHA_ZSTDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../analyzer/error.h"

/* What a file system object is, for messages: "a FIFO (named pipe)",
 * "a directory", "a character device", ... ("a regular file" for one). */
const char *pha_file_kind(mode_t mode);

/* Open path read-only as an input: anything but a regular file (a FIFO,
 * whose open() blocks until a writer comes; a device, whose open() can act;
 * a socket; a directory) is refused before it is opened, and the file
 * opened is checked to still be a regular file. what ("core", "snapshot")
 * names the expected content in messages. Errors are PHA_ERR_INPUT
 * "PATH: cannot open: ...", "PATH: is a FIFO (named pipe), not a core file
 * (...)"; an empty file is not an error here. On success *fd_ret is the
 * descriptor (O_CLOEXEC) and *st_ret (if non-NULL) its fstat. */
struct pha_error *pha_input_open(const char *path, const char *what, int *fd_ret,
				 struct stat *st_ret);

/* True if buf starts with the zstd frame magic (28 B5 2F FD). */
bool pha_zstd_is_frame(const void *buf, size_t len);

/* What the decompressed data must look like. */
struct pha_zstd_expect {
	const char *what;	/* "core" | "snapshot": for messages */
	/* Could data starting with head[0..len) be this kind of input? Called
	 * once, before anything is written, with the first head_len bytes (or
	 * all of them when the data is shorter: then a matching prefix must
	 * pass, so that a cut file is reported as truncated by its reader). */
	bool (*head_ok)(const uint8_t *head, size_t len);
	size_t head_len;	/* at most 4096 */
	const char *mismatch;	/* the message then, after "PATH: " */
	/* Optional (0: none): the most bytes this kind of input may have;
	 * more is PHA_ERR_INPUT (exit 3) as soon as the data grows past it
	 * (a JSON report: report_read.c). */
	uint64_t max_bytes;
};

/* The first bytes of a zstd-compressed file, decompressed, into
 * plain[0..size): for sniffing. Feeds input until they come out (at most
 * one block, 128 KiB, plus headers; never more than 1 MiB of input).
 * Returns how many bytes it got (0 on any error). */
size_t pha_zstd_head(int fd, uint8_t *plain, size_t size);

/* Decompress all of in_fd (read from offset 0 with pread, whatever its file
 * position) into a temporary file in $TMPDIR (or /tmp) that is unlinked at
 * once, so it vanishes when closed even if we crash. On success *fd_ret is
 * that file (O_CLOEXEC, read-write, caller closes) and *size_ret its size.
 *
 * Hostile input (a zstd bomb: kilobytes that expand to terabytes) is
 * stopped early:
 *   - the first decompressed bytes are checked with expect->head_ok before
 *     anything is written (data that is not a core/snapshot costs one
 *     block, 128 KiB, never its whole size);
 *   - the decompressed size is capped: the temporary file system keeps 5%
 *     of its size free (cap = free space - 5% of its size, taken when
 *     decompression starts), and the file stays within RLIMIT_FSIZE. A
 *     first frame whose header declares more than the cap is refused
 *     before anything is decompressed; data that grows past it is refused
 *     then. Either is PHA_ERR_INTERNAL (a resource limit: exit 4),
 *     naming the input and the temporary directory.
 * Errors: data that is not of the expected kind, corrupt or truncated zstd
 * data and read errors are PHA_ERR_INPUT; temporary-file problems (no
 * space, the cap, ...) are PHA_ERR_INTERNAL. Every message starts with
 * path_for_messages and says which kind of input it was (expect->what). */
struct pha_error *pha_zstd_decompress_to_tmpfile(int in_fd, const char *path_for_messages,
						 const struct pha_zstd_expect *expect,
						 int *fd_ret, uint64_t *size_ret);

#endif
