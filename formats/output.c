#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define BUF_SIZE (1 << 16)

struct pha_out {
	FILE *f;
	bool is_stdout;
	char *path;		/* as given ("standard output" for "-"), for messages */
	char *target;		/* the file renamed into place at close (NULL: written directly) */
	char *tmp;		/* the temporary file being written (NULL: written directly) */
	ZSTD_CCtx *zc;
	char *zbuf;		/* compressed output buffer */
	size_t zbuf_size;
	char buf[BUF_SIZE];	/* uncompressed input buffer */
	size_t len;
	struct pha_error *err;	/* first error, sticky */
};

void pha_output_signals_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
}

/* Same file system object: device and inode. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

struct pha_error *pha_out_check_not_input(const char *out_path, const char *in_path)
{
	struct stat so, si;
	if (!out_path || !in_path || stat(in_path, &si) != 0)
		return NULL;	/* an unreadable input is the reader's to report */
	bool to_stdout = !strcmp(out_path, "-");
	if (to_stdout ? fstat(STDOUT_FILENO, &so) != 0 : stat(out_path, &so) != 0)
		return NULL;	/* a new file cannot be the input */
	if (!same_file(&so, &si))
		return NULL;
	if (to_stdout)
		return pha_error_create(PHA_ERR_USAGE,
			"standard output is the input file %s: writing there would destroy it",
			in_path);
	return pha_error_create(PHA_ERR_USAGE,
		"output %s is the input file %s%s: writing it would destroy the input; "
		"choose another output file", out_path, in_path,
		strcmp(out_path, in_path) ? " (the same file under another name)" : "");
}

/* Where the bytes for path go: a temporary file next to the file it
 * replaces (following symbolic links to it), renamed into place at close,
 * so that the file is never seen half-written and a failed write keeps the
 * old one. A path naming something other than a regular file (/dev/null,
 * /dev/stdout, a FIFO) is written directly: there is nothing to replace. */
static struct pha_error *open_target(struct pha_out *out, const char *path)
{
	struct stat st;
	bool exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		out->f = fopen(path, "wb");
		if (!out->f)
			return pha_error_errno(PHA_ERR_INTERNAL, errno, "cannot create %s", path);
		return NULL;
	}
	out->target = exists ? realpath(path, NULL) : NULL;
	if (!out->target && !(out->target = strdup(path)))
		return &pha_enomem;
	char *dcopy = strdup(out->target), *bcopy = strdup(out->target);
	if (!dcopy || !bcopy || asprintf(&out->tmp, "%s/.%s.XXXXXX", dirname(dcopy),
					 basename(bcopy)) < 0) {
		out->tmp = NULL;
		free(dcopy);
		free(bcopy);
		return &pha_enomem;
	}
	free(dcopy);
	free(bcopy);
	int fd = mkostemp(out->tmp, O_CLOEXEC);
	if (fd < 0) {
		struct pha_error *err = pha_error_errno(PHA_ERR_INTERNAL, errno,
			"cannot create %s%s", path, errno == EACCES || errno == EROFS ?
			" (it is written to a temporary file in its directory, then renamed into place)" :
			"");
		free(out->tmp);
		out->tmp = NULL;
		return err;
	}
	/* The permissions the replaced file had, else what creating it would
	 * have given (mkostemp makes 0600). */
	mode_t mode;
	if (exists) {
		mode = st.st_mode & 07777;
	} else {
		mode_t mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if (fchmod(fd, mode) != 0 || !(out->f = fdopen(fd, "wb"))) {
		struct pha_error *err = pha_error_errno(PHA_ERR_INTERNAL, errno, "cannot create %s",
							path);
		close(fd);
		unlink(out->tmp);
		free(out->tmp);
		out->tmp = NULL;
		return err;
	}
	return NULL;
}

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
		struct pha_error *err = open_target(out, path);
		if (err) {
			free(out->target);
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

static void free_out(struct pha_out *out)
{
	ZSTD_freeCCtx(out->zc);
	free(out->zbuf);
	free(out->path);
	free(out->target);
	free(out->tmp);
	free(out);
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
	if (out->tmp) {
		/* Complete: it replaces the old file in one step. Incomplete:
		 * the old file stays as it was. */
		if (!out->err && rename(out->tmp, out->target) != 0)
			fail_errno(out, errno);
		if (out->err)
			unlink(out->tmp);
	}
	struct pha_error *err = out->err;
	free_out(out);
	return err;
}

void pha_out_discard(struct pha_out *out)
{
	if (!out)
		return;
	if (!out->is_stdout)
		fclose(out->f);
	else
		fflush(out->f);
	if (out->tmp)
		unlink(out->tmp);
	pha_error_destroy(out->err);
	free_out(out);
}
