/* pha_addrset (the fast address set of the heap builder) against its slow
 * twin: a sorted array of the same addresses, where membership is a binary
 * search and an id is the index. Random segment layouts (odd starts and
 * ends, adjacent and distant segments, missing ones), random adds and
 * removes of aligned, misaligned and unmapped addresses. */
#include "../../analyzer/addrset.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The slow twin's idea of "can hold": 8-aligned inside a readable segment. */
static int holdable(const struct pha_memory *m, uint64_t a)
{
	const struct pha_segment *s = pha_memory_find(m, a);
	return (a & 7) == 0 && s && s->data;
}

static void one_round(int round)
{
	static uint8_t backing[1 << 16];
	struct pha_memory m;
	pha_memory_init(&m);
	uint64_t at = 0x1000 + (next() % 64);
	int nseg = 1 + (int)(next() % 6);
	for (int i = 0; i < nseg; i++) {
		uint64_t size = 1 + next() % 3000;
		int missing = next() % 5 == 0;
		pha_memory_add(&m, at, size, missing ? NULL : backing,
			       missing ? PHA_SEG_MISSING : PHA_SEG_CORE, 4);
		at += size + (next() % 3 ? 0 : next() % 100000);
	}
	pha_memory_finish(&m);
	uint64_t lo = 0x1000, hi = at + 64;

	struct pha_addrset s;
	CHECK(pha_addrset_init(&s, &m, UINT64_C(1) << 30));
	uint64_t *twin = malloc(4096 * sizeof(*twin));
	size_t n = 0;
	for (int k = 0; k < 2000; k++) {
		uint64_t a = lo + next() % (hi - lo);
		if (next() % 4)
			a &= ~7ULL;
		int r = pha_addrset_add(&s, a);
		int present = 0;
		for (size_t i = 0; i < n; i++)
			present |= twin[i] == a;
		if (!holdable(&m, a))
			CHECKF(r == PHA_ADDRSET_OUTSIDE, "round %d: 0x%llx held", round, (unsigned long long)a);
		else if (present)
			CHECKF(r == PHA_ADDRSET_PRESENT, "round %d: 0x%llx not present", round, (unsigned long long)a);
		else {
			CHECKF(r == PHA_ADDRSET_NEW, "round %d: 0x%llx not new", round, (unsigned long long)a);
			twin[n++] = a;
		}
	}
	/* remove a third */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (next() % 3 == 0)
			pha_addrset_remove(&s, twin[i]);
		else
			twin[kept++] = twin[i];
	}
	n = kept;
	qsort(twin, n, sizeof(*twin), cmp_u64);
	CHECK(pha_addrset_rank(&s));
	CHECK(s.members == n);
	for (size_t i = 0; i < n; i++)
		CHECKF(pha_addrset_id(&s, twin[i]) == i, "round %d: id of 0x%llx", round,
		       (unsigned long long)twin[i]);
	for (int k = 0; k < 2000; k++) {
		uint64_t a = lo + next() % (hi - lo);
		void *f = bsearch(&a, twin, n, sizeof(*twin), cmp_u64);
		uint32_t id = pha_addrset_id(&s, a);
		CHECKF(f ? id == (uint64_t *)f - twin : id == UINT32_MAX, "round %d: lookup 0x%llx",
		       round, (unsigned long long)a);
	}
	free(twin);
	pha_addrset_deinit(&s);
	pha_memory_deinit(&m);
}

int main(void)
{
	CASE_BEGIN("addrset_vs_sorted_array");
	for (int round = 0; round < 300; round++)
		one_round(round);
	CASE_END();

	CASE_BEGIN("addrset_empty_memory");
	struct pha_memory m;
	pha_memory_init(&m);
	struct pha_addrset s;
	CHECK(pha_addrset_init(&s, &m, 1 << 20));
	CHECK(pha_addrset_add(&s, 0x1000) == PHA_ADDRSET_OUTSIDE);
	CHECK(pha_addrset_rank(&s));
	CHECK(s.members == 0 && pha_addrset_id(&s, 0x1000) == UINT32_MAX);
	pha_addrset_deinit(&s);
	CASE_END();

	CASE_BEGIN("addrset_size_limit");
	static uint8_t big[1];
	pha_memory_init(&m);
	pha_memory_add(&m, 0x10000, UINT64_C(1) << 40, big, PHA_SEG_CORE, 4);
	pha_memory_finish(&m);
	CHECK(!pha_addrset_init(&s, &m, 1 << 20));	/* refused: the caller hashes */
	pha_memory_deinit(&m);
	CASE_END();
	CHECK_EXIT();
}
