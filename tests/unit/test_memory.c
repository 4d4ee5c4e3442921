/* Unit tests of analyzer/memory.c: the segment map every read of the dumped
 * process goes through. */
#include <stdint.h>
#include <string.h>

#include "../../analyzer/memory.h"
#include "check.h"

/* 8-aligned like the mmapped core and files the segments point into
 * (pha_memory_ptr hands out only pointers that keep addr's alignment). */
static _Alignas(16) uint8_t a[64], b[64], f[0x200];

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i);
}

/* [0x1000,0x1040) core a, [0x1040,0x1080) core b, gap, [0x2000,0x2100) missing */
static struct pha_error *setup(struct pha_memory *mem)
{
	struct pha_error *err;
	pha_memory_init(mem);
	/* Added out of order on purpose: finish must sort. */
	if ((err = pha_memory_add(mem, 0x2000, 0x100, NULL, PHA_SEG_MISSING, 4)) ||
	    (err = pha_memory_add(mem, 0x1040, sizeof(b), b, PHA_SEG_CORE, 4)) ||
	    (err = pha_memory_add(mem, 0x1000, sizeof(a), a, PHA_SEG_CORE, 4)))
		return err;
	return pha_memory_finish(mem);
}

static void test_read_inside(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_read_inside_one_segment");
	CHECK(setup(&mem) == NULL);
	uint8_t buf[16];
	uint64_t fault = 0xdead;
	CHECK(pha_memory_read(&mem, 0x1008, buf, sizeof(buf), &fault));
	CHECK(memcmp(buf, a + 8, sizeof(buf)) == 0);
	CHECK(fault == 0xdead);	/* untouched on success */
	uint64_t v;
	CHECK(pha_memory_read_u64(&mem, 0x1038, &v));
	uint64_t want;
	memcpy(&want, a + 0x38, 8);
	CHECK(v == want);
	CHECK(pha_memory_read(&mem, 0x1000, buf, 0, NULL));
	const struct pha_segment *s = pha_memory_find(&mem, 0x103f);
	CHECK(s && s->start == 0x1000 && s->end == 0x1040 && s->source == PHA_SEG_CORE);
	CHECK(pha_memory_find(&mem, 0xfff) == NULL);
	CHECK(mem.missing_bytes == 0x100);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_read_spanning(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_read_spanning_adjacent_segments");
	CHECK(setup(&mem) == NULL);
	uint8_t buf[32];
	CHECK(pha_memory_read(&mem, 0x1030, buf, sizeof(buf), NULL));
	CHECK(memcmp(buf, a + 0x30, 16) == 0);
	CHECK(memcmp(buf + 16, b, 16) == 0);
	/* The whole of both segments in one read. */
	uint8_t all[128];
	CHECK(pha_memory_read(&mem, 0x1000, all, sizeof(all), NULL));
	CHECK(memcmp(all, a, 64) == 0 && memcmp(all + 64, b, 64) == 0);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_read_into_gap(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_read_into_gap_faults_at_first_unreadable_address");
	CHECK(setup(&mem) == NULL);
	uint8_t buf[32];
	uint64_t fault = 0;
	/* b ends at 0x1080; the read starts 8 bytes before. */
	CHECK(!pha_memory_read(&mem, 0x1078, buf, sizeof(buf), &fault));
	CHECKF(fault == 0x1080, "fault 0x%llx", (unsigned long long)fault);
	/* Starting in a and running through b into the gap. */
	uint8_t big[0x80];
	CHECK(!pha_memory_read(&mem, 0x1010, big, sizeof(big), &fault));
	CHECKF(fault == 0x1080, "fault 0x%llx", (unsigned long long)fault);
	/* Starting in the gap. */
	CHECK(!pha_memory_read(&mem, 0x1800, buf, 1, &fault));
	CHECK(fault == 0x1800);
	/* Before every segment, and after every segment. */
	CHECK(!pha_memory_read(&mem, 0xff8, buf, 16, &fault));
	CHECK(fault == 0xff8);
	CHECK(!pha_memory_read(&mem, 0x3000, buf, 16, &fault));
	CHECK(fault == 0x3000);
	/* A NULL fault pointer is allowed. */
	CHECK(!pha_memory_read(&mem, 0x1078, buf, sizeof(buf), NULL));
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_read_missing(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_read_missing_segment_faults_at_its_start");
	CHECK(setup(&mem) == NULL);
	/* Core bytes directly followed by a MISSING segment. */
	struct pha_memory m2;
	pha_memory_init(&m2);
	CHECK(pha_memory_add(&m2, 0x5000, sizeof(a), a, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&m2, 0x5040, 0x40, NULL, PHA_SEG_MISSING, 4) == NULL);
	CHECK(pha_memory_finish(&m2) == NULL);
	uint8_t buf[16];
	uint64_t fault = 0;
	CHECK(!pha_memory_read(&m2, 0x5038, buf, sizeof(buf), &fault));
	CHECKF(fault == 0x5040, "fault 0x%llx", (unsigned long long)fault);
	CHECK(!pha_memory_read(&mem, 0x2010, buf, 8, &fault));
	CHECK(fault == 0x2010);
	const struct pha_segment *s = pha_memory_find(&mem, 0x2010);
	CHECK(s && s->source == PHA_SEG_MISSING && s->data == NULL);
	CHECK(pha_memory_ptr(&mem, 0x2010, 1) == NULL);
	/* MISSING never gets a data pointer, even if the caller passed one. */
	struct pha_memory m3;
	pha_memory_init(&m3);
	CHECK(pha_memory_add(&m3, 0x100, 0x10, a, PHA_SEG_MISSING, 0) == NULL);
	CHECK(pha_memory_finish(&m3) == NULL);
	CHECK(!pha_memory_read(&m3, 0x100, buf, 1, &fault) && fault == 0x100);
	pha_memory_deinit(&m3);
	pha_memory_deinit(&m2);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_fill(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_fill_splits_missing_segment");
	CHECK(setup(&mem) == NULL);
	/* f describes [0x2040, 0x2080): the middle of the missing [0x2000,0x2100). */
	uint64_t filled = 0;
	CHECK(pha_memory_fill(&mem, 0x2040, 0x40, f, &filled) == NULL);
	CHECK(filled == 0x40);
	CHECK(mem.missing_bytes == 0xc0);
	const struct pha_segment *l = pha_memory_find(&mem, 0x2000);
	const struct pha_segment *m = pha_memory_find(&mem, 0x2040);
	const struct pha_segment *r = pha_memory_find(&mem, 0x2080);
	CHECK(l && l->source == PHA_SEG_MISSING && l->start == 0x2000 && l->end == 0x2040);
	CHECK(m && m->source == PHA_SEG_FILE && m->start == 0x2040 && m->end == 0x2080);
	CHECK(r && r->source == PHA_SEG_MISSING && r->start == 0x2080 && r->end == 0x2100);
	CHECK(l && l->prot == 4 && m && m->prot == 4);
	uint8_t buf[0x40];
	uint64_t fault = 0;
	CHECK(pha_memory_read(&mem, 0x2040, buf, 0x40, &fault));
	CHECK(memcmp(buf, f, 0x40) == 0);
	CHECK(!pha_memory_read(&mem, 0x2038, buf, 16, &fault) && fault == 0x2038);
	CHECK(!pha_memory_read(&mem, 0x2070, buf, 32, &fault) && fault == 0x2080);

	/* A fill range wider than the hole: only the MISSING part changes, the
	 * core bytes next to it are kept. f here describes [0x1000, 0x1100). */
	struct pha_memory m2;
	pha_memory_init(&m2);
	CHECK(pha_memory_add(&m2, 0x1000, sizeof(a), a, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&m2, 0x1040, 0x80, NULL, PHA_SEG_MISSING, 4) == NULL);
	CHECK(pha_memory_finish(&m2) == NULL);
	CHECK(pha_memory_fill(&m2, 0x1000, 0x100, f, &filled) == NULL);
	CHECK(filled == 0x80);
	CHECK(m2.missing_bytes == 0);
	uint8_t all[0xc0];
	CHECK(pha_memory_read(&m2, 0x1000, all, sizeof(all), &fault));
	CHECK(memcmp(all, a, 0x40) == 0);		/* core bytes win */
	CHECK(memcmp(all + 0x40, f + 0x40, 0x80) == 0);
	/* Left part only, then right part only. */
	struct pha_memory m3;
	pha_memory_init(&m3);
	CHECK(pha_memory_add(&m3, 0x4000, 0x100, NULL, PHA_SEG_MISSING, 6) == NULL);
	CHECK(pha_memory_finish(&m3) == NULL);
	CHECK(pha_memory_fill(&m3, 0x3f00, 0x120, f, &filled) == NULL);	/* [0x3f00,0x4020) */
	CHECK(filled == 0x20);
	CHECK(pha_memory_fill(&m3, 0x40f0, 0x20, f, &filled) == NULL);	/* [0x40f0,0x4110) */
	CHECK(filled == 0x10);
	CHECK(m3.missing_bytes == 0xd0);
	CHECK(m3.nsegs == 3);
	CHECK(pha_memory_read(&m3, 0x4000, buf, 0x20, &fault) && memcmp(buf, f + 0x100, 0x20) == 0);
	CHECK(pha_memory_read(&m3, 0x40f0, buf, 0x10, &fault) && memcmp(buf, f, 0x10) == 0);
	CHECK(!pha_memory_read(&m3, 0x4000, buf, 0x21, &fault) && fault == 0x4020);
	/* Filling where nothing is missing changes nothing. */
	CHECK(pha_memory_fill(&m3, 0x9000, 0x10, f, &filled) == NULL && filled == 0);
	pha_memory_deinit(&m3);
	pha_memory_deinit(&m2);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_ptr(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_ptr_refuses_crossing_a_boundary");
	CHECK(setup(&mem) == NULL);
	const uint8_t *p = pha_memory_ptr(&mem, 0x1010, 0x30);
	CHECK(p == a + 0x10);
	CHECK(pha_memory_ptr(&mem, 0x1010, 0x31) == NULL);	/* into b: two segments */
	CHECK(pha_memory_ptr(&mem, 0x1078, 16) == NULL);	/* into the gap */
	CHECK(pha_memory_ptr(&mem, 0x1800, 1) == NULL);
	CHECK(pha_memory_ptr(&mem, 0x1040, 64) == b);
	CHECK(pha_memory_ptr(&mem, 0x1040, 65) == NULL);
	CHECK(pha_memory_ptr(&mem, 0x107f, 1) == b + 63);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_overlap(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_finish_rejects_overlapping_segments");
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, 0x1000, 0x100, f, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&mem, 0x10ff, 0x10, a, PHA_SEG_CORE, 4) == NULL);
	struct pha_error *err = pha_memory_finish(&mem);
	CHECK(err != NULL);
	CHECK(err && err->kind == PHA_ERR_INPUT);
	CHECK(err && strstr(err->message, "0x10ff") != NULL);
	pha_error_destroy(err);
	pha_memory_deinit(&mem);

	/* Identical starts, and one segment inside another. */
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, 0x1000, 0x10, a, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&mem, 0x1000, 0x10, b, PHA_SEG_CORE, 4) == NULL);
	err = pha_memory_finish(&mem);
	CHECK(err != NULL);
	pha_error_destroy(err);
	pha_memory_deinit(&mem);
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, 0x1000, 0x100, NULL, PHA_SEG_MISSING, 4) == NULL);
	CHECK(pha_memory_add(&mem, 0x1010, 0x10, b, PHA_SEG_CORE, 4) == NULL);
	err = pha_memory_finish(&mem);
	CHECK(err != NULL);
	pha_error_destroy(err);
	pha_memory_deinit(&mem);

	/* Touching is not overlapping. */
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, 0x1000, 0x10, a, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&mem, 0x1010, 0x10, b, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_finish(&mem) == NULL);
	/* Zero-size adds are ignored. */
	CHECK(pha_memory_add(&mem, 0x1008, 0, a, PHA_SEG_CORE, 4) == NULL);
	CHECK(mem.nsegs == 2);
	pha_memory_deinit(&mem);
	CASE_END();
}

static void test_edges(void)
{
	struct pha_memory mem;
	CASE_BEGIN("memory_reads_at_zero_and_top_do_not_wrap");
	pha_memory_init(&mem);
	/* [0, 64) and [UINT64_MAX-64, UINT64_MAX): the highest possible end. */
	CHECK(pha_memory_add(&mem, 0, sizeof(a), a, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&mem, UINT64_MAX - sizeof(b), sizeof(b), b, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_finish(&mem) == NULL);
	uint8_t buf[64];
	uint64_t fault = 0;
	CHECK(pha_memory_read(&mem, 0, buf, 64, &fault) && memcmp(buf, a, 64) == 0);
	CHECK(pha_memory_ptr(&mem, 0, 64) == a);
	uint8_t big[80];
	CHECK(!pha_memory_read(&mem, 0, big, sizeof(big), &fault) && fault == 64);
	CHECK(pha_memory_read(&mem, UINT64_MAX - 64, buf, 64, &fault) && memcmp(buf, b, 64) == 0);
	/* Past the top: the read must fault at UINT64_MAX, never wrap to 0
	 * (where [0,64) would happily continue it). */
	CHECK(!pha_memory_read(&mem, UINT64_MAX - 8, buf, 16, &fault));
	CHECKF(fault == UINT64_MAX, "fault 0x%llx", (unsigned long long)fault);
	CHECK(!pha_memory_read(&mem, UINT64_MAX, buf, 1, &fault) && fault == UINT64_MAX);
	CHECK(pha_memory_ptr(&mem, UINT64_MAX - 8, 16) == NULL);
	CHECK(pha_memory_ptr(&mem, UINT64_MAX - 8, SIZE_MAX) == NULL);
	CHECK(pha_memory_find(&mem, UINT64_MAX) == NULL);
	/* A segment that would wrap is refused when added. */
	struct pha_error *err = pha_memory_add(&mem, UINT64_MAX - 4, 8, a, PHA_SEG_CORE, 4);
	CHECK(err != NULL && err->kind == PHA_ERR_INPUT);
	pha_error_destroy(err);
	CHECK(mem.nsegs == 2);
	pha_memory_deinit(&mem);

	/* An empty map: every read faults at its address. (Not finished:
	 * pha_memory_finish on zero segments passes NULL to qsort, which
	 * UBSan rejects; reported to memory.c's owner.) */
	pha_memory_init(&mem);
	CHECK(!pha_memory_read(&mem, 0, buf, 1, &fault) && fault == 0);
	CHECK(pha_memory_find(&mem, 0) == NULL);
	CHECK(pha_memory_ptr(&mem, 0, 1) == NULL);
	pha_memory_deinit(&mem);
	CASE_END();
}

/* A segment whose bytes sit at an odd place of their buffer (a damaged
 * p_offset; gdb's NT_FILE page size 1) used to hand out misaligned
 * pointers for aligned addresses, and the plugins load uint64_t through
 * them (UB; SIGBUS on strict-alignment machines). */
static void test_ptr_alignment(void)
{
	static _Alignas(16) uint8_t raw[72];
	struct pha_memory mem;
	CASE_BEGIN("memory_ptr_never_misaligned_for_aligned_addresses");
	fill_pattern(raw, sizeof(raw), 0x40);
	pha_memory_init(&mem);
	CHECK(pha_memory_add(&mem, 0x5000, 64, raw + 1, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_add(&mem, 0x6000, 64, raw, PHA_SEG_CORE, 4) == NULL);
	CHECK(pha_memory_finish(&mem) == NULL);
	for (uint64_t addr = 0x5000; addr < 0x5040; addr += 8) {
		const uint8_t *p = pha_memory_ptr(&mem, addr, 8);
		CHECKF(!p || (uintptr_t)p % 8 == 0, "0x%llx -> %p", (unsigned long long)addr,
		       (const void *)p);
		uint64_t v;
		CHECK(pha_memory_read(&mem, addr, &v, 8, NULL));	/* still readable */
		CHECK(memcmp(&v, raw + 1 + (addr - 0x5000), 8) == 0);
	}
	/* Well-placed data keeps its zero-copy pointers. */
	CHECK(pha_memory_ptr(&mem, 0x6008, 8) == raw + 8);
	CHECK(pha_memory_ptr(&mem, 0x6003, 4) == raw + 3);
	pha_memory_deinit(&mem);
	CASE_END();
}

int main(void)
{
	fill_pattern(a, sizeof(a), 0x10);
	fill_pattern(b, sizeof(b), 0x80);
	fill_pattern(f, sizeof(f), 0xc3);
	test_read_inside();
	test_read_spanning();
	test_read_into_gap();
	test_read_missing();
	test_fill();
	test_ptr();
	test_overlap();
	test_edges();
	test_ptr_alignment();
	CHECK_EXIT();
}
