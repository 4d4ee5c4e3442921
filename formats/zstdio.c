#include "zstdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

bool pha_zstd_is_frame(const void *buf, size_t len)
{
	return buf && len >= sizeof(zstd_magic) && memcmp(buf, zstd_magic, sizeof(zstd_magic)) == 0;
}

static const char *tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

/* An anonymous temporary file: created with mkostemp and unlinked at once,
 * so no name is left behind whatever happens to this process later. */
static struct pha_error *create_tmpfile(const char *dir, int *fd_ret)
{
	char *tmpl;
	if (asprintf(&tmpl, "%s/pyheap-analyze-XXXXXX", dir) < 0)
		return &pha_enomem;
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		struct pha_error *err = pha_error_errno(PHA_ERR_INTERNAL, errno,
			"cannot create a temporary file in %s for the decompressed core "
			"(set TMPDIR to a writable directory)", dir);
		free(tmpl);
		return err;
	}
	unlink(tmpl);
	free(tmpl);
	*fd_ret = fd;
	return NULL;
}

static struct pha_error *write_all(int fd, const void *buf, size_t len, const char *dir)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pha_error_errno(PHA_ERR_INTERNAL, errno,
				"cannot write the decompressed core to a temporary file in %s "
				"(set TMPDIR to a directory with enough space)", dir);
		}
		p += n;
		len -= (size_t)n;
	}
	return NULL;
}

struct pha_error *pha_zstd_decompress_to_tmpfile(int in_fd, const char *path_for_messages,
						 int *fd_ret, uint64_t *size_ret)
{
	struct pha_error *err = NULL;
	const char *dir = tmp_dir();
	int out_fd = -1;
	uint64_t total = 0;
	off_t in_off = 0;
	size_t last = 1;	/* ZSTD_decompressStream's hint: 0 = a frame just ended */
	bool any_input = false;

	size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
	void *in_buf = malloc(in_cap);
	void *out_buf = malloc(out_cap);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!in_buf || !out_buf || !dctx) {
		err = &pha_enomem;
		goto out;
	}
	if ((err = create_tmpfile(dir, &out_fd)))
		goto out;

	for (;;) {
		ssize_t n = pread(in_fd, in_buf, in_cap, in_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = pha_error_errno(PHA_ERR_INPUT, errno, "%s: read error at offset %lld",
					      path_for_messages, (long long)in_off);
			goto out;
		}
		if (n == 0)
			break;
		in_off += n;
		any_input = true;
		ZSTD_inBuffer in = { in_buf, (size_t)n, 0 };
		/* zstd does not consume the last byte of a frame before it has
		 * flushed all of that frame's output, so draining the input is
		 * enough to get every decompressed byte out. */
		while (in.pos < in.size) {
			ZSTD_outBuffer out = { out_buf, out_cap, 0 };
			size_t r = ZSTD_decompressStream(dctx, &out, &in);
			if (ZSTD_isError(r)) {
				err = pha_error_create(PHA_ERR_INPUT, "%s: corrupt zstd data: %s",
						       path_for_messages, ZSTD_getErrorName(r));
				goto out;
			}
			if ((err = write_all(out_fd, out_buf, out.pos, dir)))
				goto out;
			total += out.pos;
			last = r;
		}
	}
	if (!any_input || last != 0) {
		/* Input ended inside a frame: a partial download or copy. Refuse
		 * rather than analyze a core whose end silently went missing. */
		err = pha_error_create(PHA_ERR_INPUT,
				       "%s: corrupt zstd data: truncated (input ends inside a zstd frame "
				       "after %llu compressed bytes)",
				       path_for_messages, (unsigned long long)in_off);
		goto out;
	}

	*fd_ret = out_fd;
	*size_ret = total;
	out_fd = -1;
out:
	if (out_fd >= 0)
		close(out_fd);
	ZSTD_freeDCtx(dctx);
	free(out_buf);
	free(in_buf);
	return err;
}
