#include "report_common.h"

#include <inttypes.h>
#include <stdio.h>

void pha_human_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static const char *const cat_text[PHA_MEM_COUNT] = {
	[PHA_MEM_PYTHON_OBJECTS] = "Python objects",
	[PHA_MEM_PYTHON_BUFFERS] = "Python buffers (list items, dict and set tables)",
	[PHA_MEM_NATIVE_BUFFERS] = "native buffers of extension objects",
	[PHA_MEM_NATIVE_INFERRED] = "native memory reached from extension objects (inferred)",
	[PHA_MEM_PYMALLOC_UNATTRIBUTED] = "pymalloc blocks no object claims",
	[PHA_MEM_PYMALLOC_FREE] = "pymalloc free (free blocks, empty pools, headers)",
	[PHA_MEM_MALLOC_UNATTRIBUTED] = "malloc chunks no object claims",
	[PHA_MEM_MALLOC_FREE] = "malloc free-but-kept (free chunks, caches, top)",
	[PHA_MEM_STACKS] = "thread stacks",
	[PHA_MEM_IMAGES] = "executable and libraries",
	[PHA_MEM_FILES] = "other file mappings",
	[PHA_MEM_ANON_OTHER] = "other anonymous memory",
	[PHA_MEM_ANON_ZERO] = "untouched anonymous memory (zero pages)",
	[PHA_MEM_RESERVED] = "reserved, no access",
	[PHA_MEM_NOT_IN_CORE] = "not in the core",
	[PHA_MEM_UNWALKED_ALLOCATOR] = "anonymous memory with the heap of a C allocator not walked",
};

const char *pha_memcat_text(int cat)
{
	return cat >= 0 && cat < PHA_MEM_COUNT && cat_text[cat] ? cat_text[cat] : "?";
}

void pha_memcat_by_size(const struct pha_procmem *m, int order[PHA_MEM_COUNT])
{
	for (int i = 0; i < PHA_MEM_COUNT; i++)
		order[i] = i;
	for (int i = 1; i < PHA_MEM_COUNT; i++) {
		int v = order[i], k = i;
		while (k > 0 && m->cat[order[k - 1]] < m->cat[v]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = v;
	}
}

bool pha_memcat_in_use(int cat)
{
	return cat != PHA_MEM_IMAGES && cat != PHA_MEM_FILES && cat != PHA_MEM_RESERVED &&
	       cat != PHA_MEM_ANON_ZERO;
}

uint64_t pha_mem_in_use(const struct pha_procmem *m)
{
	uint64_t used = 0;
	for (int c = 0; c < PHA_MEM_COUNT; c++)
		if (pha_memcat_in_use(c))
			used += m->cat[c];
	return used;
}

const struct pha_suspect *pha_report_top_suspect(const struct pha_report *r)
{
	const struct pha_why *w = &r->why;
	for (size_t i = 0; i < w->nsuspects; i++)
		if (w->suspects[i].kind == PHA_SUSPECT_ACCUMULATION)
			return &w->suspects[i];
	for (size_t i = 0; i < w->nsuspects; i++)
		if (w->suspects[i].excess_refs >= 100)
			return &w->suspects[i];
	return NULL;
}

const struct pha_report_thread *pha_report_main_thread(const struct pha_report *r,
						       size_t *index_ret)
{
	if (!r->nthreads)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < r->nthreads; i++) {
		if (r->threads[i].crashed) {
			k = i;
			break;
		}
	}
	if (index_ret)
		*index_ret = k;
	return &r->threads[k];
}

void pha_path_join(struct pha_buf *b, const struct pha_path *p, pha_escape_fn esc,
		   size_t max_elems)
{
	for (size_t k = 0; k < p->n; k++) {
		const char *l = p->elems[k].label ? p->elems[k].label : "?";
		if (max_elems && k == max_elems) {
			pha_buf_puts(b, " → …");
			return;
		}
		if (k && l[0] != '.' && l[0] != '[')
			pha_buf_puts(b, " → ");
		/* why.c keeps the first 32 elements of an elided path */
		if (p->elided && k == 32)
			pha_buf_puts(b, "…");
		esc(b, l);
	}
}
