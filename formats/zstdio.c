#include "zstdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <zstd.h>

/* ---- opening inputs ------------------------------------------------------ */

const char *pha_file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO (named pipe)";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

static struct pha_error *not_regular(const char *path, const char *what, mode_t mode)
{
	if (S_ISDIR(mode))
		return pha_error_create(PHA_ERR_INPUT, "%s: is a directory, not a %s file", path, what);
	/* mmap needs a regular file; a pipe or device could be saved to disk first. */
	return pha_error_create(PHA_ERR_INPUT,
				"%s: is %s, not a %s file (save the %s to a regular file first)",
				path, pha_file_kind(mode), what, what);
}

struct pha_error *pha_input_open(const char *path, const char *what, int *fd_ret,
				 struct stat *st_ret)
{
	struct stat st;
	/* Look before opening: open() blocks on a FIFO until a writer comes,
	 * and opening a device can act (rewind a tape, arm a watchdog). */
	if (stat(path, &st) < 0)
		return pha_error_errno(PHA_ERR_INPUT, errno, "%s: cannot open", path);
	if (!S_ISREG(st.st_mode))
		return not_regular(path, what, st.st_mode);
	/* O_NONBLOCK: should the name now be a FIFO (replaced since the
	 * stat), open returns at once and fstat below refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return pha_error_errno(PHA_ERR_INPUT, errno, "%s: cannot open", path);
	if (fstat(fd, &st) < 0) {
		struct pha_error *err = pha_error_errno(PHA_ERR_INPUT, errno, "%s: cannot stat", path);
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return not_regular(path, what, st.st_mode);
	}
	/* Regular files ignore O_NONBLOCK for reads; clear it all the same. */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	*fd_ret = fd;
	if (st_ret)
		*st_ret = st;
	return NULL;
}

/* ---- zstd ---------------------------------------------------------------- */

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

/* One decompression: where it reads and writes, what it has written. */
struct unz {
	const char *path;	/* the input, for messages */
	const struct pha_zstd_expect *ex;
	const char *dir;	/* temporary directory */
	int in_fd;
	int out_fd;
	uint64_t total;		/* bytes written */
	uint64_t cap;		/* most bytes the temporary file may take */
	bool cap_is_fsize;	/* the cap is RLIMIT_FSIZE (not free space) */
	bool cap_is_max;	/* the cap is expect->max_bytes */
	bool head_checked;
};

/* An anonymous temporary file: created with mkostemp and unlinked at once,
 * so no name is left behind whatever happens to this process later. */
static struct pha_error *create_tmpfile(struct unz *u)
{
	char *tmpl;
	if (asprintf(&tmpl, "%s/pyheap-analyze-XXXXXX", u->dir) < 0)
		return &pha_enomem;
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		struct pha_error *err = pha_error_errno(PHA_ERR_INTERNAL, errno,
			"%s: cannot create a temporary file in %s for the decompressed %s "
			"(set TMPDIR to a writable directory)", u->path, u->dir, u->ex->what);
		free(tmpl);
		return err;
	}
	unlink(tmpl);
	free(tmpl);
	u->out_fd = fd;
	return NULL;
}

/* The cap (zstdio.h): free space of the temporary file system less 5% of
 * its size, and RLIMIT_FSIZE. Unknown (fstatvfs fails): no space cap. */
static void set_cap(struct unz *u)
{
	struct statvfs vfs;
	struct rlimit rl;
	u->cap = UINT64_MAX;
	if (fstatvfs(u->out_fd, &vfs) == 0 && vfs.f_frsize > 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail, blocks = (uint64_t)vfs.f_blocks;
		uint64_t keep = blocks / 20;
		uint64_t usable = avail > keep ? avail - keep : 0;
		u->cap = usable > UINT64_MAX / vfs.f_frsize ? UINT64_MAX : usable * vfs.f_frsize;
	}
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)rl.rlim_cur < u->cap) {
		u->cap = (uint64_t)rl.rlim_cur;
		u->cap_is_fsize = true;
	}
	if (u->ex->max_bytes && u->ex->max_bytes < u->cap) {
		u->cap = u->ex->max_bytes;
		u->cap_is_fsize = false;
		u->cap_is_max = true;
	}
}

static struct pha_error *over_cap(const struct unz *u, uint64_t declared)
{
	char size[64];
	if (declared)
		snprintf(size, sizeof(size), "its zstd frame declares %llu bytes",
			 (unsigned long long)declared);
	else
		snprintf(size, sizeof(size), "it decompresses to more than %llu bytes",
			 (unsigned long long)u->cap);
	if (u->cap_is_max)
		return pha_error_create(PHA_ERR_INPUT, "%s: %s, more than the %llu bytes a %s may have",
					u->path, size, (unsigned long long)u->cap, u->ex->what);
	if (u->cap_is_fsize)
		return pha_error_create(PHA_ERR_INTERNAL,
			"%s: cannot decompress the %s: %s, more than the file size limit "
			"(ulimit -f) of %llu bytes allows", u->path, u->ex->what, size,
			(unsigned long long)u->cap);
	return pha_error_create(PHA_ERR_INTERNAL,
		"%s: cannot decompress the %s: %s, more than the %llu bytes the temporary "
		"directory %s can take while keeping 5%% of its file system free "
		"(set TMPDIR to a directory with more space)",
		u->path, u->ex->what, size, (unsigned long long)u->cap, u->dir);
}

/* A first frame whose header declares more than the cap: refused before
 * anything is decompressed (later frames are held to the cap as they come). */
static struct pha_error *check_declared_size(const struct unz *u)
{
	uint8_t hdr[18];	/* ZSTD_FRAMEHEADERSIZE_MAX (zstd's static-linking-only API) */
	ssize_t n = pread(u->in_fd, hdr, sizeof(hdr), 0);
	if (n <= 0)
		return NULL;	/* read errors are reported by the decompression loop */
	unsigned long long declared = ZSTD_getFrameContentSize(hdr, (size_t)n);
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR)
		return NULL;
	return declared > u->cap ? over_cap(u, declared) : NULL;
}

static struct pha_error *write_out(struct unz *u, const uint8_t *p, size_t len)
{
	if (len > u->cap - u->total)
		return over_cap(u, 0);
	while (len > 0) {
		ssize_t n = write(u->out_fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pha_error_errno(PHA_ERR_INTERNAL, errno,
				"%s: cannot write the decompressed %s to a temporary file in %s "
				"(set TMPDIR to a directory with enough space)",
				u->path, u->ex->what, u->dir);
		}
		p += n;
		len -= (size_t)n;
		u->total += (uint64_t)n;
	}
	return NULL;
}

/* Write what is in the output buffer, once its head has been checked.
 * final: no more data comes (check whatever there is). */
static struct pha_error *flush_out(struct unz *u, const uint8_t *buf, size_t *pending, bool final)
{
	if (!u->head_checked) {
		if (*pending < u->ex->head_len && !final)
			return NULL;	/* not enough to judge yet: keep decompressing */
		size_t n = *pending < u->ex->head_len ? *pending : u->ex->head_len;
		if (!u->ex->head_ok(buf, n))
			return pha_error_create(PHA_ERR_INPUT, "%s: %s", u->path, u->ex->mismatch);
		u->head_checked = true;
	}
	struct pha_error *err = write_out(u, buf, *pending);
	*pending = 0;
	return err;
}

size_t pha_zstd_head(int fd, uint8_t *plain, size_t size)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	uint8_t *in_buf = malloc(1 << 16);
	ZSTD_outBuffer out = {plain, size, 0};
	off_t off = 0;
	while (ds && in_buf && out.pos < out.size && off < (1 << 20)) {
		ssize_t got = pread(fd, in_buf, 1 << 16, off);
		if (got <= 0)
			break;
		off += got;
		ZSTD_inBuffer in = {in_buf, (size_t)got, 0};
		size_t rc = 1;
		while (in.pos < in.size && out.pos < out.size) {
			rc = ZSTD_decompressStream(ds, &out, &in);
			if (ZSTD_isError(rc) || rc == 0)
				break;
		}
		if (ZSTD_isError(rc) || rc == 0)
			break;
	}
	ZSTD_freeDStream(ds);
	free(in_buf);
	return out.pos;
}

struct pha_error *pha_zstd_decompress_to_tmpfile(int in_fd, const char *path_for_messages,
						 const struct pha_zstd_expect *expect,
						 int *fd_ret, uint64_t *size_ret)
{
	struct pha_error *err = NULL;
	struct unz u = {
		.path = path_for_messages, .ex = expect, .dir = tmp_dir(), .in_fd = in_fd,
		.out_fd = -1,
	};
	off_t in_off = 0;
	size_t last = 1;	/* ZSTD_decompressStream's hint: 0 = a frame just ended */
	size_t pending = 0;	/* decompressed bytes in out_buf, not written yet */
	bool any_input = false;

	size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
	if (out_cap < 4096)
		out_cap = 4096;	/* room for the head check (head_len <= 4096) */
	void *in_buf = malloc(in_cap);
	uint8_t *out_buf = malloc(out_cap);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!in_buf || !out_buf || !dctx) {
		err = &pha_enomem;
		goto out;
	}
	if ((err = create_tmpfile(&u)))
		goto out;
	set_cap(&u);
	if ((err = check_declared_size(&u)))
		goto out;

	for (;;) {
		ssize_t n = pread(in_fd, in_buf, in_cap, in_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = pha_error_errno(PHA_ERR_INPUT, errno, "%s: read error at offset %lld",
					      u.path, (long long)in_off);
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
			ZSTD_outBuffer o = { out_buf, out_cap, pending };
			size_t r = ZSTD_decompressStream(dctx, &o, &in);
			if (ZSTD_isError(r)) {
				err = pha_error_create(PHA_ERR_INPUT, "%s: corrupt zstd data: %s",
						       u.path, ZSTD_getErrorName(r));
				goto out;
			}
			pending = o.pos;
			last = r;
			if ((err = flush_out(&u, out_buf, &pending, pending == out_cap)))
				goto out;
		}
	}
	if (!any_input || last != 0) {
		/* Input ended inside a frame: a partial download or copy. Refuse
		 * rather than analyze an input whose end silently went missing. */
		err = pha_error_create(PHA_ERR_INPUT,
				       "%s: corrupt zstd data: truncated (input ends inside a zstd frame "
				       "after %llu compressed bytes)",
				       u.path, (unsigned long long)in_off);
		goto out;
	}
	if ((err = flush_out(&u, out_buf, &pending, true)))
		goto out;

	*fd_ret = u.out_fd;
	*size_ret = u.total;
	u.out_fd = -1;
out:
	if (u.out_fd >= 0)
		close(u.out_fd);
	ZSTD_freeDCtx(dctx);
	free(out_buf);
	free(in_buf);
	return err;
}
