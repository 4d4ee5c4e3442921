/* The address bitmap with ranks (addrset.h). */
#include "addrset.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_WORDS 8

/* Without -mpopcnt, __builtin_popcountll is a call into libgcc: SWAR. */
static inline uint32_t popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

bool pha_addrset_init(struct pha_addrset *s, const struct pha_memory *mem, uint64_t max_bytes)
{
	memset(s, 0, sizeof(*s));
	s->spans = malloc((mem->nsegs ? mem->nsegs : 1) * sizeof(*s->spans));
	if (!s->spans)
		return false;
	uint64_t words = 0;
	for (size_t i = 0; i < mem->nsegs; i++) {
		const struct pha_segment *g = &mem->segs[i];
		/* the first 8-aligned address: spans never share a word's address */
		uint64_t base = (g->start + 7) & ~7ULL;
		if (!g->data || g->end <= base || base < g->start)
			continue;
		struct pha_addrset_span *p = &s->spans[s->nspans++];
		p->base = base;
		p->end = g->end;
		p->word0 = words;
		words += ((g->end - p->base + 7) / 8 + 63) / 64;
		if (words > max_bytes / 8)
			goto refuse;
	}
	words = (words + BLOCK_WORDS - 1) / BLOCK_WORDS * BLOCK_WORDS;
	if (words == 0)
		words = BLOCK_WORDS;
	if (words > max_bytes / 8 || words > SIZE_MAX / 8)
		goto refuse;
	/* Anonymous pages: zero and free until touched. */
	void *m = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		goto refuse;
	s->bits = m;
	s->nwords = words;
	return true;
refuse:
	pha_addrset_deinit(s);
	return false;
}

void pha_addrset_deinit(struct pha_addrset *s)
{
	free(s->spans);
	if (s->bits)
		munmap(s->bits, s->nwords * 8);
	free(s->rank);
	memset(s, 0, sizeof(*s));
}

/* The bit of addr: word index and mask; false when the set cannot hold it. */
static inline bool locate(struct pha_addrset *s, uint64_t addr, size_t *word, uint64_t *mask)
{
	if ((addr & 7) || s->nspans == 0)
		return false;
	const struct pha_addrset_span *p = &s->spans[s->last];
	if (addr < p->base || addr >= p->end) {
		size_t lo = 0, hi = s->nspans;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->spans[mid].end <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == s->nspans || addr < s->spans[lo].base)
			return false;
		s->last = lo;
		p = &s->spans[lo];
	}
	uint64_t bit = (addr - p->base) / 8;
	*word = p->word0 + bit / 64;
	*mask = 1ULL << (bit % 64);
	return true;
}

int pha_addrset_add(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (!locate(s, addr, &w, &m))
		return PHA_ADDRSET_OUTSIDE;
	if (s->bits[w] & m)
		return PHA_ADDRSET_PRESENT;
	s->bits[w] |= m;
	return PHA_ADDRSET_NEW;
}

void pha_addrset_remove(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (locate(s, addr, &w, &m))
		s->bits[w] &= ~m;
}

bool pha_addrset_rank(struct pha_addrset *s)
{
	free(s->rank);
	s->rank = malloc(s->nwords * sizeof(*s->rank));
	if (!s->rank)
		return false;
	uint64_t total = 0;
	for (size_t w = 0; w < s->nwords; w++) {
		s->rank[w] = (uint32_t)total;
		total += popcount64(s->bits[w]);
		if (total >= UINT32_MAX)
			return false;
	}
	s->members = total;
	return true;
}

uint32_t pha_addrset_id(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (!locate(s, addr, &w, &m) || !(s->bits[w] & m))
		return UINT32_MAX;
	return s->rank[w] + popcount64(s->bits[w] & (m - 1));
}
