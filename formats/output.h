/* Output streams: a plain file/stdout or zstd-compressed, with a sticky
 * error: writes after the first failure do nothing, and pha_out_close
 * returns that first error. */
#ifndef PHA_OUTPUT_H
#define PHA_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "../analyzer/error.h"

struct pha_out;

/* path "-" is stdout. level: zstd level when compress is true. */
struct pha_error *pha_out_open(const char *path, bool compress, int level,
			       struct pha_out **out_ret);
void pha_out_write(struct pha_out *out, const void *buf, size_t len);
void pha_out_puts(struct pha_out *out, const char *s);
__attribute__((format(printf, 2, 3)))
void pha_out_printf(struct pha_out *out, const char *fmt, ...);
/* Flush, finish the zstd frame, close; returns the first error (or NULL). */
struct pha_error *pha_out_close(struct pha_out *out);

#endif
