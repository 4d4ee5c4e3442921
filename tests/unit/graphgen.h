/* Random graphs for the unit tests of the graph algorithms: a fixed-seed
 * PRNG (failures are reproducible from the printed seed) and a CSR builder
 * that keeps edge-list order per source. */
#ifndef PHA_GRAPHGEN_H
#define PHA_GRAPHGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/graph.h"

/* ---- fixed-seed PRNG (xorshift64*) ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t rng_below(uint32_t k)
{
	return (uint32_t)(rng() % k);
}

/* ---- CSR from an edge list (list order kept per source) ---- */

struct edge {
	uint32_t src, dst;
	uint8_t flags;
};

struct csr {
	struct pha_graph g;
	uint32_t *first, *dst;
	uint8_t *eflags;
};

static void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p) {
		fprintf(stderr, "unit test: out of memory\n");
		exit(2);
	}
	return p;
}

static void csr_build(struct csr *c, uint32_t n, const struct edge *edges, uint32_t m)
{
	c->first = xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	memset(c->first, 0, ((size_t)n + 1) * sizeof(uint32_t));
	c->dst = xmalloc((size_t)m * sizeof(uint32_t));
	c->eflags = xmalloc(m);
	for (uint32_t i = 0; i < m; i++)
		c->first[edges[i].src + 1]++;
	for (uint32_t v = 0; v < n; v++)
		c->first[v + 1] += c->first[v];
	uint32_t *pos = xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	memcpy(pos, c->first, ((size_t)n + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < m; i++) {
		uint32_t k = pos[edges[i].src]++;
		c->dst[k] = edges[i].dst;
		c->eflags[k] = edges[i].flags;
	}
	free(pos);
	c->g = (struct pha_graph){ .n = n, .first = c->first, .dst = c->dst, .eflags = c->eflags };
}

static void csr_free(struct csr *c)
{
	free(c->first);
	free(c->dst);
	free(c->eflags);
}

#endif
