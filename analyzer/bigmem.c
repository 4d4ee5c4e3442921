/* Big arrays in memory or in an unlinked temporary file (bigmem.h). */
#include "bigmem.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
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

/* In memory, freed arrays of REUSE_MIN bytes or more wait in a small
 * cache for the next big array that fits, instead of going back to the
 * system: each phase's scratch arrays are the size of the last one's
 * (4 bytes an object, 1 byte an object...), and a fresh mapping costs a
 * page fault and a page of zeroing per 4 KiB (about a quarter of the CPU
 * at 10^7 objects, 2.4 GB mapped over a run whose peak is 0.55 GB). So
 * that the peak does not grow: a request takes the smallest cached array
 * that fits and gives back its pages beyond the request (MADV_DONTNEED),
 * or, when none fits, the largest grown to the request (realloc: mremap
 * keeps its pages); either way the rest of the cache is freed first. Not
 * for calloc: zeroing the grown part would make resident the pages of a
 * sparsely written array that a fresh mapping leaves to the zero page. */
#define REUSE_MIN ((size_t)1 << 20)
#define REUSE_SLOTS 4
/* Off under AddressSanitizer, which must see a freed array freed: a use
 * after pha_big_free would read the next array's data unnoticed. */
#if defined(__SANITIZE_ADDRESS__)
#define REUSE_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REUSE_ON 0
#endif
#endif
#ifndef REUSE_ON
#define REUSE_ON 1
#endif
static struct {
	void *p[REUSE_SLOTS];
	size_t len[REUSE_SLOTS];	/* malloc_usable_size */
	unsigned n;
} reuse;

static void reuse_flush(void)
{
	for (unsigned i = 0; i < reuse.n; i++)
		free(reuse.p[i]);
	reuse.n = 0;
}

/* Slot i out of the cache: its array, its length in *len_ret. */
static void *reuse_remove(unsigned i, size_t *len_ret)
{
	void *p = reuse.p[i];
	*len_ret = reuse.len[i];
	reuse.n--;
	reuse.p[i] = reuse.p[reuse.n];
	reuse.len[i] = reuse.len[reuse.n];
	return p;
}

/* A cached array of at least size bytes (the smallest), its pages beyond
 * size given back; else, with grow, the largest grown to size; NULL if
 * none. The rest of the cache is freed. */
static void *reuse_take(size_t size, bool grow)
{
	unsigned fit = REUSE_SLOTS, largest = 0;
	for (unsigned i = 0; i < reuse.n; i++) {
		if (reuse.len[i] >= size && (fit == REUSE_SLOTS || reuse.len[i] < reuse.len[fit]))
			fit = i;
		if (reuse.len[i] > reuse.len[largest])
			largest = i;
	}
	size_t len = 0;
	void *p = NULL;
	if (fit < REUSE_SLOTS)
		p = reuse_remove(fit, &len);
	else if (grow && reuse.n)
		p = reuse_remove(largest, &len);
	reuse_flush();
	if (!p)
		return NULL;
	if (len < size) {	/* grown: mremap keeps its pages */
		void *g = realloc(p, size);
		if (!g)
			free(p);
		return g;
	}
	uintptr_t pg = (uintptr_t)page();
	uintptr_t lo = ((uintptr_t)p + size + pg - 1) & ~(pg - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(pg - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
	return p;
}

/* Keeps p (malloc'd, in memory) for reuse_take; false if it is too small
 * or the cache is off (REUSE_ON). */
static bool reuse_keep(void *p)
{
	size_t len = p && REUSE_ON ? malloc_usable_size(p) : 0;
	if (len < REUSE_MIN)
		return false;
	if (reuse.n == REUSE_SLOTS) {
		size_t oldest_len;
		free(reuse_remove(0, &oldest_len));
	}
	reuse.p[reuse.n] = p;
	reuse.len[reuse.n++] = len;
	return true;
}

static void *big_malloc(size_t size)
{
	if (!big.on && size >= REUSE_MIN) {
		void *p = reuse_take(size, true);
		return p ? p : malloc(size);
	}
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

/* *dirty_ret: the array is a reused one, to be zeroed by the caller
 * (outside the lock). */
static void *big_calloc(size_t n, size_t size, bool *dirty_ret)
{
	*dirty_ret = false;
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (!big.on && n * size >= REUSE_MIN) {
		void *p = reuse_take(n * size, false);
		*dirty_ret = p != NULL;
		return p ? p : calloc(n, size);
	}
	if (!big.on || n * size < big.min || !n || !size)
		return calloc(n ? n : 1, size ? size : 1);
	return big_malloc(n * size);	/* a new file range reads as zeros */
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

static void big_free(void *p)
{
	struct mapping *m = find(p);
	if (m)
		release(m);
	else if (big.on || !reuse_keep(p))
		free(p);
}

static void *big_realloc(void *p, size_t size)
{
	struct mapping *m = find(p);
	if (!m && (!big.on || size < big.min || !size))
		return realloc(p, size ? size : 1);
	void *q = big_malloc(size);
	if (!q || !p)
		return q;
	size_t old = m ? m->len : malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	big_free(p);
	return q;
}

/* The arrays are asked for from two threads (report.c's helper). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void *pha_big_malloc(size_t size)
{
	pthread_mutex_lock(&lock);
	void *p = big_malloc(size);
	pthread_mutex_unlock(&lock);
	return p;
}

void *pha_big_calloc(size_t n, size_t size)
{
	bool dirty;
	pthread_mutex_lock(&lock);
	void *p = big_calloc(n, size, &dirty);
	pthread_mutex_unlock(&lock);
	if (dirty)
		memset(p, 0, n * size);	/* resident pages: no faults */
	return p;
}

void pha_big_free(void *p)
{
	pthread_mutex_lock(&lock);
	big_free(p);
	pthread_mutex_unlock(&lock);
}

void *pha_big_realloc(void *p, size_t size)
{
	pthread_mutex_lock(&lock);
	void *q = big_realloc(p, size);
	pthread_mutex_unlock(&lock);
	return q;
}

void pha_bigmem_shutdown(void)
{
	reuse_flush();
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
