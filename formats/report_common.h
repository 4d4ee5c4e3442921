/* What the document writers (Markdown, HTML) share: sizes for people, the
 * memory categories' names, the one-line verdict's ingredients, paths
 * joined into one line. Heap text is escaped by the caller's escaper. */
#ifndef PHA_REPORT_COMMON_H
#define PHA_REPORT_COMMON_H

#include "../analyzer/report.h"
#include "markup.h"

/* "512 B", "1.5 MiB" */
void pha_human_size(char *buf, size_t size, uint64_t bytes);

/* A person's name of a memory category. */
const char *pha_memcat_text(int cat);
/* Categories by bytes descending (ties: enum order). */
void pha_memcat_by_size(const struct pha_procmem *m, int order[PHA_MEM_COUNT]);
/* False for what an OOM is not about: file mappings, reservations,
 * untouched pages. */
bool pha_memcat_in_use(int cat);
uint64_t pha_mem_in_use(const struct pha_procmem *m);

/* The suspect a verdict names: the first accumulation, else the first
 * unexplained group with at least 100 excess references, else NULL. */
const struct pha_suspect *pha_report_top_suspect(const struct pha_report *r);
/* The thread that received the signal, else the first; NULL without
 * threads. *index_ret (optional) gets its index. */
const struct pha_report_thread *pha_report_main_thread(const struct pha_report *r,
						       size_t *index_ret);

typedef void (*pha_escape_fn)(struct pha_buf *b, const char *s);
/* The labels joined as the text summary joins them: " → " between
 * elements, none before ".name" and "[key]", "…" where elements were left
 * out; at most max_elems labels (then "→ …"; 0 = all). */
void pha_path_join(struct pha_buf *b, const struct pha_path *p, pha_escape_fn esc,
		   size_t max_elems);

#endif
