/* A set of object addresses as a bitmap over the readable memory, with
 * ranks: the fast twin of heap.c's hash set (issue 12, "Scale").
 *
 * One bit per 8-byte word of every segment that has bytes (core or file):
 * 1/64 of the mapped memory, zero pages until touched, and 1/128 for the
 * ranks. After
 * pha_addrset_rank, the id of a member is its rank (the number of members
 * at lower addresses), which is its index in address order: numbering
 * needs no sort and an edge's target needs no hash probe.
 *
 * Addresses it cannot hold (not 8-aligned, or outside every readable
 * segment) are refused (PHA_ADDRSET_OUTSIDE); the caller keeps those
 * elsewhere. tests/unit/test_addrset.c compares it with a sorted array on
 * random address sets.
 */
#ifndef PHA_ADDRSET_H
#define PHA_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory.h"

enum { PHA_ADDRSET_OUTSIDE = -1, PHA_ADDRSET_NEW = 0, PHA_ADDRSET_PRESENT = 1 };

struct pha_addrset_span {
	uint64_t base, end;	/* base 8-aligned; end exclusive */
	uint64_t word0;		/* index of its first bitmap word */
};

struct pha_addrset {
	struct pha_addrset_span *spans;
	size_t nspans;
	/* The first span (by address) each block of 256 KiB touches: open
	 * addressing by block number (btag, UINT64_MAX free), the span's
	 * index in bspan. */
	uint64_t *btag;
	uint32_t *bspan;
	size_t bmask;
	uint64_t *bits;		/* nwords */
	size_t nwords;
	uint32_t *rank;		/* members before each word (1/128 of the memory) */
	uint64_t members;	/* after pha_addrset_rank */
	/* The span found last: most addresses fall in the one before
	 * (a heap's objects live in a few big mappings), and it is one
	 * compare instead of a probe of btag (issue 12). */
	size_t last;
};

/* Spans of mem's readable segments; false on OOM or when the bitmap would
 * take more than max_bytes (the caller then uses its hash set). */
bool pha_addrset_init(struct pha_addrset *s, const struct pha_memory *mem, uint64_t max_bytes);
void pha_addrset_deinit(struct pha_addrset *s);
/* Remove a member (no effect on other addresses). */
void pha_addrset_remove(struct pha_addrset *s, uint64_t addr);
/* Compute the ranks (after the last add/remove); false on OOM or more than
 * UINT32_MAX - 1 members. */
bool pha_addrset_rank(struct pha_addrset *s);

/* ---- inline: once or twice per reference of the heap ---- */

/* Without -mpopcnt, __builtin_popcountll is a call into libgcc: SWAR. */
static inline uint32_t addrset_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

/* Blocks of the span table: 256 KiB. */
#define PHA_ADDRSET_BLOCK_SHIFT 18

static inline size_t addrset_block_slot(const struct pha_addrset *s, uint64_t block)
{
	uint64_t x = block * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x >> 32) & s->bmask;
}

/* The span holding addr (an index of spans), nspans if none: from the
 * first span of its block on (spans are sorted and disjoint). */
static inline size_t addrset_span_of(struct pha_addrset *s, uint64_t addr)
{
	if (s->last < s->nspans && addr >= s->spans[s->last].base && addr < s->spans[s->last].end)
		return s->last;
	uint64_t b = addr >> PHA_ADDRSET_BLOCK_SHIFT;
	size_t k = addrset_block_slot(s, b);
	while (s->btag[k] != b) {
		if (s->btag[k] == UINT64_MAX)
			return s->nspans;
		k = (k + 1) & s->bmask;
	}
	size_t lo = s->bspan[k];
	while (s->spans[lo].end <= addr)	/* the block's next spans, in order */
		if (++lo == s->nspans)
			return lo;
	const struct pha_addrset_span *p = &s->spans[lo];
	if (addr < p->base || addr >= p->end)
		return s->nspans;
	s->last = lo;
	return lo;
}

/* The bit of addr: word index and mask; false when the set cannot hold it. */
static inline bool addrset_locate(struct pha_addrset *s, uint64_t addr, size_t *word,
				  uint64_t *mask)
{
	if ((addr & 7) || s->nspans == 0)
		return false;
	size_t i = addrset_span_of(s, addr);
	if (i == s->nspans)
		return false;
	const struct pha_addrset_span *p = &s->spans[i];
	uint64_t bit = (addr - p->base) / 8;
	*word = p->word0 + bit / 64;
	*mask = 1ULL << (bit % 64);
	return true;
}

/* PHA_ADDRSET_NEW (now a member), _PRESENT (already one) or _OUTSIDE. */
static inline int pha_addrset_add(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (!addrset_locate(s, addr, &w, &m))
		return PHA_ADDRSET_OUTSIDE;
	if (s->bits[w] & m)
		return PHA_ADDRSET_PRESENT;
	s->bits[w] |= m;
	return PHA_ADDRSET_NEW;
}

/* The rank of a member; UINT32_MAX when addr is not a member. */
static inline uint32_t pha_addrset_id(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (!addrset_locate(s, addr, &w, &m) || !(s->bits[w] & m))
		return UINT32_MAX;
	return s->rank[w] + addrset_popcount64(s->bits[w] & (m - 1));
}

#endif
