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
};

/* Spans of mem's readable segments; false on OOM or when the bitmap would
 * take more than max_bytes (the caller then uses its hash set). */
bool pha_addrset_init(struct pha_addrset *s, const struct pha_memory *mem, uint64_t max_bytes);
void pha_addrset_deinit(struct pha_addrset *s);
/* PHA_ADDRSET_NEW (now a member), _PRESENT (already one) or _OUTSIDE. */
int pha_addrset_add(struct pha_addrset *s, uint64_t addr);
/* Remove a member (no effect on other addresses). */
void pha_addrset_remove(struct pha_addrset *s, uint64_t addr);
/* Compute the ranks (after the last add/remove); false on OOM or more than
 * UINT32_MAX - 1 members. */
bool pha_addrset_rank(struct pha_addrset *s);
/* The rank of a member; UINT32_MAX when addr is not a member. */
uint32_t pha_addrset_id(struct pha_addrset *s, uint64_t addr);

#endif
