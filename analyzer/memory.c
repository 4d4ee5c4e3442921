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

/* Index of the segment containing addr, or of the first segment after it
 * (nsegs if none); *inside tells which. */
static size_t lookup(const struct pha_memory *mem, uint64_t addr, bool *inside)
{
	size_t lo = 0, hi = mem->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->segs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*inside = lo < mem->nsegs && mem->segs[lo].start <= addr;
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
	return s->data + (addr - s->start);
}

bool pha_memory_read(const struct pha_memory *mem, uint64_t addr, void *buf, size_t len,
		     uint64_t *fault_ret)
{
	uint8_t *out = buf;
	bool inside;
	size_t i = lookup(mem, addr, &inside);
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

struct pha_error *pha_memory_fill(struct pha_memory *mem, uint64_t start, uint64_t size,
				  const void *data, uint64_t *filled_ret)
{
	uint64_t end = start + size, filled = 0;
	const uint8_t *bytes = data;
	for (size_t i = 0; i < mem->nsegs; i++) {
		struct pha_segment s = mem->segs[i];
		if (s.source != PHA_SEG_MISSING || s.end <= start || s.start >= end)
			continue;
		uint64_t lo = s.start > start ? s.start : start;
		uint64_t hi = s.end < end ? s.end : end;
		/* Split s into [s.start,lo) missing, [lo,hi) file, [hi,s.end) missing. */
		struct pha_segment mid = {
			.start = lo, .end = hi, .data = bytes + (lo - start),
			.source = PHA_SEG_FILE, .prot = s.prot,
		};
		mem->segs[i] = mid;
		mem->missing_bytes -= hi - lo;
		filled += hi - lo;
		struct pha_error *err;
		if (s.start < lo) {
			struct pha_segment left = s;
			left.end = lo;
			if ((err = push(mem, &left)))
				return err;
		}
		if (hi < s.end) {
			struct pha_segment right = s;
			right.start = hi;
			if ((err = push(mem, &right)))
				return err;
		}
	}
	if (filled_ret)
		*filled_ret = filled;
	return pha_memory_finish(mem);
}
