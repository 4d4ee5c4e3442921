#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define BUF_SIZE (1 << 16)

struct pha_out {
	FILE *f;
	bool is_stdout;
	char *path;
	ZSTD_CCtx *zc;
	char *zbuf;		/* compressed output buffer */
	size_t zbuf_size;
	char buf[BUF_SIZE];	/* uncompressed input buffer */
	size_t len;
	struct pha_error *err;	/* first error, sticky */
};

static void fail_errno(struct pha_out *out, int errnum)
{
	if (!out->err)
		out->err = pha_error_errno(PHA_ERR_INTERNAL, errnum, "writing %s", out->path);
}

static void emit(struct pha_out *out, const void *buf, size_t len)
{
	if (out->err || len == 0)
		return;
	if (fwrite(buf, 1, len, out->f) != len)
		fail_errno(out, errno ? errno : EIO);
}

static void drain(struct pha_out *out, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {out->buf, out->len, 0};
	for (;;) {
		ZSTD_outBuffer o = {out->zbuf, out->zbuf_size, 0};
		size_t rem = ZSTD_compressStream2(out->zc, &o, &in, mode);
		if (ZSTD_isError(rem)) {
			if (!out->err)
				out->err = pha_error_create(PHA_ERR_INTERNAL, "compressing %s: %s",
							    out->path, ZSTD_getErrorName(rem));
			return;
		}
		emit(out, out->zbuf, o.pos);
		if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size)
			break;
	}
	out->len = 0;
}

static void flush_buf(struct pha_out *out)
{
	if (out->zc)
		drain(out, ZSTD_e_continue);
	else {
		emit(out, out->buf, out->len);
		out->len = 0;
	}
}

struct pha_error *pha_out_open(const char *path, bool compress, int level,
			       struct pha_out **out_ret)
{
	struct pha_out *out = calloc(1, sizeof(*out));
	if (!out)
		return &pha_enomem;
	out->path = strdup(!strcmp(path, "-") ? "standard output" : path);
	if (!out->path) {
		free(out);
		return &pha_enomem;
	}
	if (!strcmp(path, "-")) {
		out->f = stdout;
		out->is_stdout = true;
	} else {
		out->f = fopen(path, "wb");
		if (!out->f) {
			struct pha_error *err = pha_error_errno(PHA_ERR_INTERNAL, errno,
								"cannot create %s", path);
			free(out->path);
			free(out);
			return err;
		}
	}
	if (compress) {
		out->zc = ZSTD_createCCtx();
		out->zbuf_size = ZSTD_CStreamOutSize();
		out->zbuf = malloc(out->zbuf_size);
		if (!out->zc || !out->zbuf) {
			out->err = &pha_enomem;
		} else {
			ZSTD_CCtx_setParameter(out->zc, ZSTD_c_compressionLevel, level);
			ZSTD_CCtx_setParameter(out->zc, ZSTD_c_checksumFlag, 1);
		}
	}
	*out_ret = out;
	return NULL;
}

void pha_out_write(struct pha_out *out, const void *buf, size_t len)
{
	const char *p = buf;
	while (len && !out->err) {
		size_t n = BUF_SIZE - out->len;
		if (n > len)
			n = len;
		memcpy(out->buf + out->len, p, n);
		out->len += n;
		p += n;
		len -= n;
		if (out->len == BUF_SIZE)
			flush_buf(out);
	}
}

void pha_out_puts(struct pha_out *out, const char *s)
{
	pha_out_write(out, s, strlen(s));
}

void pha_out_printf(struct pha_out *out, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		pha_out_write(out, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		if (!out->err)
			out->err = &pha_enomem;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pha_out_write(out, big, (size_t)n);
	free(big);
}

struct pha_error *pha_out_close(struct pha_out *out)
{
	if (!out)
		return NULL;
	if (out->zc && !out->err)
		drain(out, ZSTD_e_end);
	else
		flush_buf(out);
	if (fflush(out->f) != 0)
		fail_errno(out, errno);
	if (!out->is_stdout && fclose(out->f) != 0)
		fail_errno(out, errno);
	struct pha_error *err = out->err;
	ZSTD_freeCCtx(out->zc);
	free(out->zbuf);
	free(out->path);
	free(out);
	return err;
}
