/* The core's missing file-backed memory, filled from the mapped files on
 * disk (pha_modules_load's last step; formats/elffile.h says what is
 * filled and what stays missing). */
#include "elffile_int.h"

#include <stdlib.h>
#include <string.h>

struct range {
	uint64_t lo, hi;
	const uint8_t *data;	/* bytes for [lo, hi) */
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static struct pha_error *ranges_push(struct ranges *rs, uint64_t lo, uint64_t hi,
				     const uint8_t *data)
{
	if (lo >= hi)
		return NULL;
	/* Merge with the previous range when it continues it both in memory
	 * and in the file: fewer segments. */
	if (rs->n > 0) {
		struct range *last = &rs->r[rs->n - 1];
		if (last->hi == lo && last->data + (last->hi - last->lo) == data) {
			last->hi = hi;
			return NULL;
		}
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct range *r = realloc(rs->r, cap * sizeof(*r));
		if (!r)
			return &pha_enomem;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct range){ lo, hi, data };
	return NULL;
}

/* Parts of [lo, hi) covered by no segment of mem (sorted): gdb's gcore
 * leaves clean file-backed mappings out of the core altogether. */
static struct pha_error *collect_gaps(const struct pha_memory *mem, uint64_t lo, uint64_t hi,
				      const uint8_t *data, struct ranges *out)
{
	struct pha_error *err;
	uint64_t at = lo;
	for (size_t i = pha_memory_first_after(mem, lo); i < mem->nsegs && at < hi; i++) {
		const struct pha_segment *s = &mem->segs[i];
		if (s->start >= hi)
			break;
		if (s->start > at && (err = ranges_push(out, at, s->start, data + (at - lo))))
			return err;
		if (s->end > at)
			at = s->end;
	}
	if (at < hi)
		return ranges_push(out, at, hi, data + (at - lo));
	return NULL;
}

/* Bytes of [lo, hi) that mem cannot provide (gaps and MISSING segments). */
uint64_t pha_elf_unavailable_bytes(const struct pha_memory *mem, uint64_t lo, uint64_t hi)
{
	uint64_t avail = 0;
	for (size_t i = pha_memory_first_after(mem, lo); i < mem->nsegs; i++) {
		const struct pha_segment *s = &mem->segs[i];
		if (s->start >= hi)
			break;
		if (s->source == PHA_SEG_MISSING)
			continue;
		uint64_t a = s->start > lo ? s->start : lo, b = s->end < hi ? s->end : hi;
		avail += b - a;
	}
	return (hi - lo) - avail;
}

struct omitted {		/* a PT_LOAD's [vaddr+filesz, vaddr+memsz) */
	uint64_t lo, hi;
};

static int cmp_omitted(const void *a, const void *b)
{
	const struct omitted *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort gaps and cut away overlaps: the kernel's NT_FILE entries never
 * overlap, but a damaged core's may, and overlapping segments would make
 * pha_memory_finish fail the whole load. */
static void disjoint_ranges(struct ranges *rs)
{
	if (rs->n < 2)
		return;
	qsort(rs->r, rs->n, sizeof(*rs->r), cmp_range);
	size_t k = 0;
	uint64_t covered = 0;
	for (size_t i = 0; i < rs->n; i++) {
		struct range r = rs->r[i];
		if (k > 0 && r.lo < covered) {
			if (r.hi <= covered)
				continue;
			r.data += covered - r.lo;
			r.lo = covered;
		}
		rs->r[k++] = r;
		covered = r.hi;
	}
	rs->n = k;
}


static int cmp_map_start(const void *a, const void *b, void *ctx)
{
	const struct pha_core *core = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t sx = core->mappings[x].start, sy = core->mappings[y].start;
	if (sx != sy)
		return sx < sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

struct span *pha_elf_disjoint_mappings(const struct pha_core *core)
{
	size_t n = core->nmappings;
	struct span *eff = calloc(n ? n : 1, sizeof(*eff));
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!eff || !idx) {
		free(eff);
		free(idx);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_map_start, (void *)core);
	uint64_t covered = 0;
	for (size_t k = 0; k < n; k++) {
		const struct pha_core_mapping *m = &core->mappings[idx[k]];
		uint64_t lo = m->start > covered ? m->start : covered;
		eff[idx[k]] = (struct span){ lo, m->end > lo ? m->end : lo };
		if (m->end > covered)
			covered = m->end;
	}
	free(idx);
	return eff;
}

/* Give the memory the core left out of OK modules' mappings the bytes of
 * their files. Only two kinds of holes are filled:
 *   - the part of a PT_LOAD past p_filesz: the kernel (or gdb) chose not to
 *     dump it because it was an unmodified file mapping, so the file has
 *     exactly those bytes;
 *   - ranges no PT_LOAD covers at all (gdb omits clean mappings entirely).
 * Bytes lost to truncation of the core (past EOF but within p_filesz) stay
 * missing: that mapping had been written to, so the file's bytes would be
 * wrong there. */
struct pha_error *pha_elf_fill_memory(const struct pha_core *core, struct pha_memory *mem,
				     struct pha_modules *mods, const struct span *eff)
{
	struct pha_error *err = NULL;
	struct ranges gaps = { 0 }, fills = { 0 };
	struct omitted *om = calloc(core->nloads ? core->nloads : 1, sizeof(*om));
	size_t nom = 0;
	if (!om)
		return &pha_enomem;
	for (size_t i = 0; i < core->nloads; i++) {
		const struct pha_core_load *l = &core->loads[i];
		if (l->filesz < l->memsz)
			om[nom++] = (struct omitted){ l->vaddr + l->filesz, l->vaddr + l->memsz };
	}
	qsort(om, nom, sizeof(*om), cmp_omitted);

	for (size_t m = 0; m < mods->nmods; m++) {
		struct pha_module *mod = &mods->mods[m];
		struct mod_priv *pv = priv_of(mod);
		if (mod->status != PHA_MODULE_OK)
			continue;
		for (size_t k = 0; k < pv->nmaps; k++) {
			const struct pha_core_mapping *map = &core->mappings[pv->maps[k]];
			if (map->offset >= pv->h.size)
				continue;
			/* Only what the file has: a mapping may extend past its EOF. */
			uint64_t lo = map->start;
			uint64_t len = map->end - map->start;
			if (len > pv->h.size - map->offset)
				len = pv->h.size - map->offset;
			uint64_t hi = lo + len;
			/* Only what no other mapping provides (disjoint_mappings). */
			const struct span *e = &eff[pv->maps[k]];
			if (e->lo > lo)
				lo = e->lo;
			if (e->hi < hi)
				hi = e->hi;
			if (lo >= hi)
				continue;
			const uint8_t *data = pv->h.map + map->offset + (lo - map->start);

			if ((err = collect_gaps(mem, lo, hi, data, &gaps)))
				goto out;
			/* Omitted ranges do not overlap (pha_core_memory checked the
			 * PT_LOADs), so sorted by start they are sorted by end too. */
			size_t a = 0, b = nom;
			while (a < b) {
				size_t mid = a + (b - a) / 2;
				if (om[mid].hi <= lo)
					a = mid + 1;
				else
					b = mid;
			}
			for (size_t j = a; j < nom && om[j].lo < hi; j++) {
				uint64_t flo = om[j].lo > lo ? om[j].lo : lo;
				uint64_t fhi = om[j].hi < hi ? om[j].hi : hi;
				if ((err = ranges_push(&fills, flo, fhi, data + (flo - lo))))
					goto out;
			}
		}
	}

	/* Gaps first, computed above while mem was still sorted; then one
	 * finish to sort them in before the fills. */
	disjoint_ranges(&gaps);
	for (size_t i = 0; i < gaps.n; i++) {
		/* NT_FILE does not record protections; these bytes are readable. */
		if ((err = pha_memory_add(mem, gaps.r[i].lo, gaps.r[i].hi - gaps.r[i].lo,
					  gaps.r[i].data, PHA_SEG_FILE, PF_R)))
			goto out;
	}
	if (gaps.n > 0 && (err = pha_memory_finish(mem)))
		goto out;
	/* All fills in one sweep: one pha_memory_fill per range would re-sort
	 * the table per range, quadratic in the number of omitted PT_LOADs. */
	if (fills.n > 0) {
		struct pha_fill *f = malloc(fills.n * sizeof(*f));
		if (!f) {
			err = &pha_enomem;
			goto out;
		}
		for (size_t i = 0; i < fills.n; i++)
			f[i] = (struct pha_fill){
				.start = fills.r[i].lo, .size = fills.r[i].hi - fills.r[i].lo,
				.data = fills.r[i].data,
			};
		err = pha_memory_fill_many(mem, f, fills.n, NULL);
		free(f);
	}
out:
	free(gaps.r);
	free(fills.r);
	free(om);
	return err;
}
