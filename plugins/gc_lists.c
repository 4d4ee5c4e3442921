/* GC lists: every object the cycle collector tracks, with its generation,
 * as gc.get_objects() would list them (plus the permanent generation of
 * gc.freeze()).
 *
 * What it knows: PyGC_Head {_gc_next, _gc_prev} (16 bytes before the
 * object; the two low bits of each link are flags), circular lists headed
 * in struct _gc_runtime_state (three generations, then the permanent
 * one), and `collecting`, set while a collection runs. The offsets of the
 * heads are gc_gen_head, gc_permanent and gc_collecting in layouts.c.
 *
 * Versions:
 *   3.8       one GC state for the runtime, _PyRuntime.gc (flag
 *             gc_in_runtime, rt_gc); 3.9 moved it into each interpreter
 *             (bpo-36854).
 *   3.13+     the tables name the generation0 pointer (gc_generation0),
 *             which the walk follows to the first head: Debian's 3.13
 *             packages lower PyGC_Head's alignment to 4 and move the heads.
 *   3.14.0-4  the incremental GC (young, old[0], old[1]), no generation0.
 *   3.15      the GC state lost its trashcan members (heads moved up).
 */
#include "cpython_int.h"

/* A plausible circular list head: empty (next == head), or its first node
 * links back to it. Links carry flag bits in their two low bits. */
static bool gc_head_valid(struct pha_py *py, uint64_t head)
{
	uint64_t links[2], first[2];
	if (!rd(py, head, links, sizeof(links)))
		return false;
	uint64_t n = links[0] & ~3ULL;
	if (n == head)
		return (links[1] & ~3ULL) == head;
	return n && rd(py, n, first, sizeof(first)) && (first[1] & ~3ULL) == head;
}

/* The generation list heads inside one interpreter's GC state. 3.13+:
 * generation0 points at generations[0].head; Debian's 3.13 packages lower
 * PyGC_Head's alignment to 4, which moves the three heads from 24/48/72
 * to 20/44/68, so the heads follow that pointer rather than the table. */
static void gc_heads(struct pha_py *py, uint64_t gc, uint64_t heads[4])
{
	const struct pha_py_offsets *o = py->o;
	for (unsigned i = 0; i < 3; i++)
		heads[i] = gc + o->gc_gen_head[i];
	heads[3] = gc + o->gc_permanent;
	if (!o->gc_generation0)
		return;
	uint64_t g0 = u64_or0(py, gc + o->gc_generation0);
	if (g0 == heads[0])
		return;
	if (g0 > gc && g0 < gc + o->gc_generation0 && (g0 & 3) == 0 && gc_head_valid(py, g0)) {
		py->svc.log(py->svc.ctx, "GC generation heads at +%llu (generation0), not +%u",
			    (unsigned long long)(g0 - gc), o->gc_gen_head[0]);
		for (unsigned i = 0; i < 3; i++)
			heads[i] = g0 + (o->gc_gen_head[i] - o->gc_gen_head[0]);
		return;
	}
	py->svc.warn(py->svc.ctx, "GC state at 0x%llx: generation0 (0x%llx) does not point at a "
				  "generation list head; using the layout's offsets",
		     (unsigned long long)gc, (unsigned long long)g0);
}

/* Walk one circular list from its head, reporting each object. A list
 * that is corrupted may never come back to its head: the walk stops at a
 * cycle that does not pass the head (Brent's detection) and after as many
 * nodes as the process's memory can hold (a PyGC_Head and an object header
 * are 32 bytes). Broken back links are counted and reported once. */
static void walk_gc_list(struct pha_py *py, uint64_t head, unsigned gen,
			 void (*cb)(void *arg, uint64_t addr, unsigned gen), void *arg)
{
	if (!gc_head_valid(py, head))
		py->svc.warn(py->svc.ctx, "GC generation %u list head at 0x%llx is not a "
					  "circular list head", gen,
			     (unsigned long long)head);
	uint64_t prev = head, p;
	if (!rd64(py, head, &p)) {
		py->svc.warn(py->svc.ctx, "GC generation %u list head at 0x%llx unreadable",
			     gen, (unsigned long long)head);
		return;
	}
	uint64_t limit = mem_max_objects(py, 32);
	if (limit > MAX_LIST_WALK)
		limit = MAX_LIST_WALK;
	struct cycle_check cc = {0};
	uint64_t steps = 0, bad_back = 0, first_bad = 0;
	/* Mask exactly the two low flag bits of the links. */
	p &= ~3ULL;
	while (p != head) {
		uint64_t links[2];
		if (!p || !rd(py, p, links, sizeof(links))) {
			py->svc.warn(py->svc.ctx,
				     "GC generation %u list broken at 0x%llx after %llu "
				     "objects: the rest of the list is missing",
				     gen, (unsigned long long)p, (unsigned long long)steps);
			break;
		}
		if (cycle_step(&cc, p)) {
			py->svc.warn(py->svc.ctx,
				     "GC generation %u list loops back to 0x%llx without "
				     "returning to its head (corrupted link) after %llu objects: "
				     "the rest of the list is missing",
				     gen, (unsigned long long)p, (unsigned long long)steps);
			break;
		}
		if ((links[1] & ~3ULL) != prev && bad_back++ == 0)
			first_bad = p;
		cb(arg, p + 16, gen < 3 ? gen : PHA_GEN_PERMANENT);
		prev = p;
		p = links[0] & ~3ULL;
		if (++steps >= limit) {
			py->svc.warn(py->svc.ctx, "GC generation %u list longer than the %llu "
						  "objects the memory can hold, stopped",
				     gen, (unsigned long long)limit);
			break;
		}
	}
	if (bad_back)
		py->svc.warn(py->svc.ctx,
			     "GC generation %u list: %llu back links do not point at their "
			     "predecessor, the first at 0x%llx (list being modified, or corrupted)",
			     gen, (unsigned long long)bad_back, (unsigned long long)first_bad);
}

struct pha_error *pha_cpython_enumerate_gc(struct pha_py *py,
					   void (*cb)(void *arg, uint64_t addr, unsigned gen),
					   void *arg)
{
	const struct pha_py_offsets *o = py->o;
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t gc = py->interps[ii] + o->is_gc;
		if (o->gc_in_runtime) {
			/* 3.8: one GC state for the whole runtime. */
			if (ii > 0)
				break;
			gc = py->runtime + o->rt_gc;
		}
		if (i32_or0(py, gc + o->gc_collecting))
			py->svc.warn(py->svc.ctx,
				     "the core was taken during a garbage collection: objects on the "
				     "collector's temporary lists are missing, and unreachable counts "
				     "may be wrong");
		uint64_t heads[4];
		gc_heads(py, gc, heads);
		for (unsigned gen = 0; gen < 4; gen++)
			walk_gc_list(py, heads[gen], gen, cb, arg);
	}
	return NULL;
}
