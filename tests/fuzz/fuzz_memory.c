/* libFuzzer target: the memory reader (analyzer/memory.c) against an
 * obviously-correct model, one byte of address space per array element.
 *
 * The input is a list of 6-byte operations on a 4 KiB address space:
 *   op 0..2  add a segment [start, start+size) of kind CORE, FILE, MISSING
 *            (CORE/FILE bytes come from a fixed pool at `src`);
 *   op 3     queue a fill [start, start+size) with pool bytes at `src`;
 *   op 4     finish the table, then apply the queued fills in one
 *            pha_memory_fill_many (or one pha_memory_fill if just one);
 *   op 5..   a read of `size` bytes at `start`: pha_memory_read (bytes,
 *            result, first fault address), pha_memory_ptr, pha_memory_find
 *            must all agree with the model.
 * Overlapping segments must be refused by pha_memory_finish exactly when
 * the model sees an overlap. */
#include "../../analyzer/memory.h"
#include "fuzz_common.h"

#define SPACE 4096
#define POOL 8192

static _Alignas(16) uint8_t pool[POOL];

struct model {
	int16_t byte[SPACE + 512];	/* -1: unreadable (absent or MISSING) */
	uint8_t kind[SPACE + 512];	/* 0 absent, else enum pha_segment_source */
};

struct fill {
	uint64_t start, size;
	const uint8_t *data;
};

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static struct fill fills[64];
	static struct pha_fill pf[64];
	if (!pool[1])
		for (size_t i = 0; i < POOL; i++)
			pool[i] = (uint8_t)(i * 7 + 3 + (i >> 8));
	memset(m.byte, 0xff, sizeof(m.byte));
	memset(m.kind, 0, sizeof(m.kind));
	struct pha_memory mem;
	pha_memory_init(&mem);
	size_t nfills = 0;
	bool finished = false, overlap = false;

	for (size_t at = 0; at + 6 <= size; at += 6) {
		const uint8_t *op = data + at;
		uint64_t start = u16(op + 1) % SPACE, len = op[3] % 200;
		uint64_t src = u16(op + 4) % (POOL - 256);
		unsigned code = op[0] % 8;
		if (code <= 2 && !finished) {
			enum pha_segment_source kind = code == 0 ? PHA_SEG_CORE :
						       code == 1 ? PHA_SEG_FILE : PHA_SEG_MISSING;
			if (pha_memory_add(&mem, start, len, pool + src, kind, 4))
				abort();	/* no wrap-around in this space */
			for (uint64_t a = start; a < start + len; a++) {
				if (m.kind[a])
					overlap = true;
				m.kind[a] = (uint8_t)kind;
				m.byte[a] = kind == PHA_SEG_MISSING ? -1 : pool[src + (a - start)];
			}
		} else if (code == 3 && !finished && nfills < 64) {
			fills[nfills++] = (struct fill){start, len, pool + src};
		} else if (code == 4 && !finished) {
			finished = true;
			struct pha_error *err = pha_memory_finish(&mem);
			if (!!err != overlap)
				abort();	/* overlap refused exactly when there is one */
			pha_error_destroy(err);
			if (overlap)
				break;
			/* The model: each MISSING byte takes the covering fill with the
			 * lowest (start, position in the list). */
			uint64_t want_filled = 0;
			for (uint64_t a = 0; a < SPACE + 512; a++) {
				if (m.kind[a] != PHA_SEG_MISSING)
					continue;
				const struct fill *best = NULL;
				for (size_t i = 0; i < nfills; i++)
					if (a >= fills[i].start && a < fills[i].start + fills[i].size &&
					    (!best || fills[i].start < best->start))
						best = &fills[i];
				if (best) {
					m.kind[a] = PHA_SEG_FILE;
					m.byte[a] = best->data[a - best->start];
					want_filled++;
				}
			}
			for (size_t i = 0; i < nfills; i++)
				pf[i] = (struct pha_fill){fills[i].start, fills[i].size, fills[i].data};
			uint64_t filled = 0;
			err = nfills == 1 ? pha_memory_fill(&mem, pf[0].start, pf[0].size, pf[0].data,
							     &filled)
					  : pha_memory_fill_many(&mem, pf, nfills, &filled);
			if (err || filled != want_filled)
				abort();
			uint64_t missing = 0;
			for (uint64_t a = 0; a < SPACE + 512; a++)
				missing += m.kind[a] == PHA_SEG_MISSING;
			if (mem.missing_bytes != missing)
				abort();
			for (size_t i = 1; i < mem.nsegs; i++)
				if (mem.segs[i - 1].end > mem.segs[i].start)
					abort();	/* sorted, disjoint */
		} else if (code >= 5 && finished) {
			uint8_t buf[256];
			uint64_t fault = UINT64_MAX;
			bool ok = pha_memory_read(&mem, start, buf, len, &fault);
			uint64_t want_fault = UINT64_MAX;
			for (uint64_t a = start; a < start + len; a++) {
				if (m.byte[a] < 0) {
					want_fault = a;
					break;
				}
				if (ok && buf[a - start] != (uint8_t)m.byte[a])
					abort();
			}
			if (ok != (want_fault == UINT64_MAX) || (!ok && fault != want_fault))
				abort();
			const uint8_t *p = pha_memory_ptr(&mem, start, len);
			if (p) {
				if ((uintptr_t)p % 8 != start % 8)
					abort();	/* keeps addr's alignment */
				if (!ok || memcmp(p, buf, len) != 0)
					abort();
			}
			const struct pha_segment *s = pha_memory_find(&mem, start);
			if (!!s != (m.kind[start] != 0) || (s && s->source != m.kind[start]))
				abort();
		}
	}
	pha_memory_deinit(&mem);
	return 0;
}
