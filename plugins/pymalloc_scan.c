/* pymalloc's file statics in a stripped 3.8 - 3.11 binary (Debian's
 * static python3.9 and python3.11 have no .symtab).
 *
 * obmalloc.c declares, in this order, `arenas` (struct arena_object *),
 * `maxarenas` (uint), `unused_arena_objects`, `usable_arenas`,
 * `nfp2lasta[]`, `narenas_currently_allocated`, `ntimes_arena_allocated`,
 * `narenas_highwater` (size_t). Compilers keep them close together in .bss
 * but not in one order: gcc without LTO puts the counters 0x228 bytes
 * below `arenas`, Debian's LTO builds (bullseye 3.9.2, bookworm 3.11.2)
 * right below `maxarenas`, which sits 16 bytes below `arenas`. So the scan
 * does not rely on one order; it takes a word of the module's writable
 * data as `arenas` when
 *   1. a 32-bit word within WINDOW bytes of it is a possible `maxarenas`
 *      (16 doubled k times: the array starts with 16 slots and doubles),
 *      whose slots the memory at `arenas` holds;
 *   2. those slots are unused (address 0) or possible arenas
 *      (pymalloc_arena_ok: pool-aligned pool_address inside the arena,
 *      ntotalpools exactly what the arena's alignment leaves), at least one
 *      in use, and at most one in eight of the used ones impossible (a
 *      damaged slot is then skipped by the walk, not the whole table);
 *   3. a 64-bit word within WINDOW bytes is the number of slots in use
 *      (`narenas_currently_allocated`, damaged slots counted or not).
 * Candidates that pass all three must agree on one array, or nothing is
 * taken ("ambiguous"). A wrong match would need a foreign array of
 * 48-byte records that pass the arena checks, next to both counts.
 */
#include "alloc.h"
#include "pymalloc_int.h"

#include "../analyzer/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { AO_SIZE = 48, AO_ADDRESS = 0, INITIAL_ARENAS = 16, MAX_DOUBLINGS = 20, NCLASSES = 32 };

/* How far the counters may be from `arenas` (0x228 without LTO). */
#define WINDOW 1024
/* Writable data scanned at most (CPython's own is a few MiB). */
#define MAX_SCAN (64u << 20)
#define MAX_RANGES 16

struct scan {
	const struct pha_target *t;
	uint32_t pool_size, arena_size;
	uint8_t *buf;		/* the writable data; unreadable pages are zero */
	uint64_t start;		/* address of buf[0] */
	size_t len;
	uint64_t found, found_at, maxarenas, narenas;
	unsigned matches;	/* candidates that passed, distinct arrays counted once */
};

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Slots in use among the first n at `arenas` (those that are possible
 * arenas, and in *bad_ret those that are not), or -1 when the slots are
 * not readable or more than one in eight of the used ones is impossible
 * (a damaged slot must not hide the table; a foreign array is not one). */
static int64_t slots_in_use(const struct scan *s, uint64_t arenas, uint64_t n, int64_t *bad_ret)
{
	int64_t used = 0, bad = 0;
	uint8_t ao[AO_SIZE];
	for (uint64_t i = 0; i < n; i++) {
		if (!pha_memory_read(&s->t->mem, arenas + i * AO_SIZE, ao, sizeof(ao), NULL))
			return -1;
		if (!get64(ao + AO_ADDRESS))
			continue;
		if (pymalloc_arena_ok(ao, s->pool_size, s->arena_size))
			used++;
		else
			bad++;
	}
	*bad_ret = bad;
	return bad * 8 > used ? -1 : used;
}

/* Whether glibc's chunk header before the array says it holds exactly m
 * slots (realloc(arenas, m * 48): a chunk of m * 48 + 16 bytes). Only a
 * preference between two sizes of one array: another allocator has no
 * such header. */
static bool chunk_says(const struct scan *s, uint64_t arenas, uint64_t m)
{
	uint64_t h;
	return pha_memory_read(&s->t->mem, arenas - 8, &h, 8, NULL) &&
	       (h & ~(uint64_t)7) == m * AO_SIZE + 16;
}

/* Whether a 64-bit word equal to n lies within WINDOW bytes of buf[at]. */
static bool count_near(const struct scan *s, size_t at, uint64_t n)
{
	size_t lo = at > WINDOW ? at - WINDOW : 0;
	size_t hi = at + WINDOW + 8 < s->len ? at + WINDOW : s->len - 8;
	for (size_t i = lo & ~(size_t)7; i <= hi; i += 8)
		if (i != at && get64(s->buf + i) == n)
			return true;
	return false;
}

/* Whether [arenas, +m slots) and the array found so far overlap slot to
 * slot. */
static bool same_array(const struct scan *s, uint64_t arenas, uint64_t m)
{
	uint64_t a_end = arenas + m * AO_SIZE, f_end = s->found + s->maxarenas * AO_SIZE;
	uint64_t d = arenas > s->found ? arenas - s->found : s->found - arenas;
	return arenas < f_end && s->found < a_end && d % AO_SIZE == 0;
}

/* The word at buf[at] as `arenas`: the maxarenas candidates around it. */
static void try_candidate(struct scan *s, size_t at)
{
	uint64_t arenas = get64(s->buf + at);
	if (!arenas || arenas % 16)
		return;
	uint64_t room = pha_memory_extent(&s->t->mem, arenas) / AO_SIZE;
	if (room < INITIAL_ARENAS)
		return;
	/* A cheap first look: the first 16 slots exist in every array. */
	int64_t bad;
	if (slots_in_use(s, arenas, INITIAL_ARENAS, &bad) < 0)
		return;
	size_t lo = at > WINDOW ? at - WINDOW : 0;
	size_t hi = at + WINDOW + 4 < s->len ? at + WINDOW : s->len - 4;
	for (size_t i = lo & ~(size_t)3; i <= hi; i += 4) {
		uint32_t m = get32(s->buf + i);
		if (m < INITIAL_ARENAS || m > (INITIAL_ARENAS << MAX_DOUBLINGS) || (m & (m - 1)) ||
		    m > room)
			continue;
		int64_t used = slots_in_use(s, arenas, m, &bad);
		if (used <= 0)
			continue;
		/* The stored count: with damaged slots, it counts them. */
		if (bad && count_near(s, at, (uint64_t)(used + bad)))
			used += bad;
		else if (!count_near(s, at, (uint64_t)used))
			continue;
		if (s->matches && same_array(s, arenas, m)) {
			/* Another view of the array already found: a pointer
			 * into it (usable_arenas), or two possible maxarenas
			 * (16 and 32 when only the first slots are used).
			 * The lowest start wins, then the size glibc's chunk
			 * header confirms, then the largest. */
			bool says = chunk_says(s, arenas, m), said = chunk_says(s, s->found, s->maxarenas);
			if (arenas < s->found ||
			    (arenas == s->found && (says > said || (says == said && m > s->maxarenas)))) {
				s->found = arenas;
				s->found_at = s->start + at;
				s->maxarenas = m;
				s->narenas = (uint64_t)used;
			}
			continue;
		}
		s->matches++;
		s->found = arenas;
		s->found_at = s->start + at;
		s->maxarenas = m;
		s->narenas = (uint64_t)used;
	}
}

/* Whether the data holds `usedpools` as it is before the first
 * allocation: every size class's list head points at itself (the head
 * masquerades as a pool header whose nextpool and prevpool are the two
 * slots: both hold the slot's address - 16). */
static bool usedpools_all_empty(const struct scan *s)
{
	for (size_t at = 0; at + NCLASSES * 16 <= s->len; at += 8) {
		uint64_t head = s->start + at - 16;
		size_t i = 0;
		while (i < NCLASSES && get64(s->buf + at + 16 * i) == head + 16 * i &&
		       get64(s->buf + at + 16 * i + 8) == head + 16 * i)
			i++;
		if (i == NCLASSES)
			return true;
	}
	return false;
}

/* Copy the module's writable data into one buffer (pages the core does
 * not hold stay zero: no candidate there). */
static struct pha_error *load_ranges(struct scan *s, const struct pha_range *r, size_t n)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		lo = r[i].start < lo ? r[i].start : lo;
		hi = r[i].end > hi ? r[i].end : hi;
	}
	lo &= ~(uint64_t)7;
	if (hi - lo > MAX_SCAN)
		hi = lo + MAX_SCAN;
	s->start = lo;
	s->len = (size_t)(hi - lo);
	s->buf = calloc(s->len ? s->len : 1, 1);
	if (!s->buf)
		return &pha_enomem;
	for (uint64_t a = lo; a < hi;) {
		uint64_t next = (a | 4095) + 1;
		if (next > hi)
			next = hi;
		pha_memory_read(&s->t->mem, a, s->buf + (a - lo), (size_t)(next - a), NULL);
		a = next;
	}
	return NULL;
}

struct pha_error *pymalloc_scan(const struct pha_target *t, struct pymalloc_state *st,
				char *how, size_t size)
{
	st->arenas = st->maxarenas = 0;
	struct pha_range r[MAX_RANGES];
	size_t n = pha_module_writable(t->pymod, r, MAX_RANGES);
	if (!n) {
		snprintf(how, size, "no .symtab, and the writable data of %s is not known",
			 t->pymod->name);
		return NULL;
	}
	struct scan s = {.t = t, .pool_size = st->pool_size, .arena_size = st->arena_size};
	struct pha_error *err = load_ranges(&s, r, n);
	if (err)
		return err;
	for (size_t at = 0; at + 8 <= s.len; at += 8)
		try_candidate(&s, at);
	bool unused = !s.matches && usedpools_all_empty(&s);
	free(s.buf);
	if (unused) {
		snprintf(how, size,
			 "pymalloc holds no arena: no arena table, every usedpools list empty "
			 "(PYTHONMALLOC=malloc or another allocator)");
		return NULL;
	}
	if (!s.matches) {
		snprintf(how, size,
			 "no .symtab, and no arena table in the writable data of %s (pymalloc "
			 "unused, or its statics not recognised)",
			 t->pymod->name);
		return NULL;
	}
	if (s.matches > 1) {
		snprintf(how, size,
			 "no .symtab, and %u different arena tables match in the writable data "
			 "(ambiguous: none is taken)",
			 s.matches);
		return NULL;
	}
	st->arenas = s.found;
	st->maxarenas = s.maxarenas;
	st->narenas = s.narenas;
	snprintf(how, size, "scan (no .symtab; `arenas` at 0x%llx)",
		 (unsigned long long)s.found_at);
	return NULL;
}
