/* Shared by the libFuzzer targets of tests/fuzz (see tests/fuzz/README.md).
 *
 * The readers under test take paths, so each input is put in a memfd and
 * handed over as /proc/self/fd/N (a regular file, no disk I/O). Temporary
 * files (decompressed .zst input) go to /dev/shm when it exists, and the
 * process may write at most 64 MiB per file (RLIMIT_FSIZE; SIGXFSZ
 * ignored), so a zstd bomb found by the fuzzer costs little. */
#ifndef PHA_FUZZ_COMMON_H
#define PHA_FUZZ_COMMON_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void fuzz_setup_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		setenv("TMPDIR", "/dev/shm", 1);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0) {
		rl.rlim_cur = 64u << 20;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_FSIZE, &rl);
	}
}

/* The input as a file: a memfd (kept open, rewritten each run) and the
 * path that opens it. */
struct fuzz_file {
	int fd;
	char path[64];
};

static inline const char *fuzz_file_put(struct fuzz_file *f, const char *name, const uint8_t *data,
				 size_t size)
{
	if (f->fd <= 0) {
		f->fd = memfd_create(name, MFD_CLOEXEC);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) != 0 || (size && pwrite(f->fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}
	return f->path;
}

#endif
