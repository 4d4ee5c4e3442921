#include "memory.h"

#include <stdlib.h>
#include <string.h>

void pha_memory_init(struct pha_memory *mem)
{
	memset(mem, 0, sizeof(*mem));
}

void pha_memory_deinit(struct pha_memory *mem)
{
	free(mem->segs);
	memset(mem, 0, sizeof(*mem));
}

static struct pha_error *push(struct pha_memory *mem, const struct pha_segment *seg)
{
	if (mem->nsegs == mem->cap) {
		size_t cap = mem->cap ? mem->cap * 2 : 64;
		struct pha_segment *n = realloc(mem->segs, cap * sizeof(*n));
		if (!n)
			return &pha_enomem;
		mem->segs = n;
		mem->cap = cap;
	}
	mem->segs[mem->nsegs++] = *seg;
	return NULL;
}

struct pha_error *pha_memory_add(struct pha_memory *mem, uint64_t start, uint64_t size,
				 const void *data, enum pha_segment_source source,
				 uint32_t prot)
{
	if (size == 0)
		return NULL;
	if (start + size < start)
		return pha_error_create(PHA_ERR_INPUT,
					"segment at 0x%llx of size 0x%llx wraps around",
					(unsigned long long)start, (unsigned long long)size);
	struct pha_segment seg = {
		.start = start,
		.end = start + size,
		.data = source == PHA_SEG_MISSING ? NULL : data,
		.source = source,
		.prot = prot,
	};
	if (source == PHA_SEG_MISSING)
		mem->missing_bytes += size;
	return push(mem, &seg);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct pha_segment *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct pha_error *pha_memory_finish(struct pha_memory *mem)
{
	if (mem->nsegs == 0)
		return NULL;
	qsort(mem->segs, mem->nsegs, sizeof(*mem->segs), cmp_seg);
	for (size_t i = 1; i < mem->nsegs; i++) {
		if (mem->segs[i].start < mem->segs[i - 1].end)
			return pha_error_create(PHA_ERR_INPUT,
						"memory segments overlap at 0x%llx",
						(unsigned long long)mem->segs[i].start);
	}
	return NULL;
}

size_t pha_memory_first_after(const struct pha_memory *mem, uint64_t addr)
{
	size_t lo = 0, hi = mem->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->segs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the segment containing addr, or of the first segment after it
 * (nsegs if none); *inside tells which. */
static size_t lookup(const struct pha_memory *mem, uint64_t addr, bool *inside)
{
	for (int k = 0; k < 2; k++) {
		size_t h = mem->hint[k];
		if (h < mem->nsegs && mem->segs[h].start <= addr && addr < mem->segs[h].end) {
			*inside = true;
			return h;
		}
	}
	size_t lo = pha_memory_first_after(mem, addr);
	*inside = lo < mem->nsegs && mem->segs[lo].start <= addr;
	if (*inside) {	/* the cache of memory.h: most recent first */
		struct pha_memory *m = (struct pha_memory *)mem;
		m->hint[1] = m->hint[0];
		m->hint[0] = lo;
	}
	return lo;
}

const struct pha_segment *pha_memory_find(const struct pha_memory *mem, uint64_t addr)
{
	bool inside;
	size_t i = lookup(mem, addr, &inside);
	return inside ? &mem->segs[i] : NULL;
}

uint64_t pha_memory_extent(const struct pha_memory *mem, uint64_t addr)
{
	bool inside;
	size_t i = lookup(mem, addr, &inside);
	if (!inside)
		return 0;
	uint64_t n = 0;
	for (uint64_t at = addr; i < mem->nsegs; i++) {
		const struct pha_segment *s = &mem->segs[i];
		if (s->start != at && at != addr)
			break;
		if (!s->data)
			break;
		n += s->end - at;
		at = s->end;
	}
	return n;
}

uint64_t pha_memory_readable_bytes(const struct pha_memory *mem)
{
	uint64_t n = 0;
	for (size_t i = 0; i < mem->nsegs; i++) {
		if (mem->segs[i].data)
			n += mem->segs[i].end - mem->segs[i].start;
	}
	return n;
}

const void *pha_memory_ptr(const struct pha_memory *mem, uint64_t addr, size_t len)
{
	bool inside;
	size_t i = lookup(mem, addr, &inside);
	if (!inside)
		return NULL;
	const struct pha_segment *s = &mem->segs[i];
	if (!s->data || len > s->end - addr)
		return NULL;
	if (((uintptr_t)s->data - s->start) % 8 != 0)
		return NULL;	/* see memory.h: pointers keep addr's alignment */
	return s->data + (addr - s->start);
}

bool pha_memory_read(const struct pha_memory *mem, uint64_t addr, void *buf, size_t len,
		     uint64_t *fault_ret)
{
	uint8_t *out = buf;
	bool inside;
	size_t i = lookup(mem, addr, &inside);
	if (inside && mem->segs[i].data && len <= mem->segs[i].end - addr) {
		/* one segment: the common case, fixed sizes copied inline */
		const uint8_t *p = mem->segs[i].data + (addr - mem->segs[i].start);
		if (len == 8)
			memcpy(out, p, 8);
		else if (len == 16)
			memcpy(out, p, 16);
		else
			memcpy(out, p, len);
		return true;
	}
	while (len > 0) {
		if (!inside || i >= mem->nsegs || mem->segs[i].start > addr ||
		    !mem->segs[i].data) {
			if (fault_ret)
				*fault_ret = addr;
			return false;
		}
		const struct pha_segment *s = &mem->segs[i];
		uint64_t n = s->end - addr;
		if (n > len)
			n = len;
		memcpy(out, s->data + (addr - s->start), n);
		out += n;
		addr += n;
		len -= n;
		if (addr < s->end)
			break;
		/* Adjacent segments may continue the read (a mapping split in two
		 * PT_LOADs, or core bytes followed by file bytes). */
		i++;
		inside = true;
	}
	return true;
}

/* Fills sorted by start (ties: the earlier in the caller's list first), as
 * disjoint ranges: where two overlap, the first in that order keeps the
 * overlap (a damaged core's NT_FILE entries may overlap; the kernel's do
 * not). */
struct fill_range {
	uint64_t start, end;
	const uint8_t *data;	/* bytes for [start, end) */
	size_t index;
};

static int cmp_fill(const void *a, const void *b)
{
	const struct fill_range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static size_t disjoint_fills(struct fill_range *f, size_t n)
{
	qsort(f, n, sizeof(*f), cmp_fill);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct fill_range r = f[i];
		if (k > 0 && r.start < f[k - 1].end) {
			if (r.end <= f[k - 1].end)
				continue;
			r.data += f[k - 1].end - r.start;
			r.start = f[k - 1].end;
		}
		f[k++] = r;
	}
	return k;
}

static bool is_sorted(const struct pha_memory *mem)
{
	for (size_t i = 1; i < mem->nsegs; i++) {
		if (mem->segs[i].start < mem->segs[i - 1].end)
			return false;
	}
	return true;
}

/* Append seg to a segment array under construction. */
static bool out_push(struct pha_memory *out, const struct pha_segment *seg)
{
	if (seg->start >= seg->end)
		return true;
	return push(out, seg) == NULL;
}

/* One sweep over the sorted segments and the sorted, disjoint fills, which
 * builds the new segment table: O(segments + fills), whatever the number
 * of MISSING holes (thousands of omitted PT_LOADs in a big process). */
static struct pha_error *sweep_fills(struct pha_memory *mem, const struct fill_range *f, size_t nf,
				     uint64_t *filled_ret)
{
	struct pha_memory out;
	uint64_t filled = 0;
	size_t j = 0;
	pha_memory_init(&out);
	for (size_t i = 0; i < mem->nsegs; i++) {
		const struct pha_segment *s = &mem->segs[i];
		if (s->source != PHA_SEG_MISSING) {
			if (!out_push(&out, s))
				goto oom;
			continue;
		}
		/* Fills ending before this segment end before every later one too. */
		while (j < nf && f[j].end <= s->start)
			j++;
		uint64_t pos = s->start;
		while (j < nf && f[j].start < s->end) {
			uint64_t lo = f[j].start > pos ? f[j].start : pos;
			uint64_t hi = f[j].end < s->end ? f[j].end : s->end;
			struct pha_segment hole = *s, file = {
				.start = lo, .end = hi, .data = f[j].data + (lo - f[j].start),
				.source = PHA_SEG_FILE, .prot = s->prot,
			};
			hole.start = pos;
			hole.end = lo;
			if (!out_push(&out, &hole) || !out_push(&out, &file))
				goto oom;
			filled += hi - lo;
			pos = hi;
			if (f[j].end > s->end)
				break;	/* the fill goes on into the next segments */
			j++;
		}
		struct pha_segment rest = *s;
		rest.start = pos;
		if (!out_push(&out, &rest))
			goto oom;
	}
	free(mem->segs);
	mem->segs = out.segs;
	mem->nsegs = out.nsegs;
	mem->cap = out.cap;
	mem->missing_bytes -= filled;
	if (filled_ret)
		*filled_ret = filled;
	return NULL;
oom:
	pha_memory_deinit(&out);
	return &pha_enomem;
}

struct pha_error *pha_memory_fill_many(struct pha_memory *mem, const struct pha_fill *fills,
				       size_t n, uint64_t *filled_ret)
{
	struct pha_error *err;
	if (!is_sorted(mem) && (err = pha_memory_finish(mem)))
		return err;
	struct fill_range *f = malloc((n ? n : 1) * sizeof(*f));
	if (!f)
		return &pha_enomem;
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = fills[i].start + fills[i].size;
		if (fills[i].size == 0 || end < fills[i].start)
			continue;	/* empty, or wraps around the address space */
		f[nf++] = (struct fill_range){fills[i].start, end, fills[i].data, i};
	}
	nf = disjoint_fills(f, nf);
	err = sweep_fills(mem, f, nf, filled_ret);
	free(f);
	return err;
}

struct pha_error *pha_memory_fill(struct pha_memory *mem, uint64_t start, uint64_t size,
				  const void *data, uint64_t *filled_ret)
{
	struct pha_fill one = {.start = start, .size = size, .data = data};
	return pha_memory_fill_many(mem, &one, 1, filled_ret);
}
