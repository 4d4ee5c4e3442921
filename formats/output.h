/* Output streams: a plain file/stdout or zstd-compressed, with a sticky
 * error: writes after the first failure do nothing, and pha_out_close
 * returns that first error. Files are replaced atomically (see
 * pha_out_open), and two helpers keep the command line safe. */
#ifndef PHA_OUTPUT_H
#define PHA_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "../analyzer/error.h"

struct pha_out;

/* path "-" is stdout. level: zstd level when compress is true.
 *
 * A regular file (new, or existing: a symbolic link is followed to it) is
 * written to a temporary file ".NAME.XXXXXX" in the same directory, which
 * pha_out_close renames over PATH only when everything was written: PATH
 * is never seen half-written, and a write error (full disk, file size
 * limit) keeps the old PATH and removes the temporary file. The new file
 * gets the old one's permission bits (else 0666 & ~umask). A path that
 * names anything else (/dev/null, /dev/stdout, a FIFO) is written to
 * directly. The directory must be writable. */
struct pha_error *pha_out_open(const char *path, bool compress, int level,
			       struct pha_out **out_ret);
void pha_out_write(struct pha_out *out, const void *buf, size_t len);
void pha_out_puts(struct pha_out *out, const char *s);
__attribute__((format(printf, 2, 3)))
void pha_out_printf(struct pha_out *out, const char *fmt, ...);
/* Flush, finish the zstd frame, close and (no error so far) rename into
 * place; returns the first error (or NULL). */
struct pha_error *pha_out_close(struct pha_out *out);
/* Give up on an output: close it and remove its temporary file; PATH
 * keeps what it had. For error paths of the caller. Accepts NULL. */
void pha_out_discard(struct pha_out *out);

/* Output safety for the command line (main calls these):
 *
 * pha_output_signals_init: ignore SIGPIPE and SIGXFSZ for the process, so
 * that writing to a closed pipe (`pyheap-analyze -o - core | head`) or
 * past the file size limit fails with EPIPE/EFBIG, which the sticky error
 * reports (exit 4 with a message), instead of a death by signal. Call once,
 * first thing in main.
 *
 * pha_out_check_not_input: refuse an output that is the input file: the
 * same device and inode (the same path, a hard link, a symbolic link to
 * it; "-" when standard output is redirected to it). Returns a
 * PHA_ERR_USAGE error (exit 2) naming both, or NULL (different files, or
 * the output does not exist yet, or the input cannot be stat'ed: its reader
 * reports that). Call it for every output path (-o, --save-snapshot,
 * --dump-objects, ...) against every input file (the core or snapshot,
 * --executable) before the first output is opened. */
void pha_output_signals_init(void);
struct pha_error *pha_out_check_not_input(const char *out_path, const char *in_path);

#endif
