/* The address bitmap with ranks (addrset.h). */
#include "addrset.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_WORDS 8

/* The block table of the spans (see addrset.h); false on OOM. */
static bool blocks_init(struct pha_addrset *s)
{
	uint64_t nblocks = 0;
	for (size_t i = 0; i < s->nspans; i++)
		nblocks += ((s->spans[i].end - 1) >> PHA_ADDRSET_BLOCK_SHIFT) - (s->spans[i].base >> PHA_ADDRSET_BLOCK_SHIFT) + 1;
	size_t cap = 64;
	while (cap < 2 * nblocks)
		cap *= 2;
	s->btag = malloc(cap * sizeof(*s->btag));
	s->bspan = malloc(cap * sizeof(*s->bspan));
	if (!s->btag || !s->bspan)
		return false;
	memset(s->btag, 0xff, cap * sizeof(*s->btag));
	s->bmask = cap - 1;
	for (size_t i = 0; i < s->nspans; i++) {
		uint64_t last = (s->spans[i].end - 1) >> PHA_ADDRSET_BLOCK_SHIFT;
		for (uint64_t b = s->spans[i].base >> PHA_ADDRSET_BLOCK_SHIFT; b <= last; b++) {
			size_t k = addrset_block_slot(s, b);
			while (s->btag[k] != UINT64_MAX && s->btag[k] != b)
				k = (k + 1) & s->bmask;
			if (s->btag[k] != b) {	/* the first span of the block */
				s->btag[k] = b;
				s->bspan[k] = (uint32_t)i;
			}
		}
	}
	return true;
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
	if (s->nspans > UINT32_MAX - 1 || !blocks_init(s))
		goto refuse;
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
	free(s->btag);
	free(s->bspan);
	memset(s, 0, sizeof(*s));
}

void pha_addrset_remove(struct pha_addrset *s, uint64_t addr)
{
	size_t w;
	uint64_t m;
	if (addrset_locate(s, addr, &w, &m))
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
		total += addrset_popcount64(s->bits[w]);
		if (total >= UINT32_MAX)
			return false;
	}
	s->members = total;
	return true;
}
