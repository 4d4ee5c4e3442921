/* Big arrays in memory or in an unlinked temporary file (bigmem.h). */
#include "bigmem.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mapping {
	void *p;
	size_t len;
	off_t off;
};

static struct {
	int fd;			/* -1: not opened yet */
	bool on;
	size_t min;		/* smaller arrays stay in ordinary memory */
	off_t end;		/* file size so far (ranges are never reused) */
	struct mapping *maps;
	size_t n, cap;
} big = {.fd = -1};

struct pha_error *pha_bigmem_use_file(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {	/* file systems without O_TMPFILE */
		char path[4096];
		snprintf(path, sizeof(path), "%s/pyheap-analyze-XXXXXX", dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0)
		return pha_error_errno(PHA_ERR_INTERNAL, errno, "--low-memory: temporary file in %s", dir);
	big.fd = fd;
	big.on = true;
	/* Testing aid: tests/e2e/run_real.py puts every array in the file
	 * (0), so that a free() of a file-backed array shows on small heaps. */
	const char *min = getenv("PYHEAP_ANALYZE_LOW_MEMORY_MIN");
	big.min = min && *min ? (size_t)strtoull(min, NULL, 10) : (size_t)1 << 20;
	return NULL;
}


static long page(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? p : 4096;
}

void *pha_big_malloc(size_t size)
{
	if (!big.on || size < big.min || !size)
		return malloc(size ? size : 1);
	if (big.n == big.cap) {
		size_t cap = big.cap ? big.cap * 2 : 64;
		struct mapping *m = realloc(big.maps, cap * sizeof(*m));
		if (!m)
			return NULL;
		big.maps = m;
		big.cap = cap;
	}
	size_t len = (size + (size_t)page() - 1) / (size_t)page() * (size_t)page();
	off_t off = big.end;
	if (ftruncate(big.fd, off + (off_t)len) != 0)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, big.fd, off);
	if (p == MAP_FAILED)
		return NULL;
	big.end = off + (off_t)len;
	big.maps[big.n++] = (struct mapping){p, len, off};
	return p;
}

void *pha_big_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (!big.on || n * size < big.min || !n || !size)
		return calloc(n ? n : 1, size ? size : 1);
	return pha_big_malloc(n * size);	/* a new file range reads as zeros */
}

static struct mapping *find(void *p)
{
	for (size_t i = 0; p && i < big.n; i++) {
		if (big.maps[i].p == p)
			return &big.maps[i];
	}
	return NULL;
}

static void release(struct mapping *m)
{
	munmap(m->p, m->len);
	/* give the disk back: the range is never used again */
	fallocate(big.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, m->off, (off_t)m->len);
	*m = big.maps[--big.n];
}

void pha_big_free(void *p)
{
	struct mapping *m = find(p);
	if (m)
		release(m);
	else
		free(p);
}

void *pha_big_realloc(void *p, size_t size)
{
	struct mapping *m = find(p);
	if (!m && (!big.on || size < big.min || !size))
		return realloc(p, size ? size : 1);
	void *q = pha_big_malloc(size);
	if (!q || !p)
		return q;
	size_t old = m ? m->len : malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	pha_big_free(p);
	return q;
}

void pha_bigmem_shutdown(void)
{
	while (big.n)
		release(&big.maps[big.n - 1]);
	free(big.maps);
	big.maps = NULL;
	big.cap = 0;
	if (big.fd >= 0)
		close(big.fd);
	big.fd = -1;
	big.on = false;
	big.end = 0;
}

uint64_t pha_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	char line[256];
	unsigned long long kb = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return (uint64_t)kb * 1024;
}
